"""The adversarial and fault suite (issue 12): each case asserts the exact outcome.

The shared fixtures of ``tests/conftest.py`` (``client``, ``api``, ``nodes``, ...) serve here
too; fixtures that only this suite needs live below.
"""

# The browser cases (test_csp, test_redirects) drive the real hub in Chromium the way tests/web
# does, with its fixtures: one seeded hub for the session. Playwright's driver and Chromium are
# per module here, not per session: the sync driver keeps an event loop of its own while it
# runs, and the async tests of this suite that follow must not meet it.
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

# The /consult fixtures of tests/rtc (Socket.IO clients, the domain, booked consultations).
from tests.rtc.conftest import book, consult, portal  # noqa: F401
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, MEDIA_ARGS, Hub, fake_rasa, hub  # noqa: F401


@pytest.fixture(scope="module")
def playwright_instance(hub: Hub) -> Iterator[Playwright]:  # noqa: F811
    """Playwright's driver for one module (started after the hub, so a missing browser skips)."""
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def media_browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Chromium with fake camera and microphone, for the consultation room and the desk."""
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=MEDIA_ARGS, headless=True
    )
    yield chromium
    chromium.close()
