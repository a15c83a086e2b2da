"""No open redirect: where the pages follow a URL parameter, only a path of this site is taken.

The login page's ``?next=`` goes through ``sameOriginPath`` (web_widget/app.js), and ids from the
address (``?appointment=`` of the room and the desk) through ``idParam``. Chromium's own URL
parser judges each hostile value; a real login with the ones issue 12 found lands on the role's
default page. The server itself redirects by no parameter.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import DEMO_PASSWORD, Hub, Session, wait_until

HOSTILE = [
    "/\\evil.example",
    "/\\\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "//evil.example/visits.html",
    "https://evil.example",
    "http://evil.example/visits.html",
    "HTTPS:evil.example",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5Cevil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "evil.example",
    "",
]
# What a path of this site turns into (normalised by the URL parser), and paths that are ours.
SAME_SITE = {
    "/results.html": "/results.html",
    "/visits.html?for=1#book-title": "/visits.html?for=1#book-title",
    "/./terms.html": "/terms.html",
    "/a/../questions.html": "/questions.html",
    "/%09/evil.example": "/%09/evil.example",
    "/javascript:alert(1)//": "/javascript:alert(1)//",
}


@pytest.fixture
def visitor(browser: Browser, hub: Hub) -> Iterator[Session]:
    session = Session(browser, hub)
    yield session
    session.close()


def judged(page: Page, values: list[str]) -> list[Any]:
    """``sameOriginPath`` of each value, run by the page's own module in Chromium."""
    return list(
        page.evaluate(
            """async (values) => {
                const { sameOriginPath } = await import("/app.js");
                return values.map((value) => sameOriginPath(value));
            }""",
            values,
        )
    )


@pytest.mark.browser
def test_chromium_refuses_every_hostile_next(visitor: Session) -> None:
    visitor.page.goto("/login.html")
    hostile = [value for value in HOSTILE if value not in SAME_SITE]
    assert judged(visitor.page, hostile) == [None] * len(hostile)
    assert judged(visitor.page, list(SAME_SITE)) == list(SAME_SITE.values())


@pytest.mark.browser
def test_chromium_takes_only_ids_from_the_address(visitor: Session) -> None:
    visitor.page.goto("/login.html")
    values = [
        "a8bd36e6-7f02-4f60-8552-1fad29279f57",
        "../../auth/logout",
        "a8bd36e6-7f02-4f60-8552-1fad29279f57/../../x",
        "a8bd36e6-7f02-4f60-8552-1fad29279f57\n",
        "",
    ]
    taken = visitor.page.evaluate(
        """async (values) => {
            const { idParam } = await import("/app.js");
            return values.map((value) => idParam(value));
        }""",
        values,
    )
    assert taken == ["a8bd36e6-7f02-4f60-8552-1fad29279f57", "", "", "", ""]


def log_in_with_next(session: Session, next_value: str, login: str = "demo.patient") -> str:
    """Log in on ``/login.html?next=<value>``; the path the browser lands on."""
    page = session.page
    page.goto("/login.html?next=" + quote(next_value, safe=""))
    page.fill("#login-login", login)
    page.fill("#login-password", DEMO_PASSWORD)
    page.click("form.form button[type=submit] >> nth=0")
    wait_until(page, "location.pathname !== '/login.html'")
    expect(page.locator("main h1")).to_be_visible()
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}" == session.hub.url
    return landed.path


@pytest.mark.browser
@pytest.mark.parametrize(
    "next_value", ["/\\evil.example", "/\t/evil.example", "//evil.example", "javascript:alert(1)"]
)
def test_a_login_with_a_hostile_next_lands_on_the_default_page(
    visitor: Session, next_value: str
) -> None:
    dialogs: list[str] = []
    visitor.page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    assert log_in_with_next(visitor, next_value) == "/visits.html"
    assert dialogs == []


@pytest.mark.browser
def test_a_login_with_a_path_of_this_site_goes_there(visitor: Session) -> None:
    assert log_in_with_next(visitor, "/results.html") == "/results.html"


@pytest.mark.browser
def test_the_default_page_follows_the_role(visitor: Session) -> None:
    assert log_in_with_next(visitor, "https://evil.example", "demo.physician") == "/desk.html"


def raw_get(hub: Hub, target: str) -> tuple[int, str]:
    """One GET with ``target`` sent as is (no client library to rewrite it): status, headers."""
    address = urlsplit(hub.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return int(head.split(" ", 2)[1]), head


@pytest.mark.parametrize(
    "target",
    [
        "/login.html?next=https://evil.example",
        "/login.html?next=//evil.example",
        "/?next=//evil.example&redirect=//evil.example&url=//evil.example",
        "//evil.example/",
        "//evil.example/login.html",
        "/\\evil.example/",
        "/%2F%2Fevil.example",
        "/%5C%5Cevil.example",
        "/visits.html/",
        "/api/v1/auth/logout?next=//evil.example",
    ],
)
def test_the_server_redirects_by_no_parameter(hub: Hub, target: str) -> None:
    status, head = raw_get(hub, target)
    assert status not in range(300, 400), head
    assert "\r\nlocation:" not in head.lower()
