"""Errors of the hub client.

::

    HubError                  base of everything the client raises
    ├── LoginRequired         no bearer token in the message metadata: ask the patient to log in
    ├── HubUnavailable        the hub did not answer (connection refused, timeout, bad JSON)
    └── HubProblem            the hub refused: an RFC 9457 problem with a stable ``code``
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the hub client's errors."""


class LoginRequired(HubError):
    """The operation needs the patient's token and the message carried none."""


class HubUnavailable(HubError):
    """The hub could not be reached or answered something that is not JSON."""


class HubProblem(HubError):
    """A problem+json answer (RFC 9457, section 3) with the portal's stable ``code``."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str = "",
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors or []

    @classmethod
    def from_body(cls, status: int, body: Any) -> HubProblem:
        """Build from a decoded problem document (or whatever the hub sent)."""
        if not isinstance(body, dict):
            return cls(status, "internal_error" if status >= 500 else "bad_request")
        return cls(
            status,
            str(body.get("code") or ("internal_error" if status >= 500 else "bad_request")),
            str(body.get("title") or ""),
            body.get("detail"),
            body.get("errors") or [],
        )
