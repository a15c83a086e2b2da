"""Wiring: ``/consult`` on the hub's Socket.IO server, its media peers closed with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import socketio  # type: ignore[import-untyped]
from aiohttp import web

from portal.services import Portal
from rtc.config import RtcConfig
from rtc.media import MediaPeers
from rtc.namespace import NAMESPACE, ConsultNamespace

CONSULT_KEY = web.AppKey("consult", ConsultNamespace)


def setup_consult(
    app: web.Application,
    server: socketio.AsyncServer,
    portal: Portal,
    config: RtcConfig,
    *,
    session_cookie: str = "mp_session",
) -> ConsultNamespace:
    """Register ``/consult`` on ``server``; every aiortc peer closes when the app stops."""
    namespace = ConsultNamespace(
        portal, MediaPeers(config), config, session_cookie=session_cookie, namespace=NAMESPACE
    )
    server.register_namespace(namespace)
    app[CONSULT_KEY] = namespace
    app.cleanup_ctx.append(_consult_ctx)
    return namespace


async def _consult_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    # Before the Socket.IO server shuts down (cleanup runs in reverse): hang up relayed calls.
    await app[CONSULT_KEY].close()
