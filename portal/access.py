"""Who is asking, and what they may reach.

A :class:`Principal` is built by the edge (session cookie or bearer token) from the account's
current row, so a change of access level or role takes effect at the next request. The checks
here are the only place that decides whose data a principal may see: a patient their own and
their children's, a physician their own appointments' patients, reception any patient's (their
work needs it; every such read is audit-logged by the caller).

A child is a guardian's dependent only while under 18 (``ADULT_AGE``, the age of majority in
Polish law, Civil Code art. 10): from their 18th birthday, in clinic-local time, the guardian's
access to the child's data ends without anyone having to remember to revoke it. The rows stay
(``guardian_id`` is history, and the record is the now-adult patient's own).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.clock import Clock
from portal.errors import AccessDenied, FullAccessRequired, NotFound
from portal.models import AccessLevel, Account, Patient, Role

ADULT_AGE = 18

AppointmentClosed = Callable[["Principal", uuid.UUID, str], Awaitable[None]]
"""Told after an appointment stopped being active (``cancelled``, ``completed``): its
consultation room, if any, must close (:meth:`portal.consultations.Consultations.close_room`)."""


class PatientDenied(NotFound):
    """A ``patient_id`` that names an existing patient outside the caller's family.

    Seen from outside it is ``patient_not_found``, like an id that does not exist (no probing);
    inside it carries the patient, so the caller can audit-log the refusal on their record.
    """

    def __init__(self, patient_id: uuid.UUID) -> None:
        super().__init__("patient_not_found")
        self.patient_id = patient_id


def adult_born_by(today: date) -> date:
    """The latest birth date of someone who is ``ADULT_AGE`` or older on ``today``."""
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # 29 February: born on the 28th of a common year, 18 since yesterday
        return today.replace(year=today.year - ADULT_AGE, day=28)


def local_today(clock: Clock, timezone: str) -> date:
    """Today's date in the clinic's time zone: birthdays turn at local midnight."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def is_dependent_of(guardian_id: uuid.UUID, today: date) -> ColumnElement[bool]:
    """The SQL condition of a patient being a minor child of ``guardian_id`` on ``today``."""
    return and_(Patient.guardian_id == guardian_id, Patient.birth_date > adult_born_by(today))


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a domain operation."""

    account_id: uuid.UUID
    role: Role
    access_level: AccessLevel
    patient_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    via: str = "session"
    """``session`` (cookie), ``token`` (bearer) or ``system`` (seed, tests)."""
    session_id: str | None = None

    @classmethod
    def of(cls, account: Account, via: str = "session", session_id: str | None = None) -> Principal:
        """The principal for ``account`` as it is now."""
        return cls(
            account_id=account.id,
            role=account.role,
            access_level=account.access_level,
            patient_id=account.patient_id,
            practitioner_id=account.practitioner_id,
            via=via,
            session_id=session_id,
        )

    @property
    def is_patient(self) -> bool:
        """Whether the caller is a patient."""
        return self.role is Role.PATIENT

    @property
    def has_full_access(self) -> bool:
        """Whether the caller is a patient with full access (staff always have it)."""
        return self.role is not Role.PATIENT or self.access_level is AccessLevel.FULL

    def require_role(self, *roles: Role) -> None:
        """Refuse unless the caller has one of ``roles``."""
        if self.role not in roles:
            raise AccessDenied("role_forbidden")

    def require_full_access(self) -> None:
        """Refuse a basic patient account, saying how to get full access."""
        if not self.has_full_access:
            raise FullAccessRequired()


async def family_ids(session: AsyncSession, principal: Principal, today: date) -> set[uuid.UUID]:
    """The patient ids a patient principal acts for on ``today``: themself and their minors."""
    if principal.patient_id is None:
        return set()
    rows = await session.scalars(
        select(Patient.id).where(is_dependent_of(principal.patient_id, today))
    )
    return {principal.patient_id, *rows}


async def resolve_patient(
    session: AsyncSession, principal: Principal, patient_id: uuid.UUID | None, today: date
) -> Patient:
    """The patient a patient principal acts for: themself by default, or one of their minors.

    Anything else is "not found", so ids of strangers cannot be probed; an existing patient
    outside the family is :class:`PatientDenied`, for the caller to audit-log.
    """
    principal.require_role(Role.PATIENT)
    if principal.patient_id is None:
        raise NotFound("patient_not_found")
    target = patient_id or principal.patient_id
    patient = await session.get(Patient, target)
    if patient is None:
        raise NotFound("patient_not_found")
    if patient.id != principal.patient_id and (
        patient.guardian_id != principal.patient_id or patient.birth_date <= adult_born_by(today)
    ):
        raise PatientDenied(patient.id)
    return patient


log = logging.getLogger(__name__)


async def tell_closed(
    listeners: list[AppointmentClosed],
    principal: Principal,
    appointment_id: uuid.UUID,
    reason: str,
) -> None:
    """Call each listener after the change committed; one that fails is logged, not raised.

    The change stands either way: a room that was not told is still refused at its next event,
    because every room event checks the appointment's status in the database.
    """
    for listener in list(listeners):
        try:
            await listener(principal, appointment_id, reason)
        except Exception:
            log.exception("listener of appointment %s (%s) failed", appointment_id, reason)
