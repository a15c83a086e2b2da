"""The conversation rules the bridge relies on, straight against the service."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from portal.access import Principal
from portal.errors import AccessDenied, Conflict
from portal.models import Account, ChatMessage, ConversationState
from portal.services import Portal


async def _principal(portal: Portal, login: str) -> Principal:
    async with portal.db.read() as session:
        account = await session.scalar(select(Account).where(Account.login_key == login))
    assert account is not None
    return Principal.of(account)


async def test_concurrent_retries_store_one_message(portal: Portal) -> None:
    conversation = await portal.conversations.open(None, "pl")
    results = await asyncio.gather(
        *(
            portal.conversations.add_patient_message(None, conversation.id, "raz", "same-id")
            for _ in range(5)
        )
    )
    assert {r.message.seq for r in results} == {1}
    assert sorted(r.duplicate for r in results) == [False, True, True, True, True]
    async with portal.db.read() as session:
        count = await session.scalar(
            select(func.count(ChatMessage.id)).where(ChatMessage.conversation_id == conversation.id)
        )
    assert count == 1


async def test_sequence_numbers_never_repeat_under_concurrency(portal: Portal) -> None:
    conversation = await portal.conversations.open(None, "en")
    stored = await asyncio.gather(
        *(portal.conversations.add_bot_message(conversation.id, f"r{i}") for i in range(8))
    )
    assert sorted(m.seq for m in stored) == list(range(1, 9))


async def test_anonymous_conversation_becomes_the_patients_on_login(portal: Portal) -> None:
    patient = await _principal(portal, "demo.patient")
    visitor_side = await portal.conversations.open(None, "pl")
    adopted = await portal.conversations.open(patient, "pl", visitor_side.id)
    assert adopted.id == visitor_side.id
    assert adopted.account_id == patient.account_id
    # From now on only the patient resumes it.
    assert (await portal.conversations.open(None, "pl", visitor_side.id)).id != visitor_side.id
    reception = await _principal(portal, "demo.reception")
    with pytest.raises(AccessDenied):
        await portal.conversations.open(reception, "pl")


async def test_handoff_rules(portal: Portal) -> None:
    reception = await _principal(portal, "demo.reception")
    conversation = await portal.conversations.open(None, "pl")
    with pytest.raises(Conflict, match="not_waiting"):
        await portal.conversations.take(reception, conversation.id)
    assert (await portal.conversations.request_human(conversation.id)).changed is True
    assert (await portal.conversations.request_human(conversation.id)).changed is False
    transition, _ = await portal.conversations.take(reception, conversation.id)
    assert transition.conversation.state is ConversationState.HUMAN
    patient = await _principal(portal, "demo.patient")
    with pytest.raises(AccessDenied):
        await portal.conversations.take(patient, conversation.id)
    assert (await portal.conversations.hand_back(reception, conversation.id)).changed is True
    assert await portal.conversations.queue() == []
