"""Faults (issue 12): the hub survives the database going away and its own process dying.

PostgreSQL is shared by every run on the machine, so it is never stopped: a loopback proxy
(:mod:`tests.adversarial.proxy`) stands between the hub and it and is cut or stalled instead.
The hub killed mid-booking is a real ``python -m hub serve`` process killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import redis.asyncio as aioredis
import socketio  # type: ignore[import-untyped]
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.i18n import translate
from portal.models import Appointment, AppointmentEvent, AuditEvent
from tests.adversarial.processes import HubProcess, free_port, hub_env
from tests.adversarial.proxy import TcpProxy
from tests.conftest import REDIS_URL, Api, registration_form, service_missing
from tests.sockets import SocketClient

RETRY_AFTER = "5"
PARALLEL_BOOKINGS = 12


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


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgres_outage_in_the_chat_is_said_in_words_not_silence(
    proxied: TestClient[Any, Any], pg_proxy: TcpProxy
) -> None:
    url = str(proxied.make_url(""))
    patient = SocketClient("/chat", ("conversation", "bot_message"), language="en")
    late = SocketClient("/chat", ("conversation", "bot_message"), language="en")
    try:
        await patient.connect(url)
        await patient.next("conversation")
        pg_proxy.cut()
        # The message cannot be stored: the ack says so (and the widget keeps it to retry).
        ack = await patient.call("user_message", {"text": "hello", "client_msg_id": "m-1"})
        assert ack == {
            "ok": False,
            "code": "service_unavailable",
            "message": "The service is briefly unavailable. Please try again in a few seconds.",
        }
        # A connection that cannot open its conversation is refused with the reason.
        with pytest.raises(socketio.exceptions.ConnectionError):
            await late.connect(url)
        assert late.refusal == {
            "message": "The service is briefly unavailable. Please try again in a few seconds.",
            "data": {"code": "service_unavailable"},
        }
        pg_proxy.restore()
        # The retry lands once; the assistant (absent here) answers with its notice.
        ack = await patient.call("user_message", {"text": "hello", "client_msg_id": "m-1"})
        assert (ack["ok"], ack["duplicate"]) == (True, False)
        reply = await patient.next("bot_message")
        assert reply["text"] == translate("chat_assistant_unavailable", "en")
    finally:
        await patient.close()
        await late.close()


@pytest.fixture
async def redis_proxy() -> Any:
    """A proxy in front of the machine's Redis (which must run)."""
    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(probe.ping(), 2)
    except (RedisError, OSError, TimeoutError) as error:
        service_missing("Redis", error)
    finally:
        await probe.aclose()
    proxy = TcpProxy(make_url_port(REDIS_URL))
    await proxy.start()
    yield proxy
    await proxy.close()


def make_url_port(url: str) -> int:
    return urlsplit(url).port or 6379


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_redis_outage_between_two_nodes_hangs_nothing_and_heals(
    aiohttp_client: Any,
    aiohttp_server: Any,
    settings: Settings,
    clock: ManualClock,
    redis_proxy: TcpProxy,
) -> None:
    async def echo(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"text": f"echo: {body['message']}"}, {"text": "and more"}])

    rasa = web.Application()
    rasa.router.add_post("/webhooks/rest/webhook", echo)
    rasa_server = await aiohttp_server(rasa)
    split = urlsplit(REDIS_URL)
    shared = replace(
        settings,
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}{split.path}",
        rasa_url=str(rasa_server.make_url("")).rstrip("/"),
    )
    nodes = [
        await aiohttp_client(create_app(shared, clock=clock), cookie_jar=aiohttp.DummyCookieJar())
        for _ in range(2)
    ]
    events = ("conversation", "bot_message", "typing")
    here = SocketClient("/chat", events, language="en")
    there = SocketClient("/chat", events, language="en")
    try:
        await here.connect(str(nodes[0].make_url("")))
        conversation_id = (await here.next("conversation"))["conversation_id"]
        await there.connect(str(nodes[1].make_url("")), conversation_id=conversation_id)
        await there.next("conversation")
        await _both_answered(here, there, "before")

        redis_proxy.stall()
        # The node the patient talks to still answers, every reply, and "typing" ends: its
        # publishing to the other node gives up instead of holding the answer.
        for text in ("during one", "during two"):
            ack = await asyncio.wait_for(
                here.call("user_message", {"text": text, "client_msg_id": text}), 30
            )
            assert ack["ok"] is True
            assert [(await here.next("bot_message", 30))["text"] for _ in range(2)] == [
                f"echo: {text}",
                "and more",
            ]
            await here.next_matching("typing", lambda t: t["active"] is False, 30)
        # A login needs the shared throttle counters: refused at once, not hung.
        login = await asyncio.wait_for(
            nodes[0].post(
                "/api/v1/auth/login", json={"login": "demo.patient", "password": "not it"}
            ),
            30,
        )
        assert login.status == 503, await login.text()
        assert (await login.json())["code"] == "service_unavailable"
        health = await asyncio.wait_for(nodes[0].get("/healthz"), 30)
        assert health.status == 200
        assert (await health.json())["components"]["redis"]["status"] == "down"

        redis_proxy.restore()
        # Once Redis is back, what one node says reaches the other node's sockets again.
        there.pending("bot_message")
        await _both_answered(here, there, "after", within=30)
    finally:
        await here.close()
        await there.close()


async def _both_answered(
    here: SocketClient, there: SocketClient, text: str, within: float = 10
) -> None:
    """The patient says ``text`` on one node; both nodes' sockets get the two replies."""
    ack = await here.call("user_message", {"text": text, "client_msg_id": text})
    assert ack["ok"] is True
    for socket_client in (here, there):
        replies = [(await socket_client.next("bot_message", within))["text"] for _ in range(2)]
        assert replies == [f"echo: {text}", "and more"]


# -- the hub killed with SIGKILL in the middle of bookings -------------------------------------


@pytest.fixture
async def hub_process(database_url: str, tmp_path: Path) -> AsyncIterator[HubProcess]:
    """The hub as a real process on the test's database (SQLite or PostgreSQL)."""
    hub = HubProcess(hub_env(database_url, tmp_path), free_port(), tmp_path / "hub.log")
    try:
        yield hub
    finally:
        await hub.stop()


def _disjoint(slots: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` of ``slots`` whose times do not overlap (one patient, one place at a time)."""
    chosen: list[dict[str, Any]] = []
    spans: list[tuple[datetime, datetime]] = []
    for slot in slots:
        start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        if all(end <= s or start >= e for s, e in spans):
            chosen.append(slot)
            spans.append((start, end))
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"fewer than {count} disjoint slots")


async def _patient_bookings(url: str, patient_id: str) -> list[tuple[str, str, int, int]]:
    """The patient's appointments: (idempotency key, id, booking events, audit 'create' rows)."""
    db = Database(url)
    try:
        async with db.read() as session:
            rows = []
            appointments = await session.scalars(
                select(Appointment).where(Appointment.patient_id == uuid.UUID(patient_id))
            )
            for appointment in appointments:
                events = await session.scalar(
                    select(func.count()).where(AppointmentEvent.appointment_id == appointment.id)
                )
                audits = await session.scalar(
                    select(func.count()).where(
                        AuditEvent.object_type == "Appointment",
                        AuditEvent.object_id == str(appointment.id),
                        AuditEvent.action == "create",
                    )
                )
                rows.append(
                    (
                        str(appointment.idempotency_key),
                        str(appointment.id),
                        int(events or 0),
                        int(audits or 0),
                    )
                )
    finally:
        await db.close()
    return sorted(rows)


async def test_hub_killed_mid_booking_leaves_each_booking_once_or_not_at_all(
    hub_process: HubProcess, database_url: str
) -> None:
    await hub_process.start()
    form = registration_form()
    async with aiohttp.ClientSession(hub_process.url) as http:
        async with http.post("/api/v1/accounts", json=form) as response:
            assert response.status == 201, await response.text()
        async with http.post(
            "/api/v1/auth/login", json={"login": form["login"], "password": form["password"]}
        ) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
            headers = {
                "Cookie": f"mp_session={response.cookies['mp_session'].value}",
                "X-CSRF-Token": body["csrf_token"],
            }
            patient_id = body["account"]["patient"]["id"]
        async with http.post(
            "/api/v1/me/full-access", json={"accept_terms": True}, headers=headers
        ) as response:
            assert response.status == 200, await response.text()
        async with http.get(
            "/api/v1/slots", params={"service": "internal-medicine-visit", "limit": "50"}
        ) as response:
            slots = _disjoint((await response.json())["items"], PARALLEL_BOOKINGS)
        keys = {slot["id"]: f"kill-{uuid.uuid4()}" for slot in slots}

        async def book(slot_id: str) -> tuple[int, dict[str, Any]]:
            async with http.post(
                "/api/v1/appointments",
                json={"slot_id": slot_id, "idempotency_key": keys[slot_id]},
                headers=headers,
            ) as response:
                return response.status, await response.json(content_type=None)

        tasks = [asyncio.create_task(book(slot_id)) for slot_id in keys]
        # Killed as soon as the first booking is answered, with the others in flight.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        await hub_process.kill()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    answered = {o[1]["id"] for o in outcomes if isinstance(o, tuple) and o[0] == 201}
    assert answered, outcomes  # the first booking was answered before the kill
    after_kill = await _patient_bookings(database_url, patient_id)
    # Every booking is there whole (with its event and its audit row) or not at all, and what
    # the hub confirmed before it died is there.
    assert all(events == 1 and audits == 1 for _, _, events, audits in after_kill), after_kill
    assert {key for key, *_ in after_kill} <= set(keys.values())
    assert answered <= {appointment_id for _, appointment_id, _, _ in after_kill}

    await hub_process.start()
    retried: dict[str, tuple[int, str]] = {}
    async with aiohttp.ClientSession(hub_process.url) as http:
        for slot_id, key in keys.items():
            async with http.post(
                "/api/v1/appointments",
                json={"slot_id": slot_id, "idempotency_key": key},
                headers=headers,  # the session outlived the process: it is a database row
            ) as response:
                assert response.status in (200, 201), await response.text()
                retried[key] = (response.status, (await response.json())["id"])
    final = await _patient_bookings(database_url, patient_id)
    assert [key for key, *_ in final] == sorted(keys.values())
    assert all(events == 1 and audits == 1 for _, _, events, audits in final), final
    landed_before = {key: appointment_id for key, appointment_id, _, _ in after_kill}
    for key, (status, appointment_id) in retried.items():
        # A booking that survived the kill is returned (200); one that did not is made (201).
        assert (status == 200) == (key in landed_before), (key, status)
        if key in landed_before:
            assert appointment_id == landed_before[key]
