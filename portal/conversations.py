"""Widget conversations: transcripts, exactly-once patient messages, and handoff to reception.

A conversation is the assistant's (``bot``) until the patient asks for a person (``waiting``);
a reception user then takes it (``human``) and later hands it back (``bot``). Every message gets
the next sequence number of its conversation, so a client that reconnects asks for what came
after the last number it saw. A patient message carries the client's own id; the unique
``(conversation_id, client_msg_id)`` pair makes a retry after a reconnect land once.

Exactly once for the assistant's answers too: a patient message the assistant is to answer
carries its *turn* (``pending`` when stored, ``asked`` just before Rasa is, ``answered``), owned
by the hub process that stored it. A process that dies between the steps leaves the turn
behind; whoever finds it (the patient's next connection) adopts it with a conditional update,
so exactly one process asks Rasa for a ``pending`` turn, and an ``asked`` one, which Rasa may
or may not have taken in, is never asked again: the patient is told instead (``told``).

Who may reach what: an anonymous visitor's conversation is reachable by whoever holds its
random id (the widget keeps it); a logged-in patient's belongs to their account and nobody else
resumes it; reception reads any conversation in the queue, and each transcript read is
audit-logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.audit import AuditLog
from portal.clock import Clock
from portal.db import Database
from portal.errors import Conflict, FieldError, InvalidInput, NotFound
from portal.models import (
    Account,
    AuditEvent,
    ChatMessage,
    Conversation,
    ConversationState,
    Patient,
    Role,
    Sender,
)

MAX_TEXT = 2000
"""Longest message, in characters, a patient or staff member may send."""
MAX_CLIENT_MSG_ID = 64
TURN_PENDING, TURN_ASKED, TURN_ANSWERED, TURN_TOLD = "pending", "asked", "answered", "told"
LANGUAGES = ("pl", "en")


@dataclass(frozen=True)
class Stored:
    """A message as stored, whether it was new, and the conversation's state after it."""

    message: ChatMessage
    duplicate: bool
    state: ConversationState


@dataclass(frozen=True)
class QueueItem:
    """A conversation waiting for reception."""

    conversation_id: uuid.UUID
    patient_name: str | None
    language: str
    waiting_since: datetime
    last_text: str | None


@dataclass(frozen=True)
class SafetyAnswer:
    """A safety answer the assistant or the bridge gave, as reception lists it."""

    conversation_id: uuid.UUID
    at: datetime
    patient_id: uuid.UUID | None
    patient_name: str | None
    kind: str
    categories: list[str]
    source: str


@dataclass(frozen=True)
class Transition:
    """A handoff state change: the conversation after it and whether anything changed."""

    conversation: Conversation
    changed: bool
    staff_name: str | None = None


class Conversations:
    """Open, append to and hand over widget conversations."""

    def __init__(self, db: Database, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit

    # -- the patient's side -----------------------------------------------------------------

    async def open(
        self,
        principal: Principal | None,
        language: str,
        conversation_id: uuid.UUID | None = None,
    ) -> Conversation:
        """Resume the caller's conversation ``conversation_id``, or start a new one.

        An anonymous conversation resumed by a logged-in patient becomes theirs (the visitor
        logged in mid-chat, as the assistant asked). Any other conversation, unknown or not the
        caller's, is not resumed: a new one starts, and nothing tells the two cases apart.
        """
        if principal is not None:
            principal.require_role(Role.PATIENT)
        language = language if language in LANGUAGES else LANGUAGES[0]
        now = self.clock.now()
        async with self.db.write() as session:
            found = (
                await session.get(Conversation, conversation_id, with_for_update=True)
                if conversation_id is not None
                else None
            )
            if found is not None and self._may_resume(found, principal):
                if found.account_id is None and principal is not None:
                    found.account_id = principal.account_id
                    found.patient_id = principal.patient_id
                found.language = language
                found.updated_at = now
                return found
            conversation = Conversation(
                id=uuid.uuid4(),
                account_id=principal.account_id if principal else None,
                patient_id=principal.patient_id if principal else None,
                language=language,
                state=ConversationState.BOT,
                created_at=now,
                updated_at=now,
                last_seq=0,
            )
            session.add(conversation)
        return conversation

    @staticmethod
    def _may_resume(conversation: Conversation, principal: Principal | None) -> bool:
        if conversation.account_id is None:
            return True
        return principal is not None and conversation.account_id == principal.account_id

    async def add_patient_message(
        self,
        principal: Principal | None,
        conversation_id: uuid.UUID,
        text: str,
        client_msg_id: str,
        turn_node: str | None = None,
    ) -> Stored:
        """Store a patient's message once: a retry with the same ``client_msg_id`` returns the
        message stored the first time (``duplicate``) instead of a second one.

        With ``turn_node`` (the storing process's id), a message the assistant is to answer (the
        conversation is the bot's) is stored with its turn ``pending``, owned by that process.
        """
        text = _check_text(text)
        if not client_msg_id or len(client_msg_id) > MAX_CLIENT_MSG_ID:
            raise InvalidInput([FieldError("client_msg_id", "invalid_value")], "invalid_value")
        return await self._append_once(
            conversation_id,
            Sender.PATIENT,
            text,
            client_msg_id=client_msg_id,
            owner=principal,
            turn_node=turn_node,
        )

    async def add_bot_message(
        self, conversation_id: uuid.UUID, text: str, payload: dict[str, Any] | None = None
    ) -> ChatMessage:
        """Store one of the assistant's replies with the next sequence number."""
        return (await self._append_once(conversation_id, Sender.BOT, text, payload)).message

    async def add_system_message(self, conversation_id: uuid.UUID, text: str) -> ChatMessage:
        """Store a notice of the hub itself (handoff, hand-back)."""
        return (await self._append_once(conversation_id, Sender.SYSTEM, text)).message

    async def messages_after(
        self, conversation_id: uuid.UUID, seq: int, senders: tuple[Sender, ...] | None = None
    ) -> list[ChatMessage]:
        """The messages numbered above ``seq``, oldest first (optionally only some senders)."""
        query = select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.seq > seq
        )
        if senders is not None:
            query = query.where(ChatMessage.sender.in_(senders))
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(ChatMessage.seq)))

    async def get(self, conversation_id: uuid.UUID) -> Conversation:
        """The conversation ``conversation_id``."""
        async with self.db.read() as session:
            conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise NotFound("conversation_not_found")
        return conversation

    async def request_human(self, conversation_id: uuid.UUID) -> Transition:
        """The patient asks for a person: the assistant stops answering; reception's queue
        gains the conversation. Asking again while waiting or talking changes nothing.
        """
        now = self.clock.now()
        async with self.db.write() as session:
            conversation = await self._locked(session, conversation_id)
            if conversation.state is not ConversationState.BOT:
                return Transition(conversation, changed=False)
            conversation.state = ConversationState.WAITING
            conversation.waiting_since = now
            conversation.updated_at = now
        return Transition(conversation, changed=True)

    # -- reception's side -------------------------------------------------------------------

    async def queue(self) -> list[QueueItem]:
        """The conversations waiting for reception, longest-waiting first.

        What reception's console lists; the edges show it to reception users only.
        """
        last_text = (
            select(ChatMessage.text)
            .where(
                ChatMessage.conversation_id == Conversation.id,
                ChatMessage.sender == Sender.PATIENT,
            )
            .order_by(ChatMessage.seq.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(Conversation, Patient.first_name, Patient.last_name, last_text)
            .outerjoin(Patient, Patient.id == Conversation.patient_id)
            .where(Conversation.state == ConversationState.WAITING)
            .order_by(Conversation.waiting_since, Conversation.id)
        )
        async with self.db.read() as session:
            rows = (await session.execute(query)).all()
        return [
            QueueItem(
                conversation_id=conversation.id,
                patient_name=f"{first} {last}" if first else None,
                language=conversation.language,
                waiting_since=conversation.waiting_since or conversation.updated_at,
                last_text=text,
            )
            for conversation, first, last, text in rows
        ]

    async def take(
        self, principal: Principal, conversation_id: uuid.UUID
    ) -> tuple[Transition, list[ChatMessage]]:
        """A reception user takes a waiting conversation and reads its transcript.

        Taking one's own conversation again (after a reconnect) is allowed; one taken by
        someone else is refused with ``already_taken``.
        """
        principal.require_role(Role.RECEPTION)
        now = self.clock.now()
        async with self.db.write() as session:
            conversation = await self._locked(session, conversation_id)
            changed = False
            if conversation.state is ConversationState.HUMAN:
                if conversation.taken_by_account_id != principal.account_id:
                    raise Conflict("already_taken")
            elif conversation.state is ConversationState.WAITING:
                conversation.state = ConversationState.HUMAN
                conversation.taken_by_account_id = principal.account_id
                conversation.updated_at = now
                changed = True
            else:
                raise Conflict("not_waiting")
            transcript = await self._transcript(session, principal, conversation, "take")
            staff = await session.get(Account, principal.account_id)
        name = staff.login if staff else None
        return Transition(conversation, changed, staff_name=name), transcript

    async def transcript(
        self, principal: Principal, conversation_id: uuid.UUID
    ) -> list[ChatMessage]:
        """Reception reads a conversation's whole transcript (audit-logged)."""
        principal.require_role(Role.RECEPTION)
        async with self.db.write() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound("conversation_not_found")
            return await self._transcript(session, principal, conversation, "read")

    async def record_safety_answer(
        self,
        conversation_id: uuid.UUID,
        *,
        kind: str,
        categories: list[str],
        source: str,
        seq: int,
    ) -> None:
        """Leave in the audit log, for reception, that the assistant gave a safety answer
        (an emergency's 112 or the crisis lines) after the patient's message ``seq``.

        The event names the conversation, its patient (when logged in) and what the check
        found, never the message's text: reception reads that, audit-logged, in the transcript.
        """
        async with self.db.write() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound("conversation_not_found")
            self.audit.record(
                session,
                None,
                object_type="conversation",
                object_id=conversation_id,
                action="safety_answer",
                patient_id=conversation.patient_id,
                detail={"kind": kind, "categories": categories, "source": source, "seq": seq},
            )

    async def safety_answers(self, principal: Principal, limit: int = 100) -> list[SafetyAnswer]:
        """The newest safety answers of every conversation (reception, audit-logged): which
        conversation, whose, when, and what the check found; never the message's text."""
        principal.require_role(Role.RECEPTION)
        async with self.db.write() as session:
            rows = await session.execute(
                select(AuditEvent, Patient)
                .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
                .where(AuditEvent.action == "safety_answer")
                .order_by(AuditEvent.at.desc())
                .limit(limit)
            )
            found = [
                SafetyAnswer(
                    conversation_id=uuid.UUID(str(event.object_id)),
                    at=event.at,
                    patient_id=event.patient_id,
                    patient_name=f"{patient.first_name} {patient.last_name}" if patient else None,
                    kind=str((event.detail or {}).get("kind") or "emergency"),
                    categories=list((event.detail or {}).get("categories") or []),
                    source=str((event.detail or {}).get("source") or ""),
                )
                for event, patient in rows
            ]
            self.audit.record(
                session,
                principal,
                object_type="AuditEvent",
                object_id=None,
                action="list",
                detail={"of": "safety_answer", "count": len(found)},
            )
        return found

    async def add_staff_message(
        self, principal: Principal, conversation_id: uuid.UUID, text: str, client_msg_id: str
    ) -> Stored:
        """Store a reception user's message in a conversation they have taken (once per
        ``client_msg_id``)."""
        principal.require_role(Role.RECEPTION)
        text = _check_text(text)
        if not client_msg_id or len(client_msg_id) > MAX_CLIENT_MSG_ID:
            raise InvalidInput([FieldError("client_msg_id", "invalid_value")], "invalid_value")
        return await self._append_once(
            conversation_id, Sender.STAFF, text, client_msg_id=client_msg_id, staff=principal
        )

    async def hand_back(self, principal: Principal, conversation_id: uuid.UUID) -> Transition:
        """The reception user who took the conversation returns it to the assistant."""
        principal.require_role(Role.RECEPTION)
        now = self.clock.now()
        async with self.db.write() as session:
            conversation = await self._locked(session, conversation_id)
            if conversation.state is ConversationState.BOT:
                return Transition(conversation, changed=False)
            if (
                conversation.state is ConversationState.HUMAN
                and conversation.taken_by_account_id != principal.account_id
            ):
                raise Conflict("not_taken")
            conversation.state = ConversationState.BOT
            conversation.taken_by_account_id = None
            conversation.waiting_since = None
            conversation.updated_at = now
        return Transition(conversation, changed=True)

    async def taken_by(self, principal: Principal) -> list[uuid.UUID]:
        """The conversations a reception user is talking in (to rejoin after a reconnect)."""
        principal.require_role(Role.RECEPTION)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Conversation.id).where(
                    Conversation.state == ConversationState.HUMAN,
                    Conversation.taken_by_account_id == principal.account_id,
                )
            )
            return list(rows)

    # -- the assistant's turns --------------------------------------------------------------

    async def ask_turn(self, message_id: uuid.UUID, node: str) -> bool:
        """Mark ``node``'s pending turn ``asked``, just before Rasa is: False when the turn is
        no longer ``node``'s to ask (another process adopted it)."""
        return await self._move_turn(message_id, (TURN_PENDING, node), TURN_ASKED, node)

    async def finish_turn(self, message_id: uuid.UUID, node: str) -> None:
        """The turn of ``message_id`` is answered (the replies, or a notice, are stored)."""
        await self._move_turn(message_id, (TURN_ASKED, node), TURN_ANSWERED, node)

    async def abandoned_turns(
        self, conversation_id: uuid.UUID, node: str, before: datetime | None = None
    ) -> list[ChatMessage]:
        """Turns of the conversation left ``pending`` or ``asked`` by processes other than
        ``node`` (stored before ``before``, when given), oldest first."""
        query = select(ChatMessage).where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.turn.in_((TURN_PENDING, TURN_ASKED)),
            ChatMessage.turn_node != node,
        )
        if before is not None:
            query = query.where(ChatMessage.created_at < before)
        async with self.db.read() as session:
            return list(await session.scalars(query.order_by(ChatMessage.seq)))

    async def adopt_turn(self, message: ChatMessage, node: str) -> str | None:
        """Take over the abandoned turn of ``message`` for ``node``: ``pending`` (``node`` is to
        ask Rasa now), ``told`` (it was asked: the caller tells the patient instead), or None
        when another process adopted it first. One conditional UPDATE decides the race."""
        assert message.turn in (TURN_PENDING, TURN_ASKED) and message.turn_node is not None
        target = TURN_PENDING if message.turn == TURN_PENDING else TURN_TOLD
        moved = await self._move_turn(message.id, (message.turn, message.turn_node), target, node)
        return target if moved else None

    async def _move_turn(
        self, message_id: uuid.UUID, current: tuple[str, str], turn: str, node: str
    ) -> bool:
        state, owner = current
        async with self.db.write() as session:
            result = await session.execute(
                update(ChatMessage)
                .where(
                    ChatMessage.id == message_id,
                    ChatMessage.turn == state,
                    ChatMessage.turn_node == owner,
                )
                .values(turn=turn, turn_node=node)
                .returning(ChatMessage.id)
            )
            return result.first() is not None

    # -- storage ----------------------------------------------------------------------------

    async def _locked(self, session: AsyncSession, conversation_id: uuid.UUID) -> Conversation:
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        if conversation is None:
            raise NotFound("conversation_not_found")
        return conversation

    async def _append_once(
        self,
        conversation_id: uuid.UUID,
        sender: Sender,
        text: str,
        payload: dict[str, Any] | None = None,
        *,
        client_msg_id: str | None = None,
        owner: Principal | None = None,
        staff: Principal | None = None,
        turn_node: str | None = None,
    ) -> Stored:
        for attempt in range(2):
            try:
                return await self._append(
                    conversation_id, sender, text, payload, client_msg_id, owner, staff, turn_node
                )
            except IntegrityError:
                # Two deliveries of the same client_msg_id raced past the check (PostgreSQL);
                # the unique constraint kept one, which the second attempt now finds.
                if attempt == 1 or client_msg_id is None:
                    raise
        raise AssertionError("unreachable")

    async def _append(
        self,
        conversation_id: uuid.UUID,
        sender: Sender,
        text: str,
        payload: dict[str, Any] | None,
        client_msg_id: str | None,
        owner: Principal | None,
        staff: Principal | None,
        turn_node: str | None = None,
    ) -> Stored:
        now = self.clock.now()
        async with self.db.write() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound("conversation_not_found")
            if sender is Sender.PATIENT and conversation.account_id != (
                owner.account_id if owner else None
            ):
                raise NotFound("conversation_not_found")
            if staff is not None and (
                conversation.state is not ConversationState.HUMAN
                or conversation.taken_by_account_id != staff.account_id
            ):
                raise Conflict("not_taken")
            if client_msg_id is not None:
                existing = await session.scalar(
                    select(ChatMessage).where(
                        ChatMessage.conversation_id == conversation_id,
                        ChatMessage.client_msg_id == client_msg_id,
                    )
                )
                if existing is not None:
                    return Stored(existing, duplicate=True, state=conversation.state)
            # One UPDATE both numbers the message and locks the conversation's row, so two
            # writers never get the same seq (BEGIN IMMEDIATE serialises them on SQLite).
            seq = await session.scalar(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(last_seq=Conversation.last_seq + 1, updated_at=now)
                .returning(Conversation.last_seq)
            )
            assert seq is not None
            turn = turn_node is not None and conversation.state is ConversationState.BOT
            message = ChatMessage(
                id=uuid.uuid4(),
                conversation_id=conversation_id,
                seq=seq,
                sender=sender,
                sender_account_id=staff.account_id if staff else None,
                text=text,
                payload=payload,
                client_msg_id=client_msg_id,
                created_at=now,
                turn=TURN_PENDING if turn else None,
                turn_node=turn_node if turn else None,
            )
            session.add(message)
            await session.flush()
            state = conversation.state
        return Stored(message, duplicate=False, state=state)

    async def _transcript(
        self,
        session: AsyncSession,
        principal: Principal,
        conversation: Conversation,
        action: str,
    ) -> list[ChatMessage]:
        messages = list(
            await session.scalars(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conversation.id)
                .order_by(ChatMessage.seq)
            )
        )
        self.audit.record(
            session,
            principal,
            object_type="Conversation",
            object_id=conversation.id,
            action=action,
            patient_id=conversation.patient_id,
            detail={"messages": len(messages)},
        )
        return messages


def _check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput([FieldError("text", "empty")], "empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            [FieldError("text", "too_long", {"max_length": MAX_TEXT})],
            "too_long",
            max_length=MAX_TEXT,
        )
    return text
