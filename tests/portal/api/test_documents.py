"""Documents over HTTP: regulations, upload rules, content checks, storage, access, audit.

Every test runs against the real app on SQLite and on PostgreSQL. demo.patient (full access)
gets an upcoming telephone consultation by booking a free slot; the files land in
``settings.documents_dir``. Every refusal is checked to leave no file (temporary ones
included) and no row behind.
"""

from __future__ import annotations

import asyncio
import io
import re
import resource
import time
import uuid
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pikepdf
import pytest
from aiohttp import ClientResponse, web
from PIL import Image
from sqlalchemy import func, select

from hub.app import create_app
from hub.settings import Settings
from portal.api import documents as documents_api
from portal.api.openapi import build_openapi
from portal.clock import ManualClock
from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.documents import MAX_FILE_BYTES
from portal.models import AuditEvent, Document
from tests.conftest import Api, User
from tests.portal.test_documents_unit import RawPdf, stream_object

API = "/api/v1"
STORED_NAME = re.compile(r"[0-9a-f]{32}")
BOUNDARY = "----portal-test-boundary"


# -- helpers ----------------------------------------------------------------------------------


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    return body


async def ok(response: ClientResponse, status: int = 200) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def accept_regulations(api: Api, user: User) -> None:
    response = await api.client.post(
        f"{API}/me/document-regulations", json={}, headers=user.headers
    )
    await ok(response)


async def book_remote(api: Api, user: User, **query: Any) -> str:
    """Book the first free telephone consultation matching ``query``; its appointment id."""
    slots = await api.free_slots(service_type="telephone_consultation", **query)
    assert slots, "the demo network offers telephone consultations"
    response = await api.book(user, str(slots[0]["id"]))
    return str((await ok(response, 201))["id"])


async def ready_patient(api: Api) -> tuple[User, str]:
    """demo.patient, regulations accepted, with an upcoming telephone consultation."""
    patient = await api.login("demo.patient")
    await accept_regulations(api, patient)
    return patient, await book_remote(api, patient)


def form(
    content: bytes,
    *,
    file_name: str = "scan.pdf",
    declared: str = "application/pdf",
    description: str | None = "Wyniki badań krwi",
    **extra: str,
) -> aiohttp.FormData:
    """A multipart form as a browser sends it: text parts first, then the file."""
    data = aiohttp.FormData()
    if description is not None:
        data.add_field("description", description)
    for name, value in extra.items():
        data.add_field(name, value)
    data.add_field("file", io.BytesIO(content), filename=file_name, content_type=declared)
    return data


async def upload(api: Api, user: User, content: bytes, **options: Any) -> ClientResponse:
    return await api.client.post(
        f"{API}/documents", data=form(content, **options), headers=user.headers
    )


def raw_multipart(content: bytes, disposition: str, description: str = "Opis") -> bytes:
    """A multipart body whose file part carries exactly ``disposition``."""
    return (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="description"\r\n\r\n'
            f"{description}\r\n"
            f"--{BOUNDARY}\r\n"
            f"Content-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def multipart_headers(user: User) -> dict[str, str]:
    return {**user.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def files_in(directory: Path) -> list[Path]:
    """Every file under ``directory``, hidden temporary files included."""
    if not directory.exists():
        return []
    return sorted(path for path in directory.rglob("*") if path.is_file())


async def document_count(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            return int(await session.scalar(select(func.count(Document.id))) or 0)
    finally:
        await db.close()


async def audit_events(settings: Settings, *where: Any) -> list[AuditEvent]:
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            return list(await session.scalars(select(AuditEvent).where(*where)))
    finally:
        await db.close()


async def assert_nothing_stored(settings: Settings, files: int = 0) -> None:
    stored = files_in(settings.documents_dir)
    assert len(stored) == files, stored
    assert await document_count(settings) == files


# -- test files -------------------------------------------------------------------------------


def png(size: tuple[int, int] = (4, 3), colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A 40x20 JPEG with GPS position, camera make and orientation 6 (rotate to portrait)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Telefon Pacjenta"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 13.0, 37.0), 3: "E", 4: (21.0, 0.0, 40.0)})
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "JPEG", exif=exif, comment=b"Jan N.")
    return out.getvalue()


def pdf(catalog: bytes = b"", **objects: bytes) -> bytes:
    """A small, well-formed PDF whose catalog carries ``catalog``, with extra objects
    (``o5=b"<< ... >>"`` is object 5) and a correct cross-reference table."""
    document = RawPdf.minimal(catalog)
    document.objects.update({int(name[1:]): body for name, body in objects.items()})
    return document.build()


def pdf_of_size(size: int) -> bytes:
    """A valid PDF of exactly ``size`` bytes: an uncompressed content stream of spaces pads it."""

    def built(padding: int) -> bytes:
        document = RawPdf.minimal()
        document.objects[4] = stream_object(b"", b" " * padding, flate=False)
        return document.build()

    padding = size - len(built(0))
    while len(built(padding)) != size:  # the /Length grows by a digit now and then
        padding += size - len(built(padding))
    return built(padding)


def one_page(content: bytes) -> pikepdf.Pdf:
    """``content`` parsed: a stored PDF is the copy qpdf wrote, not the upload's bytes."""
    document = pikepdf.open(io.BytesIO(content))
    assert len(document.pages) == 1
    return document


def png_bomb(side: int = 30000) -> bytes:
    """A valid one-bit PNG of side x side white pixels: ~110 kB that would decode to 900 MB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return len(data).to_bytes(4, "big") + kind + data + crc.to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    compressor = zlib.compressobj(9)
    rows = (b"\x00" + b"\xff" * ((side + 7) // 8)) * 1000
    idat = b"".join(compressor.compress(rows) for _ in range(side // 1000)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


# -- regulations and the rules before the file -------------------------------------------------


async def test_regulations_are_required_and_versioned(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    await book_remote(api, patient)
    await problem(await upload(api, patient, pdf()), 403, "document_regulations_required")
    await assert_nothing_stored(settings)

    outdated = await api.client.post(
        f"{API}/me/document-regulations", json={"version": "2019-01"}, headers=patient.headers
    )
    body = await problem(outdated, 422, "document_regulations_outdated")
    assert body["errors"][0]["field"] == "version"
    accepted = await ok(
        await api.client.post(
            f"{API}/me/document-regulations", json={"version": "2026-01"}, headers=patient.headers
        )
    )
    assert accepted["version"] == "2026-01"
    await accept_regulations(api, patient)  # accepting again is harmless
    await ok(await upload(api, patient, pdf()), 201)


async def test_basic_account_needs_full_access(api: Api, settings: Settings) -> None:
    basic = await api.register()
    await problem(await upload(api, basic, pdf()), 403, "full_access_required")
    response = await api.client.post(
        f"{API}/me/document-regulations", json={}, headers=basic.headers
    )
    await problem(response, 403, "full_access_required")
    await problem(
        await api.client.get(f"{API}/documents", headers=basic.headers),
        403,
        "full_access_required",
    )
    await assert_nothing_stored(settings)


async def test_requests_wrong_before_the_file(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    await accept_regulations(api, patient)
    # Only the seeded in-person visit is upcoming: nothing remote to attach to.
    await problem(await upload(api, patient, pdf()), 409, "no_upcoming_consultation")
    upcoming = await ok(
        await api.client.get(
            f"{API}/appointments", params={"period": "upcoming"}, headers=patient.headers
        )
    )
    visit = upcoming["items"][0]["id"]
    response = await upload(api, patient, pdf(), appointment_id=visit)
    body = await problem(response, 422, "appointment_not_remote")
    assert body["errors"][0]["field"] == "appointment_id"
    await problem(
        await upload(api, patient, pdf(), appointment_id=str(uuid.uuid4())),
        404,
        "appointment_not_found",
    )
    await book_remote(api, patient)
    for description, code in ((None, "field_required"), ("   ", "field_required")):
        response = await upload(api, patient, pdf(), description=description)
        body = await problem(response, 422, "invalid_input")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("description", code)]
    body = await problem(
        await upload(api, patient, pdf(), description="x" * 501), 422, "invalid_input"
    )
    assert body["errors"][0]["code"] == "too_long"
    not_multipart = await api.client.post(
        f"{API}/documents",
        data=pdf(),
        headers={**patient.headers, "Content-Type": "application/pdf"},
    )
    await problem(not_multipart, 415, "multipart_required")
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("description", "Opis")
    body = await problem(
        await api.client.post(f"{API}/documents", data=no_file, headers=patient.headers),
        422,
        "invalid_input",
    )
    assert body["errors"][0]["field"] == "file"
    await assert_nothing_stored(settings)


# -- what is refused by content ----------------------------------------------------------------


async def test_refused_files_leave_nothing(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)
    cases: list[tuple[bytes, dict[str, str], int, str]] = [
        (
            elf,
            {"file_name": "wyniki.pdf", "declared": "application/pdf"},
            415,
            "file_type_not_allowed",
        ),
        (
            b"GIF89a" + bytes(64),
            {"file_name": "a.png", "declared": "image/png"},
            415,
            "file_type_not_allowed",
        ),
        (b"", {}, 422, "file_empty"),
        (b"\x89PNG\r\n\x1a\n" + b"broken" * 50, {"file_name": "a.png"}, 422, "file_corrupt"),
        (b"\xff\xd8\xff\xe0" + bytes(100), {"file_name": "a.jpg"}, 422, "file_corrupt"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", {}, 422, "file_corrupt"),
        (
            pdf(b"/OpenAction 5 0 R", o5=b"<< /S /JavaScript /JS (app.alert(1)) >>"),
            {},
            415,
            "pdf_active_content",
        ),
        (pdf(o5=b"<< /Type /Action /S /J#61vaScript >>"), {}, 415, "pdf_active_content"),
        (pdf(b"/Names << /Embedded#46iles 5 0 R >>"), {}, 415, "pdf_active_content"),
    ]
    for content, options, status, code in cases:
        body = await problem(await upload(api, patient, content, **options), status, code)
        if status == 422:
            assert body["errors"][0]["field"] == "file", body
        await assert_nothing_stored(settings)


async def test_file_too_large(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    exact = pdf_of_size(MAX_FILE_BYTES)
    assert len(exact) == MAX_FILE_BYTES
    over = pdf_of_size(MAX_FILE_BYTES + 1)
    body = await problem(await upload(api, patient, over), 413, "file_too_large")
    assert "8 MB" in body["title"]
    await assert_nothing_stored(settings)
    stored = await ok(await upload(api, patient, exact), 201)
    # Stored as qpdf's copy, whose spaces it compressed.
    assert 0 < stored["size"] < MAX_FILE_BYTES
    await assert_nothing_stored(settings, files=1)


async def test_decompression_bomb_refused_quickly_in_bounded_memory(
    api: Api, settings: Settings, bomb: bytes
) -> None:
    patient, _ = await ready_patient(api)
    assert len(bomb) < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    response = await upload(api, patient, bomb, file_name="bomb.png", declared="image/png")
    elapsed = time.monotonic() - started
    peak_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    body = await problem(response, 413, "image_too_large")
    assert "40" in body["title"]
    assert elapsed < 5, elapsed
    assert peak_growth_mb < 100, peak_growth_mb
    await assert_nothing_stored(settings)


async def test_truncated_multipart_is_incomplete(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    body = raw_multipart(pdf(), 'form-data; name="file"; filename="a.pdf"')
    cut = body[: body.rindex(b"%%EOF")]
    response = await api.client.post(
        f"{API}/documents", data=cut, headers=multipart_headers(patient)
    )
    await problem(response, 400, "upload_incomplete")
    await assert_nothing_stored(settings)


@pytest.mark.parametrize("handler_cancellation", [True, False])
async def test_upload_cut_off_by_the_client_leaves_nothing(
    api: Api, settings: Settings, clock: ManualClock, handler_cancellation: bool
) -> None:
    """The client goes away mid-file: the handler is cancelled (aiohttp's test server does
    that) or its read fails with ConnectionResetError (``web.run_app``'s default)."""
    patient, _ = await ready_patient(api)
    # A second app on the same database and folder, so the server's option can be chosen.
    runner = web.AppRunner(
        create_app(settings, clock=clock), handler_cancellation=handler_cancellation
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        await cut_off_upload(host, port, patient, settings)
    finally:
        await runner.cleanup()
    await assert_nothing_stored(settings)


async def cut_off_upload(host: str, port: int, patient: User, settings: Settings) -> None:
    """Send half of an upload over a raw socket, wait until it reaches the disk, hang up."""
    body = raw_multipart(b"%PDF-1.7\n" + b" " * 400_000, 'form-data; name="file"; filename="a.pdf"')
    head = (
        f"POST {API}/documents HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Cookie: mp_session={patient.cookie}\r\n"
        f"X-CSRF-Token: {patient.csrf}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    _, writer = await asyncio.open_connection(host, port)
    writer.write(head + body[: len(body) // 2])
    await writer.drain()
    deadline = time.monotonic() + 10
    while not any(size for size in file_sizes(settings.documents_dir)):
        assert time.monotonic() < deadline, "the upload never reached the disk"
        await asyncio.sleep(0.02)
    writer.close()
    await writer.wait_closed()
    deadline = time.monotonic() + 10
    while files_in(settings.documents_dir):
        assert time.monotonic() < deadline, files_in(settings.documents_dir)
        await asyncio.sleep(0.02)


def file_sizes(directory: Path) -> list[int]:
    sizes = []
    for path in files_in(directory):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            continue  # renamed or removed meanwhile
    return sizes


# -- what is stored ----------------------------------------------------------------------------


async def test_png_declared_as_pdf_is_stored_as_png(api: Api, settings: Settings) -> None:
    patient, appointment = await ready_patient(api)
    stored = await ok(
        await upload(api, patient, png(), file_name="skan.pdf", declared="application/pdf"), 201
    )
    assert stored["content_type"] == "image/png"
    assert stored["file_name"] == "skan.png"
    assert stored["appointment_id"] == appointment
    assert stored["patient_id"] == patient.patient_id
    assert stored["description"] == "Wyniki badań krwi"
    files = files_in(settings.documents_dir)
    assert [f.parent for f in files] == [settings.documents_dir]
    assert STORED_NAME.fullmatch(files[0].name)
    assert (settings.documents_dir.stat().st_mode & 0o777) == 0o700
    with Image.open(files[0]) as image:
        assert image.format == "PNG"
        assert image.size == (4, 3)


async def test_jpeg_is_stored_upright_without_gps(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825), "the test file carries a GPS position"
    stored = await ok(
        await upload(api, patient, original, file_name="zdjęcie.jpg", declared="image/jpeg"), 201
    )
    assert stored["content_type"] == "image/jpeg"
    assert stored["file_name"] == "zdjęcie.jpg"
    response = await api.client.get(
        f"{API}/documents/{stored['id']}/content", headers=patient.headers
    )
    assert response.status == 200
    content = await response.read()
    assert len(content) == stored["size"]
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert image.size == (20, 40), "EXIF orientation applied"
        assert not image.getexif(), dict(image.getexif())
        assert "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in content and b"Telefon" not in content and b"Jan N." not in content


async def test_file_name_is_sanitised_and_the_file_stays_inside(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    patient, _ = await ready_patient(api)
    before = set(files_in(tmp_path))
    evil = quote("../../etc/pass\x00wd\u202egpj.png", safe="")
    response = await api.client.post(
        f"{API}/documents",
        data=raw_multipart(png(), f"form-data; name=\"file\"; filename*=UTF-8''{evil}"),
        headers=multipart_headers(patient),
    )
    stored = await ok(response, 201)
    assert stored["file_name"] == "passwdgpj.png"
    new = set(files_in(tmp_path)) - before
    assert len(new) == 1
    (path,) = new
    assert path.parent == settings.documents_dir
    assert STORED_NAME.fullmatch(path.name)
    assert not (tmp_path / "etc").exists()


async def test_download_headers(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    content = pdf()
    stored = await ok(await upload(api, patient, content, file_name='wyniki łódź "1".pdf'), 201)
    response = await api.client.get(
        f"{API}/documents/{stored['id']}/content", headers=patient.headers
    )
    assert response.status == 200
    downloaded = await response.read()
    assert len(downloaded) == stored["size"]
    with one_page(downloaded):
        pass
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="wyniki __d_ _1_.pdf"; '
        "filename*=UTF-8''wyniki%20%C5%82%C3%B3d%C5%BA%20%221%22.pdf"
    )


async def test_five_files_at_most_and_delete_frees_a_place(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    ids = []
    for number in range(5):
        content = png(colour=(number, 0, 0))
        ids.append((await ok(await upload(api, patient, content), 201))["id"])
    body = await problem(await upload(api, patient, pdf()), 409, "document_limit_reached")
    assert "5" in body["title"]
    await assert_nothing_stored(settings, files=5)
    listed = await ok(await api.client.get(f"{API}/documents", headers=patient.headers))
    assert sorted(item["id"] for item in listed["items"]) == sorted(ids)

    response = await api.client.delete(f"{API}/documents/{ids[0]}", headers=patient.headers)
    assert response.status == 204
    await assert_nothing_stored(settings, files=4)
    await ok(await upload(api, patient, pdf()), 201)
    await assert_nothing_stored(settings, files=5)
    gone = await api.client.get(f"{API}/documents/{ids[0]}/content", headers=patient.headers)
    await problem(gone, 404, "document_not_found")


async def test_the_limit_holds_under_concurrent_uploads(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    for number in range(4):
        await ok(await upload(api, patient, png(colour=(0, number, 0))), 201)
    responses = await asyncio.gather(
        *(upload(api, patient, png(colour=(0, 0, number))) for number in range(3))
    )
    assert sorted(response.status for response in responses) == [201, 409, 409]
    for response in responses:
        if response.status == 409:
            await problem(response, 409, "document_limit_reached")
    await assert_nothing_stored(settings, files=5)


async def test_child_documents(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    await accept_regulations(api, patient)
    children = await ok(await api.client.get(f"{API}/me/dependents", headers=patient.headers))
    child = children["items"][0]["id"]
    slots = await api.free_slots(service_type="telephone_consultation")
    await ok(await api.book(patient, str(slots[0]["id"]), patient_id=child), 201)
    await problem(await upload(api, patient, pdf()), 409, "no_upcoming_consultation")
    stored = await ok(await upload(api, patient, pdf(), patient_id=child), 201)
    assert stored["patient_id"] == child
    mine = await ok(
        await api.client.get(
            f"{API}/documents", params={"patient_id": patient.patient_id}, headers=patient.headers
        )
    )
    assert mine["items"] == []
    family = await ok(await api.client.get(f"{API}/documents", headers=patient.headers))
    assert [item["id"] for item in family["items"]] == [stored["id"]]


# -- who may reach a document ------------------------------------------------------------------


async def test_another_patient_cannot_reach_it(api: Api, settings: Settings) -> None:
    patient, _ = await ready_patient(api)
    stored = await ok(await upload(api, patient, pdf()), 201)
    stranger = await api.full_patient()
    listed = await ok(await api.client.get(f"{API}/documents", headers=stranger.headers))
    assert listed["items"] == []
    await problem(
        await api.client.get(
            f"{API}/documents", params={"patient_id": patient.patient_id}, headers=stranger.headers
        ),
        404,
        "patient_not_found",
    )
    await problem(
        await api.client.get(f"{API}/documents/{stored['id']}/content", headers=stranger.headers),
        404,
        "document_not_found",
    )
    await problem(
        await api.client.delete(f"{API}/documents/{stored['id']}", headers=stranger.headers),
        404,
        "document_not_found",
    )
    await assert_nothing_stored(settings, files=1)
    denied = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(stranger.account["id"]),
        AuditEvent.object_type == "DocumentReference",
        AuditEvent.outcome == "denied",
    )
    assert sorted((e.action, e.object_id) for e in denied) == sorted(
        [("list", None), ("read", stored["id"]), ("delete", stored["id"])]
    )
    assert {str(e.patient_id) for e in denied} == {patient.patient_id}
    owner_events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(patient.account["id"]),
        AuditEvent.object_type == "DocumentReference",
    )
    assert {(e.action, e.outcome) for e in owner_events} == {("create", "allowed")}


async def test_the_physician_reads_and_reception_cannot(api: Api, settings: Settings) -> None:
    physicians = await ok(await api.client.get(f"{API}/physicians"))
    anna = next(
        item["id"]
        for item in physicians["items"]
        if (item["first_name"], item["last_name"])
        == (PHYSICIANS[0].first_name, PHYSICIANS[0].last_name)
    )
    patient = await api.login("demo.patient")
    await accept_regulations(api, patient)
    appointment = await book_remote(api, patient, physician_id=anna)
    content = pdf()
    stored = await ok(await upload(api, patient, content, appointment_id=appointment), 201)

    physician = await api.login("demo.physician")
    listed = await ok(
        await api.client.get(
            f"{API}/physician/appointments/{appointment}/documents", headers=physician.headers
        )
    )
    assert [item["id"] for item in listed["items"]] == [stored["id"]]
    response = await api.client.get(
        f"{API}/documents/{stored['id']}/content", headers=physician.headers
    )
    assert response.status == 200
    downloaded = await response.read()
    assert len(downloaded) == stored["size"] and downloaded != content
    with one_page(downloaded):
        pass
    await problem(
        await api.client.delete(f"{API}/documents/{stored['id']}", headers=physician.headers),
        403,
        "forbidden",
    )
    reads = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(physician.account["id"]),
        AuditEvent.object_type == "DocumentReference",
        AuditEvent.outcome == "allowed",
    )
    assert sorted(e.action for e in reads) == ["list", "read"]

    reception = await api.login("demo.reception")
    for query in ({}, {"patient_id": patient.patient_id}, {"patient_id": str(uuid.uuid4())}):
        response = await api.client.get(f"{API}/documents", params=query, headers=reception.headers)
        await problem(response, 403, "role_forbidden")
    await problem(
        await api.client.get(f"{API}/documents/{stored['id']}/content", headers=reception.headers),
        404,
        "document_not_found",
    )
    await problem(
        await api.client.get(
            f"{API}/physician/appointments/{appointment}/documents", headers=reception.headers
        ),
        403,
        "role_forbidden",
    )
    denied = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(reception.account["id"]),
        AuditEvent.object_type == "DocumentReference",
        AuditEvent.outcome == "denied",
    )
    assert sorted(e.action for e in denied) == ["list", "list", "list", "list", "read"]
    await assert_nothing_stored(settings, files=1)


def test_operations_are_documented() -> None:
    # Built directly from the router: no app or database needed.
    document = build_openapi(documents_api.router.operations, "test", "0")
    operations = {
        operation["operationId"]: operation
        for path in document["paths"].values()
        for operation in path.values()
    }
    assert set(operations) == {
        "acceptDocumentRegulations",
        "uploadDocument",
        "listDocuments",
        "deleteDocument",
        "downloadDocument",
        "listAppointmentDocuments",
        "uploadResultAttachment",
    }
    upload_body = operations["uploadDocument"]["requestBody"]
    assert "BEFORE" in upload_body["description"]
    schema = upload_body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["required"] == ["description", "file"]
    download = operations["downloadDocument"]["responses"]["200"]["content"]
    assert set(download) == {"image/jpeg", "image/png", "application/pdf"}
    assert document["paths"]["/api/v1/documents"]["post"]["responses"]["201"]
