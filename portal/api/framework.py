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

from aiohttp import web
from pydantic import BaseModel, ValidationError

from portal.access import Principal
from portal.errors import AccessDenied, AuthenticationRequired, NotFound, PortalError
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
        if operation.authenticated:
            if principal is None:
                raise request.get(AUTH_ERROR_KEY) or AuthenticationRequired()
            if operation.roles and principal.role not in operation.roles:
                raise AccessDenied("role_forbidden")
            if (
                request.method in UNSAFE_METHODS
                and principal.via == "session"
                and not operation.csrf_exempt
            ):
                _check_csrf(request)
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
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise PortalError("payload_too_large")
    raw = await request.content.read(MAX_JSON_BODY + 1)
    if len(raw) > MAX_JSON_BODY:
        raise PortalError("payload_too_large")
    return _validate(model, parse_json(raw), "body")


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
    cookie = request.cookies.get(request.app[SESSION_COOKIE_KEY])
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


def cookie_from_environ(environ: Mapping[str, Any], name: str) -> str | None:
    """A cookie of a Socket.IO handshake (its WSGI-like ``environ``), or None.

    Under aiohttp the request is there and its lenient parser is used: one malformed cookie of
    another site spoils nothing; otherwise the raw ``Cookie`` header is parsed.
    """
    request = environ.get("aiohttp.request")
    if isinstance(request, web.BaseRequest):
        value = request.cookies.get(name)
        return value or None
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
