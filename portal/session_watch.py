"""Live connections and the sessions they stand on: when a session ends, its sockets end too.

A session ends in five ways: logout, idle expiry, absolute expiry, a password change (every other
session of the account) and a password reset (every session). :class:`~portal.auth.Auth`
announces each end as a :class:`SessionsEnded`; the :class:`SessionWatch` hands it to every
connection held on one of those sessions (the ``/chat`` and ``/consult`` sockets), whose edge
says why and disconnects it. With several hub nodes the announcement also travels to the other
nodes' watches (``hub/session_bus.py``).

Expiry is an event nobody sends, so the watch keeps each held session's deadline (the sooner of
its idle and its absolute expiry) in memory and, once a second, re-reads from the database only
the sessions whose deadline has passed: a session used over HTTP meanwhile has a later deadline;
one really past it is ended there (and announced). Every held session is also re-read once a
minute whatever its deadline, which catches an end whose announcement was lost (Redis down, a
session ended while its socket was still connecting). OWASP ASVS 4.0.3 3.3.1, 3.3.2, 3.3.3.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from portal.access import Principal
from portal.clock import Clock

if TYPE_CHECKING:
    from portal.auth import Auth

log = logging.getLogger(__name__)

TICK = 1.0
"""Seconds between two looks at the held sessions' deadlines."""
RECHECK_EVERY = 60.0
"""Seconds (real time) after which a held session is re-read whatever its deadline."""
TOUCH_EVERY = timedelta(seconds=30)
"""How often a connection's own events count as use of its session (like HTTP requests do)."""

LOGOUT = "logout"
EXPIRED = "session_expired"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
GONE = "session_ended"
"""The session was found gone without its announcement reaching this node."""
REASONS = (LOGOUT, EXPIRED, PASSWORD_CHANGED, PASSWORD_RESET, GONE)

Ender = Callable[[str], Awaitable[None]]
"""What ends one connection, given the reason (one of :data:`REASONS`)."""


@dataclass(frozen=True)
class SessionsEnded:
    """Sessions of one account that have just ended, and why."""

    account_id: uuid.UUID
    session_ids: frozenset[str]
    """The ended sessions (SHA-256 of their cookies, as stored)."""
    reason: str
    """One of :data:`REASONS`."""

    def ends(self, principal: Principal) -> bool:
        """Whether a connection of ``principal`` stood on one of these sessions."""
        return principal.account_id == self.account_id and principal.session_id in self.session_ids

    def as_json(self) -> dict[str, Any]:
        """The event as JSON (what travels between hub nodes)."""
        return {
            "account_id": str(self.account_id),
            "session_ids": sorted(self.session_ids),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Any) -> SessionsEnded:
        """The event from :meth:`as_json`; ``ValueError`` if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        ids, reason = data.get("session_ids"), data.get("reason")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("session_ids is not a list of strings")
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        return cls(uuid.UUID(str(data.get("account_id"))), frozenset(ids), reason)


@dataclass
class _Held:
    principal: Principal
    end: Ender
    session_id: str
    deadline: datetime | None = None
    """When the session expires unless used, as last read; None until the first read."""
    touched: datetime | None = None
    read_at: float = 0.0
    """``time.monotonic()`` of the last read."""
    ended: bool = False


class SessionWatch:
    """The connections of this node held on sessions, ended with them. ``close()`` at the end."""

    def __init__(self, auth: Auth, clock: Clock, *, tick: float = TICK) -> None:
        self.auth = auth
        self.clock = clock
        self.tick = tick
        self._held: dict[Hashable, _Held] = {}
        self._task: asyncio.Task[None] | None = None

    def hold(self, key: Hashable, principal: Principal, end: Ender) -> None:
        """Watch connection ``key`` (say ``("/chat", sid)``) of ``principal``'s session.

        The caller has just authenticated the session (which counts as its use)."""
        if principal.session_id is None:
            raise ValueError("a watched connection needs a session")
        self._held[key] = _Held(principal, end, principal.session_id, touched=self.clock.now())
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._ticking(), name="session watch")

    def release(self, key: Hashable) -> None:
        """Forget connection ``key`` (it disconnected)."""
        self._held.pop(key, None)

    async def check(self, key: Hashable) -> bool:
        """Before an event of connection ``key``: whether its session still stands.

        An unheld key (a guest) always may go on. The event counts as use of the session, at
        most once per :data:`TOUCH_EVERY`; a session found ended ends the connection too."""
        held = self._held.get(key)
        if held is None:
            return True
        if held.ended:
            return False
        now = self.clock.now()
        due = held.deadline is not None and now >= held.deadline
        if due or held.touched is None or now - held.touched >= TOUCH_EVERY:
            deadline = await self.auth.touch(held.session_id)
            held.touched, held.read_at = now, time.monotonic()
            if deadline is None:
                if not held.ended:  # else the expiry, announced, has ended it already
                    await self._end(key, held, GONE)
                return False
            held.deadline = deadline
        return not held.ended

    async def ended(self, event: SessionsEnded) -> None:
        """End every held connection that stood on one of ``event``'s sessions."""
        for key, held in list(self._held.items()):
            if not held.ended and event.ends(held.principal):
                await self._end(key, held, event.reason)

    async def sweep(self) -> None:
        """Re-read the sessions past their deadline (or unread for a minute); end the ended."""
        now, moment = self.clock.now(), time.monotonic()
        due = {
            held.session_id
            for held in self._held.values()
            if not held.ended
            and (
                held.deadline is None
                or now >= held.deadline
                or moment - held.read_at >= RECHECK_EVERY
            )
        }
        if not due:
            return
        deadlines = await self.auth.session_deadlines(due)
        for key, held in list(self._held.items()):
            if held.ended or held.session_id not in due:
                continue
            held.read_at = moment
            if held.session_id in deadlines:
                held.deadline = deadlines[held.session_id]
            else:
                await self._end(key, held, GONE)

    async def close(self) -> None:
        """Stop watching (the hub is stopping)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._held.clear()

    async def _end(self, key: Hashable, held: _Held, reason: str) -> None:
        held.ended = True
        try:
            await held.end(reason)
        except Exception:
            # One connection that cannot be told must not keep the others open.
            log.exception("connection %r of an ended session not closed", key)

    async def _ticking(self) -> None:
        while self._held:
            await asyncio.sleep(self.tick)
            try:
                await self.sweep()
            except Exception:
                log.exception("session watch sweep failed; trying again in %s s", self.tick)
