"""Faults (issue 12): the hub survives the database going away and its own process dying.

PostgreSQL is shared by every run on the machine, so it is never stopped: a loopback proxy
(:mod:`tests.adversarial.proxy`) stands between the hub and it and is cut or stalled instead.
The hub killed mid-booking is a real ``python -m hub serve`` process killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.models import Appointment, AppointmentEvent, AuditEvent
from tests.adversarial.proxy import TcpProxy
from tests.conftest import Api

RETRY_AFTER = "5"


def _via(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.fixture
async def pg_proxy(settings: Settings) -> Any:
    """A proxy in front of the test's PostgreSQL database."""
    proxy = TcpProxy(make_url(settings.database_url).port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def proxied(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, pg_proxy: TcpProxy
) -> TestClient[Any, Any]:
    """The real hub, talking to PostgreSQL through ``pg_proxy`` with short timeouts."""
    database = Database(
        _via(settings.database_url, pg_proxy.port),
        connect_timeout=1,
        statement_timeout=2,
        pool_timeout=1,
    )
    app = create_app(settings, clock=clock, database=database)
    return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())


async def _unavailable(response: aiohttp.ClientResponse) -> None:
    """``response`` is the database-outage problem: 503, its code, Retry-After and the text
    (in Polish, the default language)."""
    body = await response.json(content_type=None)
    assert response.status == 503, body
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == RETRY_AFTER
    assert body["code"] == "service_unavailable"
    assert body["status"] == 503
    assert body["title"] == "Serwis jest chwilowo niedostępny. Spróbuj ponownie za kilka sekund."


async def _health(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    return response.status, (await response.json())["components"]["db"]


async def _bookings_with_key(url: str, key: str) -> tuple[int, int, int]:
    """Appointments, their booking events and their audit rows for idempotency ``key``."""
    db = Database(url)
    try:
        async with db.read() as session:
            ids = list(
                await session.scalars(
                    select(Appointment.id).where(Appointment.idempotency_key == key)
                )
            )
            events = await session.scalar(
                select(func.count()).where(AppointmentEvent.appointment_id.in_(ids))
            )
            audits = await session.scalar(
                select(func.count()).where(
                    AuditEvent.object_type == "Appointment",
                    AuditEvent.object_id.in_([str(i) for i in ids]),
                    AuditEvent.action == "create",
                )
            )
    finally:
        await db.close()
    return len(ids), int(events or 0), int(audits or 0)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("fault", ["cut", "stall"])
async def test_postgres_outage_is_a_503_with_retry_after_and_heals_by_itself(
    proxied: TestClient[Any, Any], pg_proxy: TcpProxy, settings: Settings, fault: str
) -> None:
    api = Api(proxied)
    patient = await api.login("demo.patient")
    slot = (await api.bookable_slots(patient, 1))[0]
    status, db_health = await _health(proxied)
    assert (status, db_health["status"]) == (200, "ok")
    key = f"outage-{uuid.uuid4()}"

    getattr(pg_proxy, fault)()
    # Bounded by the database timeouts (2 s a statement, 1 s a connection), never hung; the
    # wait_for only turns a hang into a failure instead of the suite's timeout.
    listing = await asyncio.wait_for(
        proxied.get("/api/v1/appointments", headers=patient.headers), 30
    )
    await _unavailable(listing)
    booking = await asyncio.wait_for(api.book(patient, slot["id"], idempotency_key=key), 30)
    await _unavailable(booking)
    login = await asyncio.wait_for(
        proxied.post(
            "/api/v1/auth/login", json={"login": "demo.patient", "password": "whatever it is"}
        ),
        30,
    )
    await _unavailable(login)
    status, db_health = await asyncio.wait_for(_health(proxied), 30)
    assert status == 503
    assert db_health["status"] == "down"
    assert db_health["error"] in ("ConnectionResetError", "TimeoutError", "connection lost")

    pg_proxy.restore()
    listing = await proxied.get("/api/v1/appointments", headers=patient.headers)
    assert listing.status == 200, await listing.text()
    status, db_health = await _health(proxied)
    assert (status, db_health["status"]) == (200, "ok")
    # The booking cut off by the outage never landed; its retry books it once.
    assert await _bookings_with_key(settings.database_url, key) == (0, 0, 0)
    first = await api.book(patient, slot["id"], idempotency_key=key)
    assert first.status == 201, await first.text()
    again = await api.book(patient, slot["id"], idempotency_key=key)
    assert again.status == 200, await again.text()
    assert (await again.json())["id"] == (await first.json())["id"]
    assert await _bookings_with_key(settings.database_url, key) == (1, 1, 1)
