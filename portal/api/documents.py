"""REST operations of documents: regulations, upload (multipart), list, download, delete.

The upload is read part by part from the socket (``request.multipart()``), never whole: the
text parts come first, so every rule that needs no file is checked before a byte of the file
is read, and the file streams straight to disk.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import parse_content_disposition
from pydantic import BaseModel, Field

from portal.access import Principal
from portal.documents import MAX_DESCRIPTION, MAX_FILE_BYTES
from portal.errors import InvalidInput, PortalError, UnsupportedMediaType
from portal.models import Document, Role
from portal.services import Portal

from .framework import Router
from .schemas import Input

router = Router("documents")
ZONE = ZoneInfo("Europe/Warsaw")
TEXT_PARTS = ("description", "appointment_id", "patient_id")
MAX_TEXT_PART = 4 * MAX_DESCRIPTION  # UTF-8 takes up to 4 bytes a character
CHUNK = 64 * 1024
# What aiohttp raises when the body ends early or the client goes away mid-upload.
INCOMPLETE = (ValueError, ConnectionError, aiohttp.ClientPayloadError, HttpProcessingError)


class RegulationsBody(Input):
    """Acceptance of the document regulations."""

    version: Annotated[str | None, Field(max_length=32)] = Field(
        default=None, description="The version the patient read; omitted means the current one."
    )


class RegulationsOut(BaseModel):
    """The accepted version of the document regulations."""

    version: str
    accepted_at: datetime


class DocumentOut(BaseModel):
    """A stored document (FHIR DocumentReference), without its content."""

    id: uuid.UUID
    file_name: str = Field(description="Display name only; the file is stored under a random one.")
    content_type: str = Field(description="Judged from the content: image/jpeg, image/png, PDF.")
    size: int = Field(description="Bytes as stored (images are re-encoded without metadata).")
    description: str
    appointment_id: uuid.UUID | None
    patient_id: uuid.UUID
    created_at: datetime

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        return cls(
            id=document.id,
            file_name=document.file_name,
            content_type=document.content_type,
            size=document.size,
            description=document.description,
            appointment_id=document.appointment_id,
            patient_id=document.patient_id,
            created_at=document.created_at.astimezone(ZONE),
        )


class DocumentList(BaseModel):
    """Documents, newest first."""

    items: list[DocumentOut]


class DocumentsQuery(Input):
    """Filters of listDocuments."""

    patient_id: uuid.UUID | None = Field(
        default=None, description="One of the patient's children; omitted: the whole family."
    )


UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "multipart/form-data. The text parts (`description`, and optionally `appointment_id` "
        "and `patient_id`) must come BEFORE the `file` part: every rule that needs no file "
        "is checked before the file is read, and parts after `file` are ignored. "
        "Browsers send FormData parts in the order they were appended. Without "
        "`appointment_id` the file goes to the nearest upcoming telephone or online "
        "consultation. The file's type is judged by its content (JPEG, PNG or PDF), never "
        f"by its name or declared type; at most {MAX_FILE_BYTES} bytes."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["description", "file"],
                # Any other part is refused (unknown_field), so the document says so.
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string", "minLength": 1, "maxLength": 500},
                    "appointment_id": {"type": "string", "format": "uuid"},
                    "patient_id": {"type": "string", "format": "uuid"},
                    "file": {"type": "string", "format": "binary"},
                },
            },
            "encoding": {"file": {"contentType": "image/jpeg, image/png, application/pdf"}},
        }
    },
}

RESULT_ATTACHMENT_BODY: dict[str, Any] = {
    "required": True,
    "description": (
        "multipart/form-data: an optional `description` part BEFORE the `file` part (the "
        "visit is the path's). An empty or missing description is stored as 'Wynik badania'. "
        "The file's type is judged by its content (JPEG, PNG or PDF); at most "
        f"{MAX_FILE_BYTES} bytes."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string", "maxLength": 500},
                    "appointment_id": {"type": "string", "description": "Ignored (the path's)."},
                    "patient_id": {"type": "string", "description": "Ignored (the visit's)."},
                    "file": {"type": "string", "format": "binary"},
                },
            },
            "encoding": {"file": {"contentType": "image/jpeg, image/png, application/pdf"}},
        }
    },
}
"""uploadResultAttachment's body: unlike a patient's upload, the description may be empty."""

DOWNLOAD_CONTENT: dict[str, Any] = {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in ("image/jpeg", "image/png", "application/pdf")
}


@router.operation(
    "POST",
    "/me/document-regulations",
    "acceptDocumentRegulations",
    summary="Accept the current document regulations (needed before the first upload).",
    problems=(401, 403, 422),
)
async def accept_document_regulations(
    portal: Portal, principal: Principal, body: RegulationsBody
) -> RegulationsOut:
    version = body.version or portal.config.document_regulations_version
    consent = await portal.documents.accept_regulations(principal, version)
    return RegulationsOut(version=consent.version, accepted_at=consent.accepted_at.astimezone(ZONE))


@router.operation(
    "POST",
    "/documents",
    "uploadDocument",
    summary="Attach a file (JPEG, PNG or PDF, at most 8 MB) to an upcoming remote consultation.",
    status=201,
    problems=(400, 401, 403, 404, 409, 413, 415, 422, 507),
    raw_body=UPLOAD_BODY,
)
async def upload_document(
    request: web.Request, portal: Portal, principal: Principal
) -> DocumentOut:
    fields, file_part = await multipart_upload(request)
    async with contextlib.aclosing(file_chunks(file_part)) as chunks:
        document = await portal.documents.upload(
            principal,
            chunks,
            file_name=part_file_name(file_part),
            description=fields.get("description", ""),
            appointment_id=_uuid(fields, "appointment_id"),
            patient_id=_uuid(fields, "patient_id"),
        )
    return DocumentOut.of(document)


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/result-attachments",
    "uploadResultAttachment",
    summary="Attach a lab report (PDF) or image for a result of an attended visit; "
    "link it with createResult's attachment_document_id.",
    status=201,
    roles=(Role.PHYSICIAN,),
    problems=(400, 401, 403, 404, 409, 413, 415, 422, 507),
    raw_body=RESULT_ATTACHMENT_BODY,
)
async def upload_result_attachment(
    request: web.Request, portal: Portal, principal: Principal, appointment_id: uuid.UUID
) -> DocumentOut:
    fields, file_part = await multipart_upload(request)
    async with contextlib.aclosing(file_chunks(file_part)) as chunks:
        document = await portal.documents.upload_result_attachment(
            principal,
            appointment_id,
            chunks,
            file_name=part_file_name(file_part),
            description=fields.get("description", ""),
        )
    return DocumentOut.of(document)


async def multipart_upload(request: web.Request) -> tuple[dict[str, str], BodyPartReader]:
    """The text parts before the file, and the file part itself (not yet read)."""
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("multipart_required")
    try:
        reader = await request.multipart()
    except ValueError:
        raise UnsupportedMediaType("multipart_required") from None
    fields: dict[str, str] = {}
    file_part: BodyPartReader | None = None
    try:
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise UnsupportedMediaType("multipart_required")
            if part.name == "file":
                file_part = part
                break
            if part.name not in TEXT_PARTS or part.name in fields:
                raise InvalidInput.single(part.name or "body", "unknown_field")
            fields[part.name] = await _text(part)
    except INCOMPLETE:
        raise PortalError("upload_incomplete") from None
    if file_part is None:
        raise InvalidInput.single("file", "field_required")
    return fields, file_part


async def _text(part: BodyPartReader) -> str:
    """A short text part, read with a bound."""
    name = part.name or "body"
    raw = bytearray()
    while not part.at_eof():
        raw += await part.read_chunk(CHUNK)
        if len(raw) > MAX_TEXT_PART:
            raise InvalidInput.single(name, "too_long", max_length=MAX_DESCRIPTION)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput.single(name, "invalid_value") from None


async def file_chunks(part: BodyPartReader) -> AsyncGenerator[bytes]:
    """The file part's content as it arrives; a cut-off body is ``upload_incomplete``."""
    try:
        while not part.at_eof():
            chunk = await part.read_chunk(CHUNK)
            if chunk:
                yield chunk
    except INCOMPLETE:
        raise PortalError("upload_incomplete") from None


def part_file_name(part: BodyPartReader) -> str | None:
    """The part's file name: ``filename*`` (RFC 8187) as is, ``filename`` percent-decoded.

    RFC 7578 (4.2) lets senders percent-encode a plain ``filename``; aiohttp's client does it
    for every non-token character, browsers only for ``"``, CR and LF (HTML, "multipart/
    form-data encoding algorithm"). Decoding serves both.
    """
    _, params = parse_content_disposition(part.headers.get(hdrs.CONTENT_DISPOSITION))
    if "filename*" in params or "filename" not in params:
        return part.filename
    try:
        return unquote(params["filename"], errors="strict")
    except UnicodeDecodeError:
        return params["filename"]


def _uuid(fields: dict[str, str], name: str) -> uuid.UUID | None:
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput.single(name, "invalid_value") from None


@router.operation(
    "GET",
    "/documents",
    "listDocuments",
    summary="The patient's and their children's documents (or one child's), newest first.",
    problems=(401, 403, 404, 422),
)
async def list_documents(
    portal: Portal, principal: Principal, query: DocumentsQuery
) -> DocumentList:
    found = await portal.documents.list(principal, query.patient_id)
    return DocumentList(items=[DocumentOut.of(document) for document in found])


@router.operation(
    "DELETE",
    "/documents/{document_id}",
    "deleteDocument",
    summary="Delete one of the family's uploads; its place among the five becomes free.",
    status=204,
    problems=(401, 403, 404),
)
async def delete_document(portal: Portal, principal: Principal, document_id: uuid.UUID) -> None:
    await portal.documents.delete(principal, document_id)


@router.operation(
    "GET",
    "/documents/{document_id}/content",
    "downloadDocument",
    summary="The document's file, as an attachment (its family, its consultation's physician).",
    problems=(401, 403, 404),
    raw_response=DOWNLOAD_CONTENT,
)
async def download_document(
    portal: Portal, principal: Principal, document_id: uuid.UUID
) -> web.StreamResponse:
    document, path = await portal.documents.open_for_download(principal, document_id)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": document.content_type,
            "Content-Disposition": content_disposition(document.file_name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 4.3, RFC 8187)."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%' else "_" for ch in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.operation(
    "GET",
    "/physician/appointments/{appointment_id}/documents",
    "listAppointmentDocuments",
    summary="The documents the patient attached to one of the physician's appointments.",
    problems=(401, 403, 404),
)
async def list_appointment_documents(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID
) -> DocumentList:
    found = await portal.documents.list_for_appointment(principal, appointment_id)
    return DocumentList(items=[DocumentOut.of(document) for document in found])
