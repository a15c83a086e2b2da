"""Request and response models of the REST API: they validate and they document.

Times in responses are ISO 8601 in the clinics' local time with its UTC offset.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from portal.booking import Period
from portal.catalogue import SlotQuery, TimeOfDay
from portal.i18n import Language
from portal.models import (
    Account,
    Appointment,
    Clinic,
    Patient,
    Practitioner,
    Service,
    ServiceType,
    Slot,
    Specialty,
)

ZONE = ZoneInfo("Europe/Warsaw")
FORM_DATE = "%d-%m-%Y"
Text = Annotated[str, Field(max_length=200)]


# Formats of the registration forms, for the document only (the domain enforces them).
NAME_FORMAT: dict[str, JsonValue] = {"minLength": 1, "maxLength": 100}
FORM_DATE_FORMAT: dict[str, JsonValue] = {"pattern": "^[0-9]{2}-[0-9]{2}-[0-9]{4}$"}
PESEL_FORMAT: dict[str, JsonValue] = {"pattern": "^[0-9]{11}$"}
LOGIN_FORMAT: dict[str, JsonValue] = {"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"}
PASSWORD_FORMAT: dict[str, JsonValue] = {"minLength": 12, "maxLength": 128}


NO_NUL = "^[^\\u0000]*$"
"""The pattern of free text in requests: anything but U+0000 (see :meth:`Input._no_nul`)."""


def _document_no_nul(schema: dict[str, Any]) -> None:
    """Give every free-text property of a request model the NO_NUL pattern."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if variant.get("type") == "string" and not {"pattern", "format", "enum"} & set(variant):
                variant["pattern"] = NO_NUL


class Input(BaseModel):
    """Base of request models: unknown fields are an error, not silently dropped, and no text
    carries U+0000."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_no_nul)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold U+0000: it failed as a 500 deep in the domain (a password
        # reset's throttle key, found by Schemathesis). Refused here as the field's
        # invalid_value, on SQLite too, so both backends answer alike.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("U+0000 in text")
        return value


# -- accounts ---------------------------------------------------------------------------------


class RegisterAccountBody(Input):
    """The registration form.

    The formats below are documented, not enforced by the model: the domain checks them
    (portal.validation, portal.pesel) and names the field and the rule in the 422.
    """

    first_name: Annotated[str, Field(max_length=200, json_schema_extra=NAME_FORMAT)]
    last_name: Annotated[str, Field(max_length=200, json_schema_extra=NAME_FORMAT)]
    email: Annotated[str, Field(max_length=200, json_schema_extra={"format": "email"})]
    phone: Annotated[str, Field(max_length=40, examples=["+48 600 100 200"])]
    birth_date: Annotated[
        str,
        Field(
            max_length=10,
            description="DD-MM-YYYY, as the form shows it.",
            examples=["14-03-1985"],
            json_schema_extra=FORM_DATE_FORMAT,
        ),
    ]
    sex: Annotated[str, Field(max_length=10, json_schema_extra={"enum": ["female", "male"]})]
    pesel: Annotated[
        str, Field(max_length=20, examples=["85031441713"], json_schema_extra=PESEL_FORMAT)
    ]
    login: Annotated[str, Field(max_length=64, json_schema_extra=LOGIN_FORMAT)]
    password: Annotated[
        str,
        Field(
            max_length=1024,
            description="12-128 characters, not a common one.",
            json_schema_extra=PASSWORD_FORMAT,
        ),
    ]


class LoginBody(Input):
    """Credentials."""

    login: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1024)]


class PasswordResetRequestBody(Input):
    """Who forgot their password: the login or the account's e-mail."""

    login: Annotated[str, Field(max_length=320, description="Login or e-mail address.")]


class PasswordResetBody(Input):
    """A new password with the token from the e-mailed link."""

    token: Annotated[str, Field(max_length=256)]
    new_password: Annotated[str, Field(max_length=1024)]


class ChangePasswordBody(Input):
    """The current and the new password."""

    old_password: Annotated[str, Field(max_length=1024)]
    new_password: Annotated[str, Field(max_length=1024)]


class FullAccessBody(Input):
    """Acceptance of the Terms of Service."""

    accept_terms: bool = Field(description="Must be true: the patient accepts the Terms.")
    terms_version: Annotated[str | None, Field(max_length=32)] = Field(
        default=None, description="The version the patient read; omitted means the current one."
    )


class AddDependentBody(Input):
    """A child under 18 (formats documented, checked by the domain as at registration)."""

    first_name: Annotated[str, Field(max_length=200, json_schema_extra=NAME_FORMAT)]
    last_name: Annotated[str, Field(max_length=200, json_schema_extra=NAME_FORMAT)]
    birth_date: Annotated[
        str, Field(max_length=10, description="DD-MM-YYYY.", json_schema_extra=FORM_DATE_FORMAT)
    ]
    sex: Annotated[str, Field(max_length=10, json_schema_extra={"enum": ["female", "male"]})]
    pesel: Annotated[str, Field(max_length=20, json_schema_extra=PESEL_FORMAT)]


class PatientOut(BaseModel):
    """A patient: the account holder or a dependent."""

    id: uuid.UUID
    first_name: str
    last_name: str
    birth_date: str = Field(description="DD-MM-YYYY.")
    sex: str
    pesel: str
    guardian_id: uuid.UUID | None = None

    @classmethod
    def of(cls, patient: Patient) -> PatientOut:
        return cls(
            id=patient.id,
            first_name=patient.first_name,
            last_name=patient.last_name,
            birth_date=patient.birth_date.strftime(FORM_DATE),
            sex=patient.sex.value,
            pesel=patient.pesel,
            guardian_id=patient.guardian_id,
        )


class AccountOut(BaseModel):
    """The logged-in user's account."""

    id: uuid.UUID
    login: str
    role: str
    access_level: str
    email: str | None
    phone: str | None
    full_access_at: datetime | None
    full_access_source: str | None
    patient: PatientOut | None
    practitioner_id: uuid.UUID | None
    display_name: str

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        if account.patient is not None:
            name = f"{account.patient.first_name} {account.patient.last_name}"
        elif account.practitioner is not None:
            name = account.practitioner.display_name
        else:
            name = account.login
        return cls(
            id=account.id,
            login=account.login,
            role=account.role.value,
            access_level=account.access_level.value,
            email=account.email,
            phone=account.phone,
            full_access_at=account.full_access_at,
            full_access_source=account.full_access_source,
            patient=PatientOut.of(account.patient) if account.patient else None,
            practitioner_id=account.practitioner_id,
            display_name=name,
        )


class LoginOut(BaseModel):
    """A new session: the cookie is set; the CSRF token goes in ``X-CSRF-Token``."""

    csrf_token: str
    account: AccountOut


class TokenOut(BaseModel):
    """A short-lived delegated bearer token."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    expires_in: int


class TermsOut(BaseModel):
    """The current Terms of Service and document regulations versions."""

    terms_version: str
    document_regulations_version: str
    terms_url: str


class PatientList(BaseModel):
    """Patients."""

    items: list[PatientOut]


# -- catalogue --------------------------------------------------------------------------------


class ClinicOut(BaseModel):
    """A clinic of the network."""

    id: uuid.UUID
    code: str
    name: str
    city: str
    address: str

    @classmethod
    def of(cls, clinic: Clinic) -> ClinicOut:
        return cls(
            id=clinic.id,
            code=clinic.code,
            name=clinic.name,
            city=clinic.city,
            address=clinic.address,
        )


class SpecialtyOut(BaseModel):
    """A medical specialty."""

    code: str
    name: str
    name_pl: str
    name_en: str
    physician: str = Field(description="What its practitioner is called, e.g. 'cardiologist'.")

    @classmethod
    def of(cls, specialty: Specialty, language: Language) -> SpecialtyOut:
        pl = language == "pl"
        return cls(
            code=specialty.code,
            name=specialty.name_pl if pl else specialty.name_en,
            name_pl=specialty.name_pl,
            name_en=specialty.name_en,
            physician=specialty.physician_pl if pl else specialty.physician_en,
        )


class ServiceOut(BaseModel):
    """A bookable service and its access rules."""

    id: uuid.UUID
    code: str
    name: str
    name_pl: str
    name_en: str
    type: ServiceType
    specialty: str | None = Field(description="Specialty code.")
    duration_minutes: int
    required_access: str
    requires_referral: bool

    @classmethod
    def of(cls, service: Service, language: Language) -> ServiceOut:
        return cls(
            id=service.id,
            code=service.code,
            name=service.name_pl if language == "pl" else service.name_en,
            name_pl=service.name_pl,
            name_en=service.name_en,
            type=service.type,
            specialty=service.specialty.code if service.specialty else None,
            duration_minutes=service.duration_minutes,
            required_access=service.required_access.value,
            requires_referral=service.requires_referral,
        )


class PhysicianOut(BaseModel):
    """A physician (or physiotherapist, diagnostician)."""

    id: uuid.UUID
    name: str
    title: str
    first_name: str
    last_name: str
    specialties: list[SpecialtyOut]
    languages: list[str]

    @classmethod
    def of(cls, practitioner: Practitioner, language: Language) -> PhysicianOut:
        return cls(
            id=practitioner.id,
            name=practitioner.display_name,
            title=practitioner.title,
            first_name=practitioner.first_name,
            last_name=practitioner.last_name,
            specialties=[SpecialtyOut.of(s, language) for s in practitioner.specialties],
            languages=list(practitioner.languages),
        )


class ClinicList(BaseModel):
    """Clinics."""

    items: list[ClinicOut]


class SpecialtyList(BaseModel):
    """Specialties."""

    items: list[SpecialtyOut]


class ServiceList(BaseModel):
    """Services."""

    items: list[ServiceOut]


class PhysicianList(BaseModel):
    """Physicians."""

    items: list[PhysicianOut]


class ServicesQuery(Input):
    """Filters of listServices."""

    type: ServiceType | None = None
    specialty: Annotated[str | None, Field(max_length=64)] = None


class PhysiciansQuery(Input):
    """Filters of listPhysicians."""

    specialty: Annotated[str | None, Field(max_length=64)] = None
    city: Annotated[str | None, Field(max_length=100)] = None
    language: Annotated[str | None, Field(max_length=8)] = None


class ClinicsQuery(Input):
    """Filters of listClinics."""

    city: Annotated[str | None, Field(max_length=100)] = None


CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class SlotSearchQuery(Input):
    """Filters of searchSlots; all optional, dates are clinic-local ISO dates."""

    service: Annotated[str | None, Field(max_length=64, description="Service code or id.")] = None
    service_type: ServiceType | None = None
    specialty: Annotated[str | None, Field(max_length=64, description="Specialty code.")] = None
    physician_id: uuid.UUID | None = None
    city: Annotated[str | None, Field(max_length=100)] = None
    date_from: date | None = None
    date_to: date | None = Field(default=None, description="Not before date_from.")
    time_of_day: TimeOfDay | None = None
    time_from: Annotated[
        str | None,
        Field(
            pattern=CLOCK_PATTERN,
            description="Slots starting at or after this clinic-local time (HH:MM).",
            examples=["15:00"],
        ),
    ] = None
    time_to: Annotated[
        str | None,
        Field(
            pattern=CLOCK_PATTERN,
            description="Slots starting before this clinic-local time (HH:MM); later than "
            "time_from.",
            examples=["10:00"],
        ),
    ] = None
    exclude_weekdays: Annotated[
        str | None,
        Field(
            pattern=r"^[1-7](,[1-7]){0,6}$",
            description="Days of the week to leave out, as comma-separated ISO weekday numbers "
            "(1 Monday ... 7 Sunday).",
            examples=["1", "6,7"],
        ),
    ] = None
    language: Annotated[
        str | None, Field(max_length=8, description="A language the physician speaks (ISO 639-1).")
    ] = None
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)

    def slot_query(self) -> SlotQuery:
        """The catalogue's query: clock times and weekday numbers parsed."""
        fields = self.model_dump(exclude={"time_from", "time_to", "exclude_weekdays"})
        weekdays = self.exclude_weekdays.split(",") if self.exclude_weekdays else []
        return SlotQuery(
            **fields,
            time_from=time.fromisoformat(self.time_from) if self.time_from else None,
            time_to=time.fromisoformat(self.time_to) if self.time_to else None,
            exclude_weekdays=frozenset(int(day) for day in weekdays),
        )


class Ref(BaseModel):
    """A reference to a related object with its display name."""

    id: uuid.UUID
    name: str


class ServiceRef(Ref):
    """The service of a slot or appointment."""

    code: str
    type: ServiceType


class SlotOut(BaseModel):
    """A free slot."""

    id: uuid.UUID
    start: datetime
    end: datetime
    service: ServiceRef
    physician: Ref
    clinic: ClinicOut | None = Field(description="None for telephone and online consultations.")

    @classmethod
    def of(cls, slot: Slot, language: Language) -> SlotOut:
        return cls(
            id=slot.id,
            start=slot.start_at.astimezone(ZONE),
            end=slot.end_at.astimezone(ZONE),
            service=_service_ref(slot.service, language),
            physician=Ref(id=slot.practitioner.id, name=slot.practitioner.display_name),
            clinic=ClinicOut.of(slot.clinic) if slot.clinic else None,
        )


class SlotPageOut(BaseModel):
    """One page of free slots, earliest first."""

    items: list[SlotOut]
    limit: int
    offset: int
    has_more: bool


# -- appointments -----------------------------------------------------------------------------


class BookAppointmentBody(Input):
    """What to book."""

    slot_id: uuid.UUID
    patient_id: uuid.UUID | None = Field(
        default=None,
        description="A dependent of the caller; reception must name the patient "
        "(field_required otherwise).",
    )
    idempotency_key: Annotated[str | None, Field(min_length=1, max_length=128)] = Field(
        default=None, description="Repeating a booking with the same key returns the same one."
    )
    allow_overlap: bool = Field(
        default=False,
        description="Book although the patient has a visit at an overlapping time (after a "
        "409 appointment_overlap the patient confirmed it).",
    )


class CancelAppointmentBody(Input):
    """Why (optional)."""

    reason: Annotated[str | None, Field(max_length=500)] = None


class RescheduleAppointmentBody(Input):
    """The new slot, of the same service."""

    slot_id: uuid.UUID
    allow_overlap: bool = Field(
        default=False,
        description="Move although the patient has another visit at an overlapping time.",
    )


class AppointmentsQuery(Input):
    """Filters of listAppointments."""

    patient_id: uuid.UUID | None = Field(
        default=None,
        description="One of the caller's children; reception must name the patient "
        "(field_required otherwise).",
    )
    period: Period = Period.ALL


class StatusChangeOut(BaseModel):
    """One entry of an appointment's status history."""

    status: str
    at: datetime
    source: str
    note: str | None


class AppointmentOut(BaseModel):
    """An appointment with its status history."""

    id: uuid.UUID
    status: str
    start: datetime
    end: datetime
    service: ServiceRef
    physician: Ref
    clinic: ClinicOut | None
    patient: Ref
    source: str
    booked_by_account_id: uuid.UUID
    referral_id: uuid.UUID | None
    rescheduled_from_id: uuid.UUID | None
    created_at: datetime
    history: list[StatusChangeOut]

    @classmethod
    def of(cls, appointment: Appointment, language: Language) -> AppointmentOut:
        patient = appointment.patient
        return cls(
            id=appointment.id,
            status=appointment.status.value,
            start=appointment.start_at.astimezone(ZONE),
            end=appointment.end_at.astimezone(ZONE),
            service=_service_ref(appointment.service, language),
            physician=Ref(
                id=appointment.practitioner.id, name=appointment.practitioner.display_name
            ),
            clinic=ClinicOut.of(appointment.clinic) if appointment.clinic else None,
            patient=Ref(id=patient.id, name=f"{patient.first_name} {patient.last_name}"),
            source=appointment.source.value,
            booked_by_account_id=appointment.booked_by_account_id,
            referral_id=appointment.referral_id,
            rescheduled_from_id=appointment.rescheduled_from_id,
            created_at=appointment.created_at.astimezone(ZONE),
            history=[
                StatusChangeOut(
                    status=event.status.value,
                    at=event.at.astimezone(ZONE),
                    source=event.source.value,
                    note=event.note,
                )
                for event in appointment.history
            ],
        )


class AppointmentList(BaseModel):
    """Appointments."""

    items: list[AppointmentOut]


def _service_ref(service: Service, language: Language) -> ServiceRef:
    return ServiceRef(
        id=service.id,
        name=service.name_pl if language == "pl" else service.name_en,
        code=service.code,
        type=service.type,
    )
