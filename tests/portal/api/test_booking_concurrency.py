"""Bookings racing each other through the real app, on SQLite and on PostgreSQL.

The requests are fired together with ``asyncio.gather`` over the test client, so they interleave
in the server as real clients' would: the partial unique index on the active slot, the lock on
the family's account and the idempotency key must hold whatever order they arrive in.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

from aiohttp import ClientResponse
from sqlalchemy import func, select

from hub.settings import Settings
from portal.db import Database
from portal.models import AccessLevel, Account, Appointment, AppointmentStatus, Patient, Role, Sex
from portal.pesel import make_pesel
from tests.conftest import DEMO_PASSWORD, Api, User


async def make_patients(api: Api, settings: Settings, count: int) -> list[User]:
    """``count`` basic patients, created in the database and logged in over HTTP.

    Registering them over HTTP would hash ``count`` passwords with argon2; they share the demo
    password's hash instead, and logging in still checks it.
    """
    tag = uuid.uuid4().hex[:6]
    db = Database(settings.database_url)
    try:
        async with db.write() as session:
            template = await session.scalar(
                select(Account).where(Account.login_key == "demo.patient")
            )
            assert template is not None
            for index in range(count):
                birth = date(1970, 1, 1) + timedelta(days=97 * index)
                patient = Patient(
                    id=uuid.uuid4(),
                    first_name="Adam",
                    last_name="Równoległy",
                    birth_date=birth,
                    sex=Sex.MALE,
                    pesel=make_pesel(birth, "male", index),
                    created_at=template.created_at,
                )
                session.add(patient)
                await session.flush()
                session.add(
                    Account(
                        login=f"race.{tag}.{index}",
                        login_key=f"race.{tag}.{index}",
                        password_hash=template.password_hash,
                        role=Role.PATIENT,
                        access_level=AccessLevel.BASIC,
                        patient_id=patient.id,
                        created_at=template.created_at,
                        password_changed_at=template.password_changed_at,
                    )
                )
    finally:
        await db.close()
    # Ten logins at a time: they all come from 127.0.0.1, and more than 20 in flight from one
    # address are throttled (each counts before its password is checked). The race the tests
    # are about is the booking, not the login.
    gate = asyncio.Semaphore(10)

    async def login(index: int) -> User:
        async with gate:
            return await api.login(f"race.{tag}.{index}", DEMO_PASSWORD)

    return list(await asyncio.gather(*(login(index) for index in range(count))))


async def count_in_db(settings: Settings, *where: Any) -> int:
    """How many appointments match ``where``."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            found = await session.scalar(
                select(func.count()).select_from(Appointment).where(*where)
            )
    finally:
        await db.close()
    return int(found or 0)


async def outcome(response: ClientResponse) -> tuple[int, str]:
    """The status and, for a problem, its code; for a success, the appointment id."""
    if response.content_type == "application/problem+json":
        return response.status, (await response.json(content_type=None))["code"]
    assert response.content_type == "application/json", await response.text()
    return response.status, (await response.json())["id"]


async def test_fifty_patients_race_for_one_slot(api: Api, settings: Settings) -> None:
    patients = await make_patients(api, settings, 50)
    slot = (await api.free_slots(service="internal-medicine-visit"))[0]
    responses = await asyncio.gather(*(api.book(patient, slot["id"]) for patient in patients))
    results = [await outcome(response) for response in responses]
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 49}, results
    assert {detail for status, detail in results if status == 409} == {"slot_taken"}
    (winner,) = [(p, detail) for p, (s, detail) in zip(patients, results, strict=True) if s == 201]
    slot_id = uuid.UUID(slot["id"])
    assert await count_in_db(settings, Appointment.slot_id == slot_id) == 1
    assert (
        await count_in_db(
            settings,
            Appointment.slot_id == slot_id,
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.patient_id == uuid.UUID(winner[0].patient_id),
            Appointment.id == uuid.UUID(winner[1]),
        )
        == 1
    )
    assert slot["id"] not in {s["id"] for s in await api.free_slots(service=slot["service"]["id"])}


async def test_one_idempotency_key_fired_twenty_times_books_once(
    api: Api, settings: Settings
) -> None:
    (patient,) = await make_patients(api, settings, 1)
    slot = (await api.free_slots(service="internal-medicine-phone"))[0]
    key = f"retry-{uuid.uuid4()}"
    responses = await asyncio.gather(
        *(api.book(patient, slot["id"], idempotency_key=key) for _ in range(20))
    )
    results = [await outcome(response) for response in responses]
    assert Counter(status for status, _ in results) == {201: 1, 200: 19}, results
    assert len({appointment_id for _, appointment_id in results}) == 1
    assert await count_in_db(settings, Appointment.idempotency_key == key) == 1
    assert await count_in_db(settings, Appointment.slot_id == uuid.UUID(slot["id"])) == 1


async def test_basic_account_racing_past_its_limit_gets_exactly_ten(
    api: Api, settings: Settings
) -> None:
    (patient,) = await make_patients(api, settings, 1)
    slots = (await api.free_slots(service_type="telephone_consultation"))[:15]
    assert len(slots) == 15
    responses = await asyncio.gather(*(api.book(patient, slot["id"]) for slot in slots))
    results = [await outcome(response) for response in responses]
    assert Counter(results[i][0] for i in range(15)) == {201: 10, 403: 5}, results
    assert {detail for status, detail in results if status == 403} == {"active_service_limit"}
    assert (
        await count_in_db(
            settings,
            Appointment.patient_id == uuid.UUID(patient.patient_id),
            Appointment.status == AppointmentStatus.BOOKED,
        )
        == 10
    )
