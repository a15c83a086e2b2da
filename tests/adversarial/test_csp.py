"""Every page of web_widget works under the hub's Content-Security-Policy, in Chromium.

Each page is loaded as the role it is for; a watcher collects every ``securitypolicyviolation``
event (the page's own and its shadow roots') and every console message about a refused load or
a Trusted Types refusal, and each case asserts there were none AND that the page's main control
did its work (a form answered, a list drawn, the chat or the call connected). A canary case
proves the watcher sees a violation when there is one.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, FilePayload, Page, expect

from hub.app import CONTENT_SECURITY_POLICY
from tests.portal.test_documents_unit import RawPdf
from tests.web.conftest import (
    DEMO_PASSWORD,
    Hub,
    Session,
    book_consultation,
    wait_for_frames,
    wait_until,
)
from tests.web.fake_rasa import LINKS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

WEB = Path(__file__).resolve().parents[2] / "web_widget"
PDF = RawPdf.minimal().build()

# Collects violations from the first script of every document on, before the page's modules.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
    page: location.href,
  });
}, true);
"""
# How Chromium words a CSP or Trusted Types refusal on the console.
CSP_CONSOLE = re.compile(
    r"Content Security Policy|Content-Security-Policy|Trusted Type|TrustedHTML|TrustedScript"
    r"|Refused to (load|execute|apply|connect|frame|create|evaluate)",
    re.IGNORECASE,
)


@dataclass
class Watch:
    """What a browser context reported: CSP violations, CSP console errors, script errors."""

    violations: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        context.expose_binding(
            "__cspViolation", lambda _source, report: self.violations.append(report)
        )
        context.add_init_script(WATCH)
        context.on("page", self.page)
        for page in context.pages:
            self.page(page)

    def page(self, page: Page) -> None:
        page.on("console", self.message)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def message(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and CSP_CONSOLE.search(message.text):
            self.console.append(message.text)

    def assert_clean(self) -> None:
        assert self.violations == []
        assert self.console == []
        assert self.errors == []


@dataclass
class Visitor:
    """A browser context under watch."""

    session: Session
    watch: Watch

    @property
    def page(self) -> Page:
        return self.session.page


@pytest.fixture
def open_visitor(browser: Browser, hub: Hub) -> Iterator[Any]:
    """A factory of watched visitors (Polish), closed at the end of the test."""
    opened: list[Session] = []

    def make(on: Browser | None = None) -> Visitor:
        session = Session(on or browser, hub)
        opened.append(session)
        watch = Watch()
        watch.attach(session.context)
        # The page was created with the context, before the watcher: reload it under watch.
        session.page.goto("about:blank")
        return Visitor(session, watch)

    yield make
    for session in opened:
        session.close()


def visit(visitor: Visitor, name: str, query: str = "") -> Page:
    """Open ``/name.html`` and wait until it has rendered (the page frame's busy flag is off)."""
    page = visitor.page
    response = page.goto(f"/{name}.html{query}")
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page.wait_for_load_state("networkidle")
    if name != "demo":
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main[aria-busy]")).to_have_count(0)
    # The widget's shadow root is styled under the policy: its bubble is fixed at the corner.
    bubble = page.locator("#mp-chat-widget .bubble")
    expect(bubble).to_be_visible()
    assert bubble.evaluate("b => getComputedStyle(b).position") == "fixed"
    return page


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_policy_is_strict() -> None:
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "blob:"]
    assert policy["require-trusted-types-for"] == ["'script'"]
    joined = " ".join(value for values in policy.values() for value in values)
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert loose not in joined.split()


def test_no_html_file_carries_inline_script_style_or_handlers() -> None:
    """Static half of the promise: nothing inline in the pages or in what the scripts create."""
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
    )
    found = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(WEB.glob("*.html"))
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    scripts = [*sorted(WEB.glob("*.js")), *sorted((WEB / "pages").glob("*.js"))]
    created = re.compile(
        r"""setAttribute\(\s*["'](style|on[a-z]+)["']|["'](style|on[a-z]+)["']\s*:\s*["']"""
        r"""|\.style\.cssText|["'`]javascript:|new Function\(|setTimeout\(\s*["'`]"""
    )
    flagged = [
        f"{script.name}:{number}: {line.strip()}"
        for script in scripts
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1)
        if created.search(line) and not line.lstrip().startswith(("//", "*", "/*"))
    ]
    assert flagged == []
    # The only <style> element is the widget's fallback for browsers without constructable
    # stylesheets, after the constructed sheet (the cases below prove Chromium takes that).
    styles = [
        script.name
        for script in scripts
        for _ in re.finditer(r"createElement\(\s*[\"']style", script.read_text(encoding="utf-8"))
    ]
    assert styles == ["widget.js"]
    widget = (WEB / "widget.js").read_text(encoding="utf-8")
    assert widget.index("shadow.adoptedStyleSheets = [sheet]") < widget.index(
        'createElement("style")'
    )


def test_the_watcher_sees_a_violation(open_visitor: Any) -> None:
    """The canary: an inline style attribute, a foreign image and an HTML string are refused
    and reported, so an empty report below means there was nothing to report."""
    visitor = open_visitor()
    page = visit(visitor, "index")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.evaluate(
        "document.body.append(Object.assign(new Image(), {src: 'http://192.0.2.1/x.png'}))"
    )
    refused = page.evaluate(
        "() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return false; }"
        " catch (error) { return error instanceof TypeError; } }"
    )
    assert refused is True
    assert page.evaluate("document.body.style.color") == ""
    page.wait_for_timeout(300)
    seen = {report["directive"] for report in visitor.watch.violations}
    assert {"style-src-attr", "img-src", "require-trusted-types-for"} <= seen
    assert visitor.watch.console  # Chromium logs each refusal too


def test_anonymous_pages_work_under_the_policy(open_visitor: Any) -> None:
    visitor = open_visitor()
    page = visit(visitor, "index")
    page.locator("main a.button[href='/login.html']").click()
    page.wait_for_url("**/login.html")

    page = visit(visitor, "login")
    page.fill("#login-login", "demo.patient")
    page.fill("#login-password", "not the password")
    page.click("form.form button[type=submit] >> nth=0")
    expect(page.locator("form.form .form-alert [role=alert]").first).to_be_visible()

    page = visit(visitor, "register")
    page.click("main form button[type=submit]")
    expect(page.locator("main [aria-invalid=true]").first).to_be_visible()

    page = visit(visitor, "reset-password", "#token=not-a-real-token")
    page.fill("#reset-new", "Zielona łąka nad rzeką 7")
    page.fill("#reset-repeat", "Zielona łąka nad rzeką 7")
    page.click("main form button[type=submit]")
    expect(page.locator("main [role=alert]").first).to_be_visible()

    page = visit(visitor, "terms")
    expect(page.locator("main a[href='/login.html?next=/terms.html']")).to_be_visible()

    # The widget on the plain demo page: the chat connects (Socket.IO over a WebSocket to
    # 'self') and the assistant's answer arrives.
    page = visit(visitor, "demo")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Georgia")
    widget = page.locator("#mp-chat-widget")
    widget.locator(".bubble").click()
    expect(widget.locator(".panel")).to_have_attribute("data-connection", "online")
    widget.locator("textarea").fill("dzień dobry")
    widget.locator("textarea").press("Enter")
    expect(widget.locator(".log .msg.bot").last).to_be_visible()
    transport = page.evaluate("window.__mpChatWidget.socket.io.engine.transport.name")
    assert transport == "websocket"
    # Links from the assistant: only http(s) ones are shown, relative ones resolved on the hub.
    widget.locator("textarea").fill(LINKS)
    widget.locator("textarea").press("Enter")
    shown = widget.locator(".log .msg.bot").last.locator(".links a")
    expect(shown).to_have_count(2)
    hrefs = shown.evaluate_all("links => links.map((a) => a.href)")
    assert hrefs == [f"{visitor.session.hub.url}/visits.html", "https://example.org/info"]
    visitor.watch.assert_clean()


def test_the_patient_pages_work_under_the_policy(open_visitor: Any, hub: Hub) -> None:
    book_consultation(hub)  # files are added to an upcoming consultation
    visitor = open_visitor()
    visitor.session.login("demo.patient", DEMO_PASSWORD)

    page = visit(visitor, "visits")
    page.click("#book-form button[type=submit]")
    expect(page.locator("#book-form ~ .results h3")).to_be_visible()

    page = visit(visitor, "children")
    page.click("#child-form button[type=submit]")
    expect(page.locator("#child-form [aria-invalid=true]").first).to_be_visible()

    page = visit(visitor, "documents")
    if page.locator("#accept-regulations").count():
        page.check("#accept-regulations")
        page.locator("#regulations button").click()
    expect(page.locator("#upload-form")).to_be_visible()
    page.fill("#doc-description", "Zdjęcie wysypki")
    photo: FilePayload = {"name": "wysypka.png", "mimeType": "image/png", "buffer": png_bytes()}
    page.set_input_files("#doc-file", files=[photo])
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#files")).to_contain_text("wysypka.png")

    for name in ("results", "referrals", "instructions", "prescriptions"):
        page = visit(visitor, name)
        expect(page.locator("main .card, main .empty").first).to_be_visible()

    page = visit(visitor, "questions")
    if page.locator("#ask-form").count():
        page.fill("#ask-text", "Czy mogę już wrócić do biegania?")
        page.click("#ask-form button[type=submit]")
        expect(page.locator("main")).to_contain_text("Czy mogę już wrócić do biegania?")

    page = visit(visitor, "terms")
    expect(page.locator("main h1")).to_be_visible()
    page = visit(visitor, "index")
    page.locator("header button.lang").click()
    expect(page.locator("header button.lang")).to_have_text("PL")
    page.locator("header button.lang").click()
    visitor.watch.assert_clean()


def test_staff_pages_work_under_the_policy(open_visitor: Any) -> None:
    reception = open_visitor()
    reception.session.login("demo.reception", DEMO_PASSWORD)
    page = visit(reception, "reception")
    expect(page.locator("#chats [role=status]").first).to_have_text("połączono")

    physician = open_visitor()
    physician.session.login("demo.physician", DEMO_PASSWORD)
    page = visit(physician, "desk")
    expect(page.locator("#desk-connection")).to_have_text("połączono")
    expect(page.locator("#schedule-list")).to_be_visible()
    reception.watch.assert_clean()
    physician.watch.assert_clean()


def test_the_device_check_works_under_the_policy(open_visitor: Any, media_browser: Browser) -> None:
    visitor = open_visitor(media_browser)
    visitor.session.login("demo.patient", DEMO_PASSWORD)
    page = visit(visitor, "consultation")
    page.locator("#device-check").get_by_role("button", name="Sprawdź kamerę i mikrofon").click()
    wait_until(page, "document.querySelector('#echo-video').videoWidth > 0")
    expect(page.locator("#check-stats")).to_contain_text("ms", timeout=15_000)
    page.click("#check-stop")
    visitor.watch.assert_clean()


def test_the_consultation_room_works_under_the_policy(
    open_visitor: Any, media_browser: Browser, hub: Hub
) -> None:
    consultation = book_consultation(hub)
    patient = open_visitor(media_browser)
    physician = open_visitor(media_browser)
    patient.session.login("demo.patient", DEMO_PASSWORD)
    physician.session.login("demo.physician", DEMO_PASSWORD)
    page = visit(patient, "consultation", f"?appointment={consultation}")
    expect(page.locator("#room")).to_have_attribute("data-state", "waiting")
    doctor = visit(physician, "desk", f"?appointment={consultation}&room=1")
    doctor.locator("#room-admit").click()
    for side in (page, doctor):
        expect(side.locator("#room")).to_have_attribute("data-state", "admitted")
        wait_for_frames(side, 15)
    page.fill("#room-chat-text", "Dzień dobry")
    page.click("#room-chat-form button[type=submit]")
    expect(doctor.locator("#room-chat-log")).to_contain_text("Dzień dobry")
    # A shared picture is shown from a blob: URL (img-src blob:).
    page.fill("#share-description", "Zdjęcie gardła")
    photo: FilePayload = {"name": "gardlo.png", "mimeType": "image/png", "buffer": png_bytes()}
    page.set_input_files("#share-file", files=[photo])
    page.click("#share-form button[type=submit]")
    picture = doctor.locator("#room-docs li.doc").filter(has_text="gardlo.png").locator("img")
    expect(picture).to_have_js_property("naturalWidth", 64, timeout=15_000)
    assert picture.evaluate("img => img.currentSrc").startswith("blob:")
    # A shared PDF opens from a blob: URL in a new tab, which inherits the room's policy.
    doctor.fill("#share-description", "Skierowanie")
    pdf: FilePayload = {"name": "skierowanie.pdf", "mimeType": "application/pdf", "buffer": PDF}
    doctor.set_input_files("#share-file", files=[pdf])
    doctor.click("#share-form button[type=submit]")
    shared = page.locator("#room-docs li.doc").filter(has_text="skierowanie.pdf")
    with page.context.expect_page() as opened:
        shared.get_by_role("button", name="Otwórz").click()
    tab = opened.value
    tab.wait_for_load_state()
    # Chromium's own viewer shows it (a top-level PDF is no plugin under object-src 'none').
    assert tab.url.startswith("blob:" + hub.url)
    assert tab.evaluate("[document.contentType, navigator.pdfViewerEnabled]") == [
        "application/pdf",
        True,
    ]
    tab.wait_for_timeout(500)
    patient.watch.assert_clean()
    physician.watch.assert_clean()


def host_policy(hub: Hub) -> str:
    """The strictest policy a site embedding the widget can have (docs/security.md)."""
    origin = urlsplit(hub.url)
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {hub.url}",
            f"connect-src {hub.url} ws://{origin.netloc}",
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        )
    )


@contextmanager
def clinic_site(html: str, policy: str) -> Iterator[str]:
    """Another site on 127.0.0.1 (another port, so another origin) serving ``html`` under
    ``policy``; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test asserts what matters

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/clinic.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_widget_works_on_another_site_under_the_documented_policy(
    open_visitor: Any, hub: Hub
) -> None:
    """A clinic's own site whose page allows only the hub's scripts and connections: the
    widget loads, is styled and opens without any violation."""
    visitor = open_visitor()
    page = visitor.page
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Clinic</title></head>"
        f'<body><h1>Clinic</h1><script type="module" src="{hub.url}/widget.js"></script>'
        "</body></html>"
    )
    with clinic_site(html, host_policy(hub)) as url:
        page.goto(url)
        bubble = page.locator("#mp-chat-widget .bubble")
        expect(bubble).to_be_visible()
        assert bubble.evaluate("b => getComputedStyle(b).position") == "fixed"
        bubble.click()
        expect(page.locator("#mp-chat-widget .panel")).to_be_visible()
        page.wait_for_load_state("networkidle")
    visitor.watch.assert_clean()
    # The same page under a policy that leaves the hub out: the widget's script is refused and
    # reported, so the clean report above is the documented policy's doing.
    with clinic_site(html, "default-src 'none'") as url:
        page.goto(url)
        page.wait_for_timeout(300)
    assert [v["directive"] for v in visitor.watch.violations] == ["script-src-elem"]
    expect(page.locator("#mp-chat-widget")).to_have_count(0)


# -- the other headers, on every kind of response --------------------------------------------

EXPECTED_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "cross-origin-opener-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def fetch(hub: Hub, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str]]:
    """One request to the hub: the status and the headers (names in lower case)."""
    address = urlsplit(hub.url)
    connection = http.client.HTTPConnection(address.netloc, timeout=15)
    try:
        connection.request(method, path, **kwargs)
        response = connection.getresponse()
        response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()


def every_kind_of_response(hub: Hub) -> list[tuple[str, int]]:
    """(what, expected status) of pages, assets, the API, errors and the socket's polling."""
    pages = [f"/{path.name}" for path in sorted(WEB.glob("*.html"))]
    assets = [
        f"/{path.relative_to(WEB).as_posix()}"
        for path in sorted([*WEB.glob("*.js"), *WEB.glob("pages/*.js"), *WEB.glob("*.css")])
    ]
    return [
        ("/", 200),
        *((page, 200) for page in pages),
        *((asset, 200) for asset in assets),
        ("/node_modules/socket.io-client/dist/socket.io.esm.min.js", 200),
        ("/healthz", 200),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/services", 200),
        ("/api/v1/me", 401),
        ("/api/v1/no-such-thing", 404),
        ("/no-such-page.html", 404),
        ("/socket.io/?EIO=4&transport=polling", 200),
    ]


def test_every_response_carries_the_security_headers(hub: Hub) -> None:
    seen: dict[str, dict[str, str]] = {}
    for path, status in every_kind_of_response(hub):
        got, headers = fetch(hub, "GET", path)
        assert got == status, path
        seen[path] = {name: headers.get(name, "") for name in EXPECTED_HEADERS}
    body = json.dumps({"login": "demo.patient", "password": DEMO_PASSWORD})
    got, headers = fetch(
        hub,
        "POST",
        "/api/v1/auth/login",
        body=body,
        headers={"Content-Type": "application/json", "Origin": hub.url},
    )
    assert got == 200
    seen["POST /api/v1/auth/login"] = {name: headers.get(name, "") for name in EXPECTED_HEADERS}
    wrong = {path: values for path, values in seen.items() if values != EXPECTED_HEADERS}
    assert wrong == {}
