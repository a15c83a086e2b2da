"""Wiring: ``/consult`` on the hub's Socket.IO server, its media peers closed with the app, and
with Redis (several nodes) the relay cluster that pins each relayed room to one node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import redis.asyncio as aioredis
import socketio  # type: ignore[import-untyped]
from aiohttp import web

from portal.services import Portal
from rtc.cluster import RelayCluster
from rtc.config import RtcConfig
from rtc.media import MediaPeers
from rtc.namespace import NAMESPACE, ConsultNamespace, participants
from rtc.presence import Presence, SharedPresence

CONSULT_KEY = web.AppKey("consult", ConsultNamespace)
CLUSTER_KEY = web.AppKey("relay_cluster", RelayCluster)
REDIS_KEY = web.AppKey("consult_redis", aioredis.Redis)


def setup_consult(
    app: web.Application,
    server: socketio.AsyncServer,
    portal: Portal,
    config: RtcConfig,
    *,
    redis_url: str | None = None,
    session_cookie: str = "mp_session",
) -> ConsultNamespace:
    """Register ``/consult`` on ``server``; every aiortc peer closes when the app stops.

    With ``redis_url`` (several hub nodes) relay events go to the node that relays the room,
    and presence in a room counts the sockets of every node.
    """
    media = MediaPeers(config)
    cluster: RelayCluster | None = None
    presence: Presence | None = None
    if redis_url:
        # One client for the relay cluster and presence, closed after both.
        redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        app[REDIS_KEY] = redis
        cluster = RelayCluster(media, redis)
        presence = SharedPresence(partial(_here, server), redis, cluster.node)
    namespace = ConsultNamespace(
        portal,
        media,
        config,
        relays=cluster,
        presence=presence,
        session_cookie=session_cookie,
        namespace=NAMESPACE,
    )
    server.register_namespace(namespace)
    app[CONSULT_KEY] = namespace
    if cluster is not None:
        app[CLUSTER_KEY] = cluster
    app.cleanup_ctx.append(_consult_ctx)
    return namespace


async def _consult_ctx(app: web.Application) -> AsyncIterator[None]:
    namespace = app[CONSULT_KEY]
    cluster = app.get(CLUSTER_KEY)
    await namespace.presence.start()
    if cluster is not None:
        await cluster.start()
    yield
    # Before the Socket.IO server shuts down (cleanup runs in reverse): hang up relayed calls,
    # then give up this node's claims and presence so that other nodes know at once.
    await namespace.close()
    if cluster is not None:
        await cluster.close()
    await namespace.presence.close()
    redis = app.get(REDIS_KEY)
    if redis is not None:
        await redis.aclose()


def _here(server: socketio.AsyncServer, room: str) -> bool:
    """Whether ``room`` of ``/consult`` has a connected socket on this node."""
    return bool(participants(server, NAMESPACE, room))
