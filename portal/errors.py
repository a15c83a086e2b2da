"""Errors raised by the portal domain.

Every refusal the domain makes is a :class:`PortalError` carrying a stable ``code`` (the
machine-readable reason, also the key of its translated message in :mod:`portal.i18n`) and an
HTTP-like ``status`` that the edges translate (problem+json, a bot message)::

    PortalError
    ├── InvalidInput             422  one or more fields are wrong (carries FieldError items)
    ├── AuthenticationRequired   401  no valid session or token
    ├── InvalidCredentials       401  login or password wrong (never says which)
    ├── TooManyAttempts          429  throttled (portal.throttle); carries retry_after seconds
    ├── AccessDenied             403  the principal may not touch this object
    │   ├── FullAccessRequired   403  basic account asked for a full-access feature
    │   ├── ReferralRequired     403  the service needs a valid, unused referral
    │   └── ServiceLimitReached  403  a basic account already has 10 active services
    ├── NotFound                 404  no such object, or not one the principal may see
    ├── Conflict                 409  the state of the world forbids it (slot taken, duplicate)
    ├── PayloadTooLarge          413  an upload over its size limit
    ├── UnsupportedMediaType     415  an upload of a type we do not accept (judged by content)
    ├── ServiceUnavailable       503  a part the portal needs (the database) cannot be reached
                                      now; carries retry_after seconds
    └── StorageFull              507  no room left to store an upload (RFC 4918, 11.5)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One wrong field: its name (dotted for nested), a stable code and message parameters."""

    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class PortalError(Exception):
    """Base of every refusal the portal domain makes."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        self.code = code or self.default_code
        self.params = params
        self.audited = False
        """Whether the domain already recorded this refusal in the audit log."""
        super().__init__(self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class InvalidInput(PortalError):
    """The request names wrong values; ``errors`` says which field and why."""

    status = 422
    default_code = "invalid_input"

    def __init__(self, errors: list[FieldError], code: str | None = None, **params: Any) -> None:
        super().__init__(code, **params)
        self.errors = errors

    @classmethod
    def single(cls, field_name: str, code: str, **params: Any) -> InvalidInput:
        """Build the error for one wrong field."""
        return cls([FieldError(field_name, code, params)])


class AuthenticationRequired(PortalError):
    """The caller is not logged in (or the session or token expired)."""

    status = 401
    default_code = "authentication_required"


class InvalidCredentials(PortalError):
    """The login or the password is wrong; deliberately never says which."""

    status = 401
    default_code = "invalid_credentials"


class TooManyAttempts(PortalError):
    """Too many attempts (failed logins, searches, registrations); wait ``retry_after`` s."""

    status = 429
    default_code = "too_many_attempts"

    def __init__(self, retry_after: int, code: str | None = None) -> None:
        super().__init__(code, retry_after=retry_after)
        self.retry_after = retry_after


class AccessDenied(PortalError):
    """The principal is known but may not do this."""

    status = 403
    default_code = "forbidden"


class FullAccessRequired(AccessDenied):
    """A basic account asked for something only full access allows."""

    default_code = "full_access_required"


class ReferralRequired(AccessDenied):
    """The service can only be booked against a valid, unused referral."""

    default_code = "referral_required"


class ServiceLimitReached(AccessDenied):
    """A basic account already holds the maximum number of active services."""

    default_code = "active_service_limit"


class NotFound(PortalError):
    """No such object, or none the principal may see (the two are not told apart)."""

    status = 404
    default_code = "not_found"


class Conflict(PortalError):
    """The current state forbids the change (a slot already taken, a duplicate login)."""

    status = 409
    default_code = "conflict"


class PayloadTooLarge(PortalError):
    """An upload is larger than allowed."""

    status = 413
    default_code = "file_too_large"


class UnsupportedMediaType(PortalError):
    """An upload's content is not of an accepted type, whatever its name or declared type."""

    status = 415
    default_code = "file_type_not_allowed"


class ServiceUnavailable(PortalError):
    """A part the portal depends on (the database) is down or too slow: try again after
    ``retry_after`` seconds (RFC 9110, section 15.6.4). A change cut off mid-commit may or may
    not have landed, so clients retry changes with their idempotency key."""

    status = 503
    default_code = "service_unavailable"

    def __init__(self, retry_after: int = 5, code: str | None = None) -> None:
        super().__init__(code, retry_after=retry_after)
        self.retry_after = retry_after


class StorageFull(PortalError):
    """The documents' file system has no room for the file; nothing of it was kept."""

    status = 507
    default_code = "storage_full"
