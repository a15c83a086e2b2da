"""Accounts: registration, the profile, access levels, dependents and passwords.

Nothing here tells a caller about other people (issue 12; GDPR art. 9: that a person is a
patient here is itself medical data). Registration with a PESEL or login that already has an
account, and a child whose PESEL is someone's, are answered exactly as a fresh one would be;
the real outcome goes by mail (``docs/architecture.md``, "Registration tells nobody who is a
patient"). Every path of registration pays for one argon2 hash, and mail is sent after the
answer, so neither the time nor the mail server tells either.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import ADULT_AGE, Principal, is_dependent_of
from portal.audit import DENIED, AuditLog
from portal.auth import Auth, digest
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import FieldError, InvalidInput, NotFound, TooManyAttempts
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
from portal.session_watch import PASSWORD_CHANGED, PASSWORD_RESET, SessionsEnded
from portal.throttle import Bucket, Throttle
from portal.validation import (
    check_password,
    normalise_email,
    normalise_login,
    normalise_name,
    normalise_phone,
    parse_form_date,
)

T = TypeVar("T")

log = logging.getLogger(__name__)


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
        audit: AuditLog | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.passwords = passwords
        self.auth = auth
        self.throttle: Throttle = auth.throttle
        self.mailer = mailer
        self.audit = audit or AuditLog(clock)
        self._background: set[asyncio.Task[None]] = set()

    # -- work done after the answer ---------------------------------------------------------

    def _later(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run ``work`` after the answer: its time (a mail server's, say) must not show in it."""
        task = asyncio.get_running_loop().create_task(self._logged(work, what))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("%s failed", what)

    async def drain(self) -> None:
        """Wait for the work begun by earlier answers (mail); at shutdown and in tests."""
        while self._background:
            await asyncio.gather(*list(self._background))

    # -- registration -----------------------------------------------------------------------

    async def register(
        self, form: Registration, *, language: str = "pl", client_address: str | None = None
    ) -> Account:
        """Create a basic patient account; every wrong field is reported at once.

        The fields are judged on their own (format, PESEL checksum, password rules). A login or
        PESEL that already has an account is answered exactly as success would be, with ids
        that exist nowhere; the address given is told the truth by mail, and the owner of the
        login or PESEL is told someone tried. Sound forms are counted per client address.
        """
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

        # Counted once the form is sound: a wrong field tells nothing about anyone and costs no
        # hash; a sound form is what probes whether a login or PESEL has an account.
        await self.throttle.hit(
            Bucket(f"register-from:{client_address}", self.config.register_per_address)
            if client_address
            else None
        )
        # Hashed before anything is looked up: a taken login or PESEL costs the same time.
        password_hash = await self.passwords.hash(form.password)
        now = self.clock.now()
        patient = Patient(
            id=uuid.uuid4(),
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            sex=sex,
            pesel=pesel,
            guardian_id=None,
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
            full_access_at=None,
            full_access_source=None,
            practitioner_id=None,
            created_at=now,
            password_changed_at=now,
        )
        async with self.db.read() as session:
            owners = await self._owners_of(session, login, pesel)
        if not owners:
            try:
                async with self.db.write() as session:
                    session.add(patient)
                    await session.flush()
                    session.add(account)
                    await session.flush()
            except IntegrityError:
                # Lost a race with a twin registration: the twin is now the owner.
                async with self.db.read() as session:
                    owners = await self._owners_of(session, login, pesel)
                owners = owners or [""]
        if owners:
            self._later(
                self._mail_registration_refused(email, first_name, language, owners),
                "registration refusal mail",
            )
            # What success would have answered; these ids exist nowhere.
            account.patient = patient
            return account
        self._later(
            self._mail_welcome(email, first_name, login, language), "registration welcome mail"
        )
        return await self.get_account(account.id)

    async def _owners_of(self, session: AsyncSession, login: str, pesel: str) -> list[str]:
        """E-mail addresses to tell that someone tried to register their login or PESEL: the
        account holding the login, the patient with the PESEL, or that child's guardian. An
        owner without an address counts as ``""`` (there is one, but nobody to mail)."""
        found: list[str] = []
        by_login = await session.scalar(select(Account).where(Account.login_key == login.lower()))
        if by_login is not None:
            found.append(by_login.email or "")
        patient = await session.scalar(select(Patient).where(Patient.pesel == pesel))
        if patient is not None:
            holder = await session.scalar(
                select(Account).where(
                    Account.patient_id.in_([patient.id, patient.guardian_id or patient.id])
                )
            )
            found.append(holder.email or "" if holder else "")
        return found

    async def _mail_welcome(self, to: str, first_name: str, login: str, language: str) -> None:
        url = self.config.public_url
        if language == "en":
            subject = "Your patient portal registration"
            body = (
                f"Hello {first_name},\n\nyour account {login} is ready: log in at {url}/login.html."
                "\n\nIf you did not register, tell our reception.\n"
            )
        else:
            subject = "Rejestracja w Portalu Pacjenta"
            body = (
                f"Dzień dobry {first_name},\n\nTwoje konto {login} jest gotowe: zaloguj się na "
                f"{url}/login.html.\n\nJeśli to nie Ty się rejestrujesz, powiedz o tym recepcji.\n"
            )
        await self.mailer.send(to, subject, body)

    async def _mail_registration_refused(
        self, to: str, first_name: str, language: str, owners: list[str]
    ) -> None:
        url = self.config.public_url
        # The same subject as the welcome: a glance at the mailbox list tells nothing either.
        if language == "en":
            subject = "Your patient portal registration"
            body = (
                f"Hello {first_name},\n\nwe could not create the account: the login you chose is "
                "taken, or the PESEL already has an account here. If you have one, log in or set "
                f"a new password at {url}/reset-password.html. Otherwise choose another login, or "
                "come to our reception with an identity document.\n"
            )
        else:
            subject = "Rejestracja w Portalu Pacjenta"
            body = (
                f"Dzień dobry {first_name},\n\nnie mogliśmy założyć konta: wybrany login jest "
                "zajęty albo ten PESEL ma już u nas konto. Jeśli masz konto, zaloguj się lub ustaw "
                f"nowe hasło na {url}/reset-password.html. W przeciwnym razie wybierz inny login "
                "albo przyjdź do recepcji z dokumentem tożsamości.\n"
            )
        await self.mailer.send(to, subject, body)
        for owner in dict.fromkeys(o for o in owners if o and o.lower() != to.lower()):
            await self.mailer.send(
                owner,
                "Próba rejestracji Twoimi danymi / A registration with your details",
                "Ktoś próbował założyć w Portalu Pacjenta nowe konto z Twoim loginem lub numerem "
                "PESEL. Konta nie założono, a w Twoim nic się nie zmieniło. Jeśli to nie Ty, "
                "powiedz o tym recepcji.\n\nSomeone tried to register a new patient portal "
                "account with your login or PESEL. No account was made and yours is unchanged. "
                "If it was not you, tell our reception.\n",
            )

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
        """The guardian's children under 18, oldest first (an adult child is their own)."""
        principal.require_role(Role.PATIENT)
        if principal.patient_id is None:
            return []
        async with self.db.read() as session:
            rows = await session.scalars(
                select(Patient)
                .where(is_dependent_of(principal.patient_id, self._today()))
                .order_by(Patient.birth_date, Patient.first_name)
            )
            return list(rows)

    async def add_dependent(
        self, principal: Principal, child: NewDependent, *, language: str = "pl"
    ) -> Patient:
        """Add a child under 18 whom the guardian books, cancels and views for.

        A PESEL that is already a patient's (another family's child, an adult) is answered
        exactly as success would be, with an id that exists nowhere: that the child is a patient
        here is not the caller's to learn. The refusal is audited and the guardian is mailed to
        come to reception with the child's birth certificate. Sound forms are counted per
        guardian account.
        """
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
        # Counted once the form is sound: only a sound PESEL can probe who is a patient.
        await self.throttle.hit(
            Bucket(f"dependent:{principal.account_id}", self.config.dependents_per_account)
        )
        patient = Patient(
            id=uuid.uuid4(),
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            sex=sex,
            pesel=pesel,
            guardian_id=principal.patient_id,
            created_at=self.clock.now(),
        )
        try:
            async with self.db.write() as session:
                existing = await session.scalar(select(Patient).where(Patient.pesel == pesel))
                if existing is None:
                    session.add(patient)
        except IntegrityError:
            async with self.db.read() as session:
                existing = await session.scalar(select(Patient).where(Patient.pesel == pesel))
        if existing is not None and existing.guardian_id == principal.patient_id:
            # The guardian's own child, added before: that tells them nothing they do not know.
            raise InvalidInput.single("pesel", "pesel_taken")
        if existing is not None:
            async with self.db.write() as session:
                self.audit.record(
                    session,
                    principal,
                    object_type="Patient",
                    object_id=existing.id,
                    action="add_dependent",
                    patient_id=existing.id,
                    outcome=DENIED,
                    detail={"reason": "pesel_has_a_record"},
                )
            account = await self.get_account(principal.account_id)
            if account.email:
                self._later(
                    self._mail_dependent_refused(account.email, first_name, language),
                    "dependent refusal mail",
                )
        return patient

    async def _mail_dependent_refused(self, to: str, first_name: str, language: str) -> None:
        if language == "en":
            subject = f"Adding {first_name} to your account"
            body = (
                f"We could not add {first_name} to your account online. Please come to our "
                "reception with the child's birth certificate and your identity document, and we "
                "will link the child's records to your account.\n"
            )
        else:
            subject = f"Dodanie dziecka {first_name} do konta"
            body = (
                f"Nie mogliśmy dodać dziecka {first_name} do Twojego konta przez internet. Przyjdź "
                "do recepcji z aktem urodzenia dziecka i dokumentem tożsamości, a połączymy jego "
                "dane z Twoim kontem.\n"
            )
        await self.mailer.send(to, subject, body)

    # -- passwords --------------------------------------------------------------------------

    async def change_password(self, principal: Principal, old: str, new: str) -> None:
        """Change the password (the old one required): every other session of the account ends
        with its tokens and sockets, and every reset link not yet used stops working.

        The session that asked stays: its user just proved who they are, and ending it would
        log them out of the page they changed the password on (OWASP ASVS 4.0.3 3.3.3 asks
        that the *other* sessions can be ended after a password change; here they always are).

        Wrong old passwords are counted per account (``password_change``). The one that reaches
        the limit ends the session that sent it, and changing waits out the block: whoever holds
        a stolen session cannot guess on, and must pass the login's own throttle to return. The
        account's login is never locked by it (ASVS 2.2.1: no lockout an attacker can cause).
        """
        bucket = Bucket(f"password-change:{principal.account_id}", self.config.password_change)
        left = await self.throttle.hit(bucket)
        account = await self.get_account(principal.account_id)
        if not await self.passwords.verify(account.password_hash, old):
            if left == 0:
                async with self.db.write() as session:
                    self.audit.record(
                        session,
                        principal,
                        object_type="Account",
                        object_id=principal.account_id,
                        action="password_change",
                        outcome=DENIED,
                        detail={"reason": "too_many_wrong_old_passwords"},
                    )
                if principal.session_id is not None:
                    await self.auth.logout(principal.session_id)
                raise TooManyAttempts(retry_after=Throttle.blocked_for(bucket))
            raise InvalidInput.single("old_password", "password_wrong")
        await self.throttle.clear(bucket)
        check_password(new, login=account.login, field="new_password")
        new_hash = await self.passwords.hash(new)
        async with self.db.write() as session:
            row = await session.get(Account, account.id, with_for_update={"of": Account})
            assert row is not None
            ended = await self._replace_password(
                session, row, new_hash, principal, PASSWORD_CHANGED, keep=principal.session_id
            )
        await self.auth.announce(SessionsEnded(account.id, ended, PASSWORD_CHANGED))

    async def request_password_reset(
        self, login_or_email: str, language: str, *, client_address: str | None = None
    ) -> None:
        """Mail a single-use reset link if the login or e-mail is known; say nothing either way.

        Requests are counted per login or e-mail named (known or not) and per client address;
        the look-up and the mail happen after the answer, so its time tells nothing either. An
        account gets at most ``reset_mails`` links a window; more requests mail nothing.
        """
        key = login_or_email.strip().lower()[:320]
        await self.throttle.hit(
            Bucket(f"reset:{key}", self.config.reset_per_account) if key else None,
            Bucket(f"reset-from:{client_address}", self.config.reset_per_address)
            if client_address
            else None,
        )
        if key:
            self._later(self._mail_reset_link(key, language), "password reset mail")

    async def _mail_reset_link(self, key: str, language: str) -> None:
        async with self.db.read() as session:
            account = await session.scalar(
                select(Account)
                .where(or_(Account.login_key == key, func.lower(Account.email) == key))
                .limit(1)
            )
        if account is None or account.email is None:
            return
        try:
            await self.throttle.hit(Bucket(f"reset-mail:{account.id}", self.config.reset_mails))
        except TooManyAttempts:
            log.info("reset mail to account %s held back: too many this hour", account.id)
            return
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as session:
            # The newest link is the only one that works: an older one, perhaps lying in a
            # mailbox someone else reads, stops working the moment a new one is asked for.
            await session.get(Account, account.id, with_for_update={"of": Account})
            await self._revoke_resets(session, account.id)
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
        """Set a new password with a reset link: the link and every other one of the account
        are spent, and every session of the account ends with its tokens and sockets."""
        now = self.clock.now()
        reset_id = digest(token)
        async with self.db.read() as session:
            account_id = await session.scalar(
                select(PasswordReset.account_id).where(PasswordReset.id == reset_id)
            )
        if account_id is None:
            raise InvalidInput.single("token", "reset_token_invalid")
        async with self.db.write() as session:
            # The account row first, then its links: two links of one account used at once
            # queue here, and the second finds itself revoked by the first.
            account = await session.get(Account, account_id, with_for_update={"of": Account})
            reset = await session.get(
                PasswordReset, reset_id, with_for_update=True, populate_existing=True
            )
            if (
                account is None
                or reset is None
                or reset.used_at is not None
                or reset.expires_at <= now
            ):
                raise InvalidInput.single("token", "reset_token_invalid")
            check_password(new_password, login=account.login, field="new_password")
            new_hash = await self.passwords.hash(new_password)
            ended = await self._replace_password(session, account, new_hash, None, PASSWORD_RESET)
        await self.auth.announce(SessionsEnded(account.id, ended, PASSWORD_RESET))

    async def _replace_password(
        self,
        session: AsyncSession,
        account: Account,
        new_hash: str,
        principal: Principal | None,
        action: str,
        keep: str | None = None,
    ) -> frozenset[str]:
        """Store a new password hash (in the caller's transaction): every session of the account
        but ``keep`` ends, every reset link is spent, and ``action`` is audited; the ended
        sessions, for the caller to announce once the transaction is committed."""
        account.password_hash = new_hash
        account.password_changed_at = self.clock.now()
        ended = await self.auth.end_all_sessions(session, account.id, keep=keep)
        revoked = await self._revoke_resets(session, account.id)
        self.audit.record(
            session,
            principal,
            object_type="Account",
            object_id=account.id,
            action=action,
            detail={"sessions_ended": len(ended), "reset_links_revoked": revoked},
        )
        return ended

    async def purge_expired_resets(self) -> int:
        """Delete the reset links past their lifetime (used ones are deleted at once); how
        many. A link nobody followed is worth nothing after 30 minutes: its hash goes too."""
        now = self.clock.now()
        async with self.db.read() as session:  # a write only when there is something to delete
            expired = await session.scalar(
                select(func.count())
                .select_from(PasswordReset)
                .where(PasswordReset.expires_at <= now)
            )
        if not expired:
            return 0
        async with self.db.write() as session:
            result = await session.execute(
                delete(PasswordReset).where(PasswordReset.expires_at <= now)
            )
            return int(cast(CursorResult[Any], result).rowcount)

    @staticmethod
    async def _revoke_resets(session: AsyncSession, account_id: uuid.UUID) -> int:
        """Delete every reset link of the account (used or not); how many there were.

        Deleting, not marking: a spent link is worth nothing, and its hash is not kept."""
        result = await session.execute(
            delete(PasswordReset).where(PasswordReset.account_id == account_id)
        )
        return int(cast(CursorResult[Any], result).rowcount)

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
