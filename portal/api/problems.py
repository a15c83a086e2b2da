"""RFC 9457 problem details: every error of the REST API, with a stable ``code``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from portal.errors import (
    FieldError,
    InvalidInput,
    PortalError,
    ServiceUnavailable,
    TooManyAttempts,
)
from portal.i18n import Language, field_label, translate

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:medportal:problem:"


class FieldProblem(BaseModel):
    """One wrong field of a request."""

    field: str = Field(description="Dotted name of the field, as in the request body or query.")
    code: str = Field(description="Stable machine-readable reason.")
    message: str = Field(description="The reason in the requested language.")


class Problem(BaseModel):
    """An RFC 9457 problem detail object, extended with ``code`` and ``errors``."""

    type: str = Field(description="URN naming the problem type; ends with the code.")
    title: str = Field(description="Short human-readable summary in the requested language.")
    status: int
    detail: str | None = None
    code: str = Field(description="Stable machine-readable code of the problem.")
    instance: str | None = None
    errors: list[FieldProblem] = Field(default_factory=list)
    retry_after: int | None = None
    conflicting_appointment_id: str | None = Field(
        default=None,
        description="appointment_overlap: the patient's booked visit that overlaps the slot; "
        "repeat the request with allow_overlap true to book anyway.",
    )


def problem_response(
    status: int,
    code: str,
    language: Language,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A problem+json response for ``code`` in ``language``."""
    field_problems = [
        FieldProblem(
            field=error.field,
            code=error.code,
            message=translate(error.code, language, **error.params),
        )
        for error in errors or []
    ]
    detail = (
        "; ".join(f"{field_label(p.field, language)}: {p.message}" for p in field_problems) or None
    )
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + code,
        title=translate(code, language, **(params or {})),
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=field_problems,
        retry_after=(params or {}).get("retry_after"),
        conflicting_appointment_id=(params or {}).get("conflicting_appointment_id"),
    )
    return web.Response(
        status=status,
        text=problem.model_dump_json(exclude_none=True),
        content_type=PROBLEM_CONTENT_TYPE,
        headers={"Content-Language": language, **(headers or {})},
    )


def from_portal_error(error: PortalError, language: Language, instance: str) -> web.Response:
    """Translate a domain error into its problem response."""
    headers = {}
    if isinstance(error, TooManyAttempts | ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        # RFC 9110, section 11.6.1: a 401 names the scheme that would work.
        headers["WWW-Authenticate"] = 'Bearer realm="portal"'

    return problem_response(
        error.status,
        error.code,
        language,
        instance=instance,
        errors=error.errors if isinstance(error, InvalidInput) else None,
        params=error.params,
        headers=headers,
    )


# pydantic error types -> our stable codes (https://docs.pydantic.dev/latest/errors/validation_errors/)
_PYDANTIC_CODES = {
    "missing": "field_required",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "extra_forbidden": "unknown_field",
    "date_from_datetime_parsing": "iso_date_format",
    "date_parsing": "iso_date_format",
    "date_type": "iso_date_format",
}
_TYPE_ERRORS = ("_type", "type_error")


def from_validation_error(error: ValidationError, prefix: str = "") -> InvalidInput:
    """Turn pydantic's report into field errors with our codes."""
    errors: list[FieldError] = []
    for item in error.errors(include_url=False, include_input=False):
        kind = item["type"]
        code = _PYDANTIC_CODES.get(kind)
        if code is None:
            code = "invalid_type" if kind.endswith(_TYPE_ERRORS) else "invalid_value"
        context = item.get("ctx") or {}
        params = {k: v for k, v in context.items() if k in ("min_length", "max_length")}
        name = ".".join(str(part) for part in item["loc"]) or prefix or "body"
        errors.append(FieldError(name, code, params))
    return InvalidInput(errors)


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body, or an ``invalid_json`` error."""
    try:
        return json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        raise PortalError("invalid_json") from None
