"""The portal's services, built once per application and shared by every edge."""

from __future__ import annotations

import logging
from typing import Any

from portal.access import Principal
from portal.accounts import Accounts
from portal.audit import DENIED, AuditLog
from portal.auth import Auth
from portal.booking import Booking
from portal.catalogue import Catalogue
from portal.clock import Clock, SystemClock
from portal.config import PortalConfig
from portal.consultations import Consultations
from portal.conversations import Conversations
from portal.db import Database
from portal.desk import Desk
from portal.documents import Documents
from portal.eprescription import LocalPrescriptionIssuer, PrescriptionIssuer
from portal.mail import Mailer
from portal.passwords import Passwords
from portal.records import Records
from portal.throttle import DatabaseStore, Throttle, ThrottleStore

log = logging.getLogger(__name__)


class Portal:
    """The domain services over one database: what the REST API, the bot and rtc call."""

    def __init__(
        self,
        db: Database,
        config: PortalConfig,
        clock: Clock | None = None,
        passwords: Passwords | None = None,
        issuer: PrescriptionIssuer | None = None,
        throttle_store: ThrottleStore | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.passwords = passwords or Passwords()
        self.mailer = Mailer(config.smtp, config.outbox_dir)
        self.audit = AuditLog(self.clock)
        self.throttle = Throttle(throttle_store or DatabaseStore(db), self.clock)
        """Attempt counts: in the database, or in Redis when several nodes share one."""
        self.auth = Auth(db, config, self.clock, self.passwords, self.throttle)
        self.accounts = Accounts(
            db, config, self.clock, self.passwords, self.auth, self.mailer, self.audit
        )
        self.catalogue = Catalogue(db, config, self.clock)
        self.booking = Booking(db, config, self.clock, self.audit)
        self.documents = Documents(db, config, self.clock, self.audit)
        self.records = Records(
            db, config, self.clock, self.audit, issuer or LocalPrescriptionIssuer()
        )
        self.desk = Desk(db, config, self.clock, self.audit, self.throttle)
        self.conversations = Conversations(db, self.clock, self.audit)
        self.consultations = Consultations(db, self.clock, self.audit, self.documents)
        # A visit cancelled, moved or marked attended outside its room closes the room.
        self.booking.closed_listeners.append(self.consultations.close_room)
        self.desk.closed_listeners.append(self.consultations.close_room)

    async def housekeeping(self) -> None:
        """Delete what can never be used again: expired sessions (audited as expired) and
        expired reset links. The hub runs it at start and every ten minutes; idempotent, so
        several nodes may run it at once."""
        await self.auth.purge_expired()
        await self.accounts.purge_expired_resets()

    async def drain(self) -> None:
        """Wait for the work begun after earlier answers (mail); at shutdown and in tests."""
        await self.accounts.drain()

    async def record_role_refusal(
        self,
        principal: Principal,
        operation: str | None,
        action: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Audit what ``principal``'s role may not do, refused before any record was touched:
        an HTTP operation (403 ``role_forbidden``, ``operation`` its operationId) or a Socket.IO
        namespace (``operation`` ``/chat`` or ``/consult``, ``action`` ``connect``).

        The refusal stands whether or not the row could be written; a lost row is logged.
        """
        try:
            async with self.db.write() as session:
                self.audit.record(
                    session,
                    principal,
                    object_type="Operation",
                    object_id=operation,
                    action=action,
                    outcome=DENIED,
                    detail=detail,
                )
        except Exception:
            log.exception("role refusal of %s (%s) not audited", principal.account_id, operation)
