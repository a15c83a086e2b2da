"""The application factory: every shared resource opened and closed in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.helpers import BaseTimerContext
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from sqlalchemy import text

from bot.setup import ChatConfig, setup_chat
from hub.assistant import AssistantProject, process_specs
from hub.session_bus import SessionBus
from hub.settings import Settings
from hub.supervisor import Supervisor
from portal.api import PORTAL_KEY, setup_api
from portal.api.framework import BodyTimeout
from portal.clock import Clock
from portal.db import Database, DatabaseUnavailable
from portal.migrate import upgrade
from portal.passwords import Passwords
from portal.seed import extend_slots
from portal.services import Portal
from portal.throttle import RedisStore
from rtc.setup import setup_consult

log = logging.getLogger(__name__)

SETTINGS_KEY = web.AppKey("settings", Settings)
DATABASE_KEY = web.AppKey("database", Database)
HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
STARTED_KEY = web.AppKey("started", float)
SUPERVISOR_KEY = web.AppKey("supervisor", Supervisor)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web_widget"
HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=1.5)
REDIS_TIMEOUT = 3.0
"""Seconds a Redis command (or connection) of the hub's shared client may take."""

PUBLIC_ASSETS = (".js", ".mjs", ".css")
HOUSEKEEPING_EVERY = 600.0
"""Seconds between runs of :meth:`Portal.housekeeping` (expired sessions and reset links)."""
MAX_BODY = 16 * 1024**2
"""The largest request body aiohttp reads (an 8 MB upload with its multipart framing)."""
HSTS = "max-age=63072000; includeSubDomains"
"""Two years, as the HSTS preload list asks (RFC 6797; OWASP ASVS 14.4.5)."""

# Content-Security-Policy of every response (CSP Level 3; OWASP ASVS 14.4.3). The pages load
# only their own modules and stylesheets; nothing inline runs, since no directive allows
# 'unsafe-inline' or 'unsafe-eval', and Trusted Types refuse strings in HTML and script sinks
# (innerHTML, script src, eval) even if a bug tried. 'self' in connect-src covers ws: and wss:
# to this host too (CSP 3, "Does url match expression in origin with redirect count?"), which
# Socket.IO uses.
# img-src allows blob: for the previews of the consultation room's shared pictures (fetched with
# the cookie, then shown from a blob). The camera's picture is a MediaStream (srcObject), which
# media-src does not govern. The embeddable chat widget runs under the host page's policy, not
# this one; what a host needs to allow is in docs/security.md ("CSP and redirects").
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Our pages never need a window of another origin (the room opens shared files as blobs
    # with rel=noopener): a page opened by another site's window.open keeps no handle on it.
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
}


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    passwords: Passwords | None = None,
    database: Database | None = None,
    supervise_assistant: bool = False,
) -> web.Application:
    """Build the hub application; nothing is opened until the app starts.

    With ``supervise_assistant`` the hub also runs Rasa and the action server as its children
    (when ``.venv-bot`` and a trained model exist) and stops them when it stops.
    """
    settings = settings.ensure_secret()
    app = web.Application(
        client_max_size=MAX_BODY,
        # aiohttp has no timeout of its own for a request's headers, but since 3.10 its
        # keep-alive timer runs from the connection's start and closes a connection still
        # waiting for a complete request head: a header deadline (slowloris).
        handler_args={"keepalive_timeout": settings.header_timeout},
    )
    app[SETTINGS_KEY] = settings
    app.middlewares.append(_body_timeout_middleware)
    db = database or Database(settings.database_url)
    app[DATABASE_KEY] = db
    # With Redis, every node counts attempts in one place (the database would too, at the price
    # of a write transaction per attempt).
    throttle_store = (
        RedisStore(lambda: app[REDIS_KEY], settings.secret.reveal()) if settings.redis_url else None
    )
    portal = Portal(
        db,
        settings.portal_config(),
        clock=clock,
        passwords=passwords,
        throttle_store=throttle_store,
    )
    if settings.trust_proxy:
        app.middlewares.append(_forwarded_middleware)
    app.middlewares.append(_security_headers_middleware)
    setup_api(app, portal)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_http_ctx)
    if settings.redis_url:
        app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(_sessions_ctx)
    app.cleanup_ctx.append(_housekeeping_ctx)
    chat = ChatConfig(settings.rasa_url, settings.chat_origins(), redis_url=settings.redis_url)
    server = setup_chat(app, portal, chat, http=lambda: app[HTTP_KEY])
    setup_consult(app, server, portal, settings.rtc_config(), redis_url=settings.redis_url)
    if supervise_assistant:
        app.cleanup_ctx.append(_assistant_ctx)
    app.router.add_get("/healthz", healthz, name="healthz")
    if WEB_ROOT.is_dir():
        app.router.add_get("/", _index)
        app.router.add_static("/", WEB_ROOT, name="web", append_version=False)
    return app


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    db = app[DATABASE_KEY]
    await upgrade(db)
    await extend_slots(app[PORTAL_KEY])
    await app[PORTAL_KEY].documents.sweep()  # what a killed hub left of its uploads
    app[STARTED_KEY] = time.monotonic()
    yield
    await app[PORTAL_KEY].drain()  # mail begun after an answer still needs the database
    await db.close()


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    # One ClientSession for the whole app (aiohttp's advice): health checks, Rasa, actions.
    session = aiohttp.ClientSession()
    app[HTTP_KEY] = session
    yield
    await session.close()


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS_KEY].redis_url
    assert url is not None
    # Bounded, like the database: a stalled Redis fails a command (the throttle then refuses
    # with 503) instead of hanging the request. The session bus polls with shorter timeouts.
    client = aioredis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    app[REDIS_KEY] = client
    yield
    await client.aclose()


async def _sessions_ctx(app: web.Application) -> AsyncIterator[None]:
    # The sockets' session watch, and with Redis the bus that carries ends of sessions to the
    # other nodes; torn down after the Socket.IO server (whose context comes later).
    auth = app[PORTAL_KEY].auth
    bus = SessionBus(app[REDIS_KEY], auth) if REDIS_KEY in app else None
    if bus is not None:
        await bus.start()
    yield
    if bus is not None:
        await bus.close()
    await auth.watch.close()


async def _housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    # Expired sessions and reset links are deleted in the background: at start, then every
    # HOUSEKEEPING_EVERY seconds, until the app stops (after the session bus is up, since an
    # ended session is announced to the other nodes).
    # A run is never cancelled half way (a query cancelled in asyncpg can leave its pooled
    # connection unusable and the pool's close hanging): stopping waits for the run to end.
    portal = app[PORTAL_KEY]
    stop = asyncio.Event()

    async def every_while() -> None:
        while not stop.is_set():
            try:
                await portal.housekeeping()
            except Exception:
                log.exception("housekeeping failed; trying again in %s s", HOUSEKEEPING_EVERY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HOUSEKEEPING_EVERY)

    task = asyncio.create_task(every_while(), name="housekeeping")
    yield
    stop.set()
    await task


async def _assistant_ctx(app: web.Application) -> AsyncIterator[None]:
    project = AssistantProject()
    model = project.model_path() if project.project_available() else None
    if not project.runtime_available() or model is None or not model.exists():
        log.warning(
            "assistant not started: %s",
            "no .venv-bot (python3.10 missing?)"
            if not project.runtime_available()
            else "no trained model (run `python -m hub train`)",
        )
        yield
        return
    supervisor = Supervisor(process_specs(app[SETTINGS_KEY], project, model), app[HTTP_KEY])
    app[SUPERVISOR_KEY] = supervisor
    supervisor.start()
    yield
    await supervisor.stop()


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(WEB_ROOT / "index.html")


async def healthz(request: web.Request) -> web.Response:
    """Each component's state; 200 while the hub itself serves (the portal needs only the db)."""
    app = request.app
    settings = app[SETTINGS_KEY]
    checks: dict[str, Awaitable[dict[str, Any]]] = {
        "db": _check_db(app[DATABASE_KEY]),
        "rasa": _check_http(app[HTTP_KEY], f"{settings.rasa_url}/"),
        "actions": _check_http(app[HTTP_KEY], f"{settings.actions_url}/health"),
    }
    if REDIS_KEY in app:
        checks["redis"] = _check_redis(app[REDIS_KEY])
    results = await asyncio.gather(*checks.values())
    components = dict(zip(checks, results, strict=True))
    supervisor = app.get(SUPERVISOR_KEY)
    for name in ("rasa", "actions"):
        if supervisor is not None and name in supervisor.states:
            components[name]["process"] = supervisor.states[name].as_json()
    status = "ok" if all(c["status"] == "ok" for c in components.values()) else "degraded"
    if components["db"]["status"] != "ok":
        status = "down"
    return web.json_response(
        {
            "status": status,
            "components": components,
            "uptime_seconds": round(time.monotonic() - app.get(STARTED_KEY, time.monotonic()), 1),
        },
        status=503 if status == "down" else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _check_db(db: Database) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        # Bounded like the other probes: a stalled database must not stall the health check.
        async with asyncio.timeout(HEALTH_TIMEOUT.total), db.read() as session:
            await session.execute(text("SELECT 1"))
    except DatabaseUnavailable as error:
        return {"status": "down", "error": error.reason}
    except Exception as error:  # reported, not hidden: the component is down
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok", "backend": db.engine.dialect.name, "ms": _ms(started)}


async def _check_redis(client: aioredis.Redis) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(client.ping(), 1.5)
    except Exception as error:
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok", "ms": _ms(started)}


async def _check_http(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with session.get(url, timeout=HEALTH_TIMEOUT) as response:
            ok = response.status < 500
    except (aiohttp.ClientError, TimeoutError) as error:
        return {"status": "unavailable", "error": type(error).__name__}
    return {"status": "ok" if ok else "unavailable", "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class _ChunkDeadline(BaseTimerContext):
    """Bounds each wait for the next piece of one request's body, and the whole body.

    aiohttp's ``StreamReader`` enters its timer around every wait for more bytes; this one
    fails the stream with :class:`BodyTimeout` when no byte came within ``seconds``, or when
    the body is still unfinished at ``deadline`` (loop time): a client dripping a byte every few
    seconds never stalls a single wait, so only a bound on the whole catches it. Every reader
    of the body (JSON operations, multipart uploads, Socket.IO's long polling, the server's own
    draining after a response) is bounded alike.
    """

    def __init__(self, stream: StreamReader, seconds: float, deadline: float) -> None:
        self._stream = stream
        self._seconds = seconds
        self._deadline = deadline
        self._handle: asyncio.TimerHandle | None = None

    def assert_timeout(self) -> None:
        """Nothing to check between waits: only a wait can time out."""

    def __enter__(self) -> BaseTimerContext:
        loop = asyncio.get_running_loop()
        wait = max(0.0, min(self._seconds, self._deadline - loop.time()))
        self._handle = loop.call_later(wait, self._expire)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle = None
        self._stream.set_exception(BodyTimeout("request body too slow"))


@web.middleware
async def _body_timeout_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # A stalled upload must not hold a connection (and a handler) forever: the slow-body
    # variant of slowloris. aiohttp bounds no body read on the server side by itself.
    if request.body_exists and isinstance(request.content, StreamReader):
        settings = request.app[SETTINGS_KEY]
        length = request.content_length or MAX_BODY
        allowed = settings.body_timeout + length / settings.body_min_rate
        request.content._timer = _ChunkDeadline(
            request.content,
            settings.body_timeout,
            asyncio.get_running_loop().time() + allowed,
        )
    try:
        return await handler(request)
    except BodyTimeout:
        # Under /api/ the problems middleware answers first; this is for the rest (Socket.IO).
        return web.Response(status=408, text="request timeout", headers={"Connection": "close"})


@web.middleware
async def _security_headers_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:  # a static 404, a 405: still a response to protect
        _protect(request, error)
        raise
    _protect(request, response)
    return response


def _protect(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        # Only reached over https: behind HUB_TRUST_PROXY=1 when the proxy says so.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    public_asset = request.path.endswith(PUBLIC_ASSETS) and not request.path.startswith("/api/")
    if public_asset:
        # The widget's modules are public, credential-free assets: other sites that embed it
        # load them cross-origin (module scripts need CORS). Its socket still obeys
        # ALLOWED_ORIGINS.
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    elif "no-store" not in response.headers.get("Cache-Control", ""):
        # Everything else may carry medical data or show it (API answers, downloads, Socket.IO
        # polling, /healthz, and pages, whose DOM a back button would restore from the
        # back/forward cache after logout): no cache keeps a copy (RFC 9111, 5.2.2.5).
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def _forwarded_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # Only with HUB_TRUST_PROXY=1: a reverse proxy terminates TLS and names the client.
    # The proxy appends what it saw to the end of each list; earlier entries are whatever the
    # client sent, so only the last ones are trusted.
    scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip()
    remote = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    changes: dict[str, Any] = {}
    if scheme in ("http", "https"):
        changes["scheme"] = scheme
    if remote:
        changes["remote"] = remote
    return await handler(request.clone(**changes) if changes else request)


def configure_logging(level: str) -> None:
    """Plain, timestamped logs on stderr; a client's malformed request is one warning line."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.server").addFilter(MalformedRequestFilter())


class MalformedRequestFilter(logging.Filter):
    """Logs a request aiohttp's parser refused (a smuggling probe, a scanner) as one warning.

    aiohttp logs each as an error with a traceback: ten lines of our logs per bad request that
    anyone can send, and the fault is the client's, not the hub's. The record keeps the client's
    address and the parser's reason (its first line; the rest quotes the raw bytes).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place when it reports a malformed request; keep every record."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = str(error.message).strip().splitlines()[0] if error.message else ""
            record.msg = f"{record.getMessage()}: malformed request ({error.code} {reason})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True
