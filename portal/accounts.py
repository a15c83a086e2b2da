"""Accounts: registration, the profile, access levels, dependents and passwords."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.auth import Auth, digest
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import FieldError, InvalidInput, NotFound
from portal.mail import Mailer
from portal.models import (
    AccessLevel,
    Account,
    Consent,
    ConsentKind,
    PasswordReset,
    Patient,
    Role,
    Sex,
)
from portal.passwords import Passwords
from portal.pesel import validate_pesel
from portal.validation import (
    check_password,
    normalise_email,
    normalise_login,
    normalise_name,
    normalise_phone,
    parse_form_date,
)

T = TypeVar("T")

ADULT_AGE = 18


@dataclass(frozen=True)
class Registration:
    """The registration form as the patient filled it in (strings, unvalidated)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    birth_date: str
    sex: str
    pesel: str
    login: str
    password: str


@dataclass(frozen=True)
class NewDependent:
    """A child to add to the guardian's account (strings, unvalidated)."""

    first_name: str
    last_name: str
    birth_date: str
    sex: str
    pesel: str


class _Collector:
    """Runs validators and gathers every field error, so the form shows them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(self, validate: Callable[[], T]) -> T | None:
        try:
            return validate()
        except InvalidInput as error:
            self.errors.extend(error.errors)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def _parse_sex(value: str, field: str = "sex") -> Sex:
    try:
        return Sex(value)
    except ValueError:
        raise InvalidInput.single(field, "sex_invalid") from None


def age_on(birth_date: date, day: date) -> int:
    """Completed years of life on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class Accounts:
    """Registration and everything a logged-in user does with their own account."""

    def __init__(
        self,
        db: Database,
        config: PortalConfig,
        clock: Clock,
        passwords: Passwords,
        auth: Auth,
        mailer: Mailer,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.passwords = passwords
        self.auth = auth
        self.mailer = mailer

    # -- registration -----------------------------------------------------------------------

    async def register(self, form: Registration) -> Account:
        """Create a basic patient account; every wrong field is reported at once."""
        today = self._today()
        checks = _Collector()
        first_name = checks.check(lambda: normalise_name(form.first_name, "first_name"))
        last_name = checks.check(lambda: normalise_name(form.last_name, "last_name"))
        email = checks.check(lambda: normalise_email(form.email))
        phone = checks.check(lambda: normalise_phone(form.phone))
        birth_date = checks.check(lambda: parse_form_date(form.birth_date))
        if birth_date is not None and birth_date > today:
            checks.errors.append(FieldError("birth_date", "date_in_future"))
            birth_date = None
        sex = checks.check(lambda: _parse_sex(form.sex))
        if birth_date is not None and sex is not None:
            pesel = checks.check(lambda: validate_pesel(form.pesel, birth_date, sex.value))
        else:
            pesel = None
        login = checks.check(lambda: normalise_login(form.login))
        checks.check(lambda: check_password(form.password, login=login))
        checks.raise_if_any()
        assert first_name and last_name and email and phone and birth_date and sex and pesel
        assert login is not None

        async with self.db.read() as session:
            if await self._login_taken(session, login):
                checks.errors.append(FieldError("login", "login_taken"))
            if await session.scalar(select(Patient.id).where(Patient.pesel == pesel)):
                checks.errors.append(FieldError("pesel", "pesel_taken"))
        checks.raise_if_any()

        password_hash = await self.passwords.hash(form.password)
        now = self.clock.now()
        try:
            async with self.db.write() as session:
                patient = Patient(
                    id=uuid.uuid4(),
                    first_name=first_name,
                    last_name=last_name,
                    birth_date=birth_date,
                    sex=sex,
                    pesel=pesel,
                    created_at=now,
                )
                account = Account(
                    id=uuid.uuid4(),
                    login=login,
                    login_key=login.lower(),
                    password_hash=password_hash,
                    role=Role.PATIENT,
                    email=email,
                    phone=phone,
                    access_level=AccessLevel.BASIC,
                    patient_id=patient.id,
                    created_at=now,
                    password_changed_at=now,
                )
                session.add(patient)
                await session.flush()
                session.add(account)
                await session.flush()
        except IntegrityError:
            # Lost a race with a twin registration: report what the checks above would have.
            raise InvalidInput([FieldError("login", "login_taken")]) from None
        return await self.get_account(account.id)

    async def _login_taken(self, session: AsyncSession, login: str) -> bool:
        found = await session.scalar(select(Account.id).where(Account.login_key == login.lower()))
        return found is not None

    # -- the profile ------------------------------------------------------------------------

    async def get_account(self, account_id: uuid.UUID) -> Account:
        """The account with its patient or practitioner record loaded."""
        async with self.db.read() as session:
            account = await session.get(Account, account_id)
        if account is None:
            raise NotFound()
        return account

    async def request_full_access(
        self, principal: Principal, accept_terms: bool, terms_version: str
    ) -> Account:
        """Grant full access to a patient who accepts the current Terms of Service online."""
        principal.require_role(Role.PATIENT)
        if not accept_terms:
            raise InvalidInput.single("accept_terms", "terms_not_accepted")
        if terms_version != self.config.terms_version:
            raise InvalidInput.single(
                "terms_version", "terms_version_outdated", current=self.config.terms_version
            )
        await self._grant_full_access(principal.account_id, source="online", recorded_by=None)
        return await self.get_account(principal.account_id)

    async def grant_full_access(self, principal: Principal, account_id: uuid.UUID) -> Account:
        """Reception grants full access at the desk (identity checked in person)."""
        principal.require_role(Role.RECEPTION)
        await self._grant_full_access(
            account_id, source="reception", recorded_by=principal.account_id
        )
        return await self.get_account(account_id)

    async def _grant_full_access(
        self, account_id: uuid.UUID, *, source: str, recorded_by: uuid.UUID | None
    ) -> None:
        now = self.clock.now()
        async with self.db.write() as session:
            account = await session.get(Account, account_id, with_for_update={"of": Account})
            if account is None or account.role is not Role.PATIENT:
                raise NotFound()
            session.add(
                Consent(
                    account_id=account.id,
                    kind=ConsentKind.TERMS_OF_SERVICE,
                    version=self.config.terms_version,
                    accepted_at=now,
                    source=source,
                    recorded_by_account_id=recorded_by,
                )
            )
            if account.access_level is not AccessLevel.FULL:
                account.access_level = AccessLevel.FULL
                account.full_access_at = now
                account.full_access_source = source

    # -- dependents -------------------------------------------------------------------------

    async def list_dependents(self, principal: Principal) -> list[Patient]:
        """The guardian's children, oldest first."""
        principal.require_role(Role.PATIENT)
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Patient)
                .where(Patient.guardian_id == principal.patient_id)
                .order_by(Patient.birth_date, Patient.first_name)
            )
            return list(rows)

    async def add_dependent(self, principal: Principal, child: NewDependent) -> Patient:
        """Add a child under 18 whom the guardian books, cancels and views for."""
        principal.require_role(Role.PATIENT)
        if principal.patient_id is None:
            raise NotFound("patient_not_found")
        checks = _Collector()
        first_name = checks.check(lambda: normalise_name(child.first_name, "first_name"))
        last_name = checks.check(lambda: normalise_name(child.last_name, "last_name"))
        birth_date = checks.check(lambda: parse_form_date(child.birth_date))
        if birth_date is not None and (
            birth_date > self._today() or age_on(birth_date, self._today()) >= ADULT_AGE
        ):
            checks.errors.append(FieldError("birth_date", "dependent_not_minor"))
            birth_date = None
        sex = checks.check(lambda: _parse_sex(child.sex))
        if birth_date is not None and sex is not None:
            pesel = checks.check(lambda: validate_pesel(child.pesel, birth_date, sex.value))
        else:
            pesel = None
        checks.raise_if_any()
        assert first_name and last_name and birth_date and sex and pesel
        try:
            async with self.db.write() as session:
                if await session.scalar(select(Patient.id).where(Patient.pesel == pesel)):
                    raise InvalidInput.single("pesel", "pesel_taken")
                patient = Patient(
                    first_name=first_name,
                    last_name=last_name,
                    birth_date=birth_date,
                    sex=sex,
                    pesel=pesel,
                    guardian_id=principal.patient_id,
                    created_at=self.clock.now(),
                )
                session.add(patient)
        except IntegrityError:
            raise InvalidInput.single("pesel", "pesel_taken") from None
        return patient

    # -- passwords --------------------------------------------------------------------------

    async def change_password(self, principal: Principal, old: str, new: str) -> None:
        """Change the password (the old one required); other sessions end."""
        account = await self.get_account(principal.account_id)
        if not await self.passwords.verify(account.password_hash, old):
            raise InvalidInput.single("old_password", "password_wrong")
        check_password(new, login=account.login, field="new_password")
        new_hash = await self.passwords.hash(new)
        async with self.db.write() as session:
            row = await session.get(Account, account.id, with_for_update={"of": Account})
            assert row is not None
            row.password_hash = new_hash
            row.password_changed_at = self.clock.now()
            # The session that asked keeps working: its user just proved who they are.
            await self.auth.end_all_sessions(session, account.id, keep=principal.session_id)

    async def request_password_reset(self, login_or_email: str, language: str) -> None:
        """Mail a single-use reset link if the login or e-mail is known; say nothing either way."""
        key = login_or_email.strip().lower()
        if not key:
            return
        async with self.db.read() as session:
            account = await session.scalar(
                select(Account)
                .where(or_(Account.login_key == key, func.lower(Account.email) == key))
                .limit(1)
            )
        if account is None or account.email is None:
            return
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as session:
            session.add(
                PasswordReset(
                    id=digest(token),
                    account_id=account.id,
                    created_at=now,
                    expires_at=now + self.config.password_reset_ttl,
                )
            )
        link = f"{self.config.public_url}/reset-password.html#token={token}"
        minutes = int(self.config.password_reset_ttl.total_seconds() // 60)
        if language == "en":
            subject = "Resetting your patient portal password"
            body = (
                f"Hello {account.login},\n\nto set a new password open this link within "
                f"{minutes} minutes:\n\n{link}\n\nThe link works once. If you did not ask for "
                "it, ignore this message: your password stays as it is.\n"
            )
        else:
            subject = "Zmiana hasła w Portalu Pacjenta"
            body = (
                f"Dzień dobry {account.login},\n\naby ustawić nowe hasło, otwórz ten link w "
                f"ciągu {minutes} minut:\n\n{link}\n\nLink działa jeden raz. Jeśli to nie Ty "
                "prosisz o zmianę, zignoruj tę wiadomość: hasło pozostanie bez zmian.\n"
            )
        await self.mailer.send(account.email, subject, body)

    async def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a reset link; the link is spent and every session ends."""
        now = self.clock.now()
        async with self.db.write() as session:
            reset = await session.get(PasswordReset, digest(token), with_for_update=True)
            if reset is None or reset.used_at is not None or reset.expires_at <= now:
                raise InvalidInput.single("token", "reset_token_invalid")
            account = await session.get(Account, reset.account_id, with_for_update={"of": Account})
            assert account is not None
            check_password(new_password, login=account.login, field="new_password")
            reset.used_at = now
            account.password_hash = await self.passwords.hash(new_password)
            account.password_changed_at = now
            await self.auth.end_all_sessions(session, account.id)

    def _today(self) -> date:
        return _local_date(self.clock.now(), self.config.timezone)

    async def find_patient_account(self, account_id: uuid.UUID) -> Account:
        """A patient's account by id (reception's look-up)."""
        account = await self.get_account(account_id)
        if account.role is not Role.PATIENT:
            raise NotFound()
        return account


def _local_date(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()
