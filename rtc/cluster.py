"""Relayed rooms across hub nodes: each room's relay lives on one node, whichever node the
members' sockets reach.

With several hub nodes, sticky sessions keep each browser on its node, but the patient and the
physician of one room may well be on two different nodes; a bridge needs both of the room's
aiortc peers in one process. :class:`RelayCluster` pins each relayed room to one node through
Redis and forwards the other members' relay events to it:

* **Ownership.** The first node to take a room's relay offer claims the room (``SET NX`` of
  ``rtc:relay:<room>`` to its node id, with a lease of :data:`LEASE` seconds that the owner
  renews while it relays the room and gives up when the room's bridge is gone).
* **Forwarding.** Every node listens on its own channel ``rtc:node:<id>``. A node that does not
  own the room publishes the request there and waits for the reply on its own channel; the
  owner answers the offer with its aiortc peer, so the browser's media goes to the owner node
  (its ICE candidates are in the answer). Closing a member's peer (leave, disconnect) and
  closing the room (end) are forwarded the same way.
* **Failover.** ``PUBLISH`` says how many subscribers got the message: none means the owner
  node is gone (a crash leaves its lease behind), so the asking node removes the stale claim
  and takes the room itself; a lease also runs out on its own after :data:`LEASE` seconds.

A single node has no Redis and uses :class:`~rtc.media.MediaPeers` directly: every room's relay
is local. Offers, answers and errors travel as JSON; :class:`~rtc.errors.MediaBusy` and
:class:`~rtc.errors.MediaFailed` raised on the owner are raised again on the asking node.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from rtc.errors import MediaBusy, MediaFailed, RtcError
from rtc.media import MediaPeers
from rtc.peer import Tasks

logger = logging.getLogger(__name__)

LEASE = 30.0
"""Seconds a node's claim on a relayed room lasts without renewal."""
RENEW_EVERY = LEASE / 3
"""How often the owner renews its claims (and gives up those whose bridge is gone)."""
FORWARD_TIMEOUT = 12.0
"""Seconds a forwarded request may take: answering an offer gathers ICE candidates first. The
browser's own request gives up after 15 s (room.js ``ACK_MS``)."""
CLAIM_ATTEMPTS = 3
"""How often one request tries to claim or reach the owner (an owner may vanish in between)."""

_CLAIM_PREFIX = "rtc:relay:"
_CHANNEL_PREFIX = "rtc:node:"
# Only the node that holds a claim may renew or release it (the lease may have passed on).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_ERRORS: dict[str, type[RtcError]] = {MediaBusy.code: MediaBusy, MediaFailed.code: MediaFailed}


class Relays(Protocol):
    """What ``/consult`` asks of the relay: :class:`MediaPeers` on one node, or the cluster."""

    async def relay_answer(self, room: str, role: str, offer: dict[str, str]) -> dict[str, str]:
        """Answer a member's relay offer (:meth:`MediaPeers.relay_answer`)."""
        ...

    async def close_relay(self, room: str) -> None:
        """Close the room's relay (:meth:`MediaPeers.close_relay`)."""
        ...

    async def close_role(self, room: str, role: str) -> None:
        """Close one member's relay peer (:meth:`MediaPeers.close_role`)."""
        ...


class RelayCluster:
    """This node's part of the relay across nodes: ``start()`` first, ``close()`` at the end."""

    def __init__(self, media: MediaPeers, redis: aioredis.Redis, *, lease: float = LEASE) -> None:
        self.media = media
        self.node = uuid.uuid4().hex
        """This node's id (its channel is ``rtc:node:<id>``)."""
        self.lease = lease
        self._redis = redis
        """The node's shared client (``decode_responses``: values come back as text)."""
        self._pubsub = self._redis.pubsub()
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)
        self._owned: set[str] = set()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks = Tasks()

    @property
    def channel(self) -> str:
        """The channel this node listens on."""
        return _CHANNEL_PREFIX + self.node

    async def start(self) -> None:
        """Listen for forwarded requests and replies; renew claims while relaying."""
        await self._pubsub.subscribe(self.channel)
        self._tasks.spawn(self._listen(), name=f"relay cluster {self.node}")
        self._tasks.spawn(self._renewing(), name=f"relay leases {self.node}")

    async def close(self) -> None:
        """Stop listening, hang up this node's relayed rooms and give up their claims."""
        await self._tasks.cancel_all()
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()
        await self.media.close()
        for room in list(self._owned):
            await self._give_up(room)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    # -- what /consult calls -----------------------------------------------------------------

    async def relay_answer(self, room: str, role: str, offer: dict[str, str]) -> dict[str, str]:
        """Answer the offer on the room's node: here if this node owns (or now claims) it."""
        for _ in range(CLAIM_ATTEMPTS):
            owner = await self._owner(room, claim=True)
            if owner == self.node:
                try:
                    return await self.media.relay_answer(room, role, offer)
                except RtcError:
                    if room not in self.media.relayed_rooms():
                        await self._give_up(room)
                    raise
            reply = await self._forward(owner, room, {"op": "answer", "role": role, "offer": offer})
            if reply is not None:
                if not isinstance(reply.get("sdp"), str):
                    raise MediaFailed(f"node {owner} answered room {room} without a description")
                return {"sdp": reply["sdp"], "type": str(reply.get("type", "answer"))}
        raise MediaFailed(f"no node would relay room {room}")

    async def close_relay(self, room: str) -> None:
        """Close the room's relay on its node (the physician ended the consultation)."""
        await self._close(room, {"op": "close"})

    async def close_role(self, room: str, role: str) -> None:
        """Close one member's relay peer on the room's node (that member left)."""
        await self._close(room, {"op": "close_role", "role": role})

    def owns(self, room: str) -> bool:
        """Whether this node holds the room's claim."""
        return room in self._owned

    # -- ownership ---------------------------------------------------------------------------

    async def _owner(self, room: str, *, claim: bool) -> str | None:
        """The node relaying ``room``; with ``claim``, this node if nobody does yet."""
        key = _CLAIM_PREFIX + room
        try:
            if claim and await self._redis.set(key, self.node, nx=True, px=self._lease_ms):
                self._owned.add(room)
                return self.node
            owner = await self._redis.get(key)
        except RedisError as error:
            raise MediaFailed(f"the relay directory is unreachable: {error}") from error
        if owner is None:
            return None
        node = str(owner)
        if node == self.node:
            self._owned.add(room)
        return node

    async def _give_up(self, room: str) -> None:
        self._owned.discard(room)
        try:
            await self._release(keys=[_CLAIM_PREFIX + room], args=[self.node])
        except RedisError as error:
            logger.warning("claim on %s not released (its lease runs out): %s", room, error)

    async def _take_over(self, room: str, gone: str) -> None:
        """``gone`` no longer listens: its claim on ``room`` is stale."""
        logger.warning("node %s holds %s but is gone; taking the room over", gone, room)
        try:
            await self._release(keys=[_CLAIM_PREFIX + room], args=[gone])
        except RedisError as error:
            raise MediaFailed(f"the relay directory is unreachable: {error}") from error

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            relayed = set(self.media.relayed_rooms())
            for room in list(self._owned):
                try:
                    if room not in relayed:
                        await self._give_up(room)
                    elif not await self._renew(
                        keys=[_CLAIM_PREFIX + room], args=[self.node, self._lease_ms]
                    ):
                        # The lease ran out and another node took the room: ours is a leftover.
                        logger.warning("lost the claim on %s; closing its relay here", room)
                        self._owned.discard(room)
                        await self.media.close_relay(room)
                except RedisError as error:
                    logger.warning("claim on %s not renewed: %s", room, error)

    @property
    def _lease_ms(self) -> int:
        return int(self.lease * 1000)

    # -- forwarding --------------------------------------------------------------------------

    async def _close(self, room: str, request: dict[str, Any]) -> None:
        owner = await self._owner(room, claim=False)
        if owner is None:
            return
        if owner == self.node:
            await self._run(room, request)
            return
        try:
            await self._forward(owner, room, request)
        except RtcError as error:
            # Nothing to give back to the user: the owner closes the peer when its connection
            # fails, and the bridge goes when both are gone.
            logger.warning("%s of %s not forwarded to %s: %s", request["op"], room, owner, error)

    async def _forward(
        self, owner: str | None, room: str, request: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Send ``request`` to ``owner`` and return its result; ``None``: claim again."""
        if owner is None:
            return None  # the lease ran out in between
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        message = {"kind": "request", "id": request_id, "from": self.node, "room": room, **request}
        try:
            try:
                heard = await self._redis.publish(_CHANNEL_PREFIX + owner, json.dumps(message))
            except RedisError as error:
                raise MediaFailed(f"the relay node is unreachable: {error}") from error
            if not heard:
                await self._take_over(room, owner)
                return None
            try:
                reply = await asyncio.wait_for(future, FORWARD_TIMEOUT)
            except TimeoutError as error:
                raise MediaFailed(f"node {owner} did not answer for room {room}") from error
        finally:
            self._waiting.pop(request_id, None)
        error_code = reply.get("error")
        if error_code is not None:
            raise _ERRORS.get(str(error_code), MediaFailed)(str(reply.get("detail", "")))
        result = reply.get("result")
        if result is None:
            return None  # the owner no longer holds the room: claim again
        return result if isinstance(result, dict) else {}

    async def _run(self, room: str, request: dict[str, Any]) -> dict[str, Any]:
        """Carry out a request on this node (it owns the room)."""
        op = request.get("op")
        role = str(request.get("role", ""))
        if op == "answer":
            offer = request.get("offer")
            return await self.media.relay_answer(
                room, role, offer if isinstance(offer, dict) else {}
            )
        if op == "close_role":
            await self.media.close_role(room, role)
        elif op == "close":
            await self.media.close_relay(room)
            await self._give_up(room)
        else:
            raise MediaFailed(f"unknown relay request {op!r}")
        return {}

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except RedisError as error:
                logger.warning("relay channel read failed: %s", error)
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                data = json.loads(message["data"])
            except (TypeError, ValueError):
                logger.warning("unreadable message on %s", self.channel)
                continue
            if not isinstance(data, dict):
                continue
            if data.get("kind") == "reply":
                future = self._waiting.get(str(data.get("id")))
                if future is not None and not future.done():
                    future.set_result(data)
            elif data.get("kind") == "request":
                self._tasks.spawn(self._serve(data), name=f"relay request {data.get('id')}")

    async def _serve(self, request: dict[str, Any]) -> None:
        room = str(request.get("room", ""))
        reply: dict[str, Any] = {"kind": "reply", "id": request.get("id"), "result": None}
        try:
            # A claim that moved on (the lease ran out) gets no result: the asker claims again.
            if room in self._owned or await self._owner(room, claim=False) == self.node:
                reply["result"] = await self._run(room, request)
        except RtcError as error:
            reply.update(error=error.code, detail=str(error))
        except ValueError as error:  # no such role
            reply.update(error=MediaFailed.code, detail=str(error))
        try:
            await self._redis.publish(_CHANNEL_PREFIX + str(request.get("from")), json.dumps(reply))
        except RedisError as error:
            logger.warning("reply to %s lost: %s", request.get("from"), error)
