"""Reception takes a conversation, chats live, and hands it back to the assistant."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from portal.models import AuditEvent, ConversationState
from portal.services import Portal
from tests.bot.conftest import ChatClient, FakeRasa, add_reception, hub_url
from tests.conftest import DEMO_PASSWORD, Api


def _has(conversation_id: str) -> Callable[[Any], bool]:
    return lambda queue: any(i["conversation_id"] == conversation_id for i in queue["items"])


async def test_handoff_live_chat_and_hand_back(
    client: TestClient[Any, Any],
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    api: Api,
    portal: Portal,
) -> None:
    user = await api.full_patient()
    reception = await api.login("demo.reception")
    staff = chat()
    await staff.connect(hub_url(client), cookie=reception.cookie)
    assert await staff.next("queue") == {"items": []}

    patient = chat()
    await patient.connect(hub_url(client), cookie=user.cookie, language="en")
    conversation_id = (await patient.next("conversation"))["conversation_id"]
    await patient.say("I need help with my referral")
    await patient.next("bot_message")

    assert await patient.call("request_human", {}) == {"ok": True, "state": "waiting"}
    assert await patient.next("handoff") == {"state": "waiting"}
    note = await patient.next("bot_message")
    assert (note["from"], note["text"]) == (
        "system",
        "We are connecting you with reception. Someone will answer as soon as possible.",
    )
    queue = await staff.next_matching("queue", _has(conversation_id))
    [item] = queue["items"]
    assert (
        item["patient_name"]
        == f"{user.account['patient']['first_name']} " + (user.account["patient"]["last_name"])
    )
    assert (item["language"], item["last_text"]) == ("en", "I need help with my referral")
    assert item["waiting_since"]

    await patient.say("hello? anyone?")
    queue = await staff.next_matching(
        "queue", lambda q: bool(q["items"]) and q["items"][0]["last_text"] == "hello? anyone?"
    )

    taken = await staff.call("take", {"conversation_id": conversation_id})
    assert taken["ok"] is True
    assert [(m["sender"], m["text"]) for m in taken["transcript"]] == [
        ("patient", "I need help with my referral"),
        ("bot", "echo: I need help with my referral"),
        ("system", note["text"]),
        ("patient", "hello? anyone?"),
    ]
    assert await patient.next("handoff") == {"state": "human", "staff_name": "demo.reception"}
    assert (await patient.next("bot_message"))["text"] == (
        "You are now talking to reception (demo.reception)."
    )
    await staff.next_matching("queue", lambda q: q["items"] == [])
    async with portal.db.read() as session:
        audit = await session.scalar(
            select(AuditEvent).where(AuditEvent.object_id == conversation_id)
        )
    assert audit is not None
    assert (audit.action, audit.actor_role, str(audit.patient_id)) == (
        "take",
        "reception",
        user.patient_id,
    )

    ack = await patient.say("my referral expired")
    said = await staff.next("patient_message")
    assert said == {
        "conversation_id": conversation_id,
        "text": "my referral expired",
        "seq": ack["seq"],
        "at": said["at"],
    }
    answer = await staff.call(
        "staff_message",
        {"conversation_id": conversation_id, "text": "I will renew it.", "client_msg_id": "s1"},
    )
    assert answer["ok"] is True
    heard = await patient.next("bot_message")
    assert (heard["from"], heard["text"], heard["seq"]) == (
        "staff",
        "I will renew it.",
        answer["seq"],
    )
    again = await staff.call(
        "staff_message",
        {"conversation_id": conversation_id, "text": "I will renew it.", "client_msg_id": "s1"},
    )
    assert again == {"ok": True, "seq": answer["seq"], "duplicate": True}
    calls_before = len(rasa.calls)

    assert await staff.call("hand_back", {"conversation_id": conversation_id}) == {"ok": True}
    assert await patient.next("handoff") == {"state": "bot"}
    assert (await patient.next("bot_message"))["from"] == "system"
    await patient.say("thanks, back to the bot")
    assert (await patient.next("bot_message"))["text"] == "echo: thanks, back to the bot"
    assert len(rasa.calls) == calls_before + 1
    conversation = await portal.conversations.get(uuid.UUID(conversation_id))
    assert conversation.state is ConversationState.BOT
    assert conversation.taken_by_account_id is None
    await asyncio.sleep(0.1)
    assert staff.pending("patient_message") == []


async def test_a_taken_conversation_cannot_be_taken_by_another(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], api: Api, portal: Portal
) -> None:
    first = chat()
    await first.connect(hub_url(client), cookie=(await api.login("demo.reception")).cookie)
    other_login = await add_reception(portal, DEMO_PASSWORD)
    second = chat()
    await second.connect(hub_url(client), cookie=(await api.login(other_login)).cookie)

    patient = chat()
    await patient.connect(hub_url(client))
    conversation_id = (await patient.next("conversation"))["conversation_id"]
    await patient.call("request_human", {})
    target = {"conversation_id": conversation_id}

    assert (await first.call("take", target))["ok"] is True
    refused = await second.call("take", target)
    assert (refused["ok"], refused["code"]) == (False, "already_taken")
    assert refused["message"] == "Tę rozmowę prowadzi już inna osoba z recepcji."
    not_theirs = await second.call("staff_message", {**target, "text": "hi", "client_msg_id": "x"})
    assert (not_theirs["ok"], not_theirs["code"]) == (False, "not_taken")
    assert (await second.call("hand_back", target))["code"] == "not_taken"
    assert (await first.call("take", target))["ok"] is True  # taking one's own again is fine

    # The patient side cannot play reception, and reception cannot send patient messages.
    assert (await patient.call("take", target))["code"] == "role_forbidden"
    assert (await first.say("hello"))["code"] == "role_forbidden"


async def test_staff_reconnecting_rejoins_their_conversations(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], api: Api
) -> None:
    reception = await api.login("demo.reception")
    staff = chat()
    await staff.connect(hub_url(client), cookie=reception.cookie)
    patient = chat()
    await patient.connect(hub_url(client))
    conversation_id = (await patient.next("conversation"))["conversation_id"]
    await patient.call("request_human", {})
    assert (await staff.call("take", {"conversation_id": conversation_id}))["ok"] is True
    await staff.sio.disconnect()

    back = chat()
    await back.connect(hub_url(client), cookie=reception.cookie)
    await patient.say("czy ktoś tu jest?")
    said = await back.next("patient_message")
    assert said["text"] == "czy ktoś tu jest?"
