"""Sessions over HTTP: login and logout, the cookie, CSRF, expiry, throttling, bearer tokens,
and forgotten and changed passwords.

Time moves only by ``clock.advance``; every test runs on SQLite and on PostgreSQL. The demo
logins share ``DEMO_PASSWORD``; logging in costs one real argon2 verification, so tests log in
no more than they need to.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email
import email.policy
import json
import re
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from portal.access import Principal
from portal.auth import Auth, digest
from portal.clock import ManualClock
from portal.config import PortalConfig, Secret
from portal.db import Database
from portal.models import AccessLevel, Role
from portal.passwords import Passwords
from tests.conftest import DEMO_PASSWORD, Api, User, registration_form

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
RESET = "/api/v1/auth/password-reset"
RESET_CONFIRM = "/api/v1/auth/password-reset/confirm"
CHANGE_PASSWORD = "/api/v1/me/password"
NEW_PASSWORD = "Nowe hasło do portalu 2026"
TOKEN_LINK = re.compile(r"(\S+)/reset-password\.html#token=([A-Za-z0-9_-]+)")


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def field_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    """The (field, code) pairs of a 422 problem."""
    return {(error["field"], error["code"]) for error in body["errors"]}


async def attempt(
    client: TestClient[Any, Any], login: str, password: str, **headers: str
) -> ClientResponse:
    """One login request, whatever its outcome."""
    return await client.post(LOGIN, json={"login": login, "password": password}, headers=headers)


def cookie_only(user: User) -> dict[str, str]:
    """The session cookie without the CSRF header."""
    return {"Cookie": f"mp_session={user.cookie}"}


def bearer(token: str) -> dict[str, str]:
    """An Authorization header and nothing else (no cookie, no CSRF)."""
    return {"Authorization": f"Bearer {token}"}


async def new_token(api: Api, headers: dict[str, str]) -> str:
    """A bearer token from createAccessToken."""
    response = await api.client.post(TOKEN, headers=headers)
    assert response.status == 200, await response.text()
    return str((await response.json())["access_token"])


async def me_status(api: Api, headers: dict[str, str]) -> int:
    """The status of getMe with ``headers``."""
    return (await api.client.get(ME, headers=headers)).status


# -- login and the cookie -----------------------------------------------------------------------


async def test_login_sets_a_fresh_http_only_session_cookie(api: Api) -> None:
    responses = [await attempt(api.client, "demo.patient", DEMO_PASSWORD) for _ in range(2)]
    cookies, csrf_tokens = [], []
    for response in responses:
        assert response.status == 200, await response.text()
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
        assert body["account"]["login"] == "demo.patient"
        morsel = response.cookies["mp_session"]
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == "/"
        assert not morsel["secure"]
        assert morsel["max-age"] == str(12 * 3600)
        # At least 128 bits of entropy: base64url carries 6 bits a character.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", morsel.value)
        assert len(body["csrf_token"]) >= 22
        assert body["csrf_token"] != morsel.value
        cookies.append(morsel.value)
        csrf_tokens.append(body["csrf_token"])
    assert cookies[0] != cookies[1]
    assert csrf_tokens[0] != csrf_tokens[1]
    for cookie in cookies:
        assert await me_status(api, {"Cookie": f"mp_session={cookie}"}) == 200
    # A cookie that was never issued opens nothing.
    assert await me_status(api, {"Cookie": "mp_session=" + "A" * 43}) == 401


async def test_cookie_is_secure_behind_a_trusted_tls_proxy(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> None:
    direct = await aiohttp_client(
        create_app(settings, clock=clock), cookie_jar=aiohttp.DummyCookieJar()
    )
    proxied = await aiohttp_client(
        create_app(dataclasses.replace(settings, trust_proxy=True), clock=clock),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    https = {"X-Forwarded-Proto": "https"}
    response = await attempt(proxied, "demo.patient", DEMO_PASSWORD, **https)
    assert response.status == 200, await response.text()
    # Over https the cookie takes the __Host- prefix (tests/adversarial/test_cookies.py).
    assert response.cookies["__Host-mp_session"]["secure"] is True
    assert response.cookies["__Host-mp_session"]["httponly"] is True
    response = await attempt(
        proxied, "demo.patient", DEMO_PASSWORD, **{"X-Forwarded-Proto": "http"}
    )
    assert not response.cookies["mp_session"]["secure"]
    # Without trust_proxy, the header is anyone's to send and is ignored.
    response = await attempt(direct, "demo.patient", DEMO_PASSWORD, **https)
    assert response.status == 200
    assert not response.cookies["mp_session"]["secure"]


async def test_wrong_password_and_unknown_login_look_alike(api: Api) -> None:
    wrong = await attempt(api.client, "demo.patient", "not the password at all")
    unknown = await attempt(api.client, "nobody.at.all", "not the password at all")
    bodies = []
    for response in (wrong, unknown):
        body = await problem(response, 401, "invalid_credentials")
        assert body["title"] == "Nieprawidłowy login lub hasło."
        assert "mp_session" not in response.cookies
        bodies.append(await response.read())
    assert bodies[0] == bodies[1]


# -- logout and CSRF ----------------------------------------------------------------------------


async def test_logout_ends_the_session_and_its_tokens(api: Api) -> None:
    user = await api.login("demo.patient")
    other = await api.login("demo.patient")
    token = await new_token(api, user.headers)
    assert await me_status(api, bearer(token)) == 200

    response = await api.client.post(LOGOUT, headers=user.headers)
    assert response.status == 204, await response.text()
    deleted = response.cookies["mp_session"]
    assert deleted.value == ""
    assert deleted["max-age"] == "0"

    await problem(await api.client.get(ME, headers=user.headers), 401, "authentication_required")
    await problem(await api.client.get(ME, headers=bearer(token)), 401, "token_invalid")
    # Only that session ended.
    assert await me_status(api, other.headers) == 200


async def test_cookie_requests_that_change_state_need_the_csrf_token(api: Api) -> None:
    user = await api.login("demo.patient")
    other = await api.login("demo.patient")
    for headers in (
        cookie_only(user),
        {**cookie_only(user), "X-CSRF-Token": ""},
        {
            **cookie_only(user),
            "X-CSRF-Token": user.csrf[:-1] + ("B" if user.csrf[-1] == "A" else "A"),
        },
        # Each session has its own token.
        {**cookie_only(user), "X-CSRF-Token": other.csrf},
    ):
        await problem(await api.client.post(TOKEN, headers=headers), 403, "csrf_failed")
        await problem(await api.client.post(LOGOUT, headers=headers), 403, "csrf_failed")
    # Reading needs no token, and the refused logout left the session alive.
    assert await me_status(api, cookie_only(user)) == 200
    token = await new_token(api, user.headers)

    # A bearer token is not sent by browsers on their own: no CSRF token needed.
    response = await api.client.post(
        "/api/v1/me/full-access", json={"accept_terms": True}, headers=bearer(token)
    )
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_non_ascii_csrf_token_is_refused(api: Api) -> None:
    user = await api.login("demo.patient")
    headers = {**cookie_only(user), "X-CSRF-Token": "żółw"}
    await problem(await api.client.post(TOKEN, headers=headers), 403, "csrf_failed")


# -- expiry -------------------------------------------------------------------------------------


async def test_idle_session_expires_after_30_minutes(api: Api, clock: ManualClock) -> None:
    user = await api.login("demo.patient")
    clock.advance(timedelta(minutes=29))
    assert await me_status(api, user.headers) == 200
    # Idle time counts from the last request, not from the login.
    clock.advance(timedelta(minutes=29))
    assert await me_status(api, user.headers) == 200
    clock.advance(timedelta(minutes=31))
    await problem(await api.client.get(ME, headers=user.headers), 401, "session_expired")
    # Expired means ended: it does not come back.
    await problem(await api.client.get(ME, headers=user.headers), 401, "authentication_required")


async def test_active_session_ends_after_12_hours(api: Api, clock: ManualClock) -> None:
    user = await api.login("demo.patient")
    for _ in range(35):
        clock.advance(timedelta(minutes=20))
        assert await me_status(api, user.headers) == 200
    clock.advance(timedelta(minutes=19))  # 11 h 59 min after login
    assert await me_status(api, user.headers) == 200
    clock.advance(timedelta(minutes=2))
    body = await problem(await api.client.get(ME, headers=user.headers), 401, "session_expired")
    assert body["title"] == "Sesja wygasła. Zaloguj się ponownie."


async def test_bearer_tokens_do_not_outlive_their_session(api: Api, clock: ManualClock) -> None:
    user = await api.login("demo.patient")
    token = await new_token(api, user.headers)
    # Tokens are minted from a login session only: a token cannot prolong itself.
    response = await api.client.post(TOKEN, headers=bearer(token))
    await problem(response, 403, "role_forbidden")
    clock.advance(timedelta(minutes=14))
    assert (await api.client.get(ME, headers=bearer(token))).status == 200
    # Using a token does not keep the session alive: 31 idle minutes end both.
    fresh = await new_token(api, user.headers)
    clock.advance(timedelta(minutes=31))
    await problem(await api.client.get(ME, headers=bearer(fresh)), 401, "token_invalid")
    await problem(await api.client.get(ME, headers=user.headers), 401, "session_expired")


# -- throttling ---------------------------------------------------------------------------------


async def test_five_failures_block_a_login_name_existing_or_not(
    api: Api, clock: ManualClock
) -> None:
    for name in ("demo.patient", "no.such.login"):
        refusals = [await attempt(api.client, name, f"wrong password {i}") for i in range(5)]
        for response in refusals:
            await problem(response, 401, "invalid_credentials")

    blocked = []
    for name in ("demo.patient", "no.such.login"):
        response = await attempt(api.client, name, DEMO_PASSWORD)
        body = await problem(response, 429, "too_many_attempts")
        assert response.headers["Retry-After"] == "900"
        assert body["retry_after"] == 900
        assert body["title"] == "Zbyt wiele prób w krótkim czasie. Spróbuj ponownie za 900 s."
        blocked.append(await response.read())
    # Blocked or not, nothing tells whether the login exists.
    assert blocked[0] == blocked[1]
    # Another login name from the same address is not blocked.
    assert (await attempt(api.client, "demo.physician", DEMO_PASSWORD)).status == 200

    clock.advance(timedelta(minutes=14))
    response = await attempt(api.client, "demo.patient", DEMO_PASSWORD)
    await problem(response, 429, "too_many_attempts")
    assert response.headers["Retry-After"] == "60"
    clock.advance(timedelta(minutes=2))
    assert (await attempt(api.client, "demo.patient", DEMO_PASSWORD)).status == 200


async def test_concurrent_failures_are_all_counted(api: Api) -> None:
    # Five first failures at once race to create the same counters; none may be lost.
    refusals = await asyncio.gather(
        *(attempt(api.client, "demo.reception", f"guess {i}") for i in range(5))
    )
    for response in refusals:
        await problem(response, 401, "invalid_credentials")
    await problem(
        await attempt(api.client, "demo.reception", DEMO_PASSWORD), 429, "too_many_attempts"
    )


async def test_successful_login_clears_the_failures(api: Api) -> None:
    for _ in range(2):
        for i in range(4):
            response = await attempt(api.client, "demo.patient", f"wrong password {i}")
            await problem(response, 401, "invalid_credentials")
        assert (await attempt(api.client, "demo.patient", DEMO_PASSWORD)).status == 200
    # Eight failures in all, but never five in a row: the login name is not blocked.
    await problem(await attempt(api.client, "demo.patient", "wrong"), 401, "invalid_credentials")


async def test_twenty_failures_block_the_client_address(api: Api, clock: ManualClock) -> None:
    for i in range(20):
        response = await attempt(api.client, f"guess.{i}", "wrong password")
        await problem(response, 401, "invalid_credentials")
    response = await attempt(api.client, "demo.patient", DEMO_PASSWORD)
    await problem(response, 429, "too_many_attempts")
    assert response.headers["Retry-After"] == "900"
    clock.advance(timedelta(minutes=16))
    assert (await attempt(api.client, "demo.patient", DEMO_PASSWORD)).status == 200


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_forwarded_for_cannot_dodge_the_address_block(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> None:
    proxied = await aiohttp_client(
        create_app(dataclasses.replace(settings, trust_proxy=True), clock=clock),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    # What a proxy appending the peer address forwards when the client sent its own header.
    for i in range(20):
        forwarded = {"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.9"}
        response = await attempt(proxied, f"guess.{i}", "wrong password", **forwarded)
        await problem(response, 401, "invalid_credentials")
    forwarded = {"X-Forwarded-For": "198.51.100.99, 203.0.113.9"}
    response = await attempt(proxied, "demo.patient", DEMO_PASSWORD, **forwarded)
    await problem(response, 429, "too_many_attempts")


# -- bearer tokens ------------------------------------------------------------------------------


async def test_bearer_token_acts_for_the_patient(api: Api, clock: ManualClock) -> None:
    user = await api.login("demo.patient")
    response = await api.client.post(TOKEN, headers=user.headers)
    assert response.status == 200, await response.text()
    issued = await response.json()
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 15 * 60
    assert datetime.fromisoformat(issued["expires_at"]) == clock.now() + timedelta(minutes=15)
    token = issued["access_token"]

    response = await api.client.get(ME, headers=bearer(token))
    assert response.status == 200, await response.text()
    assert (await response.json())["id"] == user.account["id"]
    by_token = await api.client.get("/api/v1/appointments", headers=bearer(token))
    assert by_token.status == 200, await by_token.text()
    by_cookie = await api.client.get("/api/v1/appointments", headers=user.headers)
    appointments = (await by_token.json())["items"]
    assert appointments  # the demo patient has visits
    assert appointments == (await by_cookie.json())["items"]

    clock.advance(timedelta(minutes=14))
    assert await me_status(api, bearer(token)) == 200
    clock.advance(timedelta(minutes=1, seconds=1))
    await problem(await api.client.get(ME, headers=bearer(token)), 401, "token_invalid")
    # The token expired, not the session.
    assert await me_status(api, user.headers) == 200


def signed_elsewhere(secret: str, user: User, clock: ManualClock) -> str:
    """A well-formed token for ``user``'s session, signed with the key derived from ``secret``."""
    auth = Auth(cast(Database, None), PortalConfig(secret=Secret(secret)), clock, Passwords())
    principal = Principal(
        account_id=uuid.UUID(user.account["id"]),
        role=Role.PATIENT,
        access_level=AccessLevel.FULL,
        patient_id=uuid.UUID(user.patient_id),
        session_id=digest(user.cookie),
    )
    return auth.issue_token(principal).token


async def test_forged_and_mangled_tokens_are_refused(
    api: Api, settings: Settings, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    token = await new_token(api, user.headers)
    prefix, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["exp"] += 24 * 3600
    longer = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()

    # The same construction with the hub's own secret is accepted: the forgeries below fail
    # for their signature, not for their shape.
    genuine = signed_elsewhere(settings.secret.reveal(), user, clock)
    assert await me_status(api, bearer(genuine)) == 200

    forgeries = {
        "another key": signed_elsewhere("another secret", user, clock),
        "payload changed": f"{prefix}.{longer}.{signature}",
        "truncated": token[:-6],
        "signature dropped": f"{prefix}.{body}",
        "other prefix": f"mpt2.{body}.{signature}",
        "non-ASCII": token[:-1] + "ż",
        "not a token": "token",
    }
    for name, forged in forgeries.items():
        response = await api.client.get(ME, headers=bearer(forged))
        assert response.status == 401, (name, await response.text())
        assert (await response.json(content_type=None))["code"] == "token_invalid", name


async def test_staff_get_no_bearer_tokens(api: Api) -> None:
    for login in ("demo.physician", "demo.reception"):
        user = await api.login(login)
        await problem(await api.client.post(TOKEN, headers=user.headers), 403, "role_forbidden")


# -- forgotten password -------------------------------------------------------------------------


def outbox(settings: Settings) -> dict[Path, EmailMessage]:
    """The messages in the hub's outbox folder."""
    folder = settings.var_dir / "outbox"
    return {
        path: cast(
            EmailMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        )
        for path in folder.glob("*.eml")
    }


async def request_reset(
    api: Api, settings: Settings, login: str, **headers: str
) -> tuple[ClientResponse, list[EmailMessage]]:
    """Ask for a reset link; the response and the messages it mailed (after the answer)."""
    await api.settle()
    before = set(outbox(settings))
    response = await api.client.post(RESET, json={"login": login}, headers=headers)
    await api.settle()
    after = outbox(settings)
    return response, [message for path, message in after.items() if path not in before]


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message, decoded."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def reset_token(settings: Settings, message: EmailMessage) -> str:
    """The token of the link in a reset message."""
    found = TOKEN_LINK.search(text_of(message))
    assert found is not None, text_of(message)
    assert found.group(1) == settings.public_url
    return found.group(2)


async def confirm_reset(api: Api, token: str, password: str) -> ClientResponse:
    """resetPassword."""
    return await api.client.post(RESET_CONFIRM, json={"token": token, "new_password": password})


async def test_reset_request_answers_alike_and_mails_only_known_accounts(
    api: Api, settings: Settings
) -> None:
    form = registration_form(email="Anna.Zielinska@Example.COM")
    response = await api.client.post("/api/v1/accounts", json=form)
    assert response.status == 201, await response.text()

    answers = []
    by_login, mailed = await request_reset(api, settings, "demo.patient")
    assert [m["To"] for m in mailed] == ["demo.patient@example.com"]
    assert mailed[0]["Subject"] == "Zmiana hasła w Portalu Pacjenta"
    reset_token(settings, mailed[0])
    answers.append(by_login)

    # The address as the patient typed it at registration, in English this time.
    by_email, mailed = await request_reset(
        api, settings, "Anna.Zielinska@example.com", **{"Accept-Language": "en"}
    )
    assert [m["To"] for m in mailed] == ["Anna.Zielinska@example.com"]
    assert mailed[0]["Subject"] == "Resetting your patient portal password"
    assert f"Hello {form['login']}," in text_of(mailed[0])
    answers.append(by_email)

    for unknown in ("no.such.login", "nobody@example.com"):
        response, mailed = await request_reset(api, settings, unknown)
        assert mailed == []
        answers.append(response)

    shapes = {(r.status, r.headers.get("Content-Type"), await r.read()) for r in answers}
    assert len(shapes) == 1
    assert shapes.pop()[0] == 202


async def test_reset_link_sets_the_password_once_and_ends_every_session(
    api: Api, settings: Settings
) -> None:
    user = await api.login("demo.patient")
    token = await new_token(api, user.headers)
    _, [message] = await request_reset(api, settings, "demo.patient")
    link = reset_token(settings, message)

    response = await confirm_reset(api, link, "za krótkie")
    body = await problem(response, 422, "invalid_input")
    assert field_errors(body) == {("new_password", "password_too_short")}
    # A refused password does not spend the link, nor end the sessions.
    assert await me_status(api, user.headers) == 200

    response = await confirm_reset(api, link, NEW_PASSWORD)
    assert response.status == 204, await response.text()
    body = await problem(await confirm_reset(api, link, NEW_PASSWORD + "!"), 422, "invalid_input")
    assert field_errors(body) == {("token", "reset_token_invalid")}

    await problem(await api.client.get(ME, headers=user.headers), 401, "authentication_required")
    await problem(await api.client.get(ME, headers=bearer(token)), 401, "token_invalid")
    await problem(
        await attempt(api.client, "demo.patient", DEMO_PASSWORD), 401, "invalid_credentials"
    )
    assert (await attempt(api.client, "demo.patient", NEW_PASSWORD)).status == 200


async def test_reset_link_expires_after_30_minutes(
    api: Api, settings: Settings, clock: ManualClock
) -> None:
    _, [first] = await request_reset(api, settings, "demo.patient")
    clock.advance(timedelta(minutes=2))
    _, [second] = await request_reset(api, settings, "demo.patient")
    clock.advance(timedelta(minutes=29))

    for token in (reset_token(settings, first), "made-up-token"):
        body = await problem(await confirm_reset(api, token, NEW_PASSWORD), 422, "invalid_input")
        assert field_errors(body) == {("token", "reset_token_invalid")}
    assert (await attempt(api.client, "demo.patient", DEMO_PASSWORD)).status == 200
    # The younger link, 29 minutes old, still works.
    response = await confirm_reset(api, reset_token(settings, second), NEW_PASSWORD)
    assert response.status == 204, await response.text()


# -- changing the password ----------------------------------------------------------------------


async def test_change_password_keeps_only_the_current_session(api: Api) -> None:
    current = await api.login("demo.patient")
    other = await api.login("demo.patient")
    current_token = await new_token(api, current.headers)
    other_token = await new_token(api, other.headers)

    refusals = [
        (
            {"old_password": "not my password", "new_password": NEW_PASSWORD},
            "old_password",
            "password_wrong",
        ),
        (
            {"old_password": DEMO_PASSWORD, "new_password": "krótkie"},
            "new_password",
            "password_too_short",
        ),
        (
            {"old_password": DEMO_PASSWORD, "new_password": "password1234"},
            "new_password",
            "password_common",
        ),
        (
            {"old_password": DEMO_PASSWORD, "new_password": "moje demo.patient 2026"},
            "new_password",
            "password_contains_login",
        ),
        ({"new_password": NEW_PASSWORD}, "old_password", "field_required"),
    ]
    for body, field, code in refusals:
        response = await api.client.post(CHANGE_PASSWORD, json=body, headers=current.headers)
        problem_body = await problem(response, 422, "invalid_input")
        assert field_errors(problem_body) == {(field, code)}
    assert await me_status(api, other.headers) == 200

    response = await api.client.post(
        CHANGE_PASSWORD,
        json={"old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=current.headers,
    )
    assert response.status == 204, await response.text()

    assert await me_status(api, current.headers) == 200
    assert await me_status(api, bearer(current_token)) == 200
    await problem(await api.client.get(ME, headers=other.headers), 401, "authentication_required")
    await problem(await api.client.get(ME, headers=bearer(other_token)), 401, "token_invalid")
    await problem(
        await attempt(api.client, "demo.patient", DEMO_PASSWORD), 401, "invalid_credentials"
    )
    assert (await attempt(api.client, "demo.patient", NEW_PASSWORD)).status == 200
