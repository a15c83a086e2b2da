"""A small typed layer over aiohttp: operations declared once, validated and documented alike.

An operation is an async function whose parameters say what it needs: ``body`` and ``query``
annotated with pydantic models, path parameters named as in the path, ``principal`` for the
authenticated caller, ``portal`` for the services, ``request`` for the raw request and
``language`` for the negotiated one. Its return annotation is the response model. The same
annotations validate requests and generate the OpenAPI document (:mod:`portal.api.openapi`).
"""

from __future__ import annotations

import hmac
import inspect
import logging
import typing
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

from aiohttp import hdrs, web
from pydantic import BaseModel, ValidationError

from portal.access import Principal
from portal.errors import (
    AccessDenied,
    AuthenticationRequired,
    NotFound,
    PayloadTooLarge,
    PortalError,
    UnsupportedMediaType,
)
from portal.i18n import negotiate
from portal.models import Role
from portal.services import Portal

from .problems import from_portal_error, from_validation_error, parse_json, problem_response

log = logging.getLogger(__name__)

PORTAL_KEY = web.AppKey("portal", Portal)
OPERATIONS_KEY = web.AppKey("operations", list["Operation"])
SESSION_COOKIE_KEY = web.AppKey("session_cookie", str)
PRINCIPAL_KEY = web.RequestKey("principal", Principal)
AUTH_ERROR_KEY = web.RequestKey("auth_error", PortalError)
CSRF_KEY = web.RequestKey("csrf_token", str)
LANGUAGE_KEY = web.RequestKey("language", str)

API_PREFIX = "/api/v1"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_JSON_BODY = 64 * 1024
MAX_JSON_DEPTH = 32
"""Arrays and objects nested deeper than this are refused before parsing: the parser recurses,
and 30 000 levels would exhaust the stack (OWASP ASVS 5.5.3, deserialisation of untrusted data).
Our bodies are at most a few levels deep."""


class BodyTimeout(TimeoutError):
    """The client stopped sending a request body: no new bytes within the body timeout.

    Raised inside whatever reads the body (a JSON operation, a multipart upload, Socket.IO's
    polling); answered ``408 request_timeout`` and the connection is closed.
    """


@dataclass(frozen=True)
class Operation:
    """One REST operation: route, models and documentation."""

    operation_id: str
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    summary: str
    tag: str
    status: int = 200
    authenticated: bool = True
    roles: tuple[Role, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    path_params: dict[str, type] = field(default_factory=dict)
    problems: tuple[int, ...] = ()
    raw_body: dict[str, Any] | None = None
    """OpenAPI requestBody for operations that read the body themselves (multipart)."""
    raw_response: dict[str, Any] | None = None
    """OpenAPI content of a non-JSON success response (a file download)."""
    csrf_exempt: bool = False


class Router:
    """Collects the operations of one topic; :func:`install` mounts them on the app."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        operation_id: str,
        *,
        summary: str,
        status: int = 200,
        authenticated: bool = True,
        roles: tuple[Role, ...] = (),
        problems: tuple[int, ...] = (),
        raw_body: dict[str, Any] | None = None,
        raw_response: dict[str, Any] | None = None,
        csrf_exempt: bool = False,
        response: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        """Declare the decorated function as the operation ``operation_id``.

        ``response`` names the response model when the function builds its own response.
        """

        def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            hints = typing.get_type_hints(handler)
            returns = hints.get("return")
            names = [n.strip("{}") for n in path.split("/") if n.startswith("{")]
            self.operations.append(
                Operation(
                    operation_id=operation_id,
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=self.tag,
                    status=status,
                    authenticated=authenticated,
                    roles=roles,
                    body=_model(hints.get("body")),
                    query=_model(hints.get("query")),
                    response=response or _model(returns),
                    path_params={name: hints.get(name, str) for name in names},
                    problems=problems,
                    raw_body=raw_body,
                    raw_response=raw_response,
                    csrf_exempt=csrf_exempt,
                )
            )
            return handler

        return register


def _model(annotation: Any) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    return None


def install(app: web.Application, routers: list[Router]) -> None:
    """Add every operation of ``routers`` to ``app`` under ``/api/v1``."""
    operations = app.setdefault(OPERATIONS_KEY, [])
    for router in routers:
        for operation in router.operations:
            operations.append(operation)
            app.router.add_route(
                operation.method,
                API_PREFIX + operation.path,
                _endpoint(operation),
                name=operation.operation_id,
            )


def _endpoint(operation: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    parameters = inspect.signature(operation.handler).parameters

    async def endpoint(request: web.Request) -> web.StreamResponse:
        arguments: dict[str, Any] = {}
        principal = request.get(PRINCIPAL_KEY)
        if request.method in UNSAFE_METHODS and (principal is None or principal.via != "token"):
            # What a browser may send on its own: the cookie, and anonymous forms (login,
            # register). A bearer token is never attached by a browser, so it needs neither check.
            check_same_origin(request)
        if operation.authenticated:
            if principal is None:
                raise request.get(AUTH_ERROR_KEY) or AuthenticationRequired()
            if (
                request.method in UNSAFE_METHODS
                and principal.via == "session"
                and not operation.csrf_exempt
            ):
                # Before the role check: a forged request is refused as forged, whatever it asks.
                _check_csrf(request)
            if operation.roles and principal.role not in operation.roles:
                raise AccessDenied("role_forbidden")
        for name in parameters:
            if name == "request":
                arguments[name] = request
            elif name == "portal":
                arguments[name] = request.app[PORTAL_KEY]
            elif name == "principal":
                arguments[name] = principal
            elif name == "language":
                arguments[name] = request[LANGUAGE_KEY]
            elif name == "body" and operation.body is not None:
                arguments[name] = await _read_body(request, operation.body)
            elif name == "query" and operation.query is not None:
                arguments[name] = _validate(operation.query, dict(request.query), "query")
            elif name in operation.path_params:
                arguments[name] = _path_value(request, name, operation.path_params[name])
        result = await operation.handler(**arguments)
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=204 if operation.status == 200 else operation.status)
        assert isinstance(result, BaseModel)
        return json_response(result, operation.status)

    return endpoint


async def unknown_api_path(request: web.Request) -> web.StreamResponse:
    """Every request under ``/api/`` that no operation took: 405 with Allow, or 404."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is request.match_info.route.resource or not resource.canonical.startswith(
            API_PREFIX
        ):
            continue
        match, methods = await resource.resolve(request)
        if match is None:
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
    raise NotFound()


def json_response(model: BaseModel, status: int = 200) -> web.Response:
    """``model`` as a JSON response."""
    return web.Response(
        status=status, text=model.model_dump_json(), content_type="application/json"
    )


async def _read_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    declared = request.headers.get(hdrs.CONTENT_TYPE)
    if declared is not None and not is_json_media_type(request.content_type, request.charset):
        # Refusing every other type also closes login CSRF through a cross-site
        # <form enctype="text/plain">, which a browser sends without a CORS preflight.
        raise UnsupportedMediaType("json_required")
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise PayloadTooLarge("payload_too_large")
    # Read to the end of the body: one read returns only what has arrived so far, and a body
    # may come in several TCP segments (a slow mobile link). A chunked body has no length to
    # check up front, so the bound is kept while reading.
    raw = bytearray()
    async for chunk in request.content.iter_any():
        raw += chunk
        if len(raw) > MAX_JSON_BODY:
            raise PayloadTooLarge("payload_too_large")
    if raw and declared is None:
        raise UnsupportedMediaType("json_required")
    if nesting_exceeds(raw, MAX_JSON_DEPTH):
        raise PortalError("json_too_deep")
    return _validate(model, parse_json(bytes(raw)), "body")


def is_json_media_type(media_type: str, charset: str | None) -> bool:
    """Whether a request's Content-Type is JSON: ``application/json`` or a structured syntax
    suffix ``application/*+json`` (RFC 6839), in UTF-8 (RFC 8259, section 8.1)."""
    media_type = media_type.lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return False
    return charset is None or charset.lower() in ("utf-8", "utf8")


def nesting_exceeds(raw: bytes | bytearray, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects deeper than ``limit``.

    One pass that skips strings; it needs no valid JSON (the parser judges that afterwards).
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, where) from None


def _path_value(request: web.Request, name: str, kind: type) -> Any:
    raw = request.match_info[name]
    if kind is uuid.UUID:
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise NotFound() from None
    return raw


CROSS_SITE_FETCHES = frozenset({"cross-site", "same-site"})
"""``Sec-Fetch-Site`` values of a request started by another origin's page (Fetch Metadata)."""


def check_same_origin(request: web.Request) -> None:
    """Refuse a state-changing request that another site's page made the browser send.

    The second defence beside the ``X-CSRF-Token`` synchroniser token, and the only one for
    login and registration, which have no session yet (login CSRF). Browsers name the page's
    origin in ``Origin`` on every cross-origin POST, PUT, PATCH and DELETE, and newer ones the
    relation in ``Sec-Fetch-Site`` (OWASP CSRF Prevention Cheat Sheet, "Verifying origin with
    standard headers" and "Fetch Metadata headers"). API clients send neither and pass.
    """
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() in CROSS_SITE_FETCHES:
        raise AccessDenied("cross_site_request")
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return
    if origin.strip().rstrip("/").lower() not in _own_origins(request):
        raise AccessDenied("cross_site_request")  # "null" (sandboxed, file:) included


def _own_origins(request: web.Request) -> set[str]:
    """The hub's own origins: as this request reached it, and as PUBLIC_URL names it."""
    own = {f"{request.scheme}://{request.host}".lower()}
    public = request.app[PORTAL_KEY].config.public_url
    if "://" in public:
        scheme, rest = public.split("://", 1)
        own.add(f"{scheme}://{rest.split('/', 1)[0]}".lower())
    return own


def _check_csrf(request: web.Request) -> None:
    expected = request.get(CSRF_KEY)
    given = request.headers.get("X-CSRF-Token", "")
    # Compared as bytes: compare_digest refuses non-ASCII str, and a header may carry any.
    if not expected or not hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "surrogateescape")
    ):
        raise AccessDenied("csrf_failed")


@web.middleware
async def problems_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn every error under ``/api/`` into problem+json; log what was unexpected."""
    language = negotiate(request.headers.get("Accept-Language"))
    request[LANGUAGE_KEY] = language
    try:
        response = await handler(request)
    except BodyTimeout:
        if not request.path.startswith("/api/"):
            raise
        return problem_response(
            408, "request_timeout", language, instance=request.path, headers={"Connection": "close"}
        )
    except PortalError as error:
        if error.code == "role_forbidden" and not error.audited:
            await _audit_role_refusal(request)
        return from_portal_error(error, language, request.path)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            error.status, "bad_request"
        )
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return problem_response(
            error.status, code, language, instance=request.path, headers=headers
        )
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem_response(500, "internal_error", language, instance=request.path)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _audit_role_refusal(request: web.Request) -> None:
    """Record an operation refused to the caller's role (a physician asking for a patient's
    booking list, say): a denial like any other, though no object was touched yet."""
    principal = request.get(PRINCIPAL_KEY)
    if principal is None:
        return
    await request.app[PORTAL_KEY].record_role_refusal(
        principal,
        request.match_info.route.name,  # the operationId
        request.method.lower(),
        {"path": request.path},
    )


@web.middleware
async def auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Resolve the caller from a bearer token or the session cookie, before the handler runs.

    Failures are remembered, not raised: anonymous operations (register, login) still work with
    a stale cookie, and authenticated ones raise the remembered reason.
    """
    portal = request.app[PORTAL_KEY]
    authorization = request.headers.get("Authorization", "")
    cookie = request.cookies.get(session_cookie_name(request, request.app[SESSION_COOKIE_KEY]))
    try:
        if authorization.lower().startswith("bearer "):
            request[PRINCIPAL_KEY] = await portal.auth.authenticate_token(authorization[7:].strip())
        elif cookie:
            principal, session = await portal.auth.authenticate_session(cookie)
            request[PRINCIPAL_KEY] = principal
            request[CSRF_KEY] = session.csrf_token
    except AuthenticationRequired as error:
        request[AUTH_ERROR_KEY] = error
    return await handler(request)


HOST_PREFIX = "__Host-"


def session_cookie_name(request: web.BaseRequest, name: str) -> str:
    """The session cookie's name on this request's scheme: ``__Host-<name>`` over https.

    The ``__Host-`` prefix makes browsers accept the cookie only with Secure, Path=/ and no
    Domain, so neither a sibling subdomain nor a plain-http page can plant or shadow it
    (RFC 6265bis, section 4.1.3.2; OWASP ASVS 3.4.4). Plain http (the hub on loopback, for
    development and tests) cannot carry a Secure cookie and keeps the bare name. Each scheme
    reads only its own name: over https a bare cookie is someone else's planting.
    """
    return HOST_PREFIX + name if request.secure else name


def set_session_cookie(
    response: web.StreamResponse, request: web.BaseRequest, name: str, value: str, max_age: int
) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Path=/, Secure and ``__Host-`` on https."""
    response.set_cookie(
        session_cookie_name(request, name),
        value,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        path="/",
        max_age=max_age,
    )


def clear_session_cookie(response: web.StreamResponse, request: web.BaseRequest, name: str) -> None:
    """Expire the session cookie (with the attributes a ``__Host-`` cookie must carry)."""
    response.del_cookie(
        session_cookie_name(request, name),
        path="/",
        secure=request.secure,
        httponly=True,
        samesite="Lax",
    )


def cookie_from_environ(environ: Mapping[str, Any], name: str) -> str | None:
    """The session cookie ``name`` of a Socket.IO handshake (its WSGI-like ``environ``), or None.

    The name follows the scheme as for REST requests (:func:`session_cookie_name`). Under
    aiohttp the request is there and its lenient parser is used: one malformed cookie of
    another site spoils nothing; otherwise the raw ``Cookie`` header is parsed.
    """
    request = environ.get("aiohttp.request")
    if isinstance(request, web.BaseRequest):
        value = request.cookies.get(session_cookie_name(request, name))
        return value or None
    if environ.get("wsgi.url_scheme") == "https":
        name = HOST_PREFIX + name
    raw = environ.get("HTTP_COOKIE")
    if not isinstance(raw, str) or not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None
