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
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from portal.db import Database
from portal.models import AuditEvent, Document
from tests.conftest import REQUIRE_SERVICES, Api, User
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


@dataclass
class Hub:
    """``python -m hub serve`` as a child of the test, optionally behind a command prefix."""

    env: dict[str, str]
    log: Path
    prefix: Sequence[str] = ()
    port: int = 0
    process: asyncio.subprocess.Process | None = None
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start it and wait until ``/healthz`` answers (60 s at most)."""
        self.port = _free_port()
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self.prefix,
                sys.executable,
                "-m",
                "hub",
                "serve",
                "--port",
                str(self.port),
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise HubDidNotStart(self.log.read_text())
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("the hub did not start:\n" + self.log.read_text())

    def api(self) -> Api:
        """The test helpers, speaking to this process (no cookie jar: users carry theirs)."""
        session = aiohttp.ClientSession(self.url, cookie_jar=aiohttp.DummyCookieJar())
        self.sessions.append(session)
        return Api(session)  # type: ignore[arg-type]  # the same calls as a TestClient

    def seen(self, path: Path) -> Path:
        """``path`` as the hub sees it, in its own mount namespace."""
        assert self.process is not None
        return Path(f"/proc/{self.process.pid}/root") / path.relative_to("/")

    async def kill(self) -> None:
        """SIGKILL: no shutdown handler, no cleanup, no flush."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL

    async def stop(self) -> None:
        for session in self.sessions:
            await session.close()
        self.sessions.clear()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


class HubDidNotStart(Exception):
    """The hub process ended before it served (its log is the message)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hub_env(database_url: str, tmp_path: Path, documents: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "DOCUMENTS_DIR": str(documents),
        "HUB_SECRET": secrets.token_hex(16),  # the same across restarts
        "RASA_URL": "http://127.0.0.1:9",
        "ACTIONS_URL": "http://127.0.0.1:9",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("REDIS_URL", "HUB_HOST", "HUB_PORT", "PUBLIC_URL"):
        env.pop(name, None)
    return env


@pytest.fixture
async def hubs() -> AsyncIterator[list[Hub]]:
    """Every hub a test starts is stopped at its end."""
    started: list[Hub] = []
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
    hubs: list[Hub], database_url: str, tmp_path: Path
) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        cannot_mount("mounting a small tmpfs needs root and unshare(1)")
    documents = tmp_path / "documents"
    documents.mkdir(mode=0o700)
    mount = f'mount -t tmpfs -o size={TMPFS_SIZE},mode=0700 tmpfs "$1" && shift && exec "$@"'
    hub = Hub(
        hub_env(database_url, tmp_path, documents),
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
    hubs: list[Hub], database_url: str, tmp_path: Path
) -> None:
    documents = tmp_path / "documents"
    hub = Hub(hub_env(database_url, tmp_path, documents), tmp_path / "hub.log")
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
