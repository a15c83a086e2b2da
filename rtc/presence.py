"""Who is in a ``/consult`` room, across hub nodes.

python-socketio fans events out to every node through Redis but lists a room's participants on
the local node only (``BaseManager.get_participants``). The room needs more than that: the
patient's "the physician has been told" (is the physician's desk open anywhere?), the
physician's "the patient is waiting" (is the patient's side in the room anywhere?), and the
end of a member's presence (is any tab of that side still in the room?).

:class:`Presence` answers from this node alone (one node, no Redis). :class:`SharedPresence`
adds every node's answer from Redis: for each Socket.IO room with participants here, the node
keeps its id in the sorted set ``rtc:presence:<room>`` scored by when that entry expires
(now + :data:`LEASE`), renews it every third of the lease, and removes it as soon as the room
has no participants here. Expired entries are ignored, so a node that crashed stops counting
after at most one lease.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rtc.peer import Tasks

logger = logging.getLogger(__name__)

LEASE = 30.0
"""Seconds a node's presence entry counts without renewal."""

_PREFIX = "rtc:presence:"


class Presence:
    """Presence on this node only: ``local(room)`` says whether the room has participants here."""

    def __init__(self, local: Callable[[str], bool]) -> None:
        self.local = local

    async def start(self) -> None:
        """Nothing to start on one node."""

    async def close(self) -> None:
        """Nothing to close on one node."""

    async def sync(self, room: str) -> None:
        """Publish this node's presence in ``room`` after a socket entered or left it."""

    async def present(self, room: str) -> bool:
        """Whether ``room`` has a participant (on any node)."""
        return self.local(room)


class SharedPresence(Presence):
    """Presence on every node that shares ``redis`` (a client with ``decode_responses``);
    this node is ``node``."""

    def __init__(
        self,
        local: Callable[[str], bool],
        redis: aioredis.Redis,
        node: str,
        *,
        lease: float = LEASE,
    ) -> None:
        super().__init__(local)
        self.node = node
        self.lease = lease
        self._redis = redis
        self._rooms: set[str] = set()
        self._tasks = Tasks()

    async def start(self) -> None:
        """Renew this node's entries while it runs."""
        self._tasks.spawn(self._renewing(), name=f"presence {self.node}")

    async def close(self) -> None:
        """Withdraw every entry of this node (it stops serving its sockets)."""
        await self._tasks.cancel_all()
        for room in list(self._rooms):
            await self._withdraw(room)

    async def sync(self, room: str) -> None:
        """Add or renew this node's entry for ``room``, or withdraw it when nobody is left."""
        if self.local(room):
            self._rooms.add(room)
            await self._announce(room)
        elif room in self._rooms:
            await self._withdraw(room)

    async def present(self, room: str) -> bool:
        """Here, or an unexpired entry of another node (only this node's view if Redis fails)."""
        if self.local(room):
            return True
        try:
            nodes = await self._redis.zrangebyscore(_PREFIX + room, time.time(), "+inf")
        except RedisError as error:
            logger.warning("presence in %s from this node only: %s", room, error)
            return False
        return any(node != self.node for node in nodes)

    async def _announce(self, room: str) -> None:
        key = _PREFIX + room
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key, {self.node: time.time() + self.lease})
                pipe.zremrangebyscore(key, "-inf", time.time())
                pipe.expire(key, int(self.lease * 2))
                await pipe.execute()
        except RedisError as error:
            logger.warning("presence in %s not published: %s", room, error)

    async def _withdraw(self, room: str) -> None:
        self._rooms.discard(room)
        try:
            await self._redis.zrem(_PREFIX + room, self.node)
        except RedisError as error:
            logger.warning("presence in %s not withdrawn (it expires): %s", room, error)

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            for room in list(self._rooms):
                await self.sync(room)
