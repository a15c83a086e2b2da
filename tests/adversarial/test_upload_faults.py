"""Uploads meeting faults (issue 12): a full disk, and the hub killed with SIGKILL mid-upload.

Both run the hub as a real process (``python -m hub serve`` on a loopback port, on the test's
SQLite or PostgreSQL database). The full disk is a 1 MiB tmpfs mounted as ``DOCUMENTS_DIR``
in a private mount namespace of the hub (``unshare --mount``: nothing else on the machine sees
it); the test reads that folder through ``/proc/<pid>/root``. Mounting needs root, as CI runs:
elsewhere the test is skipped, and with ``REQUIRE_SERVICES=1`` it fails instead.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.db import Database
from portal.models import AuditEvent, Document
from tests.adversarial.processes import HubDidNotStart, HubProcess, free_port, hub_env
from tests.conftest import REQUIRE_SERVICES, User
from tests.portal.api.test_documents import (
    API,
    BOUNDARY,
    files_in,
    ok,
    pdf_of_size,
    png,
    problem,
    raw_multipart,
    ready_patient,
    upload,
)
from tests.portal.test_documents_unit import RawPdf, stream_object

ROOT = Path(__file__).resolve().parents[2]
TMPFS_SIZE = "1m"


@pytest.fixture
async def hubs() -> AsyncIterator[list[HubProcess]]:
    """Every hub a test starts is stopped at its end."""
    started: list[HubProcess] = []
    try:
        yield started
    finally:
        for hub in started:
            await hub.stop()


async def rows_and_denials(database_url: str, user: User) -> tuple[int, list[dict[str, Any]]]:
    """How many document rows exist, and the details of ``user``'s refused uploads."""
    db = Database(database_url)
    try:
        async with db.read() as session:
            rows = int(await session.scalar(select(func.count(Document.id))) or 0)
            denied = await session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.actor_account_id == uuid.UUID(user.account["id"]),
                    AuditEvent.object_type == "DocumentReference",
                    AuditEvent.action == "create",
                    AuditEvent.outcome == "denied",
                )
                .order_by(AuditEvent.at)
            )
            return rows, [event.detail or {} for event in denied]
    finally:
        await db.close()


def cannot_mount(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


# -- a full disk ------------------------------------------------------------------------------


async def test_a_full_disk_is_a_clean_507_with_nothing_left(
    hubs: list[HubProcess], database_url: str, tmp_path: Path
) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        cannot_mount("mounting a small tmpfs needs root and unshare(1)")
    documents = tmp_path / "documents"
    documents.mkdir(mode=0o700)
    mount = f'mount -t tmpfs -o size={TMPFS_SIZE},mode=0700 tmpfs "$1" && shift && exec "$@"'
    hub = HubProcess(
        hub_env(database_url, tmp_path, DOCUMENTS_DIR=str(documents)),
        free_port(),
        tmp_path / "hub.log",
        prefix=("unshare", "--mount", "sh", "-c", mount, "sh", str(documents)),
    )
    hubs.append(hub)
    try:
        await hub.start()
    except HubDidNotStart as failed:
        cannot_mount(f"could not mount a tmpfs in a mount namespace: {failed}")
    seen = hub.seen(documents)
    assert os.statvfs(seen).f_blocks * os.statvfs(seen).f_frsize == 1024 * 1024
    assert os.statvfs(documents).f_blocks != os.statvfs(seen).f_blocks, "the mount is private"

    api = hub.api()
    patient, _ = await ready_patient(api)
    # Over the free space while the body streams in.
    body = await problem(
        await upload(api, patient, pdf_of_size(2 * 1024 * 1024)), 507, "storage_full"
    )
    assert body["title"] != "storage_full"
    assert files_in(seen) == []
    assert await rows_and_denials(database_url, patient) == (0, [_denied("storage_full")])
    # Room for the upload (700 kB of incompressible samples) but not for its clean copy too.
    samples = random.Random(3).randbytes(700 * 1024)
    document = RawPdf.minimal(b"/Extra 5 0 R")
    document.objects[5] = stream_object(b"/Subtype /Image ", samples, flate=False)
    await problem(await upload(api, patient, document.build()), 507, "storage_full")
    assert files_in(seen) == []
    rows, denials = await rows_and_denials(database_url, patient)
    assert (rows, denials[1:]) == (0, [_denied("storage_full")])
    # The hub goes on serving, and what fits is stored.
    await ok(await upload(api, patient, png()), 201)
    assert len(files_in(seen)) == 1
    assert (await rows_and_denials(database_url, patient))[0] == 1


def _denied(code: str) -> dict[str, Any]:
    return {"code": code, "appointment_id": _ANY}


class _Any:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    def __hash__(self) -> int:
        return 0


_ANY = _Any()


# -- the hub killed in the middle of an upload --------------------------------------------------


async def stall_upload(url: str, patient: User, size: int) -> asyncio.StreamWriter:
    """Send the headers and half of an upload's body, then stop sending (not closing)."""
    host, port = url.removeprefix("http://").split(":")
    body = raw_multipart(b"%PDF-1.7\n" + b" " * size, 'form-data; name="file"; filename="a.pdf"')
    head = (
        f"POST {API}/documents HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Cookie: mp_session={patient.cookie}\r\n"
        f"X-CSRF-Token: {patient.csrf}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + body[: len(body) // 2])
    await writer.drain()
    return writer


async def test_a_hub_killed_mid_upload_leaves_no_partial_file_after_restart(
    hubs: list[HubProcess], database_url: str, tmp_path: Path
) -> None:
    documents = tmp_path / "documents"
    hub = HubProcess(
        hub_env(database_url, tmp_path, DOCUMENTS_DIR=str(documents)),
        free_port(),
        tmp_path / "hub.log",
    )
    hubs.append(hub)
    await hub.start()
    api = hub.api()
    patient, _ = await ready_patient(api)
    kept = await ok(await upload(api, patient, png()), 201)
    (stored,) = files_in(documents)

    writer = await stall_upload(hub.url, patient, 1024 * 1024)
    deadline = time.monotonic() + 20
    while not [p for p in files_in(documents / ".incoming") if p.stat().st_size > 0]:
        assert time.monotonic() < deadline, "the upload never reached the disk"
        await asyncio.sleep(0.05)
    await hub.kill()
    writer.close()
    (partial,) = files_in(documents / ".incoming")
    assert partial.name == "part", "the kill left the partial file behind"
    # What a kill between the rename and the row leaves: a final file no row names, and its
    # marker; and a marker of a file whose row was written, which must stay.
    orphan = secrets.token_hex(16)
    (documents / orphan).write_bytes(png())
    leftover = documents / ".incoming" / secrets.token_hex(16)
    leftover.mkdir()
    (leftover / f"{orphan}.pending").touch()
    (leftover / f"{stored.name}.pending").touch()

    await hub.start()
    assert files_in(documents) == [stored]
    assert list((documents / ".incoming").iterdir()) == []
    assert await rows_and_denials(database_url, patient) == (1, [])
    api = hub.api()
    listed = await ok(await api.client.get(f"{API}/documents", headers=patient.headers))
    assert [item["id"] for item in listed["items"]] == [kept["id"]]
    # And uploads work again.
    await ok(await upload(api, patient, png(colour=(1, 2, 3))), 201)
    assert len(files_in(documents)) == 2
