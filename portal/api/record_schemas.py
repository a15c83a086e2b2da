"""Request and response models of records, the physician's desk and reception."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from datetime import date as datetime_date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from portal.audit import PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX
from portal.desk import DeskRow, VisitDetail
from portal.i18n import Language
from portal.models import (
    Account,
    AuditEvent,
    ChatMessage,
    DiagnosticReport,
    Document,
    Instruction,
    MedicationRequest,
    Patient,
    PrescriptionOrder,
    Question,
    Referral,
    Sender,
    ServiceType,
)

from .schemas import ZONE, AppointmentOut, Input, PatientOut, Ref


class PatientQuery(Input):
    """Whose records: omitted means the caller and their children."""

    patient_id: uuid.UUID | None = None


# -- referrals --------------------------------------------------------------------------------


class CodeName(BaseModel):
    """A catalogue entry by code, with its name in the requested language."""

    code: str
    name: str


class ReferralOut(BaseModel):
    """An e-referral."""

    id: uuid.UUID
    patient_id: uuid.UUID
    appointment_id: uuid.UUID | None
    issued_by: Ref
    service_type: ServiceType | None
    service: CodeName | None
    specialty: CodeName | None
    reason: str
    issued_at: datetime
    valid_until: date
    status: Literal["issued", "used", "expired", "cancelled"] = Field(
        description="'expired' once valid_until has passed and it was not used."
    )
    access_code: str | None

    @classmethod
    def of(cls, referral: Referral, language: Language, today: date) -> ReferralOut:
        pl = language == "pl"
        status = referral.status.value
        if status == "issued" and referral.valid_until < today:
            status = "expired"
        return cls(
            id=referral.id,
            patient_id=referral.patient_id,
            appointment_id=referral.appointment_id,
            issued_by=Ref(id=referral.issued_by.id, name=referral.issued_by.display_name),
            service_type=referral.service_type,
            service=CodeName(
                code=referral.service.code,
                name=referral.service.name_pl if pl else referral.service.name_en,
            )
            if referral.service
            else None,
            specialty=CodeName(
                code=referral.specialty.code,
                name=referral.specialty.name_pl if pl else referral.specialty.name_en,
            )
            if referral.specialty
            else None,
            reason=referral.reason,
            issued_at=referral.issued_at.astimezone(ZONE),
            valid_until=referral.valid_until,
            status=status,
            access_code=referral.access_code,
        )


class ReferralList(BaseModel):
    """Referrals."""

    items: list[ReferralOut]


class CreateReferralBody(Input):
    """A referral written at an attended visit: name a service, a service type or a specialty."""

    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    valid_until: date
    service_type: ServiceType | None = None
    service_code: Annotated[str | None, Field(max_length=64)] = None
    specialty_code: Annotated[str | None, Field(max_length=64)] = None


# -- results ----------------------------------------------------------------------------------


class ResultValueIn(Input):
    """One measured value."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[str, Field(min_length=1, max_length=100)]
    unit: Annotated[str | None, Field(max_length=40)] = None
    reference_low: float | None = None
    reference_high: float | None = None
    reference_text: Annotated[str | None, Field(max_length=200)] = None


class ResultValueOut(BaseModel):
    """One measured value, flagged L or H when outside its reference range."""

    name: str
    value: str
    unit: str | None
    reference_low: float | None
    reference_high: float | None
    reference_text: str | None
    flag: Literal["L", "H"] | None


class CreateResultBody(Input):
    """An examination result for an attended visit."""

    test_name: Annotated[str, Field(min_length=1, max_length=200)]
    values: Annotated[list[ResultValueIn], Field(max_length=200)] = Field(default_factory=list)
    performed_at: datetime | None = None
    physician_comment: Annotated[str | None, Field(max_length=5000)] = None
    release: bool = Field(default=True, description="False keeps it hidden from the patient.")
    attachment_document_id: uuid.UUID | None = Field(
        default=None, description="A file from uploadResultAttachment for the same visit."
    )


class ResultOut(BaseModel):
    """An examination result with the physician's comment."""

    id: uuid.UUID
    patient_id: uuid.UUID
    appointment_id: uuid.UUID | None
    test_name: str
    performed_at: datetime
    values: list[ResultValueOut]
    physician_comment: str | None
    commented_by: Ref | None
    released_at: datetime | None
    attachment_document_id: uuid.UUID | None = Field(description="Download with downloadDocument.")

    @classmethod
    def of(cls, result: DiagnosticReport) -> ResultOut:
        commenter = result.commented_by
        return cls(
            id=result.id,
            patient_id=result.patient_id,
            appointment_id=result.appointment_id,
            test_name=result.test_name,
            performed_at=result.performed_at.astimezone(ZONE),
            values=[ResultValueOut(**value) for value in result.values],
            physician_comment=result.physician_comment,
            commented_by=Ref(id=commenter.id, name=commenter.display_name) if commenter else None,
            released_at=result.released_at.astimezone(ZONE) if result.released_at else None,
            attachment_document_id=result.attachment_document_id,
        )


class ResultList(BaseModel):
    """Results."""

    items: list[ResultOut]


# -- instructions -----------------------------------------------------------------------------


class CreateInstructionBody(Input):
    """The physician's instructions after a visit."""

    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class InstructionOut(BaseModel):
    """Instructions after a visit."""

    id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    physician: Ref
    text: str
    created_at: datetime

    @classmethod
    def of(cls, instruction: Instruction) -> InstructionOut:
        return cls(
            id=instruction.id,
            appointment_id=instruction.appointment_id,
            patient_id=instruction.patient_id,
            physician=Ref(
                id=instruction.practitioner.id, name=instruction.practitioner.display_name
            ),
            text=instruction.text,
            created_at=instruction.created_at.astimezone(ZONE),
        )


class InstructionList(BaseModel):
    """Instructions."""

    items: list[InstructionOut]


# -- prescriptions ----------------------------------------------------------------------------


class PrescriptionOut(BaseModel):
    """An issued e-prescription."""

    id: uuid.UUID
    patient_id: uuid.UUID
    medication_name: str
    substance: str | None
    form: str | None
    dosage: str
    prescription_key: str = Field(description="44-digit access key.")
    access_code: str = Field(description="4-digit access code, used with the PESEL.")
    issued_at: datetime
    valid_until: date
    status: Literal["active", "expired", "completed", "cancelled"]
    physician: Ref
    issuer: str = Field(description="'local': issued by the built-in local issuer.")

    @classmethod
    def of(cls, prescription: MedicationRequest, today: date) -> PrescriptionOut:
        status = prescription.status.value
        if status == "active" and prescription.valid_until < today:
            status = "expired"
        return cls(
            id=prescription.id,
            patient_id=prescription.patient_id,
            medication_name=prescription.medication_name,
            substance=prescription.substance,
            form=prescription.form,
            dosage=prescription.dosage,
            prescription_key=prescription.prescription_key,
            access_code=prescription.access_code,
            issued_at=prescription.issued_at.astimezone(ZONE),
            valid_until=prescription.valid_until,
            status=status,
            physician=Ref(
                id=prescription.practitioner.id, name=prescription.practitioner.display_name
            ),
            issuer=prescription.issuer,
        )


class PrescriptionOrderOut(BaseModel):
    """A request to renew a medication, and its outcome."""

    id: uuid.UUID
    patient_id: uuid.UUID
    medication_name: str
    dosage: str
    status: Literal["pending", "issued", "rejected"]
    note: str | None
    source: str
    reviewer: Ref
    created_at: datetime
    reviewed_at: datetime | None
    rejection_reason: str | None
    prescription: PrescriptionOut | None

    @classmethod
    def of(cls, order: PrescriptionOrder, today: date) -> PrescriptionOrderOut:
        return cls(
            id=order.id,
            patient_id=order.patient_id,
            medication_name=order.source_prescription.medication_name,
            dosage=order.source_prescription.dosage,
            status=order.status.value,
            note=order.note,
            source=order.source.value,
            reviewer=Ref(id=order.reviewer.id, name=order.reviewer.display_name),
            created_at=order.created_at.astimezone(ZONE),
            reviewed_at=order.reviewed_at.astimezone(ZONE) if order.reviewed_at else None,
            rejection_reason=order.rejection_reason,
            prescription=PrescriptionOut.of(order.issued_prescription, today)
            if order.issued_prescription
            else None,
        )


class CreatePrescriptionBody(Input):
    """A medication prescribed at an attended visit."""

    medication_name: Annotated[str, Field(min_length=1, max_length=200)]
    dosage: Annotated[str, Field(min_length=1, max_length=500)]
    substance: Annotated[str | None, Field(max_length=200)] = None
    form: Annotated[str | None, Field(max_length=200)] = None
    medication_code: Annotated[str | None, Field(max_length=64)] = None


class PrescriptionsOut(BaseModel):
    """Issued prescriptions (the history to renew from) and renewal orders."""

    prescriptions: list[PrescriptionOut]
    orders: list[PrescriptionOrderOut]


class PrescriptionOrderList(BaseModel):
    """Prescription orders."""

    items: list[PrescriptionOrderOut]


class OrderPrescriptionBody(Input):
    """Which prescription of the history to renew."""

    prescription_id: uuid.UUID
    note: Annotated[str | None, Field(max_length=500)] = None


class ReviewPrescriptionOrderBody(Input):
    """The physician's decision."""

    decision: Literal["issue", "reject"]
    reason: Annotated[str | None, Field(max_length=500)] = Field(
        default=None, description="Required when rejecting; shown to the patient."
    )
    dosage: Annotated[str | None, Field(max_length=500)] = Field(
        default=None, description="Changed dosage; omitted keeps the previous one."
    )


# -- questions --------------------------------------------------------------------------------


class AskDoctorBody(Input):
    """A question about an attended visit."""

    appointment_id: uuid.UUID
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class AnswerQuestionBody(Input):
    """The physician's answer."""

    answer: Annotated[str, Field(min_length=1, max_length=5000)]


class QuestionOut(BaseModel):
    """A question to the doctor and its answer."""

    id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    physician: Ref
    text: str
    status: Literal["open", "answered"]
    created_at: datetime
    answer: str | None
    answered_at: datetime | None

    @classmethod
    def of(cls, question: Question) -> QuestionOut:
        return cls(
            id=question.id,
            appointment_id=question.appointment_id,
            patient_id=question.patient_id,
            physician=Ref(id=question.practitioner.id, name=question.practitioner.display_name),
            text=question.text,
            status=question.status.value,
            created_at=question.created_at.astimezone(ZONE),
            answer=question.answer,
            answered_at=question.answered_at.astimezone(ZONE) if question.answered_at else None,
        )


class QuestionList(BaseModel):
    """Questions."""

    items: list[QuestionOut]


# -- the physician's desk ---------------------------------------------------------------------


class DeskQuery(Input):
    """A day (``date``) or a range (``date_from``..``date_to``, at most 31 days); default today."""

    date: datetime_date | None = None
    date_from: datetime_date | None = None
    date_to: datetime_date | None = Field(
        default=None, description="Not before date_from; at most 31 days, both ends counted."
    )


class DeskRowOut(BaseModel):
    """One appointment in the physician's schedule."""

    appointment: AppointmentOut
    documents_count: int
    open_questions_count: int

    @classmethod
    def of(cls, row: DeskRow, language: Language) -> DeskRowOut:
        return cls(
            appointment=AppointmentOut.of(row.appointment, language),
            documents_count=row.documents,
            open_questions_count=row.open_questions,
        )


class DeskRowList(BaseModel):
    """The physician's schedule."""

    items: list[DeskRowOut]


class DocumentSummary(BaseModel):
    """A document attached to the visit (download it with downloadDocument)."""

    id: uuid.UUID
    file_name: str
    content_type: str
    size: int
    description: str
    created_at: datetime

    @classmethod
    def of(cls, document: Document) -> DocumentSummary:
        return cls(
            id=document.id,
            file_name=document.file_name,
            content_type=document.content_type,
            size=document.size,
            description=document.description,
            created_at=document.created_at.astimezone(ZONE),
        )


class BookingChatLine(BaseModel):
    """One message of the conversation with the assistant in which the visit was booked."""

    sender: Literal["patient", "bot"]
    text: str
    at: datetime

    @classmethod
    def of(cls, message: ChatMessage) -> BookingChatLine:
        return cls(
            sender="patient" if message.sender is Sender.PATIENT else "bot",
            text=message.text,
            at=message.created_at,
        )


class VisitDetailOut(BaseModel):
    """One of the physician's appointments with what they need for it."""

    appointment: AppointmentOut
    patient: PatientOut
    documents: list[DocumentSummary]
    pending_prescription_orders: list[PrescriptionOrderOut]
    open_questions: list[QuestionOut]
    booking_chat: list[BookingChatLine] = Field(
        description="The end of the assistant conversation the visit was booked in, oldest "
        "first; empty when it was not booked through the assistant."
    )

    @classmethod
    def of(cls, detail: VisitDetail, language: Language, today: date) -> VisitDetailOut:
        return cls(
            appointment=AppointmentOut.of(detail.appointment, language),
            patient=PatientOut.of(detail.appointment.patient),
            documents=[DocumentSummary.of(d) for d in detail.documents],
            pending_prescription_orders=[
                PrescriptionOrderOut.of(o, today) for o in detail.pending_orders
            ],
            open_questions=[QuestionOut.of(q) for q in detail.open_questions],
            booking_chat=[BookingChatLine.of(m) for m in detail.booking_chat],
        )


# -- reception --------------------------------------------------------------------------------


class PatientSearchQuery(Input):
    """PESEL, login, e-mail, or the beginning of a last name (3+ characters)."""

    q: Annotated[str, Field(min_length=3, max_length=100)]


class PatientMatch(BaseModel):
    """A patient found by reception, with their account if they have one."""

    patient: PatientOut
    account_id: uuid.UUID | None
    login: str | None
    access_level: str | None

    @classmethod
    def of(cls, patient: Patient, account: Account | None) -> PatientMatch:
        return cls(
            patient=PatientOut.of(patient),
            account_id=account.id if account else None,
            login=account.login if account else None,
            access_level=account.access_level.value if account else None,
        )


class PatientMatchList(BaseModel):
    """Patients found."""

    items: list[PatientMatch]


class AuditEventOut(BaseModel):
    """Who did what to which of the patient's data, when, and whether it was allowed."""

    id: uuid.UUID
    at: datetime
    actor_account_id: uuid.UUID | None
    actor_role: str | None
    object_type: str
    object_id: str | None
    action: str
    outcome: str
    detail: dict[str, Any] | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id,
            at=event.at.astimezone(ZONE),
            actor_account_id=event.actor_account_id,
            actor_role=event.actor_role,
            object_type=event.object_type,
            object_id=event.object_id,
            action=event.action,
            outcome=event.outcome,
            detail=event.detail,
        )


class AuditEventQuery(Input):
    """A page of the trail: ``limit`` events older than the event ``before`` (default: newest)."""

    before: uuid.UUID | None = Field(
        None, description="The next_before of the previous page; omit for the newest events."
    )
    limit: Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT


class AuditEventList(BaseModel):
    """Audit events, newest first, one page at a time."""

    items: list[AuditEventOut]
    next_before: uuid.UUID | None = Field(
        description="Pass as ``before`` to read the next, older page; null on the last page."
    )
