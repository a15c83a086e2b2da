"""Logging in and out: server-side sessions, CSRF tokens, bearer tokens and login throttling.

- Sessions: a 256-bit random cookie value; the database keeps only its SHA-256, so a leaked
  table opens no session. Idle and absolute expiry per OWASP's Session Management Cheat Sheet.
  Every end of a session (logout, expiry, password change or reset) is audited and announced
  to :attr:`Auth.listeners`, first of them the :class:`~portal.session_watch.SessionWatch` that
  disconnects the session's sockets (OWASP ASVS 4.0.3 3.3.1).
- CSRF: a per-session random token, returned at login and required in ``X-CSRF-Token`` on
  state-changing requests authenticated by cookie (synchroniser token pattern).
- Bearer tokens: short-lived, HMAC-SHA256-signed, scoped to one patient account, and always tied
  to the session they were issued from, so whatever ends the session ends them too.
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
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.audit import AuditLog
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import AuthenticationRequired, InvalidCredentials
from portal.models import Account, AuthSession, Role
from portal.passwords import Passwords
from portal.session_watch import EXPIRED, LOGOUT, SessionsEnded, SessionWatch
from portal.throttle import Bucket, DatabaseStore, Throttle

log = logging.getLogger(__name__)

TOKEN_PREFIX = "mpt1"
TOUCH_EVERY = timedelta(seconds=30)
"""A session's last use is written at most this often (idle expiry needs no finer grain)."""

DEADLINE_CHUNK = 500
"""Sessions read by one statement of :meth:`Auth.session_deadlines`."""

SessionListener = Callable[[SessionsEnded], Awaitable[None]]


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
        self.audit = AuditLog(clock)
        self.watch = SessionWatch(self, clock)
        """This node's sockets, each held on its session."""
        self.listeners: list[SessionListener] = [self.watch.ended]
        """Told of every end of sessions, after it is committed (the watch; other nodes)."""

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
        """End one session (and with it every bearer token issued from it, and its sockets)."""
        async with self.db.write() as session:
            row = await session.get(AuthSession, session_id)
            account = await session.get(Account, row.account_id) if row else None
            if row is None or account is None or not await self._delete(session, [session_id]):
                return
            self._audit(session, account, LOGOUT, session_id)
        await self.announce(SessionsEnded(account.id, frozenset({session_id}), LOGOUT))

    async def end_all_sessions(
        self, session: AsyncSession, account_id: uuid.UUID, keep: str | None = None
    ) -> frozenset[str]:
        """End every session of an account but ``keep`` (password reset or change), in the
        caller's transaction; the ids ended, for the caller to :meth:`announce` once committed."""
        query = select(AuthSession.id).where(AuthSession.account_id == account_id)
        if keep is not None:
            query = query.where(AuthSession.id != keep)
        ended = frozenset(await session.scalars(query))
        if ended:
            await self._delete(session, ended)
        return ended

    async def announce(self, event: SessionsEnded) -> None:
        """Tell every listener that ``event``'s sessions ended (call after the commit)."""
        if not event.session_ids:
            return
        for listener in list(self.listeners):
            try:
                await listener(event)
            except Exception:
                # The sessions are ended in the database whatever a listener does; the watch's
                # periodic re-read still ends their sockets. Logged, never swallowed.
                log.exception("end of sessions (%s) not passed on", event.reason)

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
            await self._end_expired(row)
            raise AuthenticationRequired("session_expired")
        if now - row.last_seen_at > TOUCH_EVERY:
            # Touch at most twice a minute: idle expiry needs no finer grain, and a write per
            # request would serialise every reader on SQLite.
            await self._touch(session_id)
        return Principal.of(account, via="session", session_id=session_id), row

    async def touch(self, session_id: str) -> datetime | None:
        """A socket event used the session: its new deadline, or None if it has ended."""
        async with self.db.read() as session:
            row = await session.get(AuthSession, session_id)
        if row is None:
            return None
        if self._expired(row):
            await self._end_expired(row)
            return None
        if self.clock.now() - row.last_seen_at > TOUCH_EVERY:
            await self._touch(session_id)
            row.last_seen_at = self.clock.now()
        return self.deadline(row)

    async def session_deadlines(self, session_ids: Collection[str]) -> dict[str, datetime]:
        """The deadline of each of ``session_ids`` that still stands; the expired are ended."""
        ids = sorted(session_ids)
        rows: list[AuthSession] = []
        async with self.db.read() as session:
            # In chunks: SQLite caps the bound parameters of one statement.
            for start in range(0, len(ids), DEADLINE_CHUNK):
                chunk = ids[start : start + DEADLINE_CHUNK]
                rows.extend(
                    await session.scalars(select(AuthSession).where(AuthSession.id.in_(chunk)))
                )
        alive: dict[str, datetime] = {}
        for row in rows:
            if self._expired(row):
                await self._end_expired(row)
            else:
                alive[row.id] = self.deadline(row)
        return alive

    def deadline(self, row: AuthSession) -> datetime:
        """When ``row`` expires unless used before: the sooner of idle and absolute expiry."""
        return min(
            row.last_seen_at + self.config.session_idle_timeout,
            row.created_at + self.config.session_absolute_timeout,
        )

    def _expired(self, row: AuthSession) -> bool:
        """Whether a session is past its idle or its absolute timeout."""
        now = self.clock.now()
        return (
            now - row.last_seen_at > self.config.session_idle_timeout
            or now - row.created_at > self.config.session_absolute_timeout
        )

    async def _touch(self, session_id: str) -> None:
        async with self.db.write() as session:
            fresh = await session.get(AuthSession, session_id)
            if fresh is not None:
                fresh.last_seen_at = self.clock.now()

    async def _end_expired(self, row: AuthSession) -> None:
        """End an expired session: audited once, however many callers found it expired."""
        absolute = self.clock.now() - row.created_at > self.config.session_absolute_timeout
        async with self.db.write() as session:
            account = await session.get(Account, row.account_id)
            if account is None or not await self._delete(session, [row.id]):
                return
            self._audit(
                session, account, EXPIRED, row.id, expiry="absolute" if absolute else "idle"
            )
        await self.announce(SessionsEnded(account.id, frozenset({row.id}), EXPIRED))

    async def purge_expired(self, batch: int = 500) -> int:
        """End the expired sessions nobody presented again (a closed browser): each is deleted
        and audited as expired, like one found expired when used; how many were ended.

        Without this a session that is never sent back would keep its row (the cookie's hash,
        the client's address and browser) for ever, although it can never be used."""
        now = self.clock.now()
        async with self.db.read() as session:
            rows = list(
                await session.scalars(
                    select(AuthSession)
                    .where(
                        or_(
                            AuthSession.last_seen_at < now - self.config.session_idle_timeout,
                            AuthSession.created_at < now - self.config.session_absolute_timeout,
                        )
                    )
                    .order_by(AuthSession.last_seen_at)
                    .limit(batch)
                )
            )
        for row in rows:
            await self._end_expired(row)
        return len(rows)

    @staticmethod
    async def _delete(session: AsyncSession, session_ids: Collection[str]) -> int:
        """Delete sessions; how many were still there (a race may have ended them first)."""
        result = await session.execute(
            delete(AuthSession).where(AuthSession.id.in_(list(session_ids)))
        )
        return int(cast(CursorResult[Any], result).rowcount)

    def _audit(
        self, session: AsyncSession, account: Account, action: str, session_id: str, **detail: str
    ) -> None:
        """One audit row for an end of a session; the session is named by the first 12 hex of
        its stored hash (enough to tell sessions apart in the log, useless as a cookie)."""
        self.audit.record(
            session,
            Principal.of(account, session_id=session_id),
            object_type="Account",
            object_id=account.id,
            action=action,
            detail={"session": session_id[:12], **detail},
        )

    # -- bearer tokens ----------------------------------------------------------------------

    def issue_token(self, principal: Principal, ttl: timedelta | None = None) -> BearerToken:
        """A bearer token acting as ``principal`` (a patient), bound to its session."""
        if principal.session_id is None:
            # A token outlives nothing: no session to end it, no token (ValueError: a bug).
            raise ValueError("bearer tokens are issued from a session only")
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
            session_id = payload["sid"]
            if not isinstance(session_id, str):
                raise TypeError("sid")
        except (ValueError, KeyError, TypeError):
            raise AuthenticationRequired("token_invalid") from None
        if self.clock.now().timestamp() >= expires:
            raise AuthenticationRequired("token_invalid")
        async with self.db.read() as session:
            account = await session.get(Account, account_id)
            issuer = await session.get(AuthSession, session_id)
        # A token dies with its session, also when the session has merely expired: otherwise
        # tokens minted from tokens would outlive the idle and absolute limits.
        alive = issuer is not None and issuer.account_id == account_id and not self._expired(issuer)
        if account is None or not alive or account.role is not Role.PATIENT:
            raise AuthenticationRequired("token_invalid")
        if str(account.patient_id) != payload.get("pid"):
            raise AuthenticationRequired("token_invalid")
        return Principal.of(account, via="token", session_id=session_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
