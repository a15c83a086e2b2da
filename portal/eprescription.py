"""Issuing e-prescriptions: the step that, in production, talks to Poland's national system.

The national e-prescription system (P1, run by CeZ) is outside this project. The domain issues
through the :class:`PrescriptionIssuer` interface; :class:`LocalPrescriptionIssuer` is the one
implementation shipped here. It makes the two things a Polish e-prescription gives the patient
(a 44-digit access key and a 4-digit access code) locally, without registering anything
nationally, and says so in the ``issuer`` recorded on each prescription ("local").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol


@dataclass(frozen=True)
class IssuedPrescription:
    """What issuing returns: the identifiers the patient shows at the pharmacy."""

    prescription_key: str
    """44-digit access key (klucz dostępu)."""
    access_code: str
    """4-digit access code (kod dostępu), used together with the patient's PESEL."""
    valid_until: date
    issuer: str


@dataclass(frozen=True)
class PrescriptionDraft:
    """What the physician prescribes."""

    patient_pesel: str
    practitioner_name: str
    medication_name: str
    dosage: str
    issued_on: date


class PrescriptionIssuer(Protocol):
    """Registers a prescription and returns its identifiers."""

    async def issue(self, draft: PrescriptionDraft) -> IssuedPrescription:
        """Issue ``draft``; raises on refusal by the issuing system."""
        ...


class LocalPrescriptionIssuer:
    """Issues prescriptions locally (no national registration): demos, tests, development."""

    name = "local"
    validity = timedelta(days=30)
    """A Polish e-prescription is valid 30 days from issue unless stated otherwise."""

    async def issue(self, draft: PrescriptionDraft) -> IssuedPrescription:
        """A random 44-digit key and 4-digit code, valid 30 days."""
        return IssuedPrescription(
            prescription_key="".join(str(secrets.randbelow(10)) for _ in range(44)),
            access_code=f"{secrets.randbelow(10_000):04d}",
            valid_until=draft.issued_on + self.validity,
            issuer=self.name,
        )
