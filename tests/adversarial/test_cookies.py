"""Issue 12, headers: the session cookie, CSRF, HSTS and what no cache may keep.

The CSRF cases walk the OpenAPI document, so an operation added tomorrow is covered without a
new test: every state-changing operation refuses a request another site's page sent.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.app import DATABASE_KEY, HSTS, create_app
from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.models import AuthSession, Conversation
from tests.conftest import DEMO_PASSWORD, Api, registration_form
from tests.sockets import ORIGIN

UNSAFE = ("post", "put", "patch", "delete")
EVIL = "https://evil.example"
HTTPS = {"X-Forwarded-Proto": "https"}


async def session_count(client: TestClient[Any, Any]) -> int:
    db: Database = client.app[DATABASE_KEY]
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AuthSession)) or 0)


async def problem_code(response: aiohttp.ClientResponse) -> tuple[int, str]:
    body = await response.json(content_type=None)
    return response.status, body["code"]


async def unsafe_operations(client: TestClient[Any, Any]) -> list[tuple[str, str, bool, str]]:
    """(method, path with ids filled in, authenticated, operationId) of the OpenAPI document."""
    document = await (await client.get("/api/v1/openapi.json")).json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in UNSAFE:
                filled = path
                while "{" in filled:
                    start, end = filled.index("{"), filled.index("}")
                    filled = filled[:start] + str(uuid.uuid4()) + filled[end + 1 :]
                authenticated = operation["security"] != [{}]
                found.append((method.upper(), filled, authenticated, operation["operationId"]))
    return found


@pytest.fixture
async def proxied(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> TestClient[Any, Any]:
    """The hub behind a trusted TLS-terminating proxy (HUB_TRUST_PROXY=1)."""
    app = create_app(dataclasses.replace(settings, trust_proxy=True), clock=clock)
    return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())


# -- CSRF -------------------------------------------------------------------------------------


async def test_every_state_changing_operation_refuses_a_cross_site_request(api: Api) -> None:
    patient = await api.full_patient()
    operations = await unsafe_operations(api.client)
    assert {"login", "registerAccount", "logout", "bookAppointment", "uploadDocument"} <= {
        operation_id for *_, operation_id in operations
    }
    sessions = await session_count(api.client)
    for method, path, authenticated, operation_id in operations:
        cases = [
            {**patient.headers, "Origin": EVIL},
            {**patient.headers, "Origin": "null"},
            {**patient.headers, "Sec-Fetch-Site": "cross-site"},
            {**patient.headers, "Sec-Fetch-Site": "same-site"},
        ]
        for headers in cases:
            response = await api.client.request(method, path, json={}, headers=headers)
            assert await problem_code(response) == (403, "cross_site_request"), (
                operation_id,
                headers,
            )
            assert "Set-Cookie" not in response.headers, operation_id
        if authenticated:
            # The synchroniser token still guards a same-origin request with the cookie.
            headers = {"Cookie": patient.headers["Cookie"], "Origin": str(api.client.make_url(""))}
            response = await api.client.request(method, path, json={}, headers=headers)
            assert await problem_code(response) == (403, "csrf_failed"), operation_id
    # Nothing happened: the session is alive (no forged logout) and no login made a new one.
    assert (await api.client.get("/api/v1/me", headers=patient.headers)).status == 200
    assert await session_count(api.client) == sessions


async def test_login_csrf_through_a_text_plain_form_is_refused(api: Api) -> None:
    # <form enctype="text/plain"> with a field named '{"login":"demo.patient","password":"..","x":"'
    # and the value '"}' makes a body that parses as JSON, sent without a CORS preflight.
    form = '{"login":"demo.patient","password":"%s","x":"="}' % DEMO_PASSWORD  # noqa: UP031
    sessions = await session_count(api.client)
    for headers, expected in (
        ({"Content-Type": "text/plain", "Origin": EVIL}, (403, "cross_site_request")),
        (
            {"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"},
            (403, "cross_site_request"),
        ),
        ({"Content-Type": "text/plain"}, (415, "json_required")),  # an older browser, no Origin
    ):
        response = await api.client.post("/api/v1/auth/login", data=form, headers=headers)
        assert await problem_code(response) == expected
        assert "Set-Cookie" not in response.headers
    assert await session_count(api.client) == sessions


async def test_a_cross_site_registration_creates_no_account(api: Api) -> None:
    form = registration_form()
    response = await api.client.post("/api/v1/accounts", json=form, headers={"Origin": EVIL})
    assert await problem_code(response) == (403, "cross_site_request")
    login = {"login": form["login"], "password": form["password"]}
    response = await api.client.post("/api/v1/auth/login", json=login)
    assert await problem_code(response) == (401, "invalid_credentials")


async def test_same_origin_pages_and_bearer_clients_keep_working(api: Api) -> None:
    own = str(api.client.make_url("")).rstrip("/")
    browser = {"Origin": own, "Sec-Fetch-Site": "same-origin"}
    login = {"login": "demo.patient", "password": DEMO_PASSWORD}
    response = await api.client.post("/api/v1/auth/login", json=login, headers=browser)
    assert response.status == 200
    # PUBLIC_URL names the hub too (a page served under the public name, the proxy's Host).
    response = await api.client.post(
        "/api/v1/auth/login", json=login, headers={"Origin": "http://127.0.0.1:8080"}
    )
    assert response.status == 200
    patient = await api.register()
    response = await api.client.post("/api/v1/auth/token", headers={**patient.headers, **browser})
    assert response.status == 200, await response.text()
    token = (await response.json())["access_token"]
    # An API client: a bearer token, no cookie, no Origin, no CSRF token.
    response = await api.client.post(
        "/api/v1/me/full-access",
        json={"accept_terms": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["access_level"] == "full"


# -- the session cookie -----------------------------------------------------------------------


async def login(client: TestClient[Any, Any], **headers: str) -> aiohttp.ClientResponse:
    body = {"login": "demo.patient", "password": DEMO_PASSWORD}
    response = await client.post("/api/v1/auth/login", json=body, headers=headers)
    assert response.status == 200, await response.text()
    return response


async def test_over_https_the_session_cookie_is_host_prefixed(
    proxied: TestClient[Any, Any],
) -> None:
    response = await login(proxied, **HTTPS)
    [set_cookie] = response.headers.getall("Set-Cookie")
    assert set_cookie.startswith("__Host-mp_session=")
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes
    assert "Path=/;" in set_cookie + ";"
    assert "SameSite=Lax" in set_cookie
    value = response.cookies["__Host-mp_session"].value
    csrf = (await response.json())["csrf_token"]
    # Read under the name of the scheme, and only that name.
    own = {"Cookie": f"__Host-mp_session={value}", **HTTPS}
    assert (await proxied.get("/api/v1/me", headers=own)).status == 200
    bare = {"Cookie": f"mp_session={value}", **HTTPS}  # planted over http or by a subdomain
    assert (await proxied.get("/api/v1/me", headers=bare)).status == 401
    over_http = {"Cookie": f"__Host-mp_session={value}"}
    assert (await proxied.get("/api/v1/me", headers=over_http)).status == 401
    # Logout expires the same name, with the attributes a __Host- cookie needs to be accepted.
    response = await proxied.post("/api/v1/auth/logout", headers={**own, "X-CSRF-Token": csrf})
    assert response.status == 204
    [cleared] = response.headers.getall("Set-Cookie")
    assert cleared.startswith('__Host-mp_session=""')
    assert "Max-Age=0" in cleared
    assert "Secure" in cleared
    assert "Path=/" in cleared


async def test_plain_http_on_loopback_keeps_the_bare_cookie(
    client: TestClient[Any, Any], proxied: TestClient[Any, Any]
) -> None:
    for hub, headers in ((client, {}), (client, HTTPS), (proxied, {"X-Forwarded-Proto": "http"})):
        response = await login(hub, **headers)  # HTTPS on the direct hub is anyone's header
        [set_cookie] = response.headers.getall("Set-Cookie")
        assert set_cookie.startswith("mp_session=")
        assert "Secure" not in set_cookie


async def test_socket_io_reads_the_cookie_of_the_scheme(
    proxied: TestClient[Any, Any],
) -> None:
    response = await login(proxied, **HTTPS)
    value = response.cookies["__Host-mp_session"].value
    url = str(proxied.make_url(""))

    async def connect(cookie: str) -> Any:
        sio = socketio.AsyncClient(reconnection=False)
        conversation: dict[str, Any] = {}

        @sio.on("conversation", namespace="/chat")
        async def on_conversation(data: Any) -> None:
            conversation.update(data)

        await sio.connect(
            url,
            namespaces=["/chat"],
            headers={"Origin": ORIGIN, "Cookie": cookie, **HTTPS},
            transports=["websocket"],
            wait_timeout=5,
        )
        await sio.sleep(0.2)
        await sio.disconnect()
        return conversation

    db: Database = proxied.app[DATABASE_KEY]
    patient = await proxied.get(
        "/api/v1/me", headers={"Cookie": f"__Host-mp_session={value}", **HTTPS}
    )
    account = await patient.json()
    assert account["login"] == "demo.patient"
    known = await connect(f"__Host-mp_session={value}")
    anonymous = await connect(f"mp_session={value}")
    assert known and anonymous
    assert known["conversation_id"] != anonymous["conversation_id"]
    async with db.read() as session:
        owners = {
            str(row.id): row.account_id
            for row in await session.scalars(
                select(Conversation).where(
                    Conversation.id.in_(
                        [
                            uuid.UUID(known["conversation_id"]),
                            uuid.UUID(anonymous["conversation_id"]),
                        ]
                    )
                )
            )
        }
    assert str(owners[known["conversation_id"]]) == account["id"]
    assert owners[anonymous["conversation_id"]] is None

    # /consult admits nobody anonymous: the cookie of the scheme opens it, the bare one is refused.
    async def consult(cookie: str) -> Any:
        sio = socketio.AsyncClient(reconnection=False)
        refusal: list[Any] = []

        @sio.on("connect_error", namespace="/consult")
        async def on_refused(data: Any = None) -> None:
            refusal.append(data)

        try:
            await sio.connect(
                url,
                namespaces=["/consult"],
                headers={"Origin": ORIGIN, "Cookie": cookie, **HTTPS},
                transports=["websocket"],
                wait_timeout=5,
            )
        except socketio.exceptions.ConnectionError:
            return refusal[0]["data"] if refusal else "refused"
        await sio.disconnect()
        return None

    assert await consult(f"__Host-mp_session={value}") is None
    assert await consult(f"mp_session={value}") == {"code": "authentication_required"}


# -- HSTS and caching -------------------------------------------------------------------------

PATHS = ("/healthz", "/api/v1/me", "/", "/visits.html", "/no-such-page.html", "/api/v1/terms")


async def test_hsts_only_when_the_trusted_proxy_says_https(
    client: TestClient[Any, Any], proxied: TestClient[Any, Any]
) -> None:
    assert HSTS == "max-age=63072000; includeSubDomains"
    for path in PATHS:
        response = await proxied.get(path, headers=HTTPS)
        assert response.headers.get("Strict-Transport-Security") == HSTS, path
        for hub, headers in (
            (proxied, {}),
            (proxied, {"X-Forwarded-Proto": "http"}),
            (client, HTTPS),
        ):
            response = await hub.get(path, headers=headers)
            assert "Strict-Transport-Security" not in response.headers, (path, headers)


async def test_no_cache_keeps_what_may_show_medical_data(client: TestClient[Any, Any]) -> None:
    for path in PATHS:
        response = await client.get(path)
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    polling = await client.get(
        "/socket.io/", params={"EIO": "4", "transport": "polling"}, headers={"Origin": ORIGIN}
    )
    assert polling.status == 200
    assert "no-store" in polling.headers.get("Cache-Control", "")
    # The widget's public modules may be cached (and loaded by other sites).
    script = await client.get("/app.js")
    assert script.status == 200
    assert "no-store" not in script.headers.get("Cache-Control", "")
    assert script.headers["Access-Control-Allow-Origin"] == "*"
