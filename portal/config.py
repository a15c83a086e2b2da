"""The portal domain's configuration, filled in by the composition root (``hub``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


class Secret:
    """A secret value that never shows itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; call only where it is used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` in ``window``; the attempt that reaches it blocks for ``block``."""

    attempts: int
    """Attempts allowed in one window (the last of them starts the block)."""
    window: timedelta
    """How long attempts are counted together, from the first of them."""
    block: timedelta
    """How long the key waits once ``attempts`` is reached (not forever: ASVS 2.2.1)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where outgoing mail goes when SMTP is configured."""

    host: str
    """SMTP server host name."""
    port: int = 587
    """SMTP port; 587 uses STARTTLS, 465 implicit TLS."""
    username: str | None = None
    """Login for the SMTP server, if it needs one."""
    password: Secret | None = None
    """Password for the SMTP server."""
    sender: str = "Portal Pacjenta <no-reply@localhost>"
    """The From header of every message."""


@dataclass(frozen=True)
class PortalConfig:
    """Everything the domain needs to know about its deployment."""

    secret: Secret
    """Key for signing bearer tokens (HMAC-SHA256)."""
    public_url: str = "http://127.0.0.1:8080"
    """Base URL patients reach the portal at; used in e-mailed links."""
    documents_dir: Path = Path("var/documents")
    """Where uploaded documents are stored: outside any folder the hub serves."""
    outbox_dir: Path = Path("var/outbox")
    """Where e-mails are written as .eml files when SMTP is not configured."""
    smtp: SmtpConfig | None = None
    """Outgoing mail server; None writes mail to ``outbox_dir``."""
    terms_version: str = "2026-01"
    """The current Terms of Service version a patient accepts for full access."""
    document_regulations_version: str = "2026-01"
    """The current version of the regulations for uploading documents."""
    session_idle_timeout: timedelta = timedelta(minutes=30)
    """A session unused this long ends."""
    session_absolute_timeout: timedelta = timedelta(hours=12)
    """A session ends this long after login, used or not."""
    token_ttl: timedelta = timedelta(minutes=15)
    """Lifetime of a delegated bearer token."""
    password_reset_ttl: timedelta = timedelta(minutes=30)
    """Lifetime of a password reset link."""
    basic_active_service_limit: int = 10
    """How many active (upcoming, booked) services a basic account may hold."""
    timezone: str = "Europe/Warsaw"
    """The clinics' local time zone: schedules and date filters are in it."""
    login_per_account: Limit = Limit(5, timedelta(minutes=15), timedelta(minutes=15))
    """Logins of one login name (existing or not): a success clears them (ASVS 2.2.1)."""
    login_per_address: Limit = Limit(20, timedelta(minutes=15), timedelta(minutes=15))
    """Logins from one client address; a success gives its attempt back."""
    password_change: Limit = Limit(5, timedelta(minutes=15), timedelta(minutes=15))
    """Wrong old passwords in changePassword per account; the last one ends the session."""
    reset_per_account: Limit = Limit(5, timedelta(hours=1), timedelta(hours=1))
    """Reset requests naming one login or e-mail (existing or not)."""
    reset_per_address: Limit = Limit(20, timedelta(hours=1), timedelta(hours=1))
    """Reset requests from one client address."""
    reset_mails: Limit = Limit(3, timedelta(hours=1), timedelta(hours=1))
    """Reset mails to one account; more requests are answered alike but mail nothing."""
    register_per_address: Limit = Limit(20, timedelta(hours=1), timedelta(hours=1))
    """Registrations from one client address, whatever their outcome."""
    dependents_per_account: Limit = Limit(10, timedelta(days=1), timedelta(days=1))
    """Children a guardian may try to add in a day (each try may name someone's PESEL)."""
    patient_search: Limit = Limit(30, timedelta(minutes=5), timedelta(minutes=5))
    """Reception's patient searches per staff account: a human's pace, not a script's."""
    chat_connects: Limit = Limit(120, timedelta(minutes=5), timedelta(minutes=5))
    """Anonymous ``/chat`` connections per client address: each may open a conversation row.
    Generous, because a clinic's Wi-Fi or a mobile carrier puts many visitors behind one
    address, and every page a visitor opens reconnects the widget."""
