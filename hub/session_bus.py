"""Ends of sessions across hub nodes: a logout on one node disconnects the sockets on the others.

Sticky sessions keep a browser on one node, but one account's tabs, devices and the assistant's
actions may reach several, and a password changed on one node must end the sessions whose
sockets live on another. Each node publishes every :class:`~portal.session_watch.SessionsEnded`
its :class:`~portal.auth.Auth` announces on the Redis channel :data:`CHANNEL` (tagged with the
node's id) and hands what the other nodes publish to its own
:class:`~portal.session_watch.SessionWatch`. Redis pub/sub delivers at most once: a message lost
while Redis is away is made good by the watch re-reading every held session once a minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from portal.auth import Auth
from portal.session_watch import SessionsEnded

log = logging.getLogger(__name__)

CHANNEL = "medportal-sessions"


class SessionBus:
    """This node's end of the channel: ``start()`` after Redis opens, ``close()`` before."""

    def __init__(self, redis: aioredis.Redis, auth: Auth, *, channel: str = CHANNEL) -> None:
        self.node = uuid.uuid4().hex
        self.channel = channel
        self.auth = auth
        self._redis = redis
        self._pubsub = redis.pubsub()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe (confirmed before this returns), listen, and publish what Auth announces."""
        await self._pubsub.subscribe(self.channel)
        async with asyncio.timeout(5):
            while await self._pubsub.get_message(timeout=1.0) is None:
                pass  # the first message is the confirmation of the subscription
        self._task = asyncio.create_task(self._listen(), name=f"session bus {self.node}")
        self.auth.listeners.append(self.publish)

    async def close(self) -> None:
        """Stop publishing and listening."""
        if self.publish in self.auth.listeners:
            self.auth.listeners.remove(self.publish)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def publish(self, event: SessionsEnded) -> None:
        """Tell the other nodes (this node's watch has been told by Auth itself)."""
        message = json.dumps({"node": self.node, **event.as_json()})
        try:
            await self._redis.publish(self.channel, message)
        except RedisError as error:
            log.warning("end of sessions not published (re-read within a minute): %s", error)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except RedisError as error:
                log.warning("session channel read failed: %s", error)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                data = json.loads(message["data"])
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                if data.get("node") == self.node:
                    continue
                event = SessionsEnded.from_json(data)
            except (TypeError, ValueError) as error:
                log.warning("unreadable message on %s: %s", self.channel, error)
                continue
            await self.auth.watch.ended(event)
