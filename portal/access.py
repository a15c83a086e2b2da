"""Who is asking, and what they may reach.

A :class:`Principal` is built by the edge (session cookie or bearer token) from the account's
current row, so a change of access level or role takes effect at the next request. The checks
here are the only place that decides whose data a principal may see: a patient their own and
their children's, a physician their own appointments' patients, reception any patient's (their
work needs it; every such read is audit-logged by the caller).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import AccessDenied, FullAccessRequired, NotFound
from portal.models import AccessLevel, Account, Patient, Role


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


async def family_ids(session: AsyncSession, principal: Principal) -> set[uuid.UUID]:
    """The patient ids a patient principal acts for: themself and their dependents."""
    if principal.patient_id is None:
        return set()
    rows = await session.scalars(
        select(Patient.id).where(Patient.guardian_id == principal.patient_id)
    )
    return {principal.patient_id, *rows}


async def resolve_patient(
    session: AsyncSession, principal: Principal, patient_id: uuid.UUID | None
) -> Patient:
    """The patient a patient principal acts for: themself by default, or one of their children.

    Anything else is "not found", so ids of strangers cannot be probed.
    """
    principal.require_role(Role.PATIENT)
    if principal.patient_id is None:
        raise NotFound("patient_not_found")
    target = patient_id or principal.patient_id
    patient = await session.get(Patient, target)
    if patient is None or (
        patient.id != principal.patient_id and patient.guardian_id != principal.patient_id
    ):
        raise NotFound("patient_not_found")
    return patient
