"""Browser tests: the real hub in a subprocess, a fake Rasa, and Debian's headless Chromium.

Chromium missing means the tests skip, or fail with ``REQUIRE_BROWSER=1`` (as ``.ci/run``
sets). Screenshots of every page, at phone (360x740) and desktop (1280x800) size, go to
``test-artifacts/screenshots/``; the session summary prints that folder.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from .fake_rasa import FakeRasa

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SOCKET_IO_CLIENT = ROOT / "web_widget/node_modules/socket.io-client/dist/socket.io.esm.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "demo password for browser tests 42"
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"

_shots: list[Path] = []


def _missing(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(reason + " (REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Hub:
    """The hub under test."""

    url: str
    var_dir: Path
    log: Path


@pytest.fixture(scope="session")
def fake_rasa() -> Iterator[FakeRasa]:
    """The scripted assistant the hub forwards chat messages to."""
    rasa = FakeRasa()
    rasa.start()
    yield rasa
    rasa.stop()


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory, fake_rasa: FakeRasa) -> Iterator[Hub]:
    """``python -m hub serve`` on a free port, seeded first with ``python -m hub seed``."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    if not SOCKET_IO_CLIENT.exists():
        _missing("web_widget/node_modules is missing (run `make setup-web`)")
    var_dir = tmp_path_factory.mktemp("hub-var")
    port = _free_port()
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "RASA_URL": fake_rasa.url,
        "ACTIONS_URL": f"http://127.0.0.1:{_free_port()}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "DOCUMENTS_DIR",
        "HUB_HOST",
        "HUB_PORT",
        "PUBLIC_URL",
    ):
        env.pop(name, None)
    seeded = subprocess.run(  # our own CLI, fixed arguments
        [sys.executable, "-m", "hub", "seed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    log = var_dir / "hub.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
            [sys.executable, "-m", "hub", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    fake_rasa.hub_url = url
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the hub exited:\n" + log.read_text()
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Hub(url=url, var_dir=var_dir, log=log)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def playwright_instance(hub: Hub) -> Iterator[Playwright]:
    """Playwright's driver (started after the hub, so a missing browser skips first)."""
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


class Session:
    """One visitor: a browser context with its own cookies and storage, and its page."""

    def __init__(self, browser: Browser, hub: Hub, locale: str = "pl-PL") -> None:
        self.hub = hub
        self.context: BrowserContext = browser.new_context(
            viewport=PHONE, locale=locale, base_url=hub.url
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Confirmation dialogs (cancel a visit, delete a file) are answered "yes".
        self.page.on("dialog", lambda dialog: dialog.accept())

    def close(self) -> None:
        self.context.close()

    def login(self, login: str, password: str) -> None:
        """Log in through the login page."""
        self.page.goto("/login.html")
        self.page.fill("#login-login", login)
        self.page.fill("#login-password", password)
        self.page.click("form.form button[type=submit] >> nth=0")
        wait_until(self.page, "location.pathname !== '/login.html'")

    def shoot(self, name: str) -> None:
        """Screenshots of the current page at phone and at desktop width."""
        shoot(self.page, name)


def wait_until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until the JavaScript ``expression`` is truthy in ``page``.

    Not ``page.wait_for_function``: Playwright compiles its predicate with ``new Function``
    inside the page, which the hub's Content-Security-Policy refuses (no 'unsafe-eval').
    ``page.evaluate`` goes through the DevTools protocol, outside the page's policy.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError as error:
            # A navigation under way replaces the document the expression ran in: try again.
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(100)


def shoot(page: Page, name: str) -> None:
    """Save ``name``-360x740.png and ``name``-1280x800.png of ``page`` (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size or PHONE
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        path = SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"
        page.screenshot(path=str(path), full_page=True)
        _shots.append(path)
    page.set_viewport_size(original)


@pytest.fixture
def visitor(browser: Browser, hub: Hub) -> Iterator[Session]:
    """A fresh Polish-speaking visitor."""
    session = Session(browser, hub)
    yield session
    session.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Point at the screenshots, so `make test` shows where to look."""
    if _shots:
        terminalreporter.write_sep("-", "web page screenshots")
        terminalreporter.write_line(f"{len(_shots)} screenshots in {SCREENSHOTS}")


# -- the consultation room: a Chromium with fake camera and microphone, and a booked consultation --

MEDIA_ARGS = [
    *CHROMIUM_ARGS,
    # A synthetic camera and microphone, allowed without a prompt.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # Host candidates as IP addresses, not mDNS names (the hub's aiortc peers cannot resolve them).
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # A reloaded page plays the remote picture and sound without a fresh click.
    "--autoplay-policy=no-user-gesture-required",
]
BOOKED = re.compile(r"Booked consultation ([0-9a-f-]{36})")


@pytest.fixture(scope="session")
def media_browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Chromium with fake media devices, for the consultation room and the desk."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=MEDIA_ARGS, headless=True
    )
    yield chromium
    chromium.close()


def book_consultation(hub: Hub, minutes: int = 5) -> str:
    """``python -m hub demo-consultation``: demo.patient with demo.physician, starting soon.

    The room opens 15 minutes before the start, so it can be joined at once. Returns the
    appointment's id.
    """
    env = {
        **os.environ,
        "VAR_DIR": str(hub.var_dir),
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DOCUMENTS_DIR"):
        env.pop(name, None)
    booked = subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "hub", "demo-consultation", "--in", str(minutes)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = BOOKED.search(booked.stdout)
    assert booked.returncode == 0 and found, booked.stdout + booked.stderr
    return found.group(1)


@pytest.fixture
def consultation(hub: Hub) -> str:
    """A fresh online consultation of the demo logins whose room is open now."""
    return book_consultation(hub)


INBOUND_VIDEO_FRAMES = """async () => {
  const pc = window.__consult && window.__consult.pc();
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") {
      frames += report.framesDecoded || 0;
    }
  });
  return frames;
}"""


def wait_for_frames(page: Page, timeout: float = 10.0, more_than: int = 0) -> int:
    """Wait until the page's call has decoded more than ``more_than`` received video frames."""
    deadline = time.monotonic() + timeout
    frames = 0
    while time.monotonic() < deadline:
        frames = int(page.evaluate(INBOUND_VIDEO_FRAMES))
        if frames > more_than:
            return frames
        page.wait_for_timeout(250)
    raise AssertionError(f"no received video frames within {timeout} s (decoded: {frames})")


def assert_fits_phone(page: Page) -> None:
    """At 360 px the page does not scroll sideways."""
    original = page.viewport_size or PHONE
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size(original)
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 360px"


def shoot_fitting(session: Session, name: str) -> None:
    """Check that the page fits a phone's width, then take its screenshots."""
    assert_fits_phone(session.page)
    session.shoot(name)
