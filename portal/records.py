"""Medical records (full access): referrals, results, instructions, prescriptions, questions.

Patients (and guardians, for their children) read their own records; physicians write them
against an appointment of theirs that took place, and review prescription orders and answer
questions addressed to them. Every read by someone other than the patient, every write and
every refusal is audit-logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal, family_ids
from portal.audit import DENIED, AuditLog
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.eprescription import PrescriptionDraft, PrescriptionIssuer
from portal.errors import Conflict, InvalidInput, NotFound
from portal.models import (
    Appointment,
    AppointmentStatus,
    BookingSource,
    DiagnosticReport,
    Document,
    Instruction,
    MedicationRequest,
    OrderStatus,
    Patient,
    Practitioner,
    PrescriptionOrder,
    PrescriptionStatus,
    Question,
    QuestionStatus,
    Referral,
    ReferralStatus,
    Role,
    Service,
    ServiceType,
    Specialty,
)

QUESTION_WINDOW_DAYS = 14


class _Identified(Protocol):
    id: Any


R = TypeVar("R", bound=_Identified)
Addressed = TypeVar("Addressed", PrescriptionOrder, Question)
OBJECT_TYPES: dict[type[Any], str] = {
    PrescriptionOrder: "PrescriptionOrder",
    Question: "Question",
}


class RecordDenied(NotFound):
    """A record the caller may not reach; outside it is "not found", inside it is audited."""

    def __init__(
        self,
        code: str,
        object_type: str,
        object_id: uuid.UUID,
        patient_id: uuid.UUID | None,
    ) -> None:
        super().__init__(code)
        self.object_type = object_type
        self.object_id = object_id
        self.patient_id = patient_id


@dataclass(frozen=True)
class ResultValue:
    """One measured value of a result, with its unit and reference range."""

    name: str
    value: str
    unit: str | None = None
    reference_low: float | None = None
    reference_high: float | None = None
    reference_text: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored form, with a flag (L/H) derived from the range for numeric values."""
        flag = None
        try:
            number = float(self.value.replace(",", "."))
        except ValueError:
            number = None
        if number is not None:
            if self.reference_low is not None and number < self.reference_low:
                flag = "L"
            elif self.reference_high is not None and number > self.reference_high:
                flag = "H"
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "reference_low": self.reference_low,
            "reference_high": self.reference_high,
            "reference_text": self.reference_text,
            "flag": flag,
        }


@dataclass(frozen=True)
class NewResult:
    """A result a physician (or the lab) records for a visit."""

    appointment_id: uuid.UUID
    test_name: str
    values: list[ResultValue] = field(default_factory=list)
    performed_at: datetime | None = None
    physician_comment: str | None = None
    release: bool = True
    attachment_document_id: uuid.UUID | None = None
    """A file uploaded with uploadResultAttachment for the same visit."""


@dataclass(frozen=True)
class NewReferral:
    """A referral a physician writes at a visit; it names a service, a type or a specialty."""

    appointment_id: uuid.UUID
    reason: str
    valid_until: date
    service_type: ServiceType | None = None
    service_code: str | None = None
    specialty_code: str | None = None


@dataclass(frozen=True)
class NewPrescription:
    """A medication a physician prescribes at an attended visit."""

    appointment_id: uuid.UUID
    medication_name: str
    dosage: str
    substance: str | None = None
    form: str | None = None
    medication_code: str | None = None


@dataclass(frozen=True)
class PrescriptionHistory:
    """A patient's issued prescriptions and renewal orders."""

    prescriptions: list[MedicationRequest]
    orders: list[PrescriptionOrder]


class Records:
    """The full-access half of the patient's record."""

    def __init__(
        self,
        db: Database,
        config: PortalConfig,
        clock: Clock,
        audit: AuditLog,
        issuer: PrescriptionIssuer,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.audit = audit
        self.issuer = issuer

    # -- patient side: reading --------------------------------------------------------------

    async def list_referrals(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> list[Referral]:
        """The patient's referrals, newest first (expired ones included, marked by date)."""
        ids = await self._patients_read(principal, patient_id)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Referral)
                .where(Referral.patient_id.in_(ids))
                .order_by(Referral.issued_at.desc())
            )
            return list(rows.unique())

    async def list_results(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> list[DiagnosticReport]:
        """Released results with the physician's comment, newest first."""
        ids = await self._patients_read(principal, patient_id)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(DiagnosticReport)
                .where(
                    DiagnosticReport.patient_id.in_(ids),
                    DiagnosticReport.released_at.is_not(None),
                    DiagnosticReport.released_at <= self.clock.now(),
                )
                .order_by(DiagnosticReport.performed_at.desc())
            )
            return list(rows)

    async def list_instructions(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> list[Instruction]:
        """The physicians' instructions after visits, newest first."""
        ids = await self._patients_read(principal, patient_id)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Instruction)
                .where(Instruction.patient_id.in_(ids))
                .order_by(Instruction.created_at.desc())
            )
            return list(rows)

    async def list_prescriptions(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> PrescriptionHistory:
        """Issued prescriptions (newest first) and renewal orders (newest first)."""
        ids = await self._patients_read(principal, patient_id)
        async with self.db.read() as session:
            prescriptions = await session.scalars(
                select(MedicationRequest)
                .where(MedicationRequest.patient_id.in_(ids))
                .order_by(MedicationRequest.issued_at.desc())
            )
            orders = await session.scalars(
                select(PrescriptionOrder)
                .where(PrescriptionOrder.patient_id.in_(ids))
                .order_by(PrescriptionOrder.created_at.desc())
            )
            return PrescriptionHistory(list(prescriptions.unique()), list(orders.unique()))

    async def list_questions(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> list[Question]:
        """Questions to doctors and their answers, newest first."""
        ids = await self._patients_read(principal, patient_id)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Question)
                .where(Question.patient_id.in_(ids))
                .order_by(Question.created_at.desc())
            )
            return list(rows)

    # -- patient side: acting ---------------------------------------------------------------

    async def order_prescription(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        note: str | None = None,
        source: BookingSource = BookingSource.PORTAL,
    ) -> PrescriptionOrder:
        """Ask for a renewal of a medication from the patient's prescription history.

        The physician who last prescribed that medication to the patient reviews it.
        """
        principal.require_role(Role.PATIENT)
        principal.require_full_access()
        if principal.via == "token":
            source = BookingSource.ASSISTANT
        try:
            async with self.db.write() as session:
                family = await family_ids(session, principal, self._today())
                original = await session.get(MedicationRequest, prescription_id)
                if original is None or original.patient_id not in family:
                    raise RecordDenied(
                        "prescription_not_found",
                        "MedicationRequest",
                        prescription_id,
                        original.patient_id if original else None,
                    )
                latest = await session.scalar(
                    select(MedicationRequest)
                    .where(
                        MedicationRequest.patient_id == original.patient_id,
                        MedicationRequest.medication_name == original.medication_name,
                    )
                    .order_by(MedicationRequest.issued_at.desc())
                    .limit(1)
                )
                assert latest is not None
                pending = await session.scalar(
                    select(PrescriptionOrder.id)
                    .join(
                        MedicationRequest,
                        MedicationRequest.id == PrescriptionOrder.source_prescription_id,
                    )
                    .where(
                        PrescriptionOrder.patient_id == original.patient_id,
                        PrescriptionOrder.status == OrderStatus.PENDING,
                        MedicationRequest.medication_name == original.medication_name,
                    )
                )
                if pending is not None:
                    raise Conflict("prescription_order_pending")
                order = PrescriptionOrder(
                    id=uuid.uuid4(),
                    patient_id=original.patient_id,
                    source_prescription_id=latest.id,
                    requested_by_account_id=principal.account_id,
                    reviewer_practitioner_id=latest.practitioner_id,
                    note=(note or "").strip()[:500] or None,
                    status=OrderStatus.PENDING,
                    created_at=self.clock.now(),
                    source=source,
                )
                session.add(order)
                self.audit.record(
                    session,
                    principal,
                    object_type="PrescriptionOrder",
                    object_id=order.id,
                    action="create",
                    patient_id=order.patient_id,
                )
                order_id = order.id
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "create")
            raise
        return await self._get(PrescriptionOrder, order_id)

    async def ask_doctor(
        self, principal: Principal, appointment_id: uuid.UUID, text: str
    ) -> Question:
        """Ask the physician of an attended visit, within 14 days, one open question at a time."""
        principal.require_role(Role.PATIENT)
        principal.require_full_access()
        text = text.strip()
        if not text:
            raise InvalidInput.single("text", "field_required")
        try:
            async with self.db.write() as session:
                family = await family_ids(session, principal, self._today())
                appointment = await session.get(Appointment, appointment_id)
                if appointment is None or appointment.patient_id not in family:
                    raise RecordDenied(
                        "appointment_not_found",
                        "Appointment",
                        appointment_id,
                        appointment.patient_id if appointment else None,
                    )
                if appointment.status is not AppointmentStatus.COMPLETED:
                    raise Conflict("appointment_not_completed")
                deadline = appointment.start_at + timedelta(days=QUESTION_WINDOW_DAYS)
                if self.clock.now() > deadline:
                    raise Conflict("question_window_closed", days=QUESTION_WINDOW_DAYS)
                open_one = await session.scalar(
                    select(Question.id).where(
                        Question.appointment_id == appointment.id,
                        Question.status == QuestionStatus.OPEN,
                    )
                )
                if open_one is not None:
                    raise Conflict("question_already_open")
                question = Question(
                    id=uuid.uuid4(),
                    appointment_id=appointment.id,
                    patient_id=appointment.patient_id,
                    practitioner_id=appointment.practitioner_id,
                    asked_by_account_id=principal.account_id,
                    text=text,
                    status=QuestionStatus.OPEN,
                    created_at=self.clock.now(),
                )
                session.add(question)
                self.audit.record(
                    session,
                    principal,
                    object_type="Question",
                    object_id=question.id,
                    action="create",
                    patient_id=question.patient_id,
                )
                await session.flush()
                question_id = question.id
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "create")
            raise
        except IntegrityError:
            # The partial unique index caught a twin question racing this one.
            raise Conflict("question_already_open") from None
        return await self._get(Question, question_id)

    # -- physician side ---------------------------------------------------------------------

    async def create_result(self, principal: Principal, new: NewResult) -> DiagnosticReport:
        """Record a result for a visit of the physician's; released at once unless told not."""
        principal.require_role(Role.PHYSICIAN)
        if not new.test_name.strip():
            raise InvalidInput.single("test_name", "field_required")
        if new.attachment_document_id is not None:
            async with self.db.read() as session:
                attachment = await session.get(Document, new.attachment_document_id)
            if (
                attachment is None
                or attachment.appointment_id != new.appointment_id
                or attachment.kind != "result"
            ):
                raise InvalidInput.single("attachment_document_id", "document_not_found")
        now = self.clock.now()
        comment = (new.physician_comment or "").strip() or None
        return await self._physician_write(
            principal,
            new.appointment_id,
            "DiagnosticReport",
            lambda appointment: DiagnosticReport(
                id=uuid.uuid4(),
                patient_id=appointment.patient_id,
                appointment_id=appointment.id,
                test_name=new.test_name.strip(),
                values=[value.as_json() for value in new.values],
                performed_at=new.performed_at or now,
                physician_comment=comment,
                commented_by_practitioner_id=principal.practitioner_id if comment else None,
                attachment_document_id=new.attachment_document_id,
                created_by_account_id=principal.account_id,
                created_at=now,
                released_at=now if new.release else None,
            ),
        )

    async def create_instruction(
        self, principal: Principal, appointment_id: uuid.UUID, text: str
    ) -> Instruction:
        """Write the patient's instructions after an attended visit."""
        principal.require_role(Role.PHYSICIAN)
        text = text.strip()
        if not text:
            raise InvalidInput.single("text", "field_required")
        assert principal.practitioner_id is not None
        practitioner_id = principal.practitioner_id
        return await self._physician_write(
            principal,
            appointment_id,
            "Instruction",
            lambda appointment: Instruction(
                id=uuid.uuid4(),
                appointment_id=appointment.id,
                patient_id=appointment.patient_id,
                practitioner_id=practitioner_id,
                text=text,
                created_at=self.clock.now(),
            ),
        )

    async def create_referral(self, principal: Principal, new: NewReferral) -> Referral:
        """Write an e-referral at an attended visit."""
        principal.require_role(Role.PHYSICIAN)
        if not new.reason.strip():
            raise InvalidInput.single("reason", "field_required")
        if new.valid_until <= self._today():
            raise InvalidInput.single("valid_until", "valid_until_past")
        if not (new.service_type or new.service_code or new.specialty_code):
            raise InvalidInput.single("service_type", "referral_target_required")
        async with self.db.read() as session:
            service_id = specialty_id = None
            if new.service_code:
                service_id = await session.scalar(
                    select(Service.id).where(Service.code == new.service_code)
                )
                if service_id is None:
                    raise InvalidInput.single("service_code", "invalid_value")
            if new.specialty_code:
                specialty_id = await session.scalar(
                    select(Specialty.id).where(Specialty.code == new.specialty_code)
                )
                if specialty_id is None:
                    raise InvalidInput.single("specialty_code", "invalid_value")
        assert principal.practitioner_id is not None
        practitioner_id = principal.practitioner_id
        return await self._physician_write(
            principal,
            new.appointment_id,
            "ServiceRequest",
            lambda appointment: Referral(
                id=uuid.uuid4(),
                patient_id=appointment.patient_id,
                issued_by_practitioner_id=practitioner_id,
                appointment_id=appointment.id,
                service_type=new.service_type,
                service_id=service_id,
                specialty_id=specialty_id,
                reason=new.reason.strip(),
                issued_at=self.clock.now(),
                valid_until=new.valid_until,
                status=ReferralStatus.ISSUED,
                access_code=f"{uuid.uuid4().int % 10_000:04d}",
            ),
        )

    async def create_prescription(
        self, principal: Principal, new: NewPrescription
    ) -> MedicationRequest:
        """Issue an e-prescription at an attended visit (through the prescription issuer)."""
        principal.require_role(Role.PHYSICIAN)
        for name in ("medication_name", "dosage"):
            if not getattr(new, name).strip():
                raise InvalidInput.single(name, "field_required")
        assert principal.practitioner_id is not None
        practitioner_id = principal.practitioner_id
        async with self.db.read() as session:
            appointment = await session.get(Appointment, new.appointment_id)
            practitioner = await session.get(Practitioner, practitioner_id)
        assert practitioner is not None
        patient_pesel = appointment.patient.pesel if appointment else ""
        issued = await self.issuer.issue(
            PrescriptionDraft(
                patient_pesel=patient_pesel,
                practitioner_name=practitioner.display_name,
                medication_name=new.medication_name.strip(),
                dosage=new.dosage.strip(),
                issued_on=self._today(),
            )
        )
        return await self._physician_write(
            principal,
            new.appointment_id,
            "MedicationRequest",
            lambda visit: MedicationRequest(
                id=uuid.uuid4(),
                patient_id=visit.patient_id,
                practitioner_id=practitioner_id,
                appointment_id=visit.id,
                medication_code=new.medication_code,
                medication_name=new.medication_name.strip(),
                substance=(new.substance or "").strip() or None,
                form=(new.form or "").strip() or None,
                dosage=new.dosage.strip(),
                prescription_key=issued.prescription_key,
                access_code=issued.access_code,
                issued_at=self.clock.now(),
                valid_until=issued.valid_until,
                status=PrescriptionStatus.ACTIVE,
                issuer=issued.issuer,
            ),
        )

    async def pending_orders(self, principal: Principal) -> list[PrescriptionOrder]:
        """Prescription orders waiting for this physician's review, oldest first."""
        principal.require_role(Role.PHYSICIAN)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(PrescriptionOrder)
                .where(
                    PrescriptionOrder.reviewer_practitioner_id == principal.practitioner_id,
                    PrescriptionOrder.status == OrderStatus.PENDING,
                )
                .order_by(PrescriptionOrder.created_at)
            )
            return list(rows.unique())

    async def review_prescription_order(
        self,
        principal: Principal,
        order_id: uuid.UUID,
        *,
        issue: bool,
        reason: str | None = None,
        dosage: str | None = None,
    ) -> PrescriptionOrder:
        """Issue the renewal (a new e-prescription) or reject it with a reason."""
        principal.require_role(Role.PHYSICIAN)
        if not issue and not (reason or "").strip():
            raise InvalidInput.single("reason", "rejection_reason_required")
        try:
            async with self.db.write() as session:
                order = await self._addressed_to(
                    session, principal, PrescriptionOrder, order_id, "order_not_found"
                )
                if order.status is not OrderStatus.PENDING:
                    raise Conflict("order_already_reviewed")
                now = self.clock.now()
                order.reviewed_at = now
                if issue:
                    await self._issue(session, principal, order, dosage)
                else:
                    order.status = OrderStatus.REJECTED
                    order.rejection_reason = (reason or "").strip()[:500]
                self.audit.record(
                    session,
                    principal,
                    object_type="PrescriptionOrder",
                    object_id=order.id,
                    action="issue" if issue else "reject",
                    patient_id=order.patient_id,
                )
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "review")
            raise
        return await self._get(PrescriptionOrder, order_id)

    async def _issue(
        self,
        session: AsyncSession,
        principal: Principal,
        order: PrescriptionOrder,
        dosage: str | None,
    ) -> None:
        original = await session.get(MedicationRequest, order.source_prescription_id)
        patient = await session.get(Patient, order.patient_id)
        assert original is not None and patient is not None
        practitioner = original.practitioner
        issued = await self.issuer.issue(
            PrescriptionDraft(
                patient_pesel=patient.pesel,
                practitioner_name=practitioner.display_name,
                medication_name=original.medication_name,
                dosage=(dosage or original.dosage).strip(),
                issued_on=self._today(),
            )
        )
        prescription = MedicationRequest(
            id=uuid.uuid4(),
            patient_id=order.patient_id,
            practitioner_id=order.reviewer_practitioner_id,
            medication_code=original.medication_code,
            medication_name=original.medication_name,
            substance=original.substance,
            form=original.form,
            dosage=(dosage or original.dosage).strip(),
            prescription_key=issued.prescription_key,
            access_code=issued.access_code,
            issued_at=self.clock.now(),
            valid_until=issued.valid_until,
            status=PrescriptionStatus.ACTIVE,
            issuer=issued.issuer,
        )
        session.add(prescription)
        await session.flush()
        order.status = OrderStatus.ISSUED
        order.issued_prescription_id = prescription.id

    async def open_questions(self, principal: Principal) -> list[Question]:
        """Questions waiting for this physician's answer, oldest first."""
        principal.require_role(Role.PHYSICIAN)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Question)
                .where(
                    Question.practitioner_id == principal.practitioner_id,
                    Question.status == QuestionStatus.OPEN,
                )
                .order_by(Question.created_at)
            )
            return list(rows)

    async def answer_question(
        self, principal: Principal, question_id: uuid.UUID, answer: str
    ) -> Question:
        """The visit's physician answers a question."""
        principal.require_role(Role.PHYSICIAN)
        answer = answer.strip()
        if not answer:
            raise InvalidInput.single("answer", "field_required")
        try:
            async with self.db.write() as session:
                question = await self._addressed_to(
                    session, principal, Question, question_id, "question_not_found"
                )
                if question.status is not QuestionStatus.OPEN:
                    raise Conflict("question_already_answered")
                question.answer = answer
                question.answered_at = self.clock.now()
                question.status = QuestionStatus.ANSWERED
                self.audit.record(
                    session,
                    principal,
                    object_type="Question",
                    object_id=question.id,
                    action="answer",
                    patient_id=question.patient_id,
                )
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "answer")
            raise
        return await self._get(Question, question_id)

    # -- helpers ----------------------------------------------------------------------------

    async def _addressed_to(
        self,
        session: AsyncSession,
        principal: Principal,
        model: type[Addressed],
        object_id: uuid.UUID,
        missing_code: str,
    ) -> Addressed:
        """An order or question for this physician, locked for the change; else "not found"."""
        # "OF <table>": PostgreSQL refuses to lock the outer-joined eager loads.
        row = await session.get(model, object_id, with_for_update={"of": model})
        if row is None or _addressee(row) != principal.practitioner_id:
            raise RecordDenied(
                missing_code,
                OBJECT_TYPES[model],
                object_id,
                row.patient_id if row is not None else None,
            )
        return row

    async def _patients_read(
        self, principal: Principal, patient_id: uuid.UUID | None
    ) -> set[uuid.UUID]:
        """Whose records a patient principal reads: everyone in the family, or one of them.

        Naming an existing patient outside the family is "not found" and audited as a denial.
        """
        principal.require_role(Role.PATIENT)
        principal.require_full_access()
        try:
            async with self.db.read() as session:
                family = await family_ids(session, principal, self._today())
                if patient_id is None:
                    return family
                if patient_id not in family:
                    exists = await session.get(Patient, patient_id) is not None
                    raise RecordDenied(
                        "patient_not_found", "Patient", patient_id, patient_id if exists else None
                    )
                return {patient_id}
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "read")
            raise

    async def _physician_write(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        object_type: str,
        build: Callable[[Appointment], R],
    ) -> R:
        """Add ``build(appointment)`` for an attended visit of the physician's own."""
        try:
            async with self.db.write() as session:
                appointment = await session.get(Appointment, appointment_id)
                if appointment is None or appointment.practitioner_id != principal.practitioner_id:
                    raise RecordDenied(
                        "appointment_not_found",
                        "Appointment",
                        appointment_id,
                        appointment.patient_id if appointment else None,
                    )
                if appointment.status is not AppointmentStatus.COMPLETED:
                    raise Conflict("appointment_not_completed")
                record = build(appointment)
                session.add(record)
                self.audit.record(
                    session,
                    principal,
                    object_type=object_type,
                    object_id=record.id,
                    action="create",
                    patient_id=appointment.patient_id,
                )
                record_id = record.id
        except RecordDenied as denied:
            await self._record_denial(principal, denied, "create")
            raise
        return await self._get(type(record), record_id)

    async def _record_denial(self, principal: Principal, denied: RecordDenied, action: str) -> None:
        """Keep a refusal in the audit log; runs after the refused transaction rolled back."""
        if denied.patient_id is None:
            return
        async with self.db.write() as session:
            self.audit.record(
                session,
                principal,
                object_type=denied.object_type,
                object_id=denied.object_id,
                action=action,
                patient_id=denied.patient_id,
                outcome=DENIED,
            )

    async def _get(self, model: type[R], object_id: uuid.UUID) -> R:
        async with self.db.read() as session:
            found = await session.get(model, object_id)
        assert found is not None
        return found

    def _today(self) -> date:
        return self.clock.now().astimezone(ZoneInfo(self.config.timezone)).date()


def _addressee(row: PrescriptionOrder | Question) -> uuid.UUID:
    """The physician an order (its reviewer) or a question is addressed to."""
    if isinstance(row, PrescriptionOrder):
        return row.reviewer_practitioner_id
    return row.practitioner_id
