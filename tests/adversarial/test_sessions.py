"""Sessions and tokens end for real (issue 12): logout, idle and absolute expiry, a password
change and a password reset end the sessions, their bearer tokens (the assistant's delegated
ones included) and their open ``/chat`` and ``/consult`` sockets, on every hub node; reset links
are single use and only the newest works; forged, tampered, expired and foreign-origin
connections are refused.

Each case checks what the socket is told (``session_ended`` and the disconnect), what a
reconnect with the old cookie or token gets, what the database keeps (sessions, reset links) and
the audit rows. Time moves only by ``clock.advance``; the hub's session watch looks at the
clock once a second, so waits are bounded (5 s), never asserted on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.auth import digest
from portal.clock import ManualClock
from portal.models import AuditEvent, AuthSession, Conversation, PasswordReset
from portal.seed import book_demo_consultation
from portal.services import Portal
from tests.bot.conftest import FakeRasa
from tests.conftest import DEMO_PASSWORD, Api, Nodes, User
from tests.portal.api.test_sessions import (
    CHANGE_PASSWORD,
    LOGOUT,
    ME,
    NEW_PASSWORD,
    RESET,
    bearer,
    confirm_reset,
    field_errors,
    new_token,
    outbox,
    problem,
    reset_token,
)
from tests.sockets import ORIGIN, SocketClient

WITHIN = 5.0
"""Seconds a test waits for what the hub promises within about one."""


class Socket(SocketClient):
    """A ``/chat`` or ``/consult`` client that also notices ``session_ended`` and the
    server's disconnect."""

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace, ("session_ended", "conversation", "bot_message"), "en")
        self.gone = asyncio.Event()
        self.sio.on("disconnect", self._disconnected, namespace=namespace)

    async def _disconnected(self, *reason: Any) -> None:
        self.gone.set()

    async def ended(self) -> str:
        """Why the server ended the session under this socket, once it also disconnected."""
        event = await self.next("session_ended", WITHIN)
        await asyncio.wait_for(self.gone.wait(), WITHIN)
        assert not self.sio.connected
        return str(event["reason"])

    async def say(self, text: str) -> Any:
        """A ``/chat`` message; the ack."""
        return await self.call("user_message", {"text": text, "client_msg_id": uuid.uuid4().hex})


Sockets = Callable[[str], Socket]


@pytest.fixture
async def rasa(aiohttp_server: Any) -> tuple[FakeRasa, TestServer]:
    """A fake Rasa that records each message's metadata (the delegated token)."""
    fake = FakeRasa()
    return fake, await aiohttp_server(fake.app())


@pytest.fixture
def settings(settings: Settings, rasa: tuple[FakeRasa, TestServer]) -> Settings:
    """The shared settings with Rasa pointed at the fake."""
    return dataclasses.replace(settings, rasa_url=str(rasa[1].make_url("")).rstrip("/"))


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    """Make sockets of a namespace; each is closed at the end of the test."""
    made: list[Socket] = []

    def make(namespace: str) -> Socket:
        made.append(Socket(namespace))
        return made[-1]

    yield make
    for socket in made:
        await socket.close()


@pytest.fixture
def portal(client: TestClient[Any, Any]) -> Portal:
    """The running app's domain services."""
    return client.app[PORTAL_KEY]


def url(client: TestClient[Any, Any]) -> str:
    """The address Socket.IO clients connect to."""
    return str(client.make_url(""))


async def chat_as(
    sockets: Sockets, client: TestClient[Any, Any], user: User | None, **auth: Any
) -> tuple[Socket, dict[str, Any]]:
    """A ``/chat`` socket of ``user`` (a guest if None) and its ``conversation`` event."""
    socket = sockets("/chat")
    await socket.connect(url(client), cookie=user.cookie if user else None, **auth)
    return socket, await socket.next("conversation")


async def consult_as(sockets: Sockets, client: TestClient[Any, Any], user: User) -> Socket:
    """A ``/consult`` socket of ``user``."""
    socket = sockets("/consult")
    await socket.connect(url(client), cookie=user.cookie)
    return socket


async def refusal(
    sockets: Sockets,
    client: TestClient[Any, Any],
    namespace: str,
    cookie: str | None = None,
    **auth: Any,
) -> Any:
    """What the hub answers a connect that must be refused (its ``connect_error`` data)."""
    socket = sockets(namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socket.connect(url(client), cookie=cookie, **auth)
    return socket.refusal


async def session_rows(portal: Portal, user: User) -> set[str]:
    """The stored session ids of ``user``'s account."""
    async with portal.db.read() as session:
        rows = await session.scalars(
            select(AuthSession.id).where(AuthSession.account_id == uuid.UUID(user.account["id"]))
        )
        return set(rows)


async def reset_rows(portal: Portal, user: User) -> int:
    """How many reset links of ``user``'s account are stored."""
    async with portal.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(PasswordReset)
            .where(PasswordReset.account_id == uuid.UUID(user.account["id"]))
        )
        return int(count or 0)


async def account_audit(portal: Portal, user: User) -> list[tuple[str, str | None, Any]]:
    """The audit rows about ``user``'s account: (action, actor account, detail), oldest first."""
    async with portal.db.read() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "Account", AuditEvent.object_id == user.account["id"])
            .order_by(AuditEvent.at)
        )
        return [
            (
                row.action,
                str(row.actor_account_id) if row.actor_account_id else None,
                row.detail,
            )
            for row in rows
        ]


async def conversations(portal: Portal) -> int:
    """How many conversations are stored."""
    async with portal.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


async def delegated_token(socket: Socket, fake: FakeRasa) -> str:
    """The bearer token the hub hands the assistant with one message of ``socket``."""
    calls = len(fake.calls)
    assert (await socket.say("book me in"))["ok"] is True
    await fake.wait_for_calls(calls + 1)
    return str(fake.calls[-1]["metadata"]["access_token"])


async def request_link(api: Api, settings: Settings, login: str) -> str:
    """Ask for a reset link of ``login``; its token (mailed after the answer)."""
    await api.settle()
    before = set(outbox(settings))
    response = await api.client.post(RESET, json={"login": login})
    assert response.status == 202, await response.text()
    await api.settle()
    [message] = [m for path, m in outbox(settings).items() if path not in before]
    return reset_token(settings, message)


# -- logout -----------------------------------------------------------------------------------


async def test_logout_ends_its_session_tokens_and_sockets_and_nothing_else(
    client: TestClient[Any, Any],
    api: Api,
    sockets: Sockets,
    portal: Portal,
    rasa: tuple[FakeRasa, TestServer],
) -> None:
    appointment = await book_demo_consultation(portal)
    leaving, staying = await api.login("demo.patient"), await api.login("demo.patient")
    chat, opened = await chat_as(sockets, client, leaving)
    delegated = await delegated_token(chat, rasa[0])
    minted = await new_token(api, leaving.headers)
    consult = await consult_as(sockets, client, leaving)
    assert (await consult.call("join", {"appointment_id": str(appointment.id)}))["ok"] is True
    other_chat, _ = await chat_as(sockets, client, staying)
    for token in (delegated, minted):
        assert (await api.client.get(ME, headers=bearer(token))).status == 200

    response = await api.client.post(LOGOUT, headers=leaving.headers)
    assert response.status == 204, await response.text()

    assert await chat.ended() == "logout"
    assert await consult.ended() == "logout"
    for token in (delegated, minted):
        await problem(await api.client.get(ME, headers=bearer(token)), 401, "token_invalid")
    # The old cookie opens nothing: no chat, no history, no re-join of the room.
    chat_again = await refusal(sockets, client, "/chat", leaving.cookie)
    assert chat_again["data"] == {"code": "session_invalid"}
    rejoin = await refusal(
        sockets, client, "/consult", leaving.cookie, appointment_id=str(appointment.id)
    )
    assert rejoin["data"] == {"code": "session_invalid"}
    by_token = await refusal(sockets, client, "/consult", token=delegated)
    assert by_token["data"] == {"code": "session_invalid"}
    # A guest holding the conversation's id gets a conversation of their own, and no replay.
    guest, theirs = await chat_as(
        sockets, client, None, conversation_id=opened["conversation_id"], last_seq=0
    )
    assert theirs["conversation_id"] != opened["conversation_id"]
    await asyncio.sleep(0.1)  # a replay would follow the conversation event at once
    assert guest.pending("bot_message") == []

    # The other session of the same patient goes on.
    assert (await other_chat.say("still here"))["ok"] is True
    assert other_chat.pending("session_ended") == []
    assert await session_rows(portal, leaving) == {digest(staying.cookie)}
    assert await account_audit(portal, leaving) == [
        ("logout", leaving.account["id"], {"session": digest(leaving.cookie)[:12]})
    ]


# -- expiry -----------------------------------------------------------------------------------


async def test_idle_expiry_disconnects_the_sessions_sockets(
    client: TestClient[Any, Any], api: Api, sockets: Sockets, portal: Portal, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    chat, _ = await chat_as(sockets, client, user)
    consult = await consult_as(sockets, client, user)
    # The socket's own events are use of the session, like requests: 2 x 20 minutes stay alive.
    for _ in range(2):
        clock.advance(timedelta(minutes=20))
        assert (await chat.say("still typing"))["ok"] is True
    assert (await api.client.get(ME, headers=user.headers)).status == 200
    assert chat.pending("session_ended") == consult.pending("session_ended") == []

    clock.advance(timedelta(minutes=31))
    assert await chat.ended() == "session_expired"
    assert await consult.ended() == "session_expired"
    assert await session_rows(portal, user) == set()
    assert (await refusal(sockets, client, "/chat", user.cookie))["data"] == {
        "code": "session_invalid"
    }
    assert await account_audit(portal, user) == [
        (
            "session_expired",
            user.account["id"],
            {"session": digest(user.cookie)[:12], "expiry": "idle"},
        )
    ]


async def test_housekeeping_deletes_expired_sessions_nobody_presents_and_dead_reset_links(
    api: Api, portal: Portal, clock: ManualClock, settings: Settings
) -> None:
    gone = await api.login("demo.patient")  # a browser closed without logging out
    await request_link(api, settings, "demo.patient")  # a link nobody follows
    clock.advance(timedelta(minutes=20))
    kept = await api.login("demo.patient")
    await request_link(api, settings, "demo.patient")
    clock.advance(timedelta(minutes=11))  # ``gone`` idle 31 minutes, the first link 31 old

    await portal.housekeeping()
    assert await session_rows(portal, gone) == {digest(kept.cookie)}
    assert await reset_rows(portal, gone) == 1
    assert [row for row in await account_audit(portal, gone) if row[0] == "session_expired"] == [
        (
            "session_expired",
            gone.account["id"],
            {"session": digest(gone.cookie)[:12], "expiry": "idle"},
        )
    ]
    assert (await api.client.get(ME, headers=kept.headers)).status == 200
    audited = await account_audit(portal, gone)
    await portal.housekeeping()  # nothing left to do: nothing more ended, nothing audited twice
    assert await account_audit(portal, gone) == audited
    assert await session_rows(portal, gone) == {digest(kept.cookie)}


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_absolute_lifetime_ends_a_busy_session_and_its_sockets(
    client: TestClient[Any, Any], api: Api, sockets: Sockets, portal: Portal, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    consult = await consult_as(sockets, client, user)
    for _ in range(35):  # busy over HTTP every 20 minutes: never idle
        clock.advance(timedelta(minutes=20))
        assert (await api.client.get(ME, headers=user.headers)).status == 200
    assert consult.pending("session_ended") == []
    clock.advance(timedelta(minutes=21))  # 12 h 1 min after the login
    assert await consult.ended() == "session_expired"
    await problem(await api.client.get(ME, headers=user.headers), 401, "authentication_required")
    [(action, _, detail)] = await account_audit(portal, user)
    assert (action, detail["expiry"]) == ("session_expired", "absolute")


# -- password change and reset ----------------------------------------------------------------


async def test_password_change_ends_every_other_session_and_every_reset_link(
    client: TestClient[Any, Any],
    api: Api,
    sockets: Sockets,
    portal: Portal,
    settings: Settings,
    rasa: tuple[FakeRasa, TestServer],
) -> None:
    current, other = await api.login("demo.patient"), await api.login("demo.patient")
    current_chat, _ = await chat_as(sockets, client, current)
    other_chat, _ = await chat_as(sockets, client, other)
    other_consult = await consult_as(sockets, client, other)
    other_delegated = await delegated_token(other_chat, rasa[0])
    current_delegated = await delegated_token(current_chat, rasa[0])
    link = await request_link(api, settings, "demo.patient")

    response = await api.client.post(
        CHANGE_PASSWORD,
        json={"old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=current.headers,
    )
    assert response.status == 204, await response.text()

    assert await other_chat.ended() == "password_changed"
    assert await other_consult.ended() == "password_changed"
    await problem(await api.client.get(ME, headers=bearer(other_delegated)), 401, "token_invalid")
    assert (await refusal(sockets, client, "/consult", other.cookie))["data"] == {
        "code": "session_invalid"
    }
    # The session that changed it stays (decided: docs/security.md), with its socket and tokens.
    assert (await current_chat.say("after the change"))["ok"] is True
    assert (await api.client.get(ME, headers=bearer(current_delegated))).status == 200
    assert current_chat.pending("session_ended") == []
    # A reset link mailed before the change no longer works.
    body = await problem(await confirm_reset(api, link, NEW_PASSWORD + "!"), 422, "invalid_input")
    assert field_errors(body) == {("token", "reset_token_invalid")}
    assert await session_rows(portal, current) == {digest(current.cookie)}
    assert await reset_rows(portal, current) == 0
    assert await account_audit(portal, current) == [
        ("password_changed", current.account["id"], {"sessions_ended": 1, "reset_links_revoked": 1})
    ]


async def test_password_reset_ends_every_session_socket_and_token(
    client: TestClient[Any, Any],
    api: Api,
    sockets: Sockets,
    portal: Portal,
    settings: Settings,
) -> None:
    users = [await api.login("demo.patient"), await api.login("demo.patient")]
    tokens = [await new_token(api, user.headers) for user in users]
    chats = [(await chat_as(sockets, client, user))[0] for user in users]
    consult = await consult_as(sockets, client, users[0])
    link = await request_link(api, settings, "demo.patient")

    assert (await confirm_reset(api, link, NEW_PASSWORD)).status == 204
    for socket in (*chats, consult):
        assert await socket.ended() == "password_reset"
    for token in tokens:
        await problem(await api.client.get(ME, headers=bearer(token)), 401, "token_invalid")
    for user in users:
        response = await api.client.get(ME, headers=user.headers)
        await problem(response, 401, "authentication_required")
    assert await session_rows(portal, users[0]) == set()
    assert await reset_rows(portal, users[0]) == 0
    # Nobody was logged in to reset it: the audit row names no actor.
    assert await account_audit(portal, users[0]) == [
        ("password_reset", None, {"sessions_ended": 2, "reset_links_revoked": 1})
    ]


async def test_only_the_newest_reset_link_works_and_only_once(
    api: Api, portal: Portal, settings: Settings
) -> None:
    user = await api.login("demo.patient")
    older = await request_link(api, settings, "demo.patient")
    newer = await request_link(api, settings, "demo.patient")
    assert await reset_rows(portal, user) == 1  # asking again revoked the older link

    body = await problem(await confirm_reset(api, older, NEW_PASSWORD), 422, "invalid_input")
    assert field_errors(body) == {("token", "reset_token_invalid")}
    # The same link twice at once: exactly one sets the password.
    first, second = await asyncio.gather(
        confirm_reset(api, newer, NEW_PASSWORD), confirm_reset(api, newer, NEW_PASSWORD + "!")
    )
    statuses = sorted([first.status, second.status])
    assert statuses == [204, 422]
    refused = first if first.status == 422 else second
    assert field_errors(await problem(refused, 422, "invalid_input")) == {
        ("token", "reset_token_invalid")
    }
    winner = NEW_PASSWORD if first.status == 204 else NEW_PASSWORD + "!"
    assert (await api.login("demo.patient", winner)).account["id"] == user.account["id"]
    assert await reset_rows(portal, user) == 0
    assert [action for action, _, _ in await account_audit(portal, user)] == ["password_reset"]


# -- two hub nodes ----------------------------------------------------------------------------


async def test_ends_of_sessions_reach_the_sockets_on_the_other_node(
    nodes: Nodes, sockets: Sockets
) -> None:
    zero, one = nodes.clients
    api_zero, api_one = Api(zero), Api(one)
    leaving = await api_one.login("demo.patient")
    changing, other = await api_zero.login("demo.patient"), await api_zero.login("demo.patient")
    leaving_chat, _ = await chat_as(sockets, zero, leaving)
    leaving_consult = await consult_as(sockets, zero, leaving)
    other_chat, _ = await chat_as(sockets, one, other)
    other_consult = await consult_as(sockets, one, other)

    # Logged out on node 1: the sockets on node 0 end.
    assert (await one.post(LOGOUT, headers=leaving.headers)).status == 204
    assert await leaving_chat.ended() == "logout"
    assert await leaving_consult.ended() == "logout"
    assert other_chat.pending("session_ended") == []
    # The password changed on node 0: the other session's sockets on node 1 end.
    response = await zero.post(
        CHANGE_PASSWORD,
        json={"old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
        headers=changing.headers,
    )
    assert response.status == 204, await response.text()
    assert await other_chat.ended() == "password_changed"
    assert await other_consult.ended() == "password_changed"
    for node in (zero, one):
        assert (await refusal(sockets, node, "/chat", other.cookie))["data"] == {
            "code": "session_invalid"
        }


# -- connects that are refused ----------------------------------------------------------------


async def test_forged_tampered_and_expired_cookies_open_no_socket_and_no_guest_chat(
    client: TestClient[Any, Any], api: Api, sockets: Sockets, portal: Portal, clock: ManualClock
) -> None:
    owner = await api.login("demo.patient")
    _, opened = await chat_as(sockets, client, owner)
    stale = await api.login("demo.patient")
    clock.advance(timedelta(minutes=20))
    assert (await api.client.get(ME, headers=owner.headers)).status == 200
    clock.advance(timedelta(minutes=11))  # ``stale`` idle 31 minutes, ``owner`` 11
    before = await conversations(portal)
    tampered = owner.cookie[:-1] + ("A" if owner.cookie[-1] != "A" else "B")
    cookies = {
        "forged": "A" * 43,
        "tampered": tampered,
        "expired": stale.cookie,
        "short": "x",
    }
    for name, cookie in cookies.items():
        for namespace in ("/chat", "/consult"):
            refused = await refusal(
                sockets,
                client,
                namespace,
                cookie,
                conversation_id=opened["conversation_id"],
                last_seq=0,
            )
            assert refused["data"] == {"code": "session_invalid"}, (name, namespace)
    # A forged cookie is not quietly taken for a guest: no conversation was opened or resumed.
    assert await conversations(portal) == before


async def test_forged_tampered_and_expired_tokens_open_no_consult_socket(
    client: TestClient[Any, Any], api: Api, sockets: Sockets, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    token = await new_token(api, user.headers)
    prefix, body, signature = token.split(".")
    tokens = {
        "tampered signature": f"{prefix}.{body}.{signature[::-1]}",
        "tampered body": f"{prefix}.{body[:-2]}xx.{signature}",
        "not a token": "token",
    }
    for name, forged in tokens.items():
        refused = await refusal(sockets, client, "/consult", token=forged)
        assert refused["data"] == {"code": "session_invalid"}, name
    assert (await consult_as_token(sockets, client, token)).sio.connected
    clock.advance(timedelta(minutes=14))
    assert (await api.client.get(ME, headers=user.headers)).status == 200
    clock.advance(timedelta(minutes=2))  # the token is 16 minutes old, its session alive
    assert (await refusal(sockets, client, "/consult", token=token))["data"] == {
        "code": "session_invalid"
    }
    none = await refusal(sockets, client, "/consult")
    assert none["data"] == {"code": "authentication_required"}


async def consult_as_token(sockets: Sockets, client: TestClient[Any, Any], token: str) -> Socket:
    """A ``/consult`` socket authenticated by a bearer token."""
    socket = sockets("/consult")
    await socket.connect(url(client), token=token)
    return socket


async def test_foreign_origin_is_refused_before_any_namespace(
    client: TestClient[Any, Any], api: Api, sockets: Sockets, portal: Portal
) -> None:
    user = await api.login("demo.patient")
    before = await conversations(portal)
    handshake = "/socket.io/?EIO=4&transport=polling"
    cookie = {"Cookie": f"mp_session={user.cookie}"}
    for origin in ("https://evil.example", "null", ORIGIN + ".evil.example"):
        response = await client.get(handshake, headers={"Origin": origin, **cookie})
        assert response.status == 400, origin
        assert await response.text() == f'"{origin} is not an accepted origin."'
        for namespace in ("/chat", "/consult"):
            socket = sockets(namespace)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await socket.connect(url(client), cookie=user.cookie, origin=origin)
            # Refused at the transport: the client's own words, no namespace's answer.
            assert socket.refusal == "Connection error"
    assert (await client.get(handshake, headers={"Origin": ORIGIN, **cookie})).status == 200
    assert await conversations(portal) == before


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_watch_reads_any_number_of_sessions(
    api: Api, portal: Portal, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    # More than one statement may bind (asyncpg stops at 32,767; SQLite builds vary).
    ids = {digest(f"no such session {i}") for i in range(40_000)} | {digest(user.cookie)}
    deadlines = await portal.auth.session_deadlines(ids)
    assert deadlines == {digest(user.cookie): clock.now() + timedelta(minutes=30)}
