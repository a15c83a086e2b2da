"""Consultation rooms: who may join and when, the waiting room, the in-call chat, shared
documents, and the summary stored when the physician ends the consultation.

The rules here serve every edge: the ``/consult`` Socket.IO namespace (``rtc/``) and the REST
operations beside it. The media itself never passes through the portal.

A room belongs to one ``online_consultation`` or ``telephone_consultation`` appointment. Its
members are the appointment's patient (the account of the patient, or of the child's guardian,
with full access) and its physician. It opens :data:`OPENS_BEFORE` ahead of the start and
closes when the physician ends it, or :data:`CLOSES_AFTER` past the planned end when nobody
does. Every join, refusal, message read and shared document is audit-logged.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Concatenate, Final, Literal, ParamSpec, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal, family_ids, local_today
from portal.audit import DENIED, AuditLog
from portal.clock import Clock
from portal.db import Database
from portal.desk import mark_attended
from portal.documents import REMOTE_SERVICES, Documents
from portal.errors import AccessDenied, Conflict, InvalidInput, NotFound
from portal.models import (
    Account,
    Appointment,
    AppointmentStatus,
    Consultation,
    ConsultationEvent,
    ConsultationMessage,
    ConsultationState,
    Document,
    Role,
)

RoomRole = Literal["patient", "physician"]
Transport = Literal["direct", "relay"]

OPENS_BEFORE: Final = timedelta(minutes=15)
"""The room opens this long before the appointment's start."""
CLOSES_AFTER: Final = timedelta(hours=2)
"""A room nobody ended closes this long after the appointment's planned end."""
MAX_TEXT: Final = 2000
MAX_CLIENT_MSG_ID: Final = 64
OBJECT_TYPE: Final = "Consultation"


@dataclass(frozen=True)
class Membership:
    """A caller admitted to a room's checks: the appointment and which side they are on."""

    appointment: Appointment
    role: RoomRole
    consultation: Consultation | None


@dataclass(frozen=True)
class RoomView:
    """What a member sees on joining: the room, its messages after a point, its documents."""

    appointment: Appointment
    consultation: Consultation
    role: RoomRole
    messages: list[ConsultationMessage]
    documents: list[Document]


@dataclass(frozen=True)
class Waiting:
    """A patient in a physician's waiting room."""

    appointment: Appointment
    since: datetime


@dataclass(frozen=True)
class RoomClosed:
    """A room ended because its appointment was cancelled or completed outside it."""

    appointment_id: uuid.UUID
    reason: str
    summary: dict[str, Any] | None


RoomClosedListener = Callable[[RoomClosed], Awaitable[None]]


@dataclass(frozen=True)
class SharedDocument:
    """A document shared in a room, as announced to its members."""

    appointment_id: uuid.UUID
    document: Document
    shared_by: RoomRole


DocumentListener = Callable[[SharedDocument], Awaitable[None]]

P = ParamSpec("P")
T = TypeVar("T")


class _Denied(NotFound):
    """A caller reached for a room that is not theirs; told "not found", recorded as denied."""

    def __init__(self, appointment: Appointment) -> None:
        super().__init__("appointment_not_found")
        self.appointment_id = appointment.id
        self.patient_id = appointment.patient_id


def _audit_denials(
    method: Callable[Concatenate[Consultations, Principal, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[Consultations, Principal, P], Coroutine[Any, Any, T]]:
    """Record a refused probe of somebody else's room, after its transaction rolled back."""

    async def guarded(
        self: Consultations, principal: Principal, /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            return await method(self, principal, *args, **kwargs)
        except _Denied as denied:
            async with self.db.write() as session:
                self.audit.record(
                    session,
                    principal,
                    object_type=OBJECT_TYPE,
                    object_id=denied.appointment_id,
                    action=method.__name__,
                    patient_id=denied.patient_id,
                    outcome=DENIED,
                )
            raise NotFound("appointment_not_found") from None

    guarded.__name__ = method.__name__
    guarded.__doc__ = method.__doc__
    return guarded


class Consultations:
    """The rooms' rules over the database."""

    def __init__(self, db: Database, clock: Clock, audit: AuditLog, documents: Documents) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.documents = documents
        self.document_listeners: list[DocumentListener] = []
        """Called after a document is shared (the ``/consult`` namespace announces it)."""
        self.closed_rooms: list[RoomClosedListener] = []
        """Called after a room closed because its appointment was cancelled or completed
        outside it (the ``/consult`` namespace tells the room's sockets and drops them)."""

    # -- membership --------------------------------------------------------------------------

    @_audit_denials
    async def authorize(
        self, principal: Principal, appointment_id: uuid.UUID, *, open_now: bool = True
    ) -> Membership:
        """Whether ``principal`` is a member of the room; with ``open_now``, also whether it is
        open now. A refusal is audit-logged and raised."""
        async with self.db.write() as session:
            return await self._member(session, principal, appointment_id, open_now=open_now)

    async def _member(
        self,
        session: AsyncSession,
        principal: Principal,
        appointment_id: uuid.UUID,
        *,
        open_now: bool,
        lock: bool = False,
    ) -> Membership:
        if principal.role not in (Role.PATIENT, Role.PHYSICIAN):
            raise AccessDenied("role_forbidden")
        principal.require_full_access()
        appointment = await session.get(
            Appointment, appointment_id, with_for_update={"of": Appointment} if lock else None
        )
        role: RoomRole | None = None
        if appointment is not None:
            if principal.role is Role.PHYSICIAN:
                if appointment.practitioner_id == principal.practitioner_id:
                    role = "physician"
            elif appointment.patient_id in await family_ids(session, principal, self._today()):
                role = "patient"
        if appointment is None:
            raise NotFound("appointment_not_found")
        if role is None:
            # Someone probed a room that is not theirs: the patient's record says so.
            raise _Denied(appointment)
        if appointment.service.type not in REMOTE_SERVICES:
            raise Conflict("not_a_consultation")
        consultation = await self._room(session, appointment.id)
        if open_now:
            self._check_open(appointment, consultation)
        return Membership(appointment, role, consultation)

    def _today(self) -> date:
        """Today in the clinic's time zone (whose minor a child still is)."""
        return local_today(self.clock, self.documents.config.timezone)

    def _check_open(self, appointment: Appointment, consultation: Consultation | None) -> None:
        now = self.clock.now()
        # Only a booked visit has a live room: cancelled, rescheduled (cancelled too) or marked
        # attended, it is closed, whatever a socket joined before (issue 12).
        if appointment.status is not AppointmentStatus.BOOKED:
            raise Conflict("room_closed")
        if consultation is not None and consultation.state is ConsultationState.ENDED:
            raise Conflict("room_closed")
        opens_at = appointment.start_at - OPENS_BEFORE
        if now < opens_at:
            raise Conflict("room_not_open", opens_at=opens_at.isoformat())
        if now > appointment.end_at + CLOSES_AFTER:
            raise Conflict("room_closed")

    async def _open(self, session: AsyncSession, appointment_id: uuid.UUID) -> Consultation:
        """The room's row, made by its first join (or an admit ahead of it)."""
        consultation = Consultation(
            appointment_id=appointment_id,
            state=ConsultationState.OPEN,
            transport="direct",
            opened_at=self.clock.now(),
            last_seq=0,
        )
        session.add(consultation)
        await session.flush()
        return consultation

    async def _room(self, session: AsyncSession, appointment_id: uuid.UUID) -> Consultation | None:
        found: Consultation | None = await session.scalar(
            select(Consultation).where(Consultation.appointment_id == appointment_id)
        )
        return found

    # -- joining and leaving -----------------------------------------------------------------

    @_audit_denials
    async def join(
        self, principal: Principal, appointment_id: uuid.UUID, after_seq: int = 0
    ) -> RoomView:
        """Enter the room (it is created by the first join); the patient waits until admitted."""
        now = self.clock.now()
        async with self.db.write() as session:
            member = await self._member(
                session, principal, appointment_id, open_now=True, lock=True
            )
            consultation = member.consultation or await self._open(session, appointment_id)
            if member.role == "patient" and consultation.state is ConsultationState.OPEN:
                consultation.waiting_since = consultation.waiting_since or now
            self._event(session, consultation, principal, member.role, "joined")
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=appointment_id,
                action="join",
                patient_id=member.appointment.patient_id,
            )
            messages = await self._messages_after(session, consultation.id, after_seq)
            documents = list(
                await session.scalars(
                    select(Document)
                    .where(Document.appointment_id == appointment_id)
                    .order_by(Document.created_at, Document.id)
                )
            )
        return RoomView(member.appointment, consultation, member.role, messages, documents)

    @_audit_denials
    async def leave(self, principal: Principal, appointment_id: uuid.UUID) -> None:
        """The member's last connection left; a waiting patient stops waiting."""
        async with self.db.write() as session:
            member = await self._member(session, principal, appointment_id, open_now=False)
            consultation = member.consultation
            if consultation is None:
                return
            if member.role == "patient" and consultation.state is ConsultationState.OPEN:
                consultation.waiting_since = None
            self._event(session, consultation, principal, member.role, "left")

    @_audit_denials
    async def admit(self, principal: Principal, appointment_id: uuid.UUID) -> Consultation:
        """The physician lets the patient in (idempotent; a room may be admitted ahead)."""
        principal.require_role(Role.PHYSICIAN)
        now = self.clock.now()
        async with self.db.write() as session:
            member = await self._member(
                session, principal, appointment_id, open_now=True, lock=True
            )
            consultation = member.consultation or await self._open(session, appointment_id)
            if consultation.state is ConsultationState.OPEN:
                consultation.state = ConsultationState.ADMITTED
                consultation.admitted_at = now
                consultation.waiting_since = None
                self._event(session, consultation, principal, "physician", "admitted")
        return consultation

    async def waiting_for(self, practitioner_id: uuid.UUID) -> list[Waiting]:
        """A physician's waiting room, for the desk's live queue (pushed to that physician's
        own connections only; the schedule and ``listWaitingRoom`` reads are audited)."""
        async with self.db.read() as session:
            return await self._waiting(session, practitioner_id)

    async def waiting_room(self, principal: Principal) -> list[Waiting]:
        """The physician's patients waiting to be admitted, longest-waiting first."""
        principal.require_role(Role.PHYSICIAN)
        async with self.db.write() as session:
            waiting = await self._waiting(session, principal.practitioner_id)
            for item in waiting:
                self.audit.record(
                    session,
                    principal,
                    object_type=OBJECT_TYPE,
                    object_id=item.appointment.id,
                    action="list",
                    patient_id=item.appointment.patient_id,
                )
        return waiting

    async def _waiting(
        self, session: AsyncSession, practitioner_id: uuid.UUID | None
    ) -> list[Waiting]:
        rows = (
            (
                await session.execute(
                    select(Appointment, Consultation.waiting_since)
                    .join(Consultation, Consultation.appointment_id == Appointment.id)
                    .where(
                        Appointment.practitioner_id == practitioner_id,
                        Consultation.state == ConsultationState.OPEN,
                        Consultation.waiting_since.is_not(None),
                    )
                    .order_by(Consultation.waiting_since)
                )
            )
            .unique()
            .all()
        )
        return [Waiting(appointment, since) for appointment, since in rows if since is not None]

    # -- chat --------------------------------------------------------------------------------

    @_audit_denials
    async def add_message(
        self, principal: Principal, appointment_id: uuid.UUID, text: str, client_msg_id: str
    ) -> tuple[ConsultationMessage, bool]:
        """Store a member's message once; ``(message, created)``: a retry returns the stored one."""
        body = _check_text(text)
        key = (client_msg_id or "").strip()
        if not key or len(key) > MAX_CLIENT_MSG_ID:
            raise InvalidInput.single("client_msg_id", "invalid_value")
        try:
            return await self._append(principal, appointment_id, body, key)
        except IntegrityError:
            # A retry raced the first attempt past the check: the first one is stored.
            async with self.db.read() as session:
                stored = await self._by_client_id(session, principal, appointment_id, key)
            if stored is None:
                raise
            return stored, False

    async def _append(
        self, principal: Principal, appointment_id: uuid.UUID, body: str, key: str
    ) -> tuple[ConsultationMessage, bool]:
        async with self.db.write() as session:
            member = await self._member(session, principal, appointment_id, open_now=True)
            if member.consultation is None:
                raise Conflict("not_joined")
            stored = await self._by_client_id(session, principal, appointment_id, key)
            if stored is not None:
                return stored, False
            # One UPDATE both numbers the message and locks the room's row, so two writers
            # never get the same seq (as Conversations numbers the assistant's chat).
            seq = await session.scalar(
                update(Consultation)
                .where(Consultation.id == member.consultation.id)
                .values(last_seq=Consultation.last_seq + 1)
                .returning(Consultation.last_seq)
            )
            assert seq is not None
            message = ConsultationMessage(
                consultation_id=member.consultation.id,
                seq=seq,
                sender=member.role,
                sender_account_id=principal.account_id,
                text=body,
                client_msg_id=key,
                created_at=self.clock.now(),
            )
            session.add(message)
        return message, True

    async def _by_client_id(
        self, session: AsyncSession, principal: Principal, appointment_id: uuid.UUID, key: str
    ) -> ConsultationMessage | None:
        found: ConsultationMessage | None = await session.scalar(
            select(ConsultationMessage)
            .join(Consultation, Consultation.id == ConsultationMessage.consultation_id)
            .where(
                Consultation.appointment_id == appointment_id,
                ConsultationMessage.sender_account_id == principal.account_id,
                ConsultationMessage.client_msg_id == key,
            )
        )
        return found

    @_audit_denials
    async def messages_after(
        self, principal: Principal, appointment_id: uuid.UUID, after_seq: int
    ) -> list[ConsultationMessage]:
        """The room's messages with ``seq > after_seq``, in order (members, any time)."""
        async with self.db.read() as session:
            member = await self._member(session, principal, appointment_id, open_now=False)
            if member.consultation is None:
                return []
            return await self._messages_after(session, member.consultation.id, after_seq)

    async def _messages_after(
        self, session: AsyncSession, consultation_id: uuid.UUID, after_seq: int
    ) -> list[ConsultationMessage]:
        return list(
            await session.scalars(
                select(ConsultationMessage)
                .where(
                    ConsultationMessage.consultation_id == consultation_id,
                    ConsultationMessage.seq > max(after_seq, 0),
                )
                .order_by(ConsultationMessage.seq)
            )
        )

    # -- media and transport -----------------------------------------------------------------

    @_audit_denials
    async def set_transport(
        self, principal: Principal, appointment_id: uuid.UUID, transport: Transport, reason: str
    ) -> tuple[Transport, bool]:
        """Switch the room to ``transport`` (once); ``(current, changed)``."""
        async with self.db.write() as session:
            member = await self._member(
                session, principal, appointment_id, open_now=True, lock=True
            )
            consultation = member.consultation
            if consultation is None or consultation.state is not ConsultationState.ADMITTED:
                raise Conflict("not_admitted")
            if consultation.transport == transport:
                return transport, False
            consultation.transport = transport
            self._event(
                session,
                consultation,
                principal,
                member.role,
                "transport",
                {"transport": transport, "reason": reason},
            )
        return transport, True

    @_audit_denials
    async def record_media(
        self, principal: Principal, appointment_id: uuid.UUID, audio: bool, video: bool
    ) -> RoomRole:
        """A member turned their camera or microphone on or off; returns their side."""
        async with self.db.write() as session:
            member = await self._member(session, principal, appointment_id, open_now=True)
            if member.consultation is None:
                raise Conflict("not_joined")
            self._event(
                session,
                member.consultation,
                principal,
                member.role,
                "media",
                {"audio": audio, "video": video},
            )
        return member.role

    # -- documents ---------------------------------------------------------------------------

    async def share_document(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        stream: AsyncIterable[bytes],
        *,
        file_name: str | None,
        description: str,
    ) -> SharedDocument:
        """Store a file a member shares while the room is open, and announce it."""
        member = await self.authorize(principal, appointment_id)
        document = await self.documents.share_in_consultation(
            principal, member.appointment, stream, file_name=file_name, description=description
        )
        shared = SharedDocument(appointment_id, document, member.role)
        for listener in list(self.document_listeners):
            await listener(shared)
        return shared

    # -- ending ------------------------------------------------------------------------------

    async def close_room(
        self, principal: Principal, appointment_id: uuid.UUID, reason: str
    ) -> None:
        """The appointment stopped being active outside the room (``reason``: ``cancelled``,
        ``completed``): end its room, if it has one, keep the summary, and tell the listeners.

        Wired to :attr:`portal.booking.Booking.closed_listeners` and the desk's, so a visit
        cancelled by reception or marked attended from the desk closes a live call at once.
        """
        live = select(Consultation.id).where(
            Consultation.appointment_id == appointment_id,
            Consultation.state != ConsultationState.ENDED,
        )
        async with self.db.read() as session:
            # Most visits have no room: no write transaction (SQLite's one lock) for them.
            if await session.scalar(live) is None:
                return
        async with self.db.write() as session:
            consultation = await session.scalar(
                select(Consultation)
                .where(Consultation.appointment_id == appointment_id)
                .with_for_update()
            )
            if consultation is None or consultation.state is ConsultationState.ENDED:
                return
            now = self.clock.now()
            consultation.state = ConsultationState.ENDED
            consultation.ended_at = now
            consultation.ended_by_account_id = principal.account_id
            consultation.waiting_since = None
            session.add(
                ConsultationEvent(
                    consultation_id=consultation.id,
                    at=now,
                    account_id=principal.account_id,
                    role=principal.role.value,
                    kind="closed",
                    detail={"reason": reason},
                )
            )
            await session.flush()
            consultation.summary = summary = await self._summary(session, consultation)
        closed = RoomClosed(appointment_id, reason, summary)
        for listener in list(self.closed_rooms):
            await listener(closed)

    @_audit_denials
    async def end(self, principal: Principal, appointment_id: uuid.UUID) -> Consultation:
        """The physician ends the consultation: the visit is attended, the summary stored."""
        principal.require_role(Role.PHYSICIAN)
        now = self.clock.now()
        async with self.db.write() as session:
            member = await self._member(
                session, principal, appointment_id, open_now=True, lock=True
            )
            appointment = member.appointment
            consultation = member.consultation
            if consultation is None:
                raise Conflict("not_joined")
            consultation.state = ConsultationState.ENDED
            consultation.ended_at = now
            consultation.ended_by_account_id = principal.account_id
            consultation.waiting_since = None
            self._event(session, consultation, principal, "physician", "ended")
            if appointment.status is AppointmentStatus.BOOKED:
                mark_attended(session, appointment, principal, now, note="consultation ended")
            await session.flush()
            consultation.summary = await self._summary(session, consultation)
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=appointment.id,
                action="complete",
                patient_id=appointment.patient_id,
            )
        return consultation

    async def _summary(self, session: AsyncSession, consultation: Consultation) -> dict[str, Any]:
        events = list(
            await session.scalars(
                select(ConsultationEvent)
                .where(ConsultationEvent.consultation_id == consultation.id)
                .order_by(ConsultationEvent.at, ConsultationEvent.id)
            )
        )
        messages = await self._messages_after(session, consultation.id, 0)
        documents = list(
            await session.scalars(
                select(Document)
                .where(Document.appointment_id == consultation.appointment_id)
                .order_by(Document.created_at, Document.id)
            )
        )
        uploaders = {d.uploaded_by_account_id for d in documents}
        roles = dict(
            (
                await session.execute(
                    select(Account.id, Account.role).where(Account.id.in_(uploaders))
                )
            ).all()
        )
        return {
            "opened_at": consultation.opened_at.isoformat(),
            "started_at": (consultation.admitted_at or consultation.opened_at).isoformat(),
            "ended_at": consultation.ended_at.isoformat() if consultation.ended_at else None,
            "transport": consultation.transport,
            "participants": [
                {"role": e.role, "event": e.kind, "at": e.at.isoformat(), **(e.detail or {})}
                for e in events
                if e.kind in ("joined", "left", "admitted", "transport", "ended")
            ],
            "transcript": [
                {"seq": m.seq, "sender": m.sender, "text": m.text, "at": m.created_at.isoformat()}
                for m in messages
            ],
            "documents": [
                {
                    "id": str(d.id),
                    "file_name": d.file_name,
                    "content_type": d.content_type,
                    "description": d.description,
                    "kind": d.kind,
                    "shared_by": "physician"
                    if roles.get(d.uploaded_by_account_id) is Role.PHYSICIAN
                    else "patient",
                    "created_at": d.created_at.isoformat(),
                }
                for d in documents
            ],
        }

    @_audit_denials
    async def get(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[Membership, Consultation | None]:
        """A member's view of the room at any time: its state, and the summary once ended."""
        async with self.db.write() as session:
            member = await self._member(session, principal, appointment_id, open_now=False)
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=appointment_id,
                action="read",
                patient_id=member.appointment.patient_id,
            )
        return member, member.consultation

    # -- helpers -----------------------------------------------------------------------------

    def _event(
        self,
        session: AsyncSession,
        consultation: Consultation,
        principal: Principal,
        role: RoomRole,
        kind: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        session.add(
            ConsultationEvent(
                consultation_id=consultation.id,
                at=self.clock.now(),
                account_id=principal.account_id,
                role=role,
                kind=kind,
                detail=detail,
            )
        )

    def opens_at(self, appointment: Appointment) -> datetime:
        """When the appointment's room opens."""
        return appointment.start_at - OPENS_BEFORE


def _check_text(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise InvalidInput.single("text", "field_required")
    if len(body) > MAX_TEXT:
        raise InvalidInput.single("text", "too_long", max_length=MAX_TEXT)
    return body
