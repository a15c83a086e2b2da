"""Wiring: the Socket.IO server on the hub's aiohttp app, opened and closed with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import socketio  # type: ignore[import-untyped]
from aiohttp import web

from bot.namespace import NAMESPACE, ChatNamespace
from bot.rasa import RASA_TIMEOUT, RasaClient
from portal.services import Portal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatConfig:
    """How the chat bridge is set up."""

    rasa_url: str
    """Base URL of the Rasa server (its REST channel is under ``/webhooks/rest/webhook``)."""
    allowed_origins: Sequence[str]
    """Origins whose pages may open ``/chat`` (the CORS and WebSocket Origin allowlist)."""
    redis_url: str | None = None
    """Set when several hub nodes share the chat through Redis (``AsyncRedisManager``)."""
    channel: str = "medportal-chat"
    """The Redis pub/sub channel the nodes talk on."""
    session_cookie: str = "mp_session"
    """Name of the portal's session cookie."""
    rasa_timeout: float = RASA_TIMEOUT
    """Seconds Rasa may take to answer one message."""


PUBLISH_TIMEOUT = 2.0
"""Seconds a Socket.IO message may take to reach Redis on its way to the other nodes."""


class BoundedRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """``AsyncRedisManager`` whose publishing cannot hang on a stalled Redis.

    The manager delivers to this node's sockets first and then publishes for the others; a
    publish that hangs would hold the answer task that emitted it (its later replies, the end
    of "typing"). Bounded, the other nodes miss that message (logged), and the next publish
    reconnects. No socket timeout is set on the client itself: its subscriber blocks, idle,
    on purpose.
    """

    async def _publish(self, data: Any) -> Any:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                return await super()._publish(data)
        except TimeoutError:
            self.connected = False
            log.error(
                "Redis took no Socket.IO message within %.0f s: other nodes miss it",
                PUBLISH_TIMEOUT,
            )
            return None


SOCKETIO_KEY = web.AppKey("socketio", socketio.AsyncServer)
CHAT_KEY = web.AppKey("chat", ChatNamespace)


def setup_chat(
    app: web.Application,
    portal: Portal,
    config: ChatConfig,
    http: Callable[[], aiohttp.ClientSession],
) -> socketio.AsyncServer:
    """Attach ``/chat`` to ``app``; ``http`` returns the app's one ``ClientSession``."""
    manager = (
        BoundedRedisManager(config.redis_url, channel=config.channel)
        if config.redis_url
        else socketio.AsyncManager()
    )
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=list(config.allowed_origins),
        cors_credentials=True,
        # The JSON of one message is small; 64 KiB leaves room without inviting floods.
        max_http_buffer_size=64 * 1024,
    )
    namespace = ChatNamespace(
        portal,
        RasaClient(http, config.rasa_url, config.rasa_timeout),
        session_cookie=config.session_cookie,
        namespace=NAMESPACE,
        single_node=config.redis_url is None,
    )
    server.register_namespace(namespace)
    server.attach(app)
    app[SOCKETIO_KEY] = server
    app[CHAT_KEY] = namespace
    app.cleanup_ctx.append(_chat_ctx)
    return server


async def _chat_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    server = app[SOCKETIO_KEY]
    await app[CHAT_KEY].close()
    await server.shutdown()
    manager = server.manager
    listener = getattr(manager, "thread", None)
    if listener is not None:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    for resource in (getattr(manager, "pubsub", None), getattr(manager, "redis", None)):
        if resource is not None:
            await resource.aclose()
