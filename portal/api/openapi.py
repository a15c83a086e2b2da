"""The OpenAPI 3.1 document, generated from the registered operations and their models."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .framework import API_PREFIX, OPERATIONS_KEY, UNSAFE_METHODS, Operation
from .problems import PROBLEM_CONTENT_TYPE, Problem

REF = "#/components/schemas/{model}"
STATUS_TEXT = {
    400: "Malformed request (invalid JSON, an interrupted upload).",
    408: "The body stopped arriving; the connection is closed.",
    401: "Not logged in, or the session or token expired.",
    403: "Not allowed (role, access level, referral, limit, CSRF, another site's page).",
    404: "No such object, or not one the caller may see.",
    409: "Conflicts with the current state (slot taken, appointment not active).",
    413: "The body or the uploaded file is too large.",
    415: "The uploaded file's content is not an accepted type.",
    422: "Invalid input; `errors` names each field.",
    429: "Too many attempts in a short time; see Retry-After.",
    503: "A part the portal needs (the database) cannot be reached now; see Retry-After.",
    507: "No room left to store the file; nothing of it was kept.",
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again (RFC 9110, section 10.2.3).",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme that would work (RFC 9110, section 11.6.1).",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}


def build_openapi(operations: list[Operation], title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``operations``."""
    # Request models are documented as they validate, responses as they serialise.
    modes: dict[type[BaseModel], JsonSchemaMode] = {Problem: "serialization"}
    for op in operations:
        if op.body is not None:
            modes[op.body] = "validation"
        if op.response is not None:
            modes[op.response] = "serialization"
    ordered = sorted(modes.items(), key=lambda item: item[0].__name__)
    _, schema = models_json_schema(ordered, ref_template=REF)
    components = dict(schema.get("$defs", {}))
    for op in operations:
        if op.query is not None:
            # Query models' nested types (enums) are referenced from their parameters.
            components.update(op.query.model_json_schema(ref_template=REF).get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op),
            "responses": _responses(op),
        }
        if op.authenticated:
            item["security"] = [{"cookieSession": []}, {"bearerToken": []}]
        else:
            item["security"] = [{}]
        if op.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
                },
            }
        elif op.raw_body is not None:
            item["requestBody"] = op.raw_body
        if op.roles:
            item["x-roles"] = [role.value for role in op.roles]
        paths.setdefault(API_PREFIX + op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "cookieSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "mp_session",
                    "description": "Set by login. Over https its name is __Host-mp_session "
                    "(Secure, Path=/, no Domain); state-changing requests with it also send "
                    "the login's csrf_token in X-CSRF-Token.",
                },
                "bearerToken": {"type": "http", "scheme": "bearer"},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"}
            if kind.__name__ == "UUID"
            else {"type": "string"},
        }
        for name, kind in op.path_params.items()
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    parameters.append(
        {
            "name": "Accept-Language",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "examples": ["pl", "en"]},
            "description": "pl (default) or en: the language of messages and names.",
        }
    )
    return parameters


def _responses(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {
            "description": "Success.",
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=op.response.__name__)}}
            },
        }
    elif op.raw_response is not None:
        responses[str(op.status)] = {"description": "Success.", "content": op.raw_response}
    else:
        responses[str(op.status)] = {"description": "Success, no content."}
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}}
    for status in sorted(error_statuses(op)):
        responses[str(status)] = {
            "description": STATUS_TEXT.get(status, "Unexpected error."),
            "content": problem,
        }
        if status in ERROR_HEADERS:
            responses[str(status)]["headers"] = ERROR_HEADERS[status]
    return responses


def error_statuses(op: Operation) -> set[int]:
    """Every error status ``op`` can answer: those it declares, and those the framework itself
    gives before or around the handler (see :func:`portal.api.framework._endpoint`)."""
    # Any operation may meet a database that is down (portal.db: DatabaseUnavailable).
    statuses = {*op.problems, 500, 503}
    if op.body is not None:
        # Not JSON or nested too deep (400), stalled (408), over the JSON body limit (413),
        # not declared as JSON (415), fields wrong (422).
        statuses |= {400, 408, 413, 415, 422}
    if op.raw_body is not None:
        statuses.add(408)  # an upload that stalls
    if op.query is not None:
        statuses.add(422)  # a wrong or unknown query parameter
    if op.method in UNSAFE_METHODS:
        statuses.add(403)  # sent by another site's page (cross_site_request)
    if op.authenticated:
        statuses.add(401)
        if op.roles:
            statuses.add(403)  # another role's operation
    if uuid.UUID in op.path_params.values():
        statuses.add(404)  # a path id that is not a UUID names nothing
    return statuses


OPENAPI_KEY = web.AppKey("openapi", str)


async def build_on_startup(app: web.Application) -> None:
    """Build the document once, before the app serves (app state is frozen after start-up)."""
    document = build_openapi(app[OPERATIONS_KEY], "Patient portal hub API", "1.0.0")
    app[OPENAPI_KEY] = json.dumps(document)


async def openapi_handler(request: web.Request) -> web.Response:
    """Serve the document built at start-up."""
    return web.Response(text=request.app[OPENAPI_KEY], content_type="application/json")
