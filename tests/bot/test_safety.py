"""The bridge's safety net: an emergency or a crisis is answered whatever Rasa does, and every
safety answer is in the audit log for reception, without the message's text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from portal.models import AuditEvent
from portal.services import Portal
from safety.texts import CRISIS, EMERGENCY
from tests.bot.conftest import ChatClient, FakeRasa, hub_url
from tests.conftest import Api


async def _safety_events(portal: Portal, conversation_id: str) -> list[AuditEvent]:
    async with portal.db.read() as session:
        rows = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_id == conversation_id, AuditEvent.action == "safety_answer"
            )
        )
        return list(rows)


async def _open(client: TestClient[Any, Any], chat: Callable[[], ChatClient], **kw: Any) -> Any:
    patient = chat()
    await patient.connect(hub_url(client), **kw)
    opened = await patient.next("conversation")
    return patient, opened["conversation_id"]


def _rasa_safety_pair(text: str, kind: str, source: str) -> list[dict[str, Any]]:
    finding = {"kind": kind, "categories": [], "source": source}
    return [
        {"recipient_id": "x", "text": text},
        {"recipient_id": "x", "custom": {"safety": finding}},
    ]


async def test_emergency_is_answered_when_rasa_is_down_and_audited_without_text(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa, portal: Portal
) -> None:
    rasa.status = 500
    patient, conversation_id = await _open(client, chat)
    await patient.say("mój mąż nie oddycha, co robić")
    reply = await patient.next("bot_message")
    assert reply["text"] == EMERGENCY["pl"]
    assert "112" in reply["text"]
    await rasa.wait_for_calls(1)
    # Rasa failed after the answer: no "assistant unavailable" notice follows it.
    assert await patient.next("typing") == {"from": "bot", "active": True}
    assert await patient.next("typing") == {"from": "bot", "active": False}
    assert patient.events["bot_message"].empty()
    [event] = await _safety_events(portal, conversation_id)
    assert event.detail == {
        "kind": "emergency",
        "categories": ["breathing"],
        "source": "rules",
        "seq": 1,
    }
    assert "oddycha" not in str(event.detail)


async def test_rasas_own_safety_answer_is_not_repeated(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa, portal: Portal
) -> None:
    rasa.replies = lambda body: _rasa_safety_pair(CRISIS["en"], "crisis", "rules")
    patient, conversation_id = await _open(client, chat, language="en")
    await patient.say("i dont want to live anymore")
    reply = await patient.next("bot_message")
    assert reply["text"] == CRISIS["en"]
    assert "116 123" in reply["text"]
    assert "800 70 2222" in reply["text"]
    assert reply["buttons"] == [
        {"title": "Talk to a person at reception", "payload": "/human_handoff"}
    ]
    await patient.next_matching("typing", lambda t: t["active"] is False)
    assert patient.events["bot_message"].empty()
    assert [e.detail["kind"] for e in await _safety_events(portal, conversation_id)] == ["crisis"]


async def test_the_models_own_emergency_is_relayed_and_audited(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa, portal: Portal
) -> None:
    rasa.replies = lambda body: _rasa_safety_pair(EMERGENCY["pl"], "emergency", "model")
    patient, conversation_id = await _open(client, chat)
    await patient.say("coś bardzo złego dzieje się z tatą")
    assert (await patient.next("bot_message"))["text"] == EMERGENCY["pl"]
    await patient.next_matching("typing", lambda t: t["active"] is False)
    [event] = await _safety_events(portal, conversation_id)
    assert (event.detail or {})["source"] == "model"


async def test_slow_assistant_does_not_delay_the_safety_answer(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    rasa.delay = 4.0
    patient, _ = await _open(client, chat, language="en")
    await patient.say("my son swallowed a battery")
    # Well before the slow-assistant notice (2.5 s) and Rasa's answer (4 s).
    first = await patient.next("bot_message", within=2.0)
    assert first["text"] == EMERGENCY["en"]
    await rasa.wait_for_calls(1)
    # Rasa's own answer (an echo here) still comes, but no "the assistant is slow" notice.
    later = await patient.next("bot_message", within=6.0)
    assert later["text"].startswith("echo:")


async def test_ordinary_messages_that_look_alarming_get_no_safety_answer(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa, portal: Portal
) -> None:
    patient, conversation_id = await _open(client, chat, language="en")
    for text in (
        "I'm running out of Metformax, can I get a refill?",
        "I had blood taken last week, is there anything from the lab yet?",
    ):
        await patient.say(text)
        assert (await patient.next("bot_message"))["text"] == f"echo: {text}"
    assert await _safety_events(portal, conversation_id) == []


async def test_crisis_while_waiting_for_reception_is_answered_at_once(
    client: TestClient[Any, Any],
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    api: Api,
    portal: Portal,
) -> None:
    user = await api.full_patient()
    patient, conversation_id = await _open(client, chat, cookie=user.cookie)
    assert (await patient.call("request_human", {}))["state"] == "waiting"
    await patient.next_matching("bot_message", lambda m: m["from"] == "system")
    await patient.say("nie widzę sensu, żeby dalej żyć")
    reply = await patient.next("bot_message")
    assert reply["text"] == CRISIS["pl"]
    assert reply["from"] == "bot"
    await asyncio.sleep(0)
    assert rasa.calls == []  # reception answers this conversation, not the assistant
    [event] = await _safety_events(portal, conversation_id)
    assert str(event.patient_id) == user.patient_id
    assert event.detail is not None
    assert event.detail["kind"] == "crisis"
    assert uuid.UUID(str(event.object_id)) == uuid.UUID(conversation_id)


async def test_reception_lists_safety_answers_and_the_list_is_audited(
    client: TestClient[Any, Any],
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    api: Api,
    portal: Portal,
) -> None:
    visitor, visitor_conversation = await _open(client, chat, language="en")
    await visitor.say("my dad collapsed and isn't breathing")
    await visitor.next("bot_message")
    user = await api.full_patient()
    patient, patient_conversation = await _open(client, chat, cookie=user.cookie)
    await patient.say("tnę się od tygodnia")
    await patient.next("bot_message")
    for who in (None, user):
        response = await client.get(
            "/api/v1/reception/safety-answers", headers=who.headers if who else {}
        )
        assert response.status in (401, 403)
    reception = await api.login("demo.reception")
    response = await client.get("/api/v1/reception/safety-answers", headers=reception.headers)
    assert response.status == 200, await response.text()
    items = {i["conversation_id"]: i for i in (await response.json())["items"]}
    assert items[patient_conversation]["kind"] == "crisis"
    assert items[visitor_conversation]["kind"] == "emergency"
    assert items[patient_conversation]["patient_id"] == user.patient_id
    assert items[patient_conversation]["patient_name"] == (
        f"{user.account['patient']['first_name']} {user.account['patient']['last_name']}"
    )
    assert items[visitor_conversation]["patient_id"] is None
    assert "tnę" not in str(items)
    async with portal.db.read() as session:
        listed = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "list", AuditEvent.actor_role == "reception"
            )
        )
    assert listed is not None
    assert (listed.detail or {})["of"] == "safety_answer"
