"""Documents a patient attaches to a telephone or online consultation (FHIR DocumentReference).

The rules of issue 3, in the order they are checked:

- only patients with full access who accepted the current document regulations upload;
- a file goes to an upcoming (booked, not started) telephone or online consultation of the
  patient or their child: the one named, or else the nearest;
- at most ``MAX_DOCUMENTS`` stored uploads per patient and ``MAX_FILE_BYTES`` per file;
- the type is judged by content alone (JPEG, PNG, PDF magic bytes), never by name or header;
- images are decoded within a pixel budget and re-encoded without any metadata (no EXIF, so
  no GPS position), upright; PDFs carrying scripts, automatic actions or attachments are
  refused.

Storage: the body streams into a temporary file in ``documents_dir``; only a validated file is
renamed to its final random name, and only then is the row written. Whatever fails, and
however (a refusal, a dropped connection, a cancelled task), no file and no row remain.

Every read and change by anyone, and every denial, is audit-logged as ``DocumentReference``;
a patient's own reads too, since these files are the most sensitive the portal keeps. A denied
read says "not found", so document ids cannot be probed.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import logging
import os
import re
import secrets
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import aiofiles
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal, family_ids
from portal.audit import DENIED, AuditLog
from portal.clock import Clock
from portal.config import PortalConfig
from portal.db import Database
from portal.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PortalError,
    UnsupportedMediaType,
)
from portal.file_checks import (
    PDF,
    PIECE,
    SNIFF_BYTES,
    clean_image,
    display_name,
    invalid,
    scan_pdf,
    sniff,
)
from portal.models import (
    Account,
    Appointment,
    AppointmentStatus,
    Consent,
    ConsentKind,
    Document,
    Patient,
    Role,
    Service,
    ServiceType,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_FILE_MB: Final = 8
MAX_FILE_BYTES: Final = MAX_FILE_MB * 1024 * 1024
MAX_DOCUMENTS: Final = 5
MAX_DESCRIPTION: Final = 500
PATIENT_UPLOAD: Final = "patient_upload"
RESULT_ATTACHMENT: Final = "result"
CONSULTATION_SHARE: Final = "consultation"
OBJECT_TYPE: Final = "DocumentReference"
REMOTE_SERVICES: Final = (ServiceType.TELEPHONE_CONSULTATION, ServiceType.ONLINE_CONSULTATION)

_STORED_NAME = re.compile(r"[0-9a-f]{32}")


# -- files on disk -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    """A validated file under its final name."""

    path: Path
    content_type: str
    size: int
    sha256: str


def _create_private(directory: Path, path: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _finish(part: Path, cleaned: Path, final: Path, content_type: str) -> _Stored:
    """Validate the received file, then move it (or its clean copy) to its final name."""
    if content_type == PDF:
        scan_pdf(part)
        source = part
    else:
        clean_image(part, cleaned, content_type)
        source = cleaned
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as handle:
        while block := handle.read(PIECE):
            digest.update(block)
            size += len(block)
        os.fsync(handle.fileno())
    os.replace(source, final)
    part.unlink(missing_ok=True)
    _fsync_directory(final.parent)
    return _Stored(final, content_type, size, digest.hexdigest())


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is (rename(2), fsync(2)).
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _discard(paths: builtins.list[Path]) -> None:
    # Synchronous on purpose: cleanup must finish even in a task being cancelled, and an
    # unlink of a local file does not wait on anything.
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove %s", path)


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking work in a thread; if we are cancelled, let it end before we clean up.

    Otherwise a thread still writing could create a file after the cleanup has run.
    """
    return await _to_the_end(asyncio.to_thread(function, *args))


async def _to_the_end(work: Awaitable[T]) -> T:
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


# -- the service -------------------------------------------------------------------------------


class _Refused(Exception):
    """A refusal that is audit-logged as denied before the caller sees ``error``."""

    def __init__(
        self,
        error: PortalError,
        *,
        action: str,
        object_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error.code)
        self.error = error
        self.action = action
        self.object_id = object_id
        self.patient_id = patient_id
        self.detail = detail


class Documents:
    """Uploading, listing, downloading and deleting documents, with their rules."""

    def __init__(self, db: Database, config: PortalConfig, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.audit = audit

    # -- regulations -------------------------------------------------------------------------

    async def accept_regulations(self, principal: Principal, version: str) -> Consent:
        """Record that the patient accepts the current document regulations (idempotent)."""
        principal.require_role(Role.PATIENT)
        principal.require_full_access()
        current = self.config.document_regulations_version
        if version != current:
            raise invalid("version", "document_regulations_outdated", current=current)
        async with self.db.write() as session:
            consent = await self._consent(session, principal)
            if consent is None:
                consent = Consent(
                    account_id=principal.account_id,
                    kind=ConsentKind.DOCUMENT_REGULATIONS,
                    version=current,
                    accepted_at=self.clock.now(),
                    source="assistant" if principal.via == "token" else "online",
                )
                session.add(consent)
                await session.flush()
                self.audit.record(
                    session,
                    principal,
                    object_type="Consent",
                    object_id=consent.id,
                    action="create",
                    patient_id=principal.patient_id,
                    detail={"kind": ConsentKind.DOCUMENT_REGULATIONS.value, "version": current},
                )
        return consent

    async def _consent(self, session: AsyncSession, principal: Principal) -> Consent | None:
        found: Consent | None = await session.scalar(
            select(Consent)
            .where(
                Consent.account_id == principal.account_id,
                Consent.kind == ConsentKind.DOCUMENT_REGULATIONS,
                Consent.version == self.config.document_regulations_version,
            )
            .limit(1)
        )
        return found

    # -- upload ------------------------------------------------------------------------------

    async def upload(
        self,
        principal: Principal,
        stream: AsyncIterable[bytes],
        *,
        file_name: str | None,
        description: str,
        appointment_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
    ) -> Document:
        """Store a file for an upcoming remote consultation; every rule is checked first.

        ``stream`` yields the body in chunks; it is read only once the request itself passed,
        and never held whole in memory.
        """
        principal.require_role(Role.PATIENT)
        principal.require_full_access()
        text = description.strip()
        if not text:
            raise InvalidInput.single("description", "field_required")
        if len(text) > MAX_DESCRIPTION:
            raise InvalidInput.single("description", "too_long", max_length=MAX_DESCRIPTION)
        appointment = await self._audited(
            principal, self._target(principal, appointment_id, patient_id)
        )
        stored = await self._receive(stream)
        # Runs to its end even if we are cancelled, so that file and row always agree.
        return await _to_the_end(
            self._record(
                principal,
                appointment.id,
                stored,
                display_name(file_name, stored.content_type),
                text,
            )
        )

    async def upload_result_attachment(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        stream: AsyncIterable[bytes],
        *,
        file_name: str | None,
        description: str,
    ) -> Document:
        """A physician attaches a file (a lab report PDF, an image) for a result of a visit.

        The visit must be the physician's own and completed, as for every record written
        against it. The file passes the same checks as a patient's; it does not count toward
        the patient's five uploads, and ``createResult`` links it by ``attachment_document_id``.
        """
        principal.require_role(Role.PHYSICIAN)
        text = description.strip()[:MAX_DESCRIPTION] or "Wynik badania"
        appointment = await self._audited(principal, self._own_completed(principal, appointment_id))
        stored = await self._receive(stream)
        return await _to_the_end(
            self._record_attachment(
                principal,
                appointment,
                stored,
                display_name(file_name, stored.content_type),
                text,
                RESULT_ATTACHMENT,
            )
        )

    async def share_in_consultation(
        self,
        principal: Principal,
        appointment: Appointment,
        stream: AsyncIterable[bytes],
        *,
        file_name: str | None,
        description: str,
    ) -> Document:
        """A file a member shares during a consultation, stored on its appointment.

        The caller (:class:`portal.consultations.Consultations`) has checked membership and the
        room's window. The file passes the same checks as every upload; it does not count
        toward the patient's five uploads.
        """
        stored = await self._receive(stream)
        name = display_name(file_name, stored.content_type)
        text = description.strip()[:MAX_DESCRIPTION] or name
        return await _to_the_end(
            self._record_attachment(principal, appointment, stored, name, text, CONSULTATION_SHARE)
        )

    async def _own_completed(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        async with self.db.read() as session:
            appointment = await session.get(Appointment, appointment_id)
        if appointment is None or appointment.practitioner_id != principal.practitioner_id:
            raise _Refused(
                NotFound("appointment_not_found"),
                action="create",
                patient_id=appointment.patient_id if appointment else None,
                detail={"appointment_id": str(appointment_id)},
            )
        if appointment.status is not AppointmentStatus.COMPLETED:
            raise Conflict("appointment_not_completed")
        return appointment

    async def _record_attachment(
        self,
        principal: Principal,
        appointment: Appointment,
        stored: _Stored,
        file_name: str,
        description: str,
        kind: str,
    ) -> Document:
        try:
            async with self.db.write() as session:
                document = self._add_document(
                    session, principal, appointment, stored, file_name, description, kind
                )
        except BaseException:
            _discard([stored.path])
            raise
        return document

    async def _target(
        self, principal: Principal, appointment_id: uuid.UUID | None, patient_id: uuid.UUID | None
    ) -> Appointment:
        """The consultation the file goes to, after the checks that need no file."""
        async with self.db.read() as session:
            if await self._consent(session, principal) is None:
                raise AccessDenied("document_regulations_required")
            family = await family_ids(session, principal)
            if patient_id is not None and patient_id not in family:
                stranger = await session.get(Patient, patient_id)
                raise _Refused(
                    NotFound("patient_not_found"),
                    action="create",
                    patient_id=stranger.id if stranger else None,
                    detail={"patient_id": str(patient_id)},
                )
            if appointment_id is not None:
                appointment = await session.get(Appointment, appointment_id)
                if appointment is None or appointment.patient_id not in family:
                    raise _Refused(
                        NotFound("appointment_not_found"),
                        action="create",
                        patient_id=appointment.patient_id if appointment else None,
                        detail={"appointment_id": str(appointment_id)},
                    )
                if patient_id is not None and appointment.patient_id != patient_id:
                    raise InvalidInput.single("appointment_id", "invalid_value")
                if appointment.service.type not in REMOTE_SERVICES:
                    raise invalid("appointment_id", "appointment_not_remote")
                if not self._upcoming(appointment):
                    raise Conflict("no_upcoming_consultation")
            else:
                found = await session.scalar(
                    select(Appointment)
                    .join(Service, Service.id == Appointment.service_id)
                    .where(
                        Appointment.patient_id == (patient_id or principal.patient_id),
                        Appointment.status == AppointmentStatus.BOOKED,
                        Appointment.start_at > self.clock.now(),
                        Service.type.in_(REMOTE_SERVICES),
                    )
                    .order_by(Appointment.start_at)
                    .limit(1)
                )
                if found is None:
                    raise Conflict("no_upcoming_consultation")
                appointment = found
            await self._check_limit(session, appointment.patient_id)
        return appointment

    def _upcoming(self, appointment: Appointment) -> bool:
        return (
            appointment.status is AppointmentStatus.BOOKED
            and appointment.start_at > self.clock.now()
        )

    async def _check_limit(self, session: AsyncSession, patient_id: uuid.UUID) -> None:
        count = await session.scalar(
            select(func.count(Document.id)).where(
                Document.patient_id == patient_id, Document.kind == PATIENT_UPLOAD
            )
        )
        if int(count or 0) >= MAX_DOCUMENTS:
            raise Conflict("document_limit_reached", limit=MAX_DOCUMENTS)

    async def _receive(self, stream: AsyncIterable[bytes]) -> _Stored:
        """Stream the body to a temporary file, validate it and give it its final name."""
        directory = self.config.documents_dir
        part = directory / f".part-{secrets.token_hex(16)}"
        cleaned = directory / f".clean-{secrets.token_hex(16)}"
        final = directory / secrets.token_hex(16)
        created = [part, cleaned, final]
        try:
            await _in_thread(_create_private, directory, part)
            size, head = 0, b""
            async with aiofiles.open(part, "r+b") as out:
                async for chunk in stream:
                    size += len(chunk)
                    if size > MAX_FILE_BYTES:
                        raise PayloadTooLarge("file_too_large", max_mb=MAX_FILE_MB)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        # Refuse a foreign type as soon as its first bytes show it.
                        if len(head) >= SNIFF_BYTES and sniff(head) is None:
                            raise UnsupportedMediaType("file_type_not_allowed")
                    await out.write(chunk)
            if size == 0:
                raise invalid("file", "file_empty")
            content_type = sniff(head)
            if content_type is None:
                raise UnsupportedMediaType("file_type_not_allowed")
            return await _in_thread(_finish, part, cleaned, final, content_type)
        except BaseException:
            _discard(created)
            raise

    async def _record(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        stored: _Stored,
        file_name: str,
        description: str,
    ) -> Document:
        """Write the row for a stored file; the file goes if the row cannot be written."""
        try:
            async with self.db.write() as session:
                # Serialise this family's uploads, so the limit holds under concurrency.
                await session.get(Account, principal.account_id, with_for_update={"of": Account})
                appointment = await session.get(Appointment, appointment_id, populate_existing=True)
                if appointment is None or not self._upcoming(appointment):
                    raise Conflict("no_upcoming_consultation")
                await self._check_limit(session, appointment.patient_id)
                document = self._add_document(
                    session, principal, appointment, stored, file_name, description, PATIENT_UPLOAD
                )
        except BaseException:
            _discard([stored.path])
            raise
        return document

    def _add_document(
        self,
        session: AsyncSession,
        principal: Principal,
        appointment: Appointment,
        stored: _Stored,
        file_name: str,
        description: str,
        kind: str,
    ) -> Document:
        """Add the row of a stored file, and its audit event, to ``session``."""
        document = Document(
            id=uuid.uuid4(),
            patient_id=appointment.patient_id,
            appointment_id=appointment.id,
            uploaded_by_account_id=principal.account_id,
            description=description,
            file_name=file_name,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            stored_name=stored.path.name,
            kind=kind,
            created_at=self.clock.now(),
        )
        session.add(document)
        self.audit.record(
            session,
            principal,
            object_type=OBJECT_TYPE,
            object_id=document.id,
            action="create",
            patient_id=document.patient_id,
            detail={"appointment_id": str(appointment.id), "size": stored.size, "kind": kind},
        )
        return document

    # -- reading -----------------------------------------------------------------------------

    async def list(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> builtins.list[Document]:
        """The documents of the patient and their children (or of one of them), newest first."""
        return await self._audited(principal, self._list(principal, patient_id))

    async def _list(
        self, principal: Principal, patient_id: uuid.UUID | None
    ) -> builtins.list[Document]:
        if principal.role is not Role.PATIENT:
            raise _Refused(
                AccessDenied("role_forbidden"),
                action="list",
                detail={"patient_id": str(patient_id)} if patient_id else None,
            )
        principal.require_full_access()
        async with self.db.write() as session:
            family = await family_ids(session, principal)
            if patient_id is not None and patient_id not in family:
                stranger = await session.get(Patient, patient_id)
                raise _Refused(
                    NotFound("patient_not_found"),
                    action="list",
                    patient_id=stranger.id if stranger else None,
                )
            wanted = {patient_id} if patient_id is not None else family
            found = await session.scalars(
                select(Document)
                .where(Document.patient_id.in_(wanted))
                .order_by(Document.created_at.desc(), Document.id)
            )
            documents = builtins.list(found)
            for listed in sorted(wanted):
                self.audit.record(
                    session,
                    principal,
                    object_type=OBJECT_TYPE,
                    object_id=None,
                    action="list",
                    patient_id=listed,
                )
        return documents

    async def list_for_appointment(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> builtins.list[Document]:
        """The documents attached to one of the physician's own appointments."""
        return await self._audited(principal, self._list_for_appointment(principal, appointment_id))

    async def _list_for_appointment(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> builtins.list[Document]:
        async with self.db.write() as session:
            appointment = await session.get(Appointment, appointment_id)
            if principal.role is not Role.PHYSICIAN:
                raise _Refused(
                    AccessDenied("role_forbidden"),
                    action="list",
                    patient_id=appointment.patient_id if appointment else None,
                    detail={"appointment_id": str(appointment_id)},
                )
            if appointment is None or appointment.practitioner_id != principal.practitioner_id:
                raise _Refused(
                    NotFound("appointment_not_found"),
                    action="list",
                    patient_id=appointment.patient_id if appointment else None,
                    detail={"appointment_id": str(appointment_id)},
                )
            found = await session.scalars(
                select(Document)
                .where(Document.appointment_id == appointment_id)
                .order_by(Document.created_at.desc(), Document.id)
            )
            documents = builtins.list(found)
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=None,
                action="list",
                patient_id=appointment.patient_id,
                detail={"appointment_id": str(appointment_id)},
            )
        return documents

    async def open_for_download(
        self, principal: Principal, document_id: uuid.UUID
    ) -> tuple[Document, Path]:
        """A document the caller may read, and where its file is."""
        return await self._audited(principal, self._open(principal, document_id))

    async def _open(self, principal: Principal, document_id: uuid.UUID) -> tuple[Document, Path]:
        async with self.db.write() as session:
            document = await self._reachable(session, principal, document_id, "read")
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=document.id,
                action="read",
                patient_id=document.patient_id,
            )
        return document, self._path_of(document)

    # -- deleting ----------------------------------------------------------------------------

    async def delete(self, principal: Principal, document_id: uuid.UUID) -> None:
        """Delete one of the family's uploads, row and file; its place becomes free."""
        document = await self._audited(principal, self._delete(principal, document_id))
        try:
            await asyncio.to_thread(self._path_of(document).unlink, missing_ok=True)
        except OSError:
            # The row is gone, so nobody can reach the file; an operator can sweep it.
            log.exception("could not remove the file of document %s", document.id)

    async def _delete(self, principal: Principal, document_id: uuid.UUID) -> Document:
        async with self.db.write() as session:
            document = await self._reachable(session, principal, document_id, "delete")
            if principal.role is not Role.PATIENT or document.kind != PATIENT_UPLOAD:
                raise _Refused(
                    AccessDenied("forbidden"),
                    action="delete",
                    object_id=document.id,
                    patient_id=document.patient_id,
                )
            await session.delete(document)
            self.audit.record(
                session,
                principal,
                object_type=OBJECT_TYPE,
                object_id=document.id,
                action="delete",
                patient_id=document.patient_id,
            )
        return document

    # -- helpers -----------------------------------------------------------------------------

    async def _reachable(
        self, session: AsyncSession, principal: Principal, document_id: uuid.UUID, action: str
    ) -> Document:
        """The document if the caller may reach it: its family, or its consultation's physician.

        Reception may not: their work needs appointments, not the files patients send.
        """
        document = await session.get(Document, document_id)
        allowed = False
        if document is not None and principal.role is Role.PATIENT:
            principal.require_full_access()
            allowed = document.patient_id in await family_ids(session, principal)
        elif document is not None and document.appointment_id is not None:
            appointment = await session.get(Appointment, document.appointment_id)
            allowed = (
                principal.role is Role.PHYSICIAN
                and appointment is not None
                and appointment.practitioner_id == principal.practitioner_id
            )
        if document is None or not allowed:
            raise _Refused(
                NotFound("document_not_found"),
                action=action,
                object_id=document_id,
                patient_id=document.patient_id if document else None,
            )
        return document

    def _path_of(self, document: Document) -> Path:
        # The name is ours (random hex), but check it: a path is built from it.
        if _STORED_NAME.fullmatch(document.stored_name) is None:
            raise NotFound("document_not_found")
        return self.config.documents_dir / document.stored_name

    async def _audited(self, principal: Principal, operation: Awaitable[T]) -> T:
        """Await ``operation``; a refusal is recorded, after its transaction rolled back."""
        try:
            return await operation
        except _Refused as refused:
            async with self.db.write() as session:
                self.audit.record(
                    session,
                    principal,
                    object_type=OBJECT_TYPE,
                    object_id=refused.object_id,
                    action=refused.action,
                    patient_id=refused.patient_id,
                    outcome=DENIED,
                    detail=refused.detail,
                )
            refused.error.audited = True
            raise refused.error from None
