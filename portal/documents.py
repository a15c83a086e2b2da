"""Documents a patient attaches to a telephone or online consultation (FHIR DocumentReference).

The rules of issue 3, in the order they are checked:

- only patients with full access who accepted the current document regulations upload;
- a file goes to an upcoming (booked, not started) telephone or online consultation of the
  patient or their child: the one named, or else the nearest;
- at most ``MAX_DOCUMENTS`` stored uploads per patient and ``MAX_FILE_BYTES`` per file;
- the type is judged by content alone (JPEG, PNG, PDF magic bytes), never by name or header;
- images are decoded within a pixel budget and re-encoded without any metadata (no EXIF, so
  no GPS position), upright; PDFs are parsed by qpdf in a bounded child process, refused when
  they carry scripts, automatic actions, attachments or encryption, and stored as the copy
  qpdf writes of what it judged (:func:`portal.file_checks.clean_pdf`). What is stored is
  never the upload's own bytes.

Storage: the body streams into a private folder of the upload under ``documents_dir/.incoming``
(locked with ``flock`` while the upload lives); only a validated copy is renamed to its final
random name, and only then is the row written. Whatever fails, and however (a refusal, a
dropped connection, a cancelled task, a full disk), no file and no row remain; what a killed
process leaves behind is removed by :meth:`Documents.sweep` when the hub starts.

Every read and change by anyone, and every denial (refused uploads included, with their code),
is audit-logged as ``DocumentReference``; a patient's own reads too, since these files are the
most sensitive the portal keeps. A denied read says "not found", so document ids cannot be
probed.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import secrets
import shutil
import unicodedata
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, TypeVar

import aiofiles
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import Principal, family_ids, local_today
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
    StorageFull,
    UnsupportedMediaType,
)
from portal.file_checks import (
    PDF,
    PIECE,
    SNIFF_BYTES,
    clean_image,
    clean_pdf,
    display_name,
    invalid,
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
from portal.pdf_check import DISK_FULL

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

INCOMING: Final = ".incoming"
"""Where uploads in progress live, inside ``documents_dir`` so that a rename is atomic."""
PENDING: Final = ".pending"

_STORED_NAME = re.compile(r"[0-9a-f]{32}")


# -- files on disk -----------------------------------------------------------------------------


class _Workspace:
    """The private folder of one upload in progress, locked (``flock``) while it lives.

    A process that dies (SIGKILL, a crash, a power cut) releases its locks, so a folder nobody
    holds is a leftover: :meth:`Documents.sweep` removes it. Before a validated copy is renamed
    to its final name, a ``<name>.pending`` marker is left here: if the process dies before the
    row is written, the sweep knows which final file has no row.
    """

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self.descriptor = descriptor

    @classmethod
    def create(cls, documents_dir: Path) -> _Workspace:
        """A new locked folder under ``documents_dir/.incoming`` (blocking)."""
        documents_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        incoming = documents_dir / INCOMING
        incoming.mkdir(mode=0o700, exist_ok=True)
        while True:
            path = incoming / secrets.token_hex(16)
            path.mkdir(mode=0o700)
            descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                ours = os.path.samestat(os.stat(path), os.fstat(descriptor))
            except FileNotFoundError:
                ours = False
            if ours:
                return cls(path, descriptor)
            # A sweep took the folder between mkdir and flock: start again under a new name.
            os.close(descriptor)

    def file(self, name: str) -> Path:
        return self.path / name

    def remove(self) -> None:
        """Remove the folder and everything in it, then release the lock (synchronous, so it
        finishes even in a task being cancelled; unlinking local files waits on nothing)."""
        try:
            shutil.rmtree(self.path)
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("could not remove %s; the next sweep will", self.path)
        finally:
            with contextlib.suppress(OSError):
                os.close(self.descriptor)


@dataclass(frozen=True)
class _Stored:
    """A validated file under its final name; its workspace still holds the pending marker."""

    path: Path
    content_type: str
    size: int
    sha256: str
    workspace: _Workspace


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _finish(workspace: _Workspace, final: Path, content_type: str) -> _Stored:
    """Validate the received file, then move its clean copy to its final name.

    The copy is the re-encoded image or the PDF that qpdf rewrote, never the upload itself.
    """
    part, cleaned = workspace.file("part"), workspace.file("clean")
    if content_type == PDF:
        clean_pdf(part, cleaned)
    else:
        clean_image(part, cleaned, content_type)
    digest = hashlib.sha256()
    size = 0
    with cleaned.open("rb") as handle:
        while block := handle.read(PIECE):
            digest.update(block)
            size += len(block)
        os.fsync(handle.fileno())
    _create_private(workspace.file(final.name + PENDING))
    _fsync_directory(workspace.path)
    os.replace(cleaned, final)
    _fsync_directory(final.parent)
    return _Stored(final, content_type, size, digest.hexdigest(), workspace)


def _settle(stored: _Stored, *, kept: bool) -> None:
    """After the row was written (``kept``) or not: the workspace goes, and the file unless kept."""
    if not kept:
        _discard([stored.path])
    stored.workspace.remove()


def _leftovers(documents_dir: Path) -> builtins.list[_Workspace]:
    """The workspaces under ``documents_dir`` that no live upload holds, now locked by us."""
    incoming = documents_dir / INCOMING
    try:
        names = sorted(os.listdir(incoming))
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        path = incoming / name
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            _discard([path])
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)  # an upload in progress, in this process or another
            continue
        found.append(_Workspace(path, descriptor))
    return found


def _pending_names(workspace: _Workspace) -> builtins.list[str]:
    return [
        name.removesuffix(PENDING)
        for name in os.listdir(workspace.path)
        if name.endswith(PENDING) and _STORED_NAME.fullmatch(name.removesuffix(PENDING))
    ]


def _is_control(text: str) -> bool:
    """Whether ``text`` holds control characters other than tab and line breaks (PostgreSQL
    refuses NUL in text; the others only hide what a description says)."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text)


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


async def _new_workspace(directory: Path) -> _Workspace:
    """A workspace made in a thread; one made while we were cancelled is removed at once."""
    task = asyncio.ensure_future(asyncio.to_thread(_Workspace.create, directory))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is None:
            task.result().remove()
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
        if _is_control(text):
            raise InvalidInput.single("description", "invalid_value")
        appointment = await self._audited(
            principal, self._target(principal, appointment_id, patient_id)
        )
        stored = await self._received(principal, appointment, stream)
        # Runs to its end even if we are cancelled, so that file and row always agree.
        return await _to_the_end(
            self._audited(
                principal,
                self._record(
                    principal,
                    appointment.id,
                    stored,
                    display_name(file_name, stored.content_type),
                    text,
                ),
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
        if _is_control(text):
            raise InvalidInput.single("description", "invalid_value")
        appointment = await self._audited(principal, self._own_completed(principal, appointment_id))
        stored = await self._received(principal, appointment, stream)
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
        if _is_control(description):
            raise InvalidInput.single("description", "invalid_value")
        stored = await self._received(principal, appointment, stream)
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
        kept = False
        try:
            async with self.db.write() as session:
                document = self._add_document(
                    session, principal, appointment, stored, file_name, description, kind
                )
            kept = True
        finally:
            _settle(stored, kept=kept)
        return document

    async def _target(
        self, principal: Principal, appointment_id: uuid.UUID | None, patient_id: uuid.UUID | None
    ) -> Appointment:
        """The consultation the file goes to, after the checks that need no file."""
        async with self.db.read() as session:
            if await self._consent(session, principal) is None:
                raise AccessDenied("document_regulations_required")
            family = await family_ids(session, principal, self._today())
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

    def _today(self) -> date:
        """Today in the clinic's time zone (whose minor a child still is)."""
        return local_today(self.clock, self.config.timezone)

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
            # A refused upload of the patient's record: audited as denied, like a refused file.
            raise _Refused(
                Conflict("document_limit_reached", limit=MAX_DOCUMENTS),
                action="create",
                patient_id=patient_id,
                detail={"code": "document_limit_reached"},
            )

    async def _received(
        self, principal: Principal, appointment: Appointment, stream: AsyncIterable[bytes]
    ) -> _Stored:
        """:meth:`_receive`, with a refusal of the file recorded in the audit log."""
        try:
            return await self._receive(stream)
        except PortalError as error:
            await self._record_refused_file(principal, appointment, error)
            raise

    async def _record_refused_file(
        self, principal: Principal, appointment: Appointment, error: PortalError
    ) -> None:
        """Audit a file refused for what it is (type, size, content, a full disk): the refusal
        stands whether or not the row could be written; a lost row is logged."""
        try:
            async with self.db.write() as session:
                self.audit.record(
                    session,
                    principal,
                    object_type=OBJECT_TYPE,
                    object_id=None,
                    action="create",
                    patient_id=appointment.patient_id,
                    outcome=DENIED,
                    detail={"appointment_id": str(appointment.id), "code": error.code},
                )
            error.audited = True
        except Exception:
            log.exception("could not audit a refused upload (%s)", error.code)

    async def _receive(self, stream: AsyncIterable[bytes]) -> _Stored:
        """Stream the body into a new workspace, validate it and give its copy a final name.

        A full disk, wherever it shows (writing, flushing, the clean copy, the rename), is
        ``storage_full`` (507); whatever happens, the workspace and any final file go.
        """
        directory = self.config.documents_dir
        final = directory / secrets.token_hex(16)
        workspace: _Workspace | None = None
        try:
            workspace = await _new_workspace(directory)
            part = workspace.file("part")
            await _in_thread(_create_private, part)
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
            return await _in_thread(_finish, workspace, final, content_type)
        except BaseException as error:
            _discard([final])
            if workspace is not None:
                workspace.remove()
            if isinstance(error, OSError) and error.errno in DISK_FULL:
                log.error("no room left in %s for an upload", directory)
                raise StorageFull("storage_full") from None
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
        kept = False
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
            kept = True
        finally:
            _settle(stored, kept=kept)
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

    # -- leftovers -------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Remove what uploads cut short by a dead process left behind; how many went.

        Run when the hub starts. Workspaces a live upload holds (in this process or another
        node sharing the folder) are locked and left alone. A final file named by a pending
        marker is removed unless its row exists: the process died between rename and commit.
        """
        directory = self.config.documents_dir
        leftovers = await asyncio.to_thread(_leftovers, directory)
        if not leftovers:
            return 0
        try:
            pending = {
                name: workspace
                for workspace in leftovers
                for name in await asyncio.to_thread(_pending_names, workspace)
            }
            if pending:
                async with self.db.read() as session:
                    recorded = set(
                        await session.scalars(
                            select(Document.stored_name).where(
                                Document.stored_name.in_(sorted(pending))
                            )
                        )
                    )
                orphans = [directory / name for name in pending if name not in recorded]
                await asyncio.to_thread(_discard, orphans)
        finally:
            for workspace in leftovers:
                await asyncio.to_thread(workspace.remove)
        log.info("removed %d leftover upload(s) from %s", len(leftovers), directory)
        return len(leftovers)

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
            family = await family_ids(session, principal, self._today())
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
            allowed = document.patient_id in await family_ids(session, principal, self._today())
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
