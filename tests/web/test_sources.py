"""Static checks of the front-end sources (no browser)."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web_widget"
SCRIPTS = [*sorted(WEB.glob("*.js")), *sorted((WEB / "pages").glob("*.js"))]
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write\(|\beval\(")


def test_no_script_inserts_html() -> None:
    """Text from users and from the server goes in as text (textContent, text nodes) only."""
    found = [
        f"{script.name}:{number}: {line.strip()}"
        for script in SCRIPTS
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert found == []


def test_every_page_loads_its_script_and_the_widget() -> None:
    for page in WEB.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert '<script type="module" src="/widget.js"></script>' in html, page.name
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        if page.stem != "demo":
            assert f'src="/pages/{page.stem}.js"' in html, page.name
            assert (WEB / "pages" / f"{page.stem}.js").exists()


def test_the_socket_io_client_comes_from_npm_not_from_the_repository() -> None:
    package = (WEB / "package.json").read_text(encoding="utf-8")
    assert '"socket.io-client"' in package
    assert (WEB / "package-lock.json").exists()
    vendored = [p for p in WEB.rglob("socket.io*.js") if "node_modules" not in p.parts]
    assert vendored == []
