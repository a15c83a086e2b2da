"""``/chat`` end to end: connect, authentication, exactly-once delivery, replay and limits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from portal.models import Sender
from portal.services import Portal
from tests.bot.conftest import ChatClient, FakeRasa, hub_url
from tests.conftest import Api, role_refusals


async def test_visitor_gets_a_conversation_and_answers(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    visitor = chat()
    await visitor.connect(hub_url(client))
    opened = await visitor.next("conversation")
    assert opened["state"] == "bot"
    assert opened["seq"] == 0
    assert opened["language"] == "pl"

    ack = await visitor.say("dzień dobry", "c-1")
    assert ack == {"ok": True, "seq": 1, "duplicate": False}
    assert await visitor.next("typing") == {"from": "bot", "active": True}
    reply = await visitor.next("bot_message")
    assert reply["text"] == "echo: dzień dobry"
    assert reply["buttons"] == [{"title": "Book", "payload": "/book_appointment"}]
    assert reply["from"] == "bot"
    assert reply["seq"] == 2
    assert reply["conversation_id"] == opened["conversation_id"]
    assert await visitor.next("typing") == {"from": "bot", "active": False}
    assert rasa.calls[0]["sender"] == opened["conversation_id"]


async def test_retried_message_is_processed_once_across_a_forced_reconnect(
    client: TestClient[Any, Any],
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    api: Api,
    portal: Portal,
) -> None:
    user = await api.full_patient()
    rasa.delay = 0.5
    first = chat()
    await first.connect(hub_url(client), cookie=user.cookie)
    conversation_id = (await first.next("conversation"))["conversation_id"]
    # Sent, and the connection dies while the assistant is still thinking: no ack arrives.
    await first.sio.emit(
        "user_message", {"text": "chcę się umówić", "client_msg_id": "m-1"}, namespace="/chat"
    )
    await rasa.wait_for_calls(1)
    await first.sio.disconnect()

    second = chat()
    await second.connect(
        hub_url(client), cookie=user.cookie, conversation_id=conversation_id, last_seq=0
    )
    assert (await second.next("conversation"))["conversation_id"] == conversation_id
    ack = await second.say("chcę się umówić", "m-1")
    assert ack == {"ok": True, "seq": 1, "duplicate": True}
    reply = await second.next("bot_message")
    assert reply["text"] == "echo: chcę się umówić"

    await asyncio.sleep(0.8)  # long enough for a second Rasa turn, had there been one
    assert len(rasa.calls) == 1
    assert second.pending("bot_message") == []
    stored = await portal.conversations.messages_after(uuid.UUID(conversation_id), 0)
    assert [(m.seq, m.sender) for m in stored] == [(1, Sender.PATIENT), (2, Sender.BOT)]


async def test_reconnect_replays_what_was_missed_after_last_seq(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    first = chat()
    await first.connect(hub_url(client))
    conversation_id = (await first.next("conversation"))["conversation_id"]
    await first.say("pierwsza", "a")
    seen = (await first.next("bot_message"))["seq"]
    assert seen == 2

    rasa.delay = 0.3
    assert (await first.say("druga", "b"))["seq"] == 3
    await first.sio.disconnect()  # the reply to "druga" is stored while nobody listens
    await rasa.wait_for_calls(2)
    await asyncio.sleep(0.5)

    second = chat()
    await second.connect(hub_url(client), conversation_id=conversation_id, last_seq=seen)
    opened = await second.next("conversation")
    assert opened["seq"] == 4
    missed = await second.next("bot_message")
    assert (missed["seq"], missed["text"], missed["from"]) == (4, "echo: druga", "bot")
    await asyncio.sleep(0.1)
    assert second.pending("bot_message") == []


async def test_foreign_origin_is_refused(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], portal: Portal
) -> None:
    stranger = chat()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.connect(hub_url(client), origin="https://evil.example")
    assert await portal.conversations.queue() == []
    allowed = chat()
    await allowed.connect(hub_url(client), origin="http://localhost:8080")
    assert (await allowed.next("conversation"))["state"] == "bot"


async def test_forged_session_cookie_is_refused(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient]
) -> None:
    forger = chat()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await forger.connect(hub_url(client), cookie="forged-" + uuid.uuid4().hex)
    assert forger.refusal["data"] == {"code": "session_invalid"}
    assert forger.refusal["message"] == "Zaloguj się, aby kontynuować."


async def test_physician_is_refused_and_it_is_audited(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], api: Api, portal: Portal
) -> None:
    physician = await api.login("demo.physician")
    socket = chat()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await socket.connect(hub_url(client), cookie=physician.cookie)
    assert socket.refusal["data"] == {"code": "role_forbidden"}
    assert await role_refusals(portal.db, physician.account["id"]) == [("/chat", "connect")]


async def test_size_and_rate_limits(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    visitor = chat()
    await visitor.connect(hub_url(client), language="en")
    await visitor.next("conversation")
    too_long = await visitor.say("x" * 2001)
    assert too_long["ok"] is False
    assert too_long["code"] == "too_long"
    assert "2000" in too_long["message"]
    empty = await visitor.say("   ")
    assert (empty["ok"], empty["code"]) == (False, "empty")
    assert (await visitor.say("x" * 2000))["ok"] is True
    # Three attempts so far count against the ten per ten seconds, refused ones included.
    acks = [await visitor.say(f"m{i}") for i in range(8)]
    assert [a["ok"] for a in acks] == [True] * 7 + [False]
    assert acks[-1]["code"] == "rate_limited"
    assert acks[-1]["message"].startswith("You are sending messages too quickly")


async def test_token_only_for_logged_in_patients_and_it_works(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa, api: Api
) -> None:
    visitor = chat()
    await visitor.connect(hub_url(client))
    await visitor.next("conversation")
    await visitor.say("umów mnie")
    await visitor.next("bot_message")
    assert rasa.calls[-1]["metadata"] == {"language": "pl"}

    user = await api.full_patient()
    patient = chat()
    await patient.connect(hub_url(client), cookie=user.cookie, language="en")
    await patient.next("conversation")
    await patient.say("book me in")
    await patient.next("bot_message")
    metadata = rasa.calls[-1]["metadata"]
    assert metadata["language"] == "en"
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {metadata['access_token']}"}
    )
    assert response.status == 200
    assert (await response.json())["patient"]["id"] == user.patient_id


async def test_patient_conversation_cannot_be_resumed_by_someone_else(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], api: Api
) -> None:
    owner = await api.full_patient()
    first = chat()
    await first.connect(hub_url(client), cookie=owner.cookie)
    conversation_id = (await first.next("conversation"))["conversation_id"]
    await first.say("moja sprawa")
    await first.next("bot_message")

    intruder = chat()
    await intruder.connect(hub_url(client), conversation_id=conversation_id, last_seq=0)
    other = await intruder.next("conversation")
    assert other["conversation_id"] != conversation_id
    await asyncio.sleep(0.1)
    assert intruder.pending("bot_message") == []
