"""Booking, cancelling and rescheduling appointments, and listing them.

The rules of the two access levels (DEVELOPERS.md) live here, so the REST API, the assistant
and reception all obey the same ones:

- a basic account books only services whose required access is basic, and holds at most
  ``basic_active_service_limit`` active (booked, upcoming) services for itself and its children;
- a service that needs a referral is booked only against a valid, unused referral of ours;
- a basic account cancels only what was booked through the portal or the assistant;
- no slot ever holds two active bookings: the partial unique index on ``appointments.slot_id``
  enforces it under the checks here, whatever races they lose.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import (
    AppointmentClosed,
    PatientDenied,
    Principal,
    family_ids,
    resolve_patient,
    tell_closed,
)
from portal.audit import DENIED, AuditLog
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import (
    AccessDenied,
    Conflict,
    FullAccessRequired,
    InvalidInput,
    NotFound,
    ReferralRequired,
    ServiceLimitReached,
)
from portal.models import (
    AccessLevel,
    Account,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    BookingSource,
    Patient,
    Referral,
    ReferralStatus,
    Role,
    Service,
    Slot,
)

CHANGEABLE_BY_BASIC = (BookingSource.PORTAL, BookingSource.ASSISTANT)


class _Denied(NotFound):
    """A change refused because the caller may not reach the appointment.

    Seen from outside it is "appointment not found" (no probing of ids); inside, it carries
    whose appointment it was so that the refusal can be audit-logged.
    """

    def __init__(self, patient_id: uuid.UUID | None) -> None:
        super().__init__("appointment_not_found")
        self.patient_id = patient_id


class Period(StrEnum):
    """Which appointments a list shows."""

    UPCOMING = "upcoming"
    PAST = "past"
    ALL = "all"


@dataclass(frozen=True)
class BookingRequest:
    """What the caller asks to book."""

    slot_id: uuid.UUID
    patient_id: uuid.UUID | None = None
    """A dependent of the caller, or (reception) the patient booked for; None = the caller."""
    idempotency_key: str | None = None
    source: BookingSource = BookingSource.PORTAL
    allow_overlap: bool = False
    """Book even when the patient has a visit at an overlapping time (they confirmed it)."""


@dataclass(frozen=True)
class BookingResult:
    """The appointment, and whether this call created it (False: an idempotent repeat)."""

    appointment: Appointment
    created: bool


class Booking:
    """Appointments: the domain rules of booking, cancelling and rescheduling."""

    def __init__(self, db: Database, config: PortalConfig, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.audit = audit
        self.closed_listeners: list[AppointmentClosed] = []
        """Told after a cancellation or a reschedule (of the old appointment) committed."""

    # -- booking ----------------------------------------------------------------------------

    async def book(self, principal: Principal, request: BookingRequest) -> BookingResult:
        """Book a free slot for the caller, their child or (reception) any patient."""
        source = self._source_for(principal, request.source)
        if request.idempotency_key:
            repeated = await self._by_idempotency_key(principal, request)
            if repeated is not None:
                return BookingResult(repeated, created=False)
        try:
            async with self.db.write() as session:
                patient, holder = await self._patient_and_holder(
                    session, principal, request.patient_id
                )
                if request.idempotency_key:
                    # A twin request may have booked while this one waited for the lock.
                    repeated = await self._find_by_key(session, principal, request)
                    if repeated is not None:
                        return BookingResult(repeated, created=False)
                slot = await session.get(Slot, request.slot_id)
                if slot is None:
                    raise NotFound("slot_not_found")
                appointment = await self._place(
                    session,
                    principal,
                    patient,
                    holder,
                    slot,
                    source,
                    request.idempotency_key,
                    allow_overlap=request.allow_overlap,
                )
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=appointment.id,
                    action="create",
                    patient_id=patient.id,
                    detail={"source": source.value},
                )
                appointment_id = appointment.id
        except PatientDenied as denied:
            await self._keep_patient_denial(
                principal, denied, "create", {"slot_id": str(request.slot_id)}
            )
            raise
        except IntegrityError:
            if request.idempotency_key:
                repeated = await self._by_idempotency_key(principal, request)
                if repeated is not None:
                    return BookingResult(repeated, created=False)
            raise Conflict("slot_taken") from None
        return BookingResult(await self._load(appointment_id), created=True)

    async def _place(
        self,
        session: AsyncSession,
        principal: Principal,
        patient: Patient,
        holder: Account,
        slot: Slot,
        source: BookingSource,
        idempotency_key: str | None,
        *,
        replacing: Appointment | None = None,
        allow_overlap: bool = False,
    ) -> Appointment:
        """Check every rule for booking ``slot`` and add the appointment to ``session``."""
        now = self.clock.now()
        if slot.start_at <= now:
            raise Conflict("slot_in_past")
        service = await session.get(Service, slot.service_id)
        assert service is not None
        basic = holder.access_level is AccessLevel.BASIC
        if basic and service.required_access is AccessLevel.FULL:
            raise FullAccessRequired()
        if basic and replacing is None:
            active = await self._active_count(session, holder)
            if active >= self.config.basic_active_service_limit:
                raise ServiceLimitReached(limit=self.config.basic_active_service_limit)
        taken = await session.scalar(
            select(Appointment.id).where(
                Appointment.slot_id == slot.id,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        )
        if taken is not None:
            raise Conflict("slot_taken")
        if not allow_overlap:
            await self._refuse_overlap(session, patient, slot, replacing)
        referral_id: uuid.UUID | None = None
        if service.requires_referral:
            if replacing is not None and replacing.referral_id is not None:
                referral_id = replacing.referral_id
            else:
                referral = await self._usable_referral(session, patient, service)
                if referral is None:
                    raise ReferralRequired()
                referral.status = ReferralStatus.USED
                referral_id = referral.id
        appointment = Appointment(
            id=uuid.uuid4(),
            slot_id=slot.id,
            patient_id=patient.id,
            booked_by_account_id=principal.account_id,
            service_id=service.id,
            practitioner_id=slot.practitioner_id,
            clinic_id=slot.clinic_id,
            start_at=slot.start_at,
            end_at=slot.end_at,
            status=AppointmentStatus.BOOKED,
            source=source,
            idempotency_key=idempotency_key,
            referral_id=referral_id,
            created_at=now,
            updated_at=now,
            rescheduled_from_id=replacing.id if replacing else None,
        )
        session.add(appointment)
        session.add(
            AppointmentEvent(
                appointment_id=appointment.id,
                status=AppointmentStatus.BOOKED,
                at=now,
                by_account_id=principal.account_id,
                source=source,
                note="rescheduled" if replacing else None,
            )
        )
        # Flush now so that a lost race surfaces as IntegrityError inside this transaction.
        await session.flush()
        return appointment

    async def _refuse_overlap(
        self,
        session: AsyncSession,
        patient: Patient,
        slot: Slot,
        replacing: Appointment | None,
    ) -> None:
        """One patient, one place at a time: a booked visit of the patient whose time overlaps
        ``slot`` (the one being moved aside) refuses it with ``appointment_overlap``, unless
        the caller confirmed they want both. The same rule for the pages, the assistant and
        reception, for a child as for an adult."""
        query = select(Appointment).where(
            Appointment.patient_id == patient.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.start_at < slot.end_at,
            Appointment.end_at > slot.start_at,
        )
        if replacing is not None:
            query = query.where(Appointment.id != replacing.id)
        clash = await session.scalar(query.order_by(Appointment.start_at).limit(1))
        if clash is not None:
            start = self.local(clash.start_at)
            raise Conflict(
                "appointment_overlap",
                conflicting_appointment_id=str(clash.id),
                date=start.strftime("%d.%m.%Y"),
                time=start.strftime("%H:%M"),
            )

    async def _active_count(self, session: AsyncSession, holder: Account) -> int:
        family = select(Patient.id).where(
            (Patient.id == holder.patient_id) | (Patient.guardian_id == holder.patient_id)
        )
        count = await session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.patient_id.in_(family),
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.start_at > self.clock.now(),
            )
        )
        return int(count or 0)

    async def _usable_referral(
        self, session: AsyncSession, patient: Patient, service: Service
    ) -> Referral | None:
        today = self._today()
        candidates = await session.scalars(
            select(Referral)
            .where(
                Referral.patient_id == patient.id,
                Referral.status == ReferralStatus.ISSUED,
                Referral.valid_until >= today,
            )
            .order_by(Referral.valid_until)
            .with_for_update(of=Referral)
        )
        for referral in candidates:
            if referral.service_id is not None:
                if referral.service_id == service.id:
                    return referral
            elif referral.service_type is not None and referral.service_type != service.type:
                continue
            elif referral.specialty_id is None or referral.specialty_id == service.specialty_id:
                return referral
        return None

    async def _by_idempotency_key(
        self, principal: Principal, request: BookingRequest
    ) -> Appointment | None:
        async with self.db.read() as session:
            return await self._find_by_key(session, principal, request)

    async def _find_by_key(
        self, session: AsyncSession, principal: Principal, request: BookingRequest
    ) -> Appointment | None:
        found = await session.scalar(
            select(Appointment).where(
                Appointment.booked_by_account_id == principal.account_id,
                Appointment.idempotency_key == request.idempotency_key,
            )
        )
        if found is None:
            return None
        same_patient = request.patient_id is None or request.patient_id == found.patient_id
        if found.slot_id != request.slot_id or not same_patient:
            raise Conflict("idempotency_key_reused")
        return found

    # -- cancelling and rescheduling --------------------------------------------------------

    async def cancel(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        source: BookingSource = BookingSource.PORTAL,
        reason: str | None = None,
    ) -> Appointment:
        """Cancel an upcoming appointment; its slot becomes free at once."""
        source = self._source_for(principal, source)
        try:
            async with self.db.write() as session:
                appointment, holder = await self._for_change(session, principal, appointment_id)
                self._check_changeable(appointment, holder)
                await self._cancel(session, principal, appointment, source, reason)
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=appointment.id,
                    action="cancel",
                    patient_id=appointment.patient_id,
                    detail={"source": source.value},
                )
        except _Denied as denied:
            await self._keep_denial(principal, appointment_id, denied)
            raise
        await tell_closed(self.closed_listeners, principal, appointment_id, "cancelled")
        return await self._load(appointment_id)

    async def reschedule(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        new_slot_id: uuid.UUID,
        source: BookingSource = BookingSource.PORTAL,
        *,
        allow_overlap: bool = False,
    ) -> Appointment:
        """Move an appointment to another slot of the same service, in one transaction."""
        source = self._source_for(principal, source)
        try:
            async with self.db.write() as session:
                old, holder = await self._for_change(session, principal, appointment_id)
                self._check_changeable(old, holder)
                slot = await session.get(Slot, new_slot_id)
                if slot is None:
                    raise NotFound("slot_not_found")
                if slot.service_id != old.service_id:
                    raise InvalidInput.single("slot_id", "reschedule_service_mismatch")
                await self._cancel(
                    session, principal, old, source, "rescheduled", keep_referral=True
                )
                patient = await session.get(Patient, old.patient_id)
                assert patient is not None
                new = await self._place(
                    session,
                    principal,
                    patient,
                    holder,
                    slot,
                    source,
                    None,
                    replacing=old,
                    allow_overlap=allow_overlap,
                )
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=new.id,
                    action="reschedule",
                    patient_id=patient.id,
                    detail={"from": str(old.id), "source": source.value},
                )
                new_id = new.id
        except _Denied as denied:
            await self._keep_denial(principal, appointment_id, denied)
            raise
        except IntegrityError:
            raise Conflict("slot_taken") from None
        await tell_closed(self.closed_listeners, principal, appointment_id, "cancelled")
        return await self._load(new_id)

    async def _cancel(
        self,
        session: AsyncSession,
        principal: Principal,
        appointment: Appointment,
        source: BookingSource,
        reason: str | None,
        *,
        keep_referral: bool = False,
    ) -> None:
        now = self.clock.now()
        appointment.status = AppointmentStatus.CANCELLED
        appointment.updated_at = now
        session.add(
            AppointmentEvent(
                appointment_id=appointment.id,
                status=AppointmentStatus.CANCELLED,
                at=now,
                by_account_id=principal.account_id,
                source=source,
                note=(reason or None) and reason[:500],
            )
        )
        if appointment.referral_id is not None and not keep_referral:
            referral = await session.get(Referral, appointment.referral_id)
            if referral is not None and referral.status is ReferralStatus.USED:
                referral.status = ReferralStatus.ISSUED
        # The status must reach the database before a new booking of the same slot is checked.
        await session.flush()

    def _check_changeable(self, appointment: Appointment, holder: Account) -> None:
        if appointment.status is not AppointmentStatus.BOOKED:
            raise Conflict("appointment_not_active", status=appointment.status.value)
        if appointment.start_at <= self.clock.now():
            raise Conflict("appointment_started")
        if holder.access_level is AccessLevel.BASIC and appointment.source not in (
            CHANGEABLE_BY_BASIC
        ):
            raise AccessDenied("cancel_source_forbidden")

    # -- reading ----------------------------------------------------------------------------

    async def list_for_patient(
        self,
        principal: Principal,
        patient_id: uuid.UUID | None = None,
        period: Period = Period.ALL,
    ) -> list[Appointment]:
        """The caller's (or one child's) appointments: upcoming soonest first, past newest first.

        Without ``patient_id`` a patient sees their own and their children's. Reception must
        name the patient; the read is audit-logged.
        """
        try:
            return await self._list(principal, patient_id, period)
        except PatientDenied as denied:
            await self._keep_patient_denial(principal, denied, "list", None)
            raise

    async def _list(
        self, principal: Principal, patient_id: uuid.UUID | None, period: Period
    ) -> list[Appointment]:
        # Only reads by someone other than the patient are audited, and only they need a write.
        transaction = self.db.read() if principal.role is Role.PATIENT else self.db.write()
        async with transaction as session:
            if principal.role is Role.PATIENT:
                if patient_id is None:
                    ids = await family_ids(session, principal, self._today())
                else:
                    patient = await resolve_patient(session, principal, patient_id, self._today())
                    ids = {patient.id}
            elif principal.role is Role.RECEPTION:
                if patient_id is None:
                    raise InvalidInput.single("patient_id", "field_required")
                if await session.get(Patient, patient_id) is None:
                    raise NotFound("patient_not_found")
                ids = {patient_id}
                self.audit.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=None,
                    action="list",
                    patient_id=patient_id,
                )
            else:
                raise AccessDenied("role_forbidden")
            query = select(Appointment).where(Appointment.patient_id.in_(ids))
            now = self.clock.now()
            if period is Period.UPCOMING:
                query = query.where(Appointment.start_at > now).order_by(Appointment.start_at)
            elif period is Period.PAST:
                query = query.where(Appointment.start_at <= now).order_by(
                    Appointment.start_at.desc()
                )
            else:
                query = query.order_by(Appointment.start_at)
            return list((await session.scalars(query)).unique())

    async def get(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        """One appointment the caller may see (patient/guardian, its physician, reception)."""
        async with self.db.write() as session:
            appointment = await session.get(Appointment, appointment_id)
            allowed = appointment is not None and await self._may_see(
                session, principal, appointment
            )
            if appointment is None or not allowed:
                self._deny(session, principal, appointment_id, "read", appointment)
            else:
                if principal.patient_id != appointment.patient_id:
                    self.audit.record(
                        session,
                        principal,
                        object_type="Appointment",
                        object_id=appointment.id,
                        action="read",
                        patient_id=appointment.patient_id,
                    )
        if appointment is None or not allowed:
            raise NotFound("appointment_not_found")
        return appointment

    # -- helpers ----------------------------------------------------------------------------

    async def _may_see(
        self, session: AsyncSession, principal: Principal, appointment: Appointment
    ) -> bool:
        if principal.role is Role.RECEPTION:
            return True
        if principal.role is Role.PHYSICIAN:
            return appointment.practitioner_id == principal.practitioner_id
        return appointment.patient_id in await family_ids(session, principal, self._today())

    async def _for_change(
        self, session: AsyncSession, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[Appointment, Account]:
        """The appointment the caller may change, and the account whose access level applies."""
        # "OF appointments": PostgreSQL refuses to lock the outer-joined eager loads.
        appointment = await session.get(
            Appointment, appointment_id, with_for_update={"of": Appointment}
        )
        allowed = appointment is not None and (
            principal.role is Role.RECEPTION
            or (
                principal.role is Role.PATIENT
                and appointment.patient_id in await family_ids(session, principal, self._today())
            )
        )
        if appointment is None or not allowed:
            raise _Denied(appointment.patient_id if appointment else None)
        patient = await session.get(Patient, appointment.patient_id)
        assert patient is not None
        holder = await self._holder_of(session, patient)
        return appointment, holder

    def _deny(
        self,
        session: AsyncSession,
        principal: Principal,
        object_id: uuid.UUID,
        action: str,
        appointment: Appointment | None,
    ) -> None:
        if appointment is None:
            return
        self.audit.record(
            session,
            principal,
            object_type="Appointment",
            object_id=object_id,
            action=action,
            patient_id=appointment.patient_id,
            outcome=DENIED,
        )

    async def _keep_denial(
        self, principal: Principal, object_id: uuid.UUID, denied: _Denied
    ) -> None:
        """Record a refused change; runs after the refused transaction has rolled back."""
        if denied.patient_id is None:
            return
        async with self.db.write() as session:
            self.audit.record(
                session,
                principal,
                object_type="Appointment",
                object_id=object_id,
                action="change",
                patient_id=denied.patient_id,
                outcome=DENIED,
            )

    async def _keep_patient_denial(
        self,
        principal: Principal,
        denied: PatientDenied,
        action: str,
        detail: dict[str, str] | None,
    ) -> None:
        """Record a ``patient_id`` outside the caller's family on that patient's record.

        Runs in a transaction of its own: the refused one has rolled back (or only read).
        """
        async with self.db.write() as session:
            self.audit.record(
                session,
                principal,
                object_type="Appointment",
                object_id=None,
                action=action,
                patient_id=denied.patient_id,
                outcome=DENIED,
                detail=detail,
            )
        denied.audited = True

    async def _patient_and_holder(
        self, session: AsyncSession, principal: Principal, patient_id: uuid.UUID | None
    ) -> tuple[Patient, Account]:
        if principal.role is Role.RECEPTION:
            if patient_id is None:
                raise InvalidInput.single("patient_id", "field_required")
            patient = await session.get(Patient, patient_id)
            if patient is None:
                raise NotFound("patient_not_found")
        else:
            patient = await resolve_patient(session, principal, patient_id, self._today())
        holder = await self._holder_of(session, patient)
        # Serialise this family's bookings so the active-service limit holds under concurrency.
        await session.get(
            Account, holder.id, with_for_update={"of": Account}, populate_existing=True
        )
        return patient, holder

    async def _holder_of(self, session: AsyncSession, patient: Patient) -> Account:
        """The account whose access level governs ``patient``: their own, or the guardian's."""
        owner_id = patient.guardian_id or patient.id
        holder = await session.scalar(select(Account).where(Account.patient_id == owner_id))
        if holder is None:
            raise NotFound("patient_not_found")
        return holder

    async def _load(self, appointment_id: uuid.UUID) -> Appointment:
        async with self.db.read() as session:
            appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment

    def _source_for(self, principal: Principal, requested: BookingSource) -> BookingSource:
        if principal.role is Role.RECEPTION:
            return BookingSource.RECEPTION
        if requested is BookingSource.RECEPTION:
            raise AccessDenied("role_forbidden")
        if principal.via == "token":
            return BookingSource.ASSISTANT
        return requested

    def _today(self) -> date:
        return self.clock.now().astimezone(ZoneInfo(self.config.timezone)).date()

    def local(self, instant: datetime) -> datetime:
        """An instant in clinic-local time."""
        return instant.astimezone(ZoneInfo(self.config.timezone))
