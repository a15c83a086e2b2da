"""The audit log: who read or changed which medical data, when, and whether it was allowed.

Rows are only ever inserted (no update or delete path exists in the code). Patients' reads of
their own data are not logged; every access by anyone else, every change, and every denial is.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal
from portal.clock import Clock
from portal.models import AuditEvent

ALLOWED = "allowed"
DENIED = "denied"


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
