"""The audit log: who read or changed which medical data, when, and whether it was allowed.

Rows are only ever inserted (no update or delete path exists in the code). Patients' reads of
their own data are not logged; every access by anyone else, every change, and every denial is.

A patient's trail is read newest first in pages (:meth:`AuditLog.page`) by keyset on
``(at, id)``: a burst of events (a script probing ids writes one denial per probe) never hides
the older ones, which stay reachable page by page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.clock import Clock
from portal.errors import InvalidInput
from portal.models import AuditEvent

ALLOWED = "allowed"
DENIED = "denied"
PAGE_LIMIT_MAX = 500
"""The most events one page may hold: a page is one bounded query and one bounded response."""
PAGE_LIMIT_DEFAULT = 100


@dataclass(frozen=True)
class AuditPage:
    """One page of a patient's audit trail, newest first."""

    events: list[AuditEvent]
    next_before: uuid.UUID | None
    """The id to pass as ``before`` for the next (older) page; None on the last page."""


class AuditLog:
    """Writes audit events in the caller's transaction, or in one of their own for denials."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def record(
        self,
        session: AsyncSession,
        principal: Principal | None,
        *,
        object_type: str,
        object_id: uuid.UUID | str | None,
        action: str,
        patient_id: uuid.UUID | None = None,
        outcome: str = ALLOWED,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Add one event to ``session``; it is kept when that transaction commits."""
        session.add(
            AuditEvent(
                at=self.clock.now(),
                actor_account_id=principal.account_id if principal else None,
                actor_role=principal.role.value if principal else None,
                patient_id=patient_id,
                object_type=object_type,
                object_id=str(object_id) if object_id is not None else None,
                action=action,
                outcome=outcome,
                detail=detail,
            )
        )

    async def page(
        self,
        session: AsyncSession,
        patient_id: uuid.UUID,
        *,
        before: uuid.UUID | None = None,
        limit: int = PAGE_LIMIT_DEFAULT,
    ) -> AuditPage:
        """The patient's events older than event ``before`` (all when None), newest first.

        Events are ordered by ``(at, id)``: ids are random, so they only break ties of equal
        timestamps, which keeps the order total and the pages disjoint. An unknown ``before``
        (or one of another patient's events) is a field error, not an empty page, so a client
        cannot mistake a typo for the end of the trail.
        """
        if not 1 <= limit <= PAGE_LIMIT_MAX:
            raise InvalidInput.single("limit", "invalid_value")
        query = select(AuditEvent).where(AuditEvent.patient_id == patient_id)
        if before is not None:
            cursor = await session.get(AuditEvent, before)
            if cursor is None or cursor.patient_id != patient_id:
                raise InvalidInput.single("before", "audit_cursor_unknown")
            query = query.where(
                or_(
                    AuditEvent.at < cursor.at,
                    and_(AuditEvent.at == cursor.at, AuditEvent.id < cursor.id),
                )
            )
        rows = list(
            await session.scalars(
                query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)
            )
        )
        more = len(rows) > limit
        events = rows[:limit]
        return AuditPage(events, events[-1].id if more else None)
