"""The physician's desk and the reception desk: schedules, visit detail, completing visits,
finding patients and reading a patient's audit trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import AppointmentClosed, Principal, tell_closed
from portal.audit import DENIED, PAGE_LIMIT_DEFAULT, AuditLog, AuditPage
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import Conflict, InvalidInput, NotFound
from portal.models import (
    Account,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    BookingSource,
    ChatMessage,
    Conversation,
    Document,
    OrderStatus,
    Patient,
    PrescriptionOrder,
    Question,
    QuestionStatus,
    Role,
    Sender,
)
from portal.throttle import Bucket, DatabaseStore, Throttle

EARLY_COMPLETION = timedelta(minutes=15)
"""A visit may be marked attended from 15 minutes before its start (the room opens then)."""
MAX_RANGE_DAYS = 31
BOOKING_CHAT_TAIL = 20
"""How many messages of the booking conversation the physician sees (the last before booking)."""


@dataclass(frozen=True)
class DeskRow:
    """One appointment in a physician's schedule, with what needs attention."""

    appointment: Appointment
    documents: int
    open_questions: int


@dataclass(frozen=True)
class VisitDetail:
    """Everything the physician sees about one of their appointments."""

    appointment: Appointment
    documents: list[Document]
    pending_orders: list[PrescriptionOrder]
    open_questions: list[Question]
    booking_chat: list[ChatMessage]
    """The end of the assistant conversation the visit was booked in (empty otherwise)."""


def mark_attended(
    session: AsyncSession,
    appointment: Appointment,
    principal: Principal,
    now: datetime,
    note: str | None = None,
) -> None:
    """Mark a booked visit attended, with its status history (the caller checked the rules)."""
    appointment.status = AppointmentStatus.COMPLETED
    appointment.updated_at = now
    session.add(
        AppointmentEvent(
            appointment_id=appointment.id,
            status=AppointmentStatus.COMPLETED,
            at=now,
            by_account_id=principal.account_id,
            source=BookingSource.PORTAL,
            note=note,
        )
    )


class Desk:
    """Physicians' and reception's views."""

    def __init__(
        self,
        db: Database,
        config: PortalConfig,
        clock: Clock,
        audit: AuditLog,
        throttle: Throttle | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.audit = audit
        self.throttle = throttle or Throttle(DatabaseStore(db), clock)
        self.closed_listeners: list[AppointmentClosed] = []
        """Told after a visit was marked attended here (its room, if any, closes)."""

    async def schedule(
        self, principal: Principal, date_from: date | None = None, date_to: date | None = None
    ) -> list[DeskRow]:
        """The physician's appointments for a day (default today) or a range, by time."""
        principal.require_role(Role.PHYSICIAN)
        zone = ZoneInfo(self.config.timezone)
        first = date_from or self.clock.now().astimezone(zone).date()
        last = date_to or first
        if last < first:
            raise InvalidInput.single("date_from", "date_range")
        if (last - first).days + 1 > MAX_RANGE_DAYS:  # both ends count: at most 31 days
            raise InvalidInput.single("date_to", "invalid_value")
        start = datetime.combine(first, time.min, zone)
        end = datetime.combine(last + timedelta(days=1), time.min, zone)
        documents = (
            select(func.count(Document.id))
            .where(Document.appointment_id == Appointment.id)
            .scalar_subquery()
        )
        questions = (
            select(func.count(Question.id))
            .where(
                Question.appointment_id == Appointment.id, Question.status == QuestionStatus.OPEN
            )
            .scalar_subquery()
        )
        async with self.db.write() as session:
            rows = (
                (
                    await session.execute(
                        select(Appointment, documents, questions)
                        .where(
                            Appointment.practitioner_id == principal.practitioner_id,
                            Appointment.start_at >= start,
                            Appointment.start_at < end,
                        )
                        .order_by(Appointment.start_at)
                    )
                )
                .unique()
                .all()
            )
            for appointment, _, _ in rows:
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=appointment.id,
                    action="list",
                    patient_id=appointment.patient_id,
                )
        return [DeskRow(a, int(d or 0), int(q or 0)) for a, d, q in rows]

    async def visit(self, principal: Principal, appointment_id: uuid.UUID) -> VisitDetail:
        """One of the physician's appointments with its documents, orders and questions."""
        principal.require_role(Role.PHYSICIAN)
        async with self.db.write() as session:
            appointment = await session.get(Appointment, appointment_id)
            if appointment is None or appointment.practitioner_id != principal.practitioner_id:
                if appointment is not None:
                    self.audit.record(
                        session,
                        principal,
                        object_type="Appointment",
                        object_id=appointment_id,
                        action="read",
                        patient_id=appointment.patient_id,
                        outcome=DENIED,
                    )
                missing = True
            else:
                missing = False
                documents = list(
                    await session.scalars(
                        select(Document)
                        .where(Document.appointment_id == appointment.id)
                        .order_by(Document.created_at)
                    )
                )
                orders = list(
                    (
                        await session.scalars(
                            select(PrescriptionOrder)
                            .where(
                                PrescriptionOrder.patient_id == appointment.patient_id,
                                PrescriptionOrder.reviewer_practitioner_id
                                == principal.practitioner_id,
                                PrescriptionOrder.status == OrderStatus.PENDING,
                            )
                            .order_by(PrescriptionOrder.created_at)
                        )
                    ).unique()
                )
                questions = list(
                    await session.scalars(
                        select(Question)
                        .where(
                            Question.patient_id == appointment.patient_id,
                            Question.practitioner_id == principal.practitioner_id,
                            Question.status == QuestionStatus.OPEN,
                        )
                        .order_by(Question.created_at)
                    )
                )
                booking_chat = await self._booking_chat(session, appointment)
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=appointment.id,
                    action="read",
                    patient_id=appointment.patient_id,
                )
        if missing:
            raise NotFound("appointment_not_found")
        assert appointment is not None
        return VisitDetail(appointment, documents, orders, questions, booking_chat)

    async def _booking_chat(
        self, session: AsyncSession, appointment: Appointment
    ) -> list[ChatMessage]:
        """What the patient told the assistant up to booking, when they booked through it.

        The conversation is the booking account's latest one that began before the booking;
        only the patient's and the assistant's messages, the last :data:`BOOKING_CHAT_TAIL`.
        """
        if appointment.source is not BookingSource.ASSISTANT:
            return []
        conversation_id = await session.scalar(
            select(Conversation.id)
            .where(
                Conversation.account_id == appointment.booked_by_account_id,
                Conversation.created_at <= appointment.created_at,
            )
            .order_by(Conversation.created_at.desc())
            .limit(1)
        )
        if conversation_id is None:
            return []
        tail = list(
            await session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.created_at <= appointment.created_at,
                    ChatMessage.sender.in_((Sender.PATIENT, Sender.BOT)),
                )
                .order_by(ChatMessage.seq.desc())
                .limit(BOOKING_CHAT_TAIL)
            )
        )
        return tail[::-1]

    async def complete(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        """The visit's physician marks it attended, which opens "Ask your doctor" and records."""
        principal.require_role(Role.PHYSICIAN)
        now = self.clock.now()
        async with self.db.write() as session:
            # "OF appointments": PostgreSQL refuses to lock the outer-joined eager loads.
            appointment = await session.get(
                Appointment, appointment_id, with_for_update={"of": Appointment}
            )
            allowed = (
                appointment is not None and appointment.practitioner_id == principal.practitioner_id
            )
            if appointment is not None and allowed:
                if appointment.status is not AppointmentStatus.BOOKED:
                    raise Conflict("appointment_not_active", status=appointment.status.value)
                if now < appointment.start_at - EARLY_COMPLETION:
                    raise Conflict("appointment_not_started")
                mark_attended(session, appointment, principal, now)
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=appointment.id,
                    action="complete",
                    patient_id=appointment.patient_id,
                )
        if appointment is None or not allowed:
            if appointment is not None:
                async with self.db.write() as session:
                    self.audit.record(
                        session,
                        principal,
                        object_type="Appointment",
                        object_id=appointment_id,
                        action="complete",
                        patient_id=appointment.patient_id,
                        outcome=DENIED,
                    )
            raise NotFound("appointment_not_found")
        await tell_closed(self.closed_listeners, principal, appointment_id, "completed")
        async with self.db.read() as session:
            done = await session.get(Appointment, appointment_id)
        assert done is not None
        return done

    # -- reception --------------------------------------------------------------------------

    async def find_patients(
        self, principal: Principal, query: str
    ) -> list[tuple[Patient, Account | None]]:
        """Reception finds patients by PESEL, login, e-mail or last name (prefix).

        Counted per staff account (``patient_search``): a person at the desk searches at a
        human's pace; a stolen reception session walking through PESEL numbers does not.
        """
        principal.require_role(Role.RECEPTION)
        await self.throttle.hit(
            Bucket(f"patient-search:{principal.account_id}", self.config.patient_search)
        )
        text = query.strip()
        if len(text) < 3:
            raise InvalidInput.single("q", "too_short", min_length=3)
        pattern = text.lower().replace("%", "").replace("_", "") + "%"
        async with self.db.write() as session:
            rows = (
                (
                    await session.execute(
                        select(Patient, Account)
                        .outerjoin(Account, Account.patient_id == Patient.id)
                        .where(
                            or_(
                                Patient.pesel == text,
                                Account.login_key == text.lower(),
                                Account.email == text.lower(),
                                func.lower(Patient.last_name).like(pattern),
                            )
                        )
                        .order_by(Patient.last_name, Patient.first_name)
                        .limit(50)
                    )
                )
                .unique()
                .all()
            )
            for patient, _ in rows:
                self.audit.record(
                    session,
                    principal,
                    object_type="Patient",
                    object_id=patient.id,
                    action="search",
                    patient_id=patient.id,
                )
        return [(patient, account) for patient, account in rows]

    async def audit_trail(
        self,
        principal: Principal,
        patient_id: uuid.UUID,
        *,
        before: uuid.UUID | None = None,
        limit: int = PAGE_LIMIT_DEFAULT,
    ) -> AuditPage:
        """Who read or changed one patient's data, newest first, a page at a time (reception)."""
        principal.require_role(Role.RECEPTION)
        async with self.db.write() as session:
            if await session.get(Patient, patient_id) is None:
                raise NotFound("patient_not_found")
            page = await self.audit.page(session, patient_id, before=before, limit=limit)
            self.audit.record(
                session,
                principal,
                object_type="AuditEvent",
                object_id=None,
                action="list",
                patient_id=patient_id,
                detail={"before": str(before)} if before else None,
            )
        return page
