"""Throttling: attempts counted atomically per login name, client address or account.

An attempt is counted *before* the work it guards (the password check, the search, the mail),
in one atomic step that also looks at the block. Checking first and counting after the work,
as logins once did, let 25 concurrent wrong passwords all pass the check before any was
counted (issue 12). Here the 6th of 25 concurrent guesses at one login is refused whatever the
timing, because the count and the check are one row update (or one Redis script).

A success then takes its attempt back: a login name's count is cleared (:meth:`Throttle.clear`)
and an address's count gives one back (:meth:`Throttle.refund`), so a shared address (a clinic's
NAT, a mobile carrier) is not blocked by its honest users.

Stores, chosen by the composition root:

- :class:`DatabaseStore`: the ``throttle_counters`` table; rows locked ``FOR UPDATE`` on
  PostgreSQL, the single writer of SQLite otherwise. Single node, or several on one database.
- :class:`RedisStore`: one Lua script over a hash per key (atomic in Redis), shared by every hub
  node that uses the same Redis and secret.

Both take the time from the portal's :class:`~portal.clock.Clock`, so a block lasts the same
on either, and tests move it by hand. OWASP ASVS 4.0.3 V2.2.1; OWASP Authentication Cheat Sheet,
"Account lockout" (a soft lock for a while, never for good, so nobody locks a patient out).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.clock import Clock
from portal.config import Limit
from portal.db import Database
from portal.errors import ServiceUnavailable, TooManyAttempts
from portal.models import ThrottleCounter


@dataclass(frozen=True)
class Bucket:
    """One counter: its key (``kind:subject``) and the limit it is held to."""

    key: str
    limit: Limit


class ThrottleStore(Protocol):
    """Where counts live; each method is atomic against concurrent callers."""

    async def hit(self, buckets: Sequence[Bucket], now: datetime) -> tuple[float, int]:
        """Count one attempt on every bucket, unless one of them is blocked.

        Returns ``(wait, left)``: seconds until the longest block ends (nothing was counted) or
        0.0, and how many more attempts the tightest bucket allows in its window.
        """
        ...

    async def refund(self, bucket: Bucket, now: datetime) -> None:
        """Give one counted attempt back (a success on a shared key)."""
        ...

    async def clear(self, bucket: Bucket) -> None:
        """Forget the bucket's count and block (a success on the key's own subject)."""
        ...


class Throttle:
    """Counts attempts against limits; refuses with :class:`TooManyAttempts` (429)."""

    def __init__(self, store: ThrottleStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def hit(self, *buckets: Bucket | None) -> int:
        """Count one attempt on every bucket given (``None`` ones are skipped).

        Raises :class:`TooManyAttempts` with the wait in whole seconds while any is blocked;
        returns how many attempts are left after this one (0: this one started a block).
        """
        chosen = [bucket for bucket in buckets if bucket is not None]
        if not chosen:
            return 1
        wait, left = await self.store.hit(chosen, self.clock.now())
        if wait > 0:
            raise TooManyAttempts(retry_after=max(1, math.ceil(wait)))
        return left

    async def refund(self, *buckets: Bucket | None) -> None:
        """Give the attempt back on every bucket given."""
        for bucket in buckets:
            if bucket is not None:
                await self.store.refund(bucket, self.clock.now())

    async def clear(self, *buckets: Bucket | None) -> None:
        """Forget every bucket given."""
        for bucket in buckets:
            if bucket is not None:
                await self.store.clear(bucket)

    @staticmethod
    def blocked_for(bucket: Bucket) -> int:
        """The full block of ``bucket`` in whole seconds (the Retry-After of a fresh block)."""
        return max(1, math.ceil(bucket.limit.block.total_seconds()))


# -- the database ----------------------------------------------------------------------------


class DatabaseStore:
    """Counts in ``throttle_counters``: one write transaction per attempt, rows locked."""

    PURGE_EVERY = 500
    """Every this many hits, rows idle for a day are deleted (spoofed logins would pile up)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._hits = itertools.count(1)

    async def hit(self, buckets: Sequence[Bucket], now: datetime) -> tuple[float, int]:
        """Lock (creating them if new) the buckets' rows in key order, then check and count."""
        keys = sorted({bucket.key for bucket in buckets})
        async with self.db.write() as session:
            fresh = [{"key": key, "failures": 0, "window_started_at": now} for key in keys]
            insert = sqlite_insert if self.db.is_sqlite else pg_insert
            # A first attempt inserts the row; a concurrent first attempt finds it and waits on
            # its lock (PostgreSQL: INSERT ... ON CONFLICT DO NOTHING, then FOR UPDATE).
            await session.execute(insert(ThrottleCounter).values(fresh).on_conflict_do_nothing())
            rows = list(
                await session.scalars(
                    select(ThrottleCounter)
                    .where(ThrottleCounter.key.in_(keys))
                    .order_by(ThrottleCounter.key)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            )
            by_key = {row.key: row for row in rows}
            waits = [
                (row.blocked_until - now).total_seconds()
                for row in rows
                if row.blocked_until is not None and row.blocked_until > now
            ]
            if waits:
                return max(waits), 0
            left = []
            for bucket in buckets:
                row = by_key[bucket.key]
                if now - row.window_started_at >= bucket.limit.window:
                    row.failures, row.window_started_at, row.blocked_until = 0, now, None
                row.failures += 1
                if row.failures >= bucket.limit.attempts:
                    row.blocked_until = now + bucket.limit.block
                left.append(max(0, bucket.limit.attempts - row.failures))
            if next(self._hits) % self.PURGE_EVERY == 0:
                idle = now - timedelta(days=1)
                await session.execute(
                    delete(ThrottleCounter).where(
                        ThrottleCounter.window_started_at < idle,
                        ThrottleCounter.key.not_in(keys),
                        (ThrottleCounter.blocked_until.is_(None))
                        | (ThrottleCounter.blocked_until < now),
                    )
                )
        return 0.0, min(left)

    async def refund(self, bucket: Bucket, now: datetime) -> None:
        """One attempt back; a block this attempt started is lifted with it."""
        async with self.db.write() as session:
            row = await session.get(
                ThrottleCounter, bucket.key, with_for_update=True, populate_existing=True
            )
            if row is None or row.failures <= 0:
                return
            row.failures -= 1
            if row.failures < bucket.limit.attempts:
                row.blocked_until = None

    async def clear(self, bucket: Bucket) -> None:
        """Delete the bucket's row."""
        async with self.db.write() as session:
            await session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == bucket.key))


# -- Redis -----------------------------------------------------------------------------------

# KEYS: the buckets' hashes. ARGV: now (ms), then per key: attempts, window (ms), block (ms).
# Fields: s window start, n count, b blocked until (ms, 0 none). Returns {wait ms, left}.
_HIT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'b') or '0')
  if blocked > now and blocked - now > wait then wait = blocked - now end
end
if wait > 0 then return {wait, 0} end
local left = -1
for i, key in ipairs(KEYS) do
  local attempts = tonumber(ARGV[3 * i - 1])
  local window = tonumber(ARGV[3 * i])
  local block = tonumber(ARGV[3 * i + 1])
  local start = tonumber(redis.call('HGET', key, 's') or '-1')
  local count
  if start < 0 or now - start >= window then
    redis.call('HSET', key, 's', now, 'n', 1, 'b', 0)
    count = 1
  else
    count = redis.call('HINCRBY', key, 'n', 1)
  end
  if count >= attempts then redis.call('HSET', key, 'b', now + block) end
  redis.call('PEXPIRE', key, window + block + 60000)
  local rest = attempts - count
  if rest < 0 then rest = 0 end
  if left < 0 or rest < left then left = rest end
end
return {0, left}
"""

# KEYS[1]: the hash. ARGV: attempts.
_REFUND = """
local count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if count <= 0 then return 0 end
count = redis.call('HINCRBY', KEYS[1], 'n', -1)
if count < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'b', 0) end
return count
"""


class RedisStore:
    """Counts in Redis, shared by every hub node; each step is one Lua script (atomic)."""

    def __init__(self, client: Callable[[], aioredis.Redis], secret: str) -> None:
        """``client`` gives the application's Redis connection once it is open.

        Keys start with a digest of the hub secret: nodes of one deployment share counts, other
        deployments (or test runs) on the same Redis never see them.
        """
        self._client = client
        self.prefix = "throttle:" + hashlib.sha256(secret.encode()).hexdigest()[:16] + ":"

    def _key(self, bucket: Bucket) -> str:
        return self.prefix + bucket.key

    async def hit(self, buckets: Sequence[Bucket], now: datetime) -> tuple[float, int]:
        """Run the hit script over every bucket at once.

        Fails closed: with Redis unreachable nothing can be counted, so the attempt is refused
        (``503 service_unavailable``) rather than let through uncounted.
        """
        args: list[Any] = [_ms(now)]
        for bucket in buckets:
            limit = bucket.limit
            args += [limit.attempts, _ms_delta(limit.window), _ms_delta(limit.block)]
        keys = [self._key(bucket) for bucket in buckets]
        try:
            wait, left = await self._client().eval(_HIT, len(keys), *keys, *args)
        except (RedisError, OSError) as error:
            raise ServiceUnavailable() from error
        return int(wait) / 1000, int(left)

    async def refund(self, bucket: Bucket, now: datetime) -> None:
        """Run the refund script."""
        try:
            await self._client().eval(_REFUND, 1, self._key(bucket), bucket.limit.attempts)
        except (RedisError, OSError) as error:
            raise ServiceUnavailable() from error

    async def clear(self, bucket: Bucket) -> None:
        """Delete the bucket's hash."""
        try:
            await self._client().delete(self._key(bucket))
        except (RedisError, OSError) as error:
            raise ServiceUnavailable() from error


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _ms_delta(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
