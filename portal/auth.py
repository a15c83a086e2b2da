"""Logging in and out: server-side sessions, CSRF tokens, bearer tokens and login throttling.

- Sessions: a 256-bit random cookie value; the database keeps only its SHA-256, so a leaked
  table opens no session. Idle and absolute expiry per OWASP's Session Management Cheat Sheet.
- CSRF: a per-session random token, returned at login and required in ``X-CSRF-Token`` on
  state-changing requests authenticated by cookie (synchroniser token pattern).
- Bearer tokens: short-lived, HMAC-SHA256-signed, scoped to one patient account, and tied to the
  session they were issued from, so logging out ends them too.
- Throttling: every login attempt is counted per login name (existing or not) and per client
  address before the password is checked (:mod:`portal.throttle`), so concurrent guesses cannot
  slip past the count; a success clears the name's count and gives the address's back. Answers
  never reveal whether a login exists: an unknown login costs the same argon2 verification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import AuthenticationRequired, InvalidCredentials
from portal.models import Account, AuthSession, Role
from portal.passwords import Passwords
from portal.throttle import Bucket, DatabaseStore, Throttle

TOKEN_PREFIX = "mpt1"


def digest(value: str) -> str:
    """SHA-256 of a secret value, hex; what the database stores instead of the value."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    """What a successful login hands to the edge: the cookie value and the CSRF token."""

    session_token: str
    csrf_token: str
    account: Account


@dataclass(frozen=True)
class BearerToken:
    """A delegated bearer token and when it expires."""

    token: str
    expires_at: datetime


class Auth:
    """Sessions, tokens and throttling."""

    def __init__(
        self,
        db: Database,
        config: PortalConfig,
        clock: Clock,
        passwords: Passwords,
        throttle: Throttle | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.passwords = passwords
        self.throttle = throttle or Throttle(DatabaseStore(db), clock)
        self._token_key = hmac.new(
            config.secret.reveal().encode(), b"bearer-token-v1", hashlib.sha256
        ).digest()

    # -- login and logout -------------------------------------------------------------------

    async def login(
        self,
        login: str,
        password: str,
        *,
        client_address: str | None = None,
        user_agent: str | None = None,
    ) -> LoginResult:
        """Check the credentials and open a fresh session.

        Raises :class:`TooManyAttempts` while the login name or the address is blocked, and
        :class:`InvalidCredentials` for a wrong login or password alike.
        """
        login_key = login.strip().lower()[:64]
        by_name = Bucket(f"login:{login_key}", self.config.login_per_account)
        by_address = (
            Bucket(f"login-from:{client_address}", self.config.login_per_address)
            if client_address
            else None
        )
        # Counted before the password is checked: the count is the lock (module docstring).
        await self.throttle.hit(by_name, by_address)
        async with self.db.read() as session:
            account = await session.scalar(select(Account).where(Account.login_key == login_key))
        ok = await self.passwords.verify(account.password_hash if account else None, password)
        if account is None or not ok:
            raise InvalidCredentials()
        await self.throttle.clear(by_name)
        await self.throttle.refund(by_address)
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        async with self.db.write() as session:
            session.add(
                AuthSession(
                    id=digest(token),
                    account_id=account.id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    client_address=client_address,
                    user_agent=(user_agent or "")[:255] or None,
                )
            )
            if self.passwords.needs_rehash(account.password_hash):
                fresh = await session.get(Account, account.id)
                if fresh is not None:
                    fresh.password_hash = await self.passwords.hash(password)
        return LoginResult(session_token=token, csrf_token=csrf, account=account)

    async def logout(self, session_id: str) -> None:
        """End one session (and with it every bearer token issued from it)."""
        async with self.db.write() as session:
            await session.execute(delete(AuthSession).where(AuthSession.id == session_id))

    async def end_all_sessions(
        self, session: AsyncSession, account_id: uuid.UUID, keep: str | None = None
    ) -> None:
        """End every session of an account but ``keep`` (password reset or change)."""
        query = delete(AuthSession).where(AuthSession.account_id == account_id)
        if keep is not None:
            query = query.where(AuthSession.id != keep)
        await session.execute(query)

    async def authenticate_session(self, token: str) -> tuple[Principal, AuthSession]:
        """The principal behind a session cookie; expired sessions are ended here."""
        session_id = digest(token)
        now = self.clock.now()
        async with self.db.read() as session:
            row = await session.get(AuthSession, session_id)
            account = await session.get(Account, row.account_id) if row else None
        if row is None or account is None:
            raise AuthenticationRequired()
        if self._expired(row):
            await self.logout(session_id)
            raise AuthenticationRequired("session_expired")
        if now - row.last_seen_at > timedelta(seconds=30):
            # Touch at most twice a minute: idle expiry needs no finer grain, and a write per
            # request would serialise every reader on SQLite.
            async with self.db.write() as session:
                fresh = await session.get(AuthSession, session_id)
                if fresh is not None:
                    fresh.last_seen_at = now
        return Principal.of(account, via="session", session_id=session_id), row

    def _expired(self, row: AuthSession) -> bool:
        """Whether a session is past its idle or its absolute timeout."""
        now = self.clock.now()
        return (
            now - row.last_seen_at > self.config.session_idle_timeout
            or now - row.created_at > self.config.session_absolute_timeout
        )

    # -- bearer tokens ----------------------------------------------------------------------

    def issue_token(self, principal: Principal, ttl: timedelta | None = None) -> BearerToken:
        """A bearer token acting as ``principal`` (a patient), bound to its session if any."""
        now = self.clock.now()
        expires = now + (ttl or self.config.token_ttl)
        payload = {
            "sub": str(principal.account_id),
            "pid": str(principal.patient_id) if principal.patient_id else None,
            "sid": principal.session_id,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_hex(8),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._token_key, body.encode(), hashlib.sha256).digest())
        return BearerToken(token=f"{TOKEN_PREFIX}.{body}.{signature}", expires_at=expires)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal a bearer token speaks for; refuses a forged, expired or orphaned one."""
        # Our tokens are ASCII; anything else would make compare_digest raise TypeError.
        if not token.isascii():
            raise AuthenticationRequired("token_invalid")
        try:
            prefix, body, signature = token.split(".")
        except ValueError:
            raise AuthenticationRequired("token_invalid") from None
        expected = _b64(hmac.new(self._token_key, body.encode(), hashlib.sha256).digest())
        if prefix != TOKEN_PREFIX or not hmac.compare_digest(expected, signature):
            raise AuthenticationRequired("token_invalid")
        try:
            payload = json.loads(_unb64(body))
            account_id = uuid.UUID(payload["sub"])
            expires = int(payload["exp"])
            session_id = payload.get("sid")
        except (ValueError, KeyError, TypeError):
            raise AuthenticationRequired("token_invalid") from None
        if self.clock.now().timestamp() >= expires:
            raise AuthenticationRequired("token_invalid")
        async with self.db.read() as session:
            account = await session.get(Account, account_id)
            issuer = await session.get(AuthSession, session_id) if session_id else None
        # A token dies with its session, also when the session has merely expired: otherwise
        # tokens minted from tokens would outlive the idle and absolute limits.
        alive = session_id is None or (issuer is not None and not self._expired(issuer))
        if account is None or not alive or account.role is not Role.PATIENT:
            raise AuthenticationRequired("token_invalid")
        if str(account.patient_id) != payload.get("pid"):
            raise AuthenticationRequired("token_invalid")
        return Principal.of(account, via="token", session_id=session_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
