"""The tables of the portal, named after their FHIR resources where one fits.

Patient, Practitioner, Location (clinic), HealthcareService (service), Schedule, Slot,
Appointment and ServiceRequest (referral) follow FHIR R5 naming
(https://hl7.org/fhir/R5/resourcelist.html); accounts, sessions and consents are the portal's own.
Every id is a random UUID. Timestamps are UTC (:class:`portal.db.UTCDateTime`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, new_id


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: portable, and readable in SQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(enum.StrEnum):
    """Who an account belongs to."""

    PATIENT = "patient"
    PHYSICIAN = "physician"
    RECEPTION = "reception"


class AccessLevel(enum.StrEnum):
    """The patient's portal access level (DEVELOPERS.md, "The mission in detail")."""

    BASIC = "basic"
    FULL = "full"


class Sex(enum.StrEnum):
    """Sex as recorded in the PESEL register."""

    FEMALE = "female"
    MALE = "male"


class ServiceType(enum.StrEnum):
    """The kinds of service a patient can book."""

    TELEPHONE_CONSULTATION = "telephone_consultation"
    IN_PERSON_VISIT = "in_person_visit"
    ONLINE_CONSULTATION = "online_consultation"
    EXAMINATION = "examination"
    OCCUPATIONAL_MEDICINE = "occupational_medicine"
    REHABILITATION = "rehabilitation"


class AppointmentStatus(enum.StrEnum):
    """Appointment.status, the subset of FHIR's value set the portal uses."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "noshow"


class BookingSource(enum.StrEnum):
    """Through which channel an appointment was booked or changed."""

    PORTAL = "portal"
    ASSISTANT = "assistant"
    RECEPTION = "reception"


class ReferralStatus(enum.StrEnum):
    """ServiceRequest.status as the portal stores it; "expired" is derived from valid_until."""

    ISSUED = "issued"
    USED = "used"
    CANCELLED = "cancelled"


class ConsentKind(enum.StrEnum):
    """Documents a patient accepts."""

    TERMS_OF_SERVICE = "terms_of_service"
    DOCUMENT_REGULATIONS = "document_regulations"


class Patient(Base):
    """A person who receives care: an account holder or a guardian's child."""

    __tablename__ = "patients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"))
    pesel: Mapped[str] = mapped_column(String(11), unique=True)
    guardian_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Practitioner(Base):
    """A physician, physiotherapist or diagnostician who has a schedule."""

    __tablename__ = "practitioners"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[Sex] = mapped_column(_enum(Sex, "sex"))
    languages: Mapped[list[str]] = mapped_column(JSON)
    specialties: Mapped[list[Specialty]] = relationship(
        secondary="practitioner_specialties", lazy="selectin", order_by="Specialty.code"
    )

    @property
    def display_name(self) -> str:
        """Title and full name, as a patient sees it."""
        return f"{self.title} {self.first_name} {self.last_name}"


class Account(Base):
    """Login credentials and role; patients' accounts point at their Patient record."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    login: Mapped[str] = mapped_column(String(64))
    login_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    access_level: Mapped[AccessLevel] = mapped_column(
        _enum(AccessLevel, "access_level"), default=AccessLevel.BASIC
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), unique=True
    )
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    full_access_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    full_access_source: Mapped[str | None] = mapped_column(String(32))

    patient: Mapped[Patient | None] = relationship(lazy="joined")
    practitioner: Mapped[Practitioner | None] = relationship(lazy="joined")


class Consent(Base):
    """A patient's acceptance of a versioned document, or reception's grant of full access."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(_enum(ConsentKind, "consent_kind"))
    version: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    recorded_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))


class AuthSession(Base):
    """A server-side login session; only the SHA-256 of its cookie value is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class ThrottleCounter(Base):
    """Failed-attempt counter for one key (an account login or a client address)."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A single-use password reset token (its SHA-256), valid for 30 minutes."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Clinic(Base):
    """A clinic of the network (FHIR Location)."""

    __tablename__ = "clinics"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(300))


class Specialty(Base):
    """A medical specialty, with Polish and English names."""

    __tablename__ = "specialties"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_pl: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    physician_pl: Mapped[str] = mapped_column(String(100))
    physician_en: Mapped[str] = mapped_column(String(100))


class PractitionerSpecialty(Base):
    """Which specialties a practitioner practises."""

    __tablename__ = "practitioner_specialties"

    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True
    )
    specialty_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("specialties.id", ondelete="CASCADE"), primary_key=True
    )


class Service(Base):
    """A bookable service (FHIR HealthcareService) with its access rules."""

    __tablename__ = "services"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_pl: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[ServiceType] = mapped_column(_enum(ServiceType, "service_type"), index=True)
    specialty_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("specialties.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    required_access: Mapped[AccessLevel] = mapped_column(_enum(AccessLevel, "access_level"))
    requires_referral: Mapped[bool] = mapped_column(Boolean, default=False)

    specialty: Mapped[Specialty | None] = relationship(lazy="joined")


class Schedule(Base):
    """A weekly block in which a practitioner offers one service, in a clinic or remotely."""

    __tablename__ = "schedules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class Slot(Base):
    """A bookable time of one practitioner for one service (FHIR Slot)."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("practitioner_id", "start_at", name="uq_slots_practitioner_start"),
        Index("ix_slots_service_start", "service_id", "start_at"),
        Index("ix_slots_start", "start_at"),
        Index("ix_slots_local_date", "local_date"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL")
    )
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    """The clinic-local calendar day, so date filters need no time-zone arithmetic in SQL."""
    local_minute: Mapped[int] = mapped_column(Integer)
    """Minutes since local midnight at the start, for the time-of-day filter."""

    practitioner: Mapped[Practitioner] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")
    clinic: Mapped[Clinic | None] = relationship(lazy="joined")


ACTIVE_SLOT_PREDICATE = "status <> 'cancelled'"


class Appointment(Base):
    """A booking of a slot for a patient (FHIR Appointment).

    The partial unique index on ``slot_id`` is what guarantees that no slot ever holds two
    active bookings, whatever races the service layer loses.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointments_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text(ACTIVE_SLOT_PREDICATE),
            postgresql_where=text(ACTIVE_SLOT_PREDICATE),
        ),
        UniqueConstraint(
            "booked_by_account_id", "idempotency_key", name="uq_appointments_idempotency"
        ),
        Index("ix_appointments_patient_start", "patient_id", "start_at"),
        Index("ix_appointments_practitioner_start", "practitioner_id", "start_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slots.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    booked_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinics.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(
        _enum(AppointmentStatus, "appointment_status")
    )
    source: Mapped[BookingSource] = mapped_column(_enum(BookingSource, "booking_source"))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rescheduled_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id"))

    patient: Mapped[Patient] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")
    practitioner: Mapped[Practitioner] = relationship(lazy="joined")
    clinic: Mapped[Clinic | None] = relationship(lazy="joined")
    history: Mapped[list[AppointmentEvent]] = relationship(
        lazy="selectin", order_by="AppointmentEvent.at"
    )


class AppointmentEvent(Base):
    """One status change of an appointment: the history a patient sees."""

    __tablename__ = "appointment_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AppointmentStatus] = mapped_column(
        _enum(AppointmentStatus, "appointment_status")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    source: Mapped[BookingSource] = mapped_column(_enum(BookingSource, "booking_source"))
    note: Mapped[str | None] = mapped_column(String(500))


class Referral(Base):
    """An e-referral issued by one of the network's physicians (FHIR ServiceRequest).

    The appointment that uses it points at it (``Appointment.referral_id``).
    """

    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    issued_by_practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    service_type: Mapped[ServiceType | None] = mapped_column(_enum(ServiceType, "service_type"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("services.id"))
    specialty_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("specialties.id"))
    reason: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "referral_status"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", use_alter=True, name="fk_referrals_appointment_id")
    )
    """The visit at which it was written, if any."""
    access_code: Mapped[str | None] = mapped_column(String(4))
    """The 4-digit code a Polish e-referral carries (shown to the patient)."""

    issued_by: Mapped[Practitioner] = relationship(lazy="joined")
    service: Mapped[Service | None] = relationship(lazy="joined")
    specialty: Mapped[Specialty | None] = relationship(lazy="joined")


class AuditEvent(Base):
    """An append-only record of a read or change of medical data, allowed or denied."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_at", "patient_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DiagnosticReport(Base):
    """An examination result with its values and the physician's comment (FHIR DiagnosticReport).

    The patient sees it once ``released_at`` is set.
    """

    __tablename__ = "results"
    __table_args__ = (Index("ix_results_patient_created", "patient_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id"))
    test_name: Mapped[str] = mapped_column(String(200))
    values: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Each value: name, value, unit, reference_low, reference_high, reference_text, flag."""
    performed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    physician_comment: Mapped[str | None] = mapped_column(Text)
    commented_by_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id")
    )
    attachment_document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    created_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    commented_by: Mapped[Practitioner | None] = relationship(lazy="joined")


class Instruction(Base):
    """The physician's instructions after a visit (a FHIR CarePlan's narrative)."""

    __tablename__ = "instructions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    practitioner: Mapped[Practitioner] = relationship(lazy="joined")


class PrescriptionStatus(enum.StrEnum):
    """MedicationRequest.status, as the portal uses it."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MedicationRequest(Base):
    """An issued e-prescription (FHIR MedicationRequest) with its key and access code."""

    __tablename__ = "prescriptions"
    __table_args__ = (Index("ix_prescriptions_patient_issued", "patient_id", "issued_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appointments.id"))
    medication_code: Mapped[str | None] = mapped_column(String(64))
    medication_name: Mapped[str] = mapped_column(String(200))
    substance: Mapped[str | None] = mapped_column(String(200))
    form: Mapped[str | None] = mapped_column(String(200))
    dosage: Mapped[str] = mapped_column(String(500))
    prescription_key: Mapped[str] = mapped_column(String(64), unique=True)
    access_code: Mapped[str] = mapped_column(String(4))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[PrescriptionStatus] = mapped_column(
        _enum(PrescriptionStatus, "prescription_status")
    )
    issuer: Mapped[str] = mapped_column(String(32))
    """Which issuing system produced the key: ``local`` for the built-in one."""

    practitioner: Mapped[Practitioner] = relationship(lazy="joined")


class OrderStatus(enum.StrEnum):
    """State of a patient's request to renew a prescription."""

    PENDING = "pending"
    ISSUED = "issued"
    REJECTED = "rejected"


class PrescriptionOrder(Base):
    """A patient's request to renew a medication from their prescription history."""

    __tablename__ = "prescription_orders"
    __table_args__ = (
        Index("ix_prescription_orders_reviewer_status", "reviewer_practitioner_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    source_prescription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prescriptions.id"))
    requested_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    reviewer_practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    issued_prescription_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prescriptions.id"))
    source: Mapped[BookingSource] = mapped_column(_enum(BookingSource, "booking_source"))

    reviewer: Mapped[Practitioner] = relationship(lazy="joined")
    source_prescription: Mapped[MedicationRequest] = relationship(
        lazy="joined", foreign_keys=[source_prescription_id]
    )
    issued_prescription: Mapped[MedicationRequest | None] = relationship(
        lazy="joined", foreign_keys=[issued_prescription_id]
    )


class QuestionStatus(enum.StrEnum):
    """Whether the physician has answered."""

    OPEN = "open"
    ANSWERED = "answered"


class Question(Base):
    """Ask your doctor: a question about an attended visit, and the physician's answer."""

    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_practitioner_status", "practitioner_id", "status"),
        # One open question at a time per visit, whatever races the service check loses.
        Index(
            "uq_questions_open_per_appointment",
            "appointment_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id"))
    asked_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[QuestionStatus] = mapped_column(_enum(QuestionStatus, "question_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practitioner: Mapped[Practitioner] = relationship(lazy="joined")


class Document(Base):
    """A file a patient (or a physician in a consultation) attached (FHIR DocumentReference).

    ``stored_name`` is random and lives outside any served folder; ``file_name`` is only for
    display and the download's Content-Disposition.
    """

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_patient_created", "patient_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id"), index=True
    )
    uploaded_by_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    description: Mapped[str] = mapped_column(String(500))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="patient_upload")
    """``patient_upload`` (counts toward the 5-file limit), ``consultation`` or ``result``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationState(enum.StrEnum):
    """Who answers a widget conversation: the assistant, nobody yet, or a staff member."""

    BOT = "bot"
    WAITING = "waiting"
    HUMAN = "human"


class Sender(enum.StrEnum):
    """Who wrote a chat message."""

    PATIENT = "patient"
    BOT = "bot"
    STAFF = "staff"
    SYSTEM = "system"


class Conversation(Base):
    """A chat in the web widget: the assistant's, then perhaps reception's.

    An anonymous visitor's conversation has no account; a logged-in patient's belongs to their
    account. ``last_seq`` is the highest message sequence number handed out so far.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_state_updated", "state", "updated_at"),
        Index("ix_conversations_account_updated", "account_id", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"))
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[ConversationState] = mapped_column(_enum(ConversationState, "conversation_state"))
    taken_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class ChatMessage(Base):
    """One message of a conversation, numbered by ``seq`` within it.

    The unique ``(conversation_id, client_msg_id)`` pair is what makes a message retried after
    a reconnect land once, whatever races the service check loses.
    """

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_chat_messages_client_msg"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[Sender] = mapped_column(_enum(Sender, "chat_sender"))
    sender_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the widget renders besides the text: ``buttons`` and ``links``."""
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    turn: Mapped[str | None] = mapped_column(String(16))
    """For a patient message the assistant is to answer, how far its turn got (``pending``:
    stored, Rasa not asked yet; ``asked``; ``answered``; ``told``: the process that asked died,
    and the patient was told); ``None`` for every other message."""
    turn_node: Mapped[str | None] = mapped_column(String(32))
    """The hub process (its random id) that owns the pending or asked turn."""


class ConsultationState(enum.StrEnum):
    """Where a consultation room is: opened by a first join, admitted, ended by the physician."""

    OPEN = "open"
    ADMITTED = "admitted"
    ENDED = "ended"


class Consultation(Base):
    """The room of one remote consultation (FHIR Encounter, class ``VR``: virtual).

    One row per appointment, created at the first join. ``transport`` is ``direct`` (the two
    browsers peer to peer) or ``relay`` (both through the hub's aiortc peers); ``summary`` is
    written when the physician ends the consultation.
    """

    __tablename__ = "consultations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"), unique=True)
    state: Mapped[ConsultationState] = mapped_column(_enum(ConsultationState, "consultation_state"))
    transport: Mapped[str] = mapped_column(String(16), default="direct")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set while the patient waits to be admitted."""
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ConsultationEvent(Base):
    """Something that happened in a room: joined, left, admitted, media, transport, ended."""

    __tablename__ = "consultation_events"
    __table_args__ = (Index("ix_consultation_events_room_at", "consultation_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ConsultationMessage(Base):
    """One chat message of a room, numbered by ``seq`` within it.

    The unique ``(consultation_id, sender_account_id, client_msg_id)`` makes a message retried
    after a reconnect land once.
    """

    __tablename__ = "consultation_messages"
    __table_args__ = (
        UniqueConstraint("consultation_id", "seq", name="uq_consultation_messages_seq"),
        UniqueConstraint(
            "consultation_id",
            "sender_account_id",
            "client_msg_id",
            name="uq_consultation_messages_client_msg",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    """``patient`` or ``physician``: the side of the room, whoever's account wrote it."""
    sender_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    client_msg_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
