"""The REST API of the portal under ``/api/v1`` (problem+json errors, OpenAPI 3.1)."""

from __future__ import annotations

from aiohttp import web

from portal.services import Portal

from . import accounts, appointments, catalogue, consultations, desk, documents, records
from .framework import (
    API_PREFIX,
    PORTAL_KEY,
    SESSION_COOKIE_KEY,
    Router,
    auth_middleware,
    install,
    problems_middleware,
    unknown_api_path,
)
from .openapi import build_on_startup, openapi_handler

ROUTERS: list[Router] = [
    accounts.router,
    catalogue.router,
    appointments.router,
    records.router,
    desk.router,
    documents.router,
    consultations.router,
]

__all__ = ["PORTAL_KEY", "ROUTERS", "setup_api"]


def setup_api(
    app: web.Application,
    portal: Portal,
    routers: list[Router] | None = None,
    session_cookie: str = "mp_session",
) -> None:
    """Mount the API on ``app``: middlewares, operations and the OpenAPI document."""
    app[PORTAL_KEY] = portal
    app[SESSION_COOKIE_KEY] = session_cookie
    app.middlewares.append(problems_middleware)
    app.middlewares.append(auth_middleware)
    install(app, routers or ROUTERS)
    app.router.add_get(API_PREFIX + "/openapi.json", openapi_handler, name="openapi")
    app.on_startup.append(build_on_startup)
    # Anything else under /api/ is a problem+json 404, not the static files' answer.
    app.router.add_route("*", "/api/{tail:.*}", unknown_api_path)
