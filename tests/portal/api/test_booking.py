"""Booking, cancelling, rescheduling, listing and reading appointments over HTTP.

Every test runs against the real app on SQLite and on PostgreSQL with the seeded demo network:
demo.patient has full access, a child, a rehabilitation referral and one upcoming visit with
demo.physician (``PHYSICIANS[0]``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select

from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.models import (
    AccessLevel,
    Account,
    Appointment,
    AuditEvent,
    Practitioner,
    Role,
)
from portal.pesel import make_pesel
from tests.conftest import DEMO_PASSWORD, Api, User

ZONE = ZoneInfo("Europe/Warsaw")
APPOINTMENTS = "/api/v1/appointments"
EN = {"Accept-Language": "en"}


# -- helpers --------------------------------------------------------------------------------


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    return body


async def ok(response: ClientResponse, status: int = 200) -> dict[str, Any]:
    """The JSON body of a successful ``response``."""
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def in_db(settings: Settings, statement: Any) -> Any:
    """The scalar result of ``statement``, read through a connection of the test's own."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            return await session.scalar(statement)
    finally:
        await db.close()


async def audit_events(settings: Settings, *where: Any) -> list[AuditEvent]:
    """Audit events matching ``where``."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            return list(await session.scalars(select(AuditEvent).where(*where)))
    finally:
        await db.close()


async def give_full_access(api: Api, user: User) -> None:
    """Accept the Terms online (requestFullAccess): the account gets full access."""
    response = await api.client.post(
        "/api/v1/me/full-access", json={"accept_terms": True}, headers=user.headers
    )
    assert (await ok(response))["access_level"] == "full"


async def physician_login(api: Api, settings: Settings, code: str) -> User:
    """A login for the demo practitioner ``code`` (the seed makes one only for the first)."""
    db = Database(settings.database_url)
    try:
        async with db.write() as session:
            template = await session.scalar(
                select(Account).where(Account.login_key == "demo.physician")
            )
            practitioner = await session.scalar(
                select(Practitioner).where(Practitioner.code == code)
            )
            assert template is not None and practitioner is not None
            session.add(
                Account(
                    login=f"dr.{code}",
                    login_key=f"dr.{code}",
                    password_hash=template.password_hash,
                    role=Role.PHYSICIAN,
                    access_level=AccessLevel.FULL,
                    practitioner_id=practitioner.id,
                    created_at=template.created_at,
                    password_changed_at=template.password_changed_at,
                )
            )
    finally:
        await db.close()
    return await api.login(f"dr.{code}", DEMO_PASSWORD)


async def add_child(api: Api, user: User, serial: int = 0) -> str:
    """Add a dependent through addDependent; returns the child's patient id."""
    birth = date(2016, 5, 1 + serial % 28)
    response = await api.client.post(
        "/api/v1/me/dependents",
        json={
            "first_name": "Ola",
            "last_name": "Testowa",
            "birth_date": birth.strftime("%d-%m-%Y"),
            "sex": "female",
            "pesel": make_pesel(birth, "female", 500 + serial + uuid.uuid4().int % 400),
        },
        headers=user.headers,
    )
    return str((await ok(response, 201))["id"])


async def demo_physician_id(api: Api) -> str:
    response = await api.client.get("/api/v1/physicians", params={"language": "en"})
    wanted = PHYSICIANS[0]
    for item in (await response.json())["items"]:
        if item["last_name"] == wanted.last_name and item["first_name"] == wanted.first_name:
            return str(item["id"])
    raise AssertionError("the demo physician is not listed")


async def get(api: Api, user: User | None, appointment_id: str) -> ClientResponse:
    return await api.client.get(
        f"{APPOINTMENTS}/{appointment_id}", headers=user.headers if user else {}
    )


async def cancel(
    api: Api, user: User, appointment_id: str, reason: str | None = None
) -> ClientResponse:
    body = {"reason": reason} if reason is not None else {}
    return await api.client.post(
        f"{APPOINTMENTS}/{appointment_id}/cancel", json=body, headers={**user.headers, **EN}
    )


async def reschedule(api: Api, user: User, appointment_id: str, slot_id: str) -> ClientResponse:
    return await api.client.post(
        f"{APPOINTMENTS}/{appointment_id}/reschedule",
        json={"slot_id": slot_id},
        headers={**user.headers, **EN},
    )


async def listed(api: Api, user: User, **query: str) -> list[dict[str, Any]]:
    response = await api.client.get(APPOINTMENTS, params=query, headers=user.headers)
    return list((await ok(response))["items"])


async def children(api: Api, user: User) -> list[str]:
    response = await api.client.get("/api/v1/me/dependents", headers=user.headers)
    return [child["id"] for child in (await ok(response))["items"]]


def free_ids(slots: list[dict[str, Any]]) -> set[str]:
    return {slot["id"] for slot in slots}


# -- bookAppointment ------------------------------------------------------------------------


async def test_book_returns_the_booked_appointment(api: Api, settings: Settings) -> None:
    user = await api.register()
    slot = (await api.free_slots(service="internal-medicine-visit"))[3]
    appointment = await ok(await api.book(user, slot["id"]), 201)
    assert appointment["status"] == "booked"
    assert appointment["source"] == "portal"
    assert appointment["patient"]["id"] == user.patient_id
    assert appointment["booked_by_account_id"] == user.account["id"]
    assert (appointment["start"], appointment["end"]) == (slot["start"], slot["end"])
    assert appointment["service"] == slot["service"]
    assert appointment["physician"] == slot["physician"]
    assert appointment["rescheduled_from_id"] is None
    assert [(h["status"], h["source"]) for h in appointment["history"]] == [("booked", "portal")]
    assert slot["id"] not in free_ids(await api.free_slots(service="internal-medicine-visit"))
    rows = await in_db(
        settings,
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.slot_id == uuid.UUID(slot["id"])),
    )
    assert rows == 1


async def test_book_for_own_child(api: Api) -> None:
    guardian = await api.register()
    child_id = await add_child(api, guardian)
    slot = (await api.free_slots(service="paediatrics-visit"))[0]
    appointment = await ok(await api.book(guardian, slot["id"], patient_id=child_id), 201)
    assert appointment["patient"]["id"] == child_id
    assert appointment["patient"]["name"] == "Ola Testowa"
    assert appointment["booked_by_account_id"] == guardian.account["id"]
    assert [a["id"] for a in await listed(api, guardian)] == [appointment["id"]]


async def test_book_for_a_stranger_or_their_child_is_not_found(api: Api) -> None:
    user = await api.register()
    stranger = await api.register()
    strangers_child = await add_child(api, stranger)
    slot = (await api.free_slots(service="internal-medicine-visit"))[0]
    for patient_id in (stranger.patient_id, strangers_child, str(uuid.uuid4())):
        response = await api.book(user, slot["id"], patient_id=patient_id)
        await problem(response, 404, "patient_not_found")
    assert slot["id"] in free_ids(await api.free_slots(service="internal-medicine-visit"))


async def test_idempotency_key_repeats_the_booking(api: Api, settings: Settings) -> None:
    user = await api.register()
    first, second = (await api.free_slots(service="internal-medicine-phone"))[:2]
    created = await ok(await api.book(user, first["id"], idempotency_key="k-1"), 201)
    repeated = await ok(await api.book(user, first["id"], idempotency_key="k-1"), 200)
    assert repeated["id"] == created["id"]
    assert repeated["history"] == created["history"]
    rows = await in_db(
        settings,
        select(func.count()).select_from(Appointment).where(Appointment.idempotency_key == "k-1"),
    )
    assert rows == 1
    response = await api.book(user, second["id"], idempotency_key="k-1")
    await problem(response, 409, "idempotency_key_reused")
    assert second["id"] in free_ids(await api.free_slots(service="internal-medicine-phone"))
    # Keys belong to the account that used them: another patient's "k-1" is a new booking.
    other = await api.register()
    await ok(await api.book(other, second["id"], idempotency_key="k-1"), 201)


async def test_taken_and_unknown_slots(api: Api) -> None:
    first, second = await api.register(), await api.register()
    slot = (await api.free_slots(service="internal-medicine-visit"))[0]
    await ok(await api.book(first, slot["id"]), 201)
    await problem(await api.book(second, slot["id"]), 409, "slot_taken")
    await problem(await api.book(first, slot["id"]), 409, "slot_taken")
    await problem(await api.book(second, str(uuid.uuid4())), 404, "slot_not_found")
    assert await listed(api, second) == []


@pytest.mark.parametrize("service_type", ["online_consultation", "rehabilitation"])
async def test_basic_account_needs_full_access(
    api: Api, settings: Settings, service_type: str
) -> None:
    user = await api.register()
    slot = (await api.free_slots(service_type=service_type))[0]
    body = await problem(
        await api.client.post(
            APPOINTMENTS, json={"slot_id": slot["id"]}, headers={**user.headers, **EN}
        ),
        403,
        "full_access_required",
    )
    assert "full access" in body["title"]
    # The level is read at every request: once granted, only the referral rule remains.
    await give_full_access(api, user)
    response = await api.book(user, slot["id"])
    if service_type == "rehabilitation":
        await problem(response, 403, "referral_required")
    else:
        await ok(response, 201)


async def test_basic_account_limit_counts_children_and_frees_on_cancel(api: Api) -> None:
    guardian = await api.register()
    child_id = await add_child(api, guardian)
    slots = await api.free_slots(service_type="telephone_consultation")
    booked = []
    for index, slot in enumerate(slots[:10]):
        extra = {"patient_id": child_id} if index % 2 else {}
        booked.append((await ok(await api.book(guardian, slot["id"], **extra), 201))["id"])
    for extra in ({}, {"patient_id": child_id}):
        response = await api.client.post(
            APPOINTMENTS,
            json={"slot_id": slots[10]["id"], **extra},
            headers={**guardian.headers, **EN},
        )
        body = await problem(response, 403, "active_service_limit")
        assert "at most 10 active services" in body["title"]
    response = await api.book(guardian, slots[10]["id"])
    assert (
        "najwyżej 10 aktywnych usług"
        in (await problem(response, 403, "active_service_limit"))["title"]
    )
    # Cancelling one (the child's) frees one place, and only one.
    await ok(await cancel(api, guardian, booked[1]))
    await ok(await api.book(guardian, slots[10]["id"]), 201)
    await problem(await api.book(guardian, slots[11]["id"]), 403, "active_service_limit")
    statuses = [a["status"] for a in await listed(api, guardian, period="upcoming")]
    assert sorted(statuses) == ["booked"] * 10 + ["cancelled"]


async def test_full_account_has_no_service_limit(api: Api, settings: Settings) -> None:
    user = await api.register()
    await give_full_access(api, user)
    slots = await api.free_slots(service_type="telephone_consultation")
    for slot in slots[:12]:
        await ok(await api.book(user, slot["id"]), 201)
    assert len(await listed(api, user, period="upcoming")) == 12


async def test_rehabilitation_without_referral(api: Api, settings: Settings) -> None:
    user = await api.register()
    await give_full_access(api, user)
    slot = (await api.free_slots(service="rehab-physio"))[0]
    body = await problem(
        await api.client.post(
            APPOINTMENTS, json={"slot_id": slot["id"]}, headers={**user.headers, **EN}
        ),
        403,
        "referral_required",
    )
    assert "referral" in body["title"]


async def test_referral_is_used_once_and_released_by_cancelling(api: Api) -> None:
    patient = await api.login("demo.patient")
    first, second = await api.bookable_slots(patient, 2, service_type="rehabilitation")
    booked = await ok(await api.book(patient, first["id"]), 201)
    assert booked["referral_id"] is not None
    await problem(await api.book(patient, second["id"]), 403, "referral_required")
    # Whatever reason the patient gives, cancelling gives the referral back.
    await ok(await cancel(api, patient, booked["id"], reason="rescheduled"))
    again = await ok(await api.book(patient, second["id"]), 201)
    assert again["referral_id"] == booked["referral_id"]


async def test_referral_is_the_patients_own(api: Api) -> None:
    patient = await api.login("demo.patient")
    child_id = next(iter(await children(api, patient)))
    slot = (await api.free_slots(service="rehab-physio"))[0]
    response = await api.book(patient, slot["id"], patient_id=child_id)
    await problem(response, 403, "referral_required")


async def test_physician_cannot_book(api: Api) -> None:
    physician = await api.login("demo.physician")
    slot = (await api.free_slots())[0]
    await problem(await api.book(physician, slot["id"]), 403, "role_forbidden")
    assert slot["id"] in free_ids(await api.free_slots())


async def test_reception_books_for_a_named_patient(api: Api) -> None:
    reception = await api.login("demo.reception")
    patient = await api.register()
    slots = await api.free_slots(service="internal-medicine-visit")
    booked = await ok(await api.book(reception, slots[0]["id"], patient_id=patient.patient_id), 201)
    assert booked["source"] == "reception"
    assert booked["patient"]["id"] == patient.patient_id
    assert booked["booked_by_account_id"] == reception.account["id"]
    assert [h["source"] for h in booked["history"]] == ["reception"]
    assert [a["id"] for a in await listed(api, patient)] == [booked["id"]]
    body = await problem(await api.book(reception, slots[1]["id"]), 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("patient_id", "field_required")]
    response = await api.book(reception, slots[1]["id"], patient_id=str(uuid.uuid4()))
    await problem(response, 404, "patient_not_found")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "slot_id", "field_required"),
        ({"slot_id": "nope"}, "slot_id", "invalid_value"),
        ({"slot_id": str(uuid.uuid4()), "idempotency_key": ""}, "idempotency_key", "too_short"),
        ({"slot_id": str(uuid.uuid4()), "source": "reception"}, "source", "unknown_field"),
    ],
)
async def test_book_rejects_wrong_bodies(
    api: Api, body: dict[str, Any], field: str, code: str
) -> None:
    user = await api.register()
    response = await api.client.post(APPOINTMENTS, json=body, headers=user.headers)
    problem_body = await problem(response, 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in problem_body["errors"]] == [(field, code)]


# -- cancelAppointment ----------------------------------------------------------------------


async def test_cancel_frees_the_slot_and_records_the_reason(api: Api) -> None:
    user, other = await api.register(), await api.register()
    slot = (await api.free_slots(service="dermatology-visit"))[2]
    booked = await ok(await api.book(user, slot["id"]), 201)
    cancelled = await ok(await cancel(api, user, booked["id"], reason="Wyjazd służbowy"))
    assert cancelled["id"] == booked["id"]
    assert cancelled["status"] == "cancelled"
    assert [(h["status"], h["note"]) for h in cancelled["history"]] == [
        ("booked", None),
        ("cancelled", "Wyjazd służbowy"),
    ]
    assert slot["id"] in free_ids(await api.free_slots(service="dermatology-visit"))
    taken_again = await ok(await api.book(other, slot["id"]), 201)
    assert taken_again["id"] != booked["id"]
    body = await problem(await cancel(api, user, booked["id"]), 409, "appointment_not_active")
    assert "cancelled" in body["title"]
    assert (await ok(await get(api, user, booked["id"])))["history"] == cancelled["history"]


async def test_cancel_someone_elses_appointment_is_not_found_and_audited(
    api: Api, settings: Settings
) -> None:
    owner, intruder = await api.register(), await api.register()
    slot = (await api.free_slots(service="internal-medicine-visit"))[0]
    booked = await ok(await api.book(owner, slot["id"]), 201)
    await problem(await cancel(api, intruder, booked["id"]), 404, "appointment_not_found")
    await problem(await cancel(api, intruder, str(uuid.uuid4())), 404, "appointment_not_found")
    assert (await ok(await get(api, owner, booked["id"])))["status"] == "booked"
    denied = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(intruder.account["id"]),
        AuditEvent.outcome == "denied",
    )
    assert [(e.object_id, e.patient_id) for e in denied] == [
        (booked["id"], uuid.UUID(owner.patient_id))
    ]


async def test_basic_account_cannot_cancel_what_reception_booked(
    api: Api, settings: Settings
) -> None:
    reception = await api.login("demo.reception")
    patient = await api.register()
    slots = await api.free_slots(service="internal-medicine-visit")
    booked = await ok(await api.book(reception, slots[0]["id"], patient_id=patient.patient_id), 201)
    body = await problem(await cancel(api, patient, booked["id"]), 403, "cancel_source_forbidden")
    assert "reception" in body["title"]
    await problem(
        await reschedule(api, patient, booked["id"], slots[1]["id"]), 403, "cancel_source_forbidden"
    )
    assert (await ok(await get(api, patient, booked["id"])))["status"] == "booked"
    await give_full_access(api, patient)
    cancelled = await ok(await cancel(api, patient, booked["id"]))
    assert cancelled["status"] == "cancelled"
    assert cancelled["history"][-1]["source"] == "portal"


async def test_physician_cannot_cancel(api: Api) -> None:
    patient = await api.login("demo.patient")
    (visit,) = await listed(api, patient, period="upcoming")
    physician = await api.login("demo.physician")
    await problem(await cancel(api, physician, visit["id"]), 403, "role_forbidden")
    assert (await ok(await get(api, patient, visit["id"])))["status"] == "booked"


# -- rescheduleAppointment ------------------------------------------------------------------


async def test_reschedule_moves_the_booking(api: Api) -> None:
    user = await api.register()
    old_slot, new_slot = (await api.free_slots(service="cardiology-visit"))[:2]
    old = await ok(await api.book(user, old_slot["id"]), 201)
    new = await ok(await reschedule(api, user, old["id"], new_slot["id"]))
    assert new["id"] != old["id"]
    assert new["status"] == "booked"
    assert new["rescheduled_from_id"] == old["id"]
    assert (new["start"], new["end"]) == (new_slot["start"], new_slot["end"])
    assert [(h["status"], h["note"]) for h in new["history"]] == [("booked", "rescheduled")]
    previous = await ok(await get(api, user, old["id"]))
    assert previous["status"] == "cancelled"
    assert [(h["status"], h["note"]) for h in previous["history"]] == [
        ("booked", None),
        ("cancelled", "rescheduled"),
    ]
    free = free_ids(await api.free_slots(service="cardiology-visit"))
    assert old_slot["id"] in free
    assert new_slot["id"] not in free
    upcoming = await listed(api, user, period="upcoming")
    assert [(a["id"], a["status"]) for a in upcoming] == [
        (old["id"], "cancelled"),
        (new["id"], "booked"),
    ]


async def test_reschedule_to_another_service_is_refused(api: Api) -> None:
    user = await api.register()
    slot = (await api.free_slots(service="cardiology-visit"))[0]
    other = (await api.free_slots(service="cardiology-phone"))[0]
    old = await ok(await api.book(user, slot["id"]), 201)
    body = await problem(await reschedule(api, user, old["id"], other["id"]), 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("slot_id", "reschedule_service_mismatch")
    ]
    response = await reschedule(api, user, old["id"], str(uuid.uuid4()))
    await problem(response, 404, "slot_not_found")
    assert (await ok(await get(api, user, old["id"])))["status"] == "booked"


async def test_reschedule_to_a_taken_slot_keeps_the_old_booking(api: Api) -> None:
    user, rival = await api.register(), await api.register()
    old_slot, wanted = (await api.free_slots(service="cardiology-visit"))[:2]
    old = await ok(await api.book(user, old_slot["id"]), 201)
    await ok(await api.book(rival, wanted["id"]), 201)
    await problem(await reschedule(api, user, old["id"], wanted["id"]), 409, "slot_taken")
    kept = await ok(await get(api, user, old["id"]))
    assert kept["status"] == "booked"
    assert [h["status"] for h in kept["history"]] == ["booked"]
    assert [a["id"] for a in await listed(api, user)] == [old["id"]]
    assert old_slot["id"] not in free_ids(await api.free_slots(service="cardiology-visit"))


async def test_reschedule_keeps_the_referral_with_the_moved_appointment(api: Api) -> None:
    patient = await api.login("demo.patient")
    first, moved_to, another = await api.bookable_slots(patient, 3, service="rehab-physio")
    old = await ok(await api.book(patient, first["id"]), 201)
    new = await ok(await reschedule(api, patient, old["id"], moved_to["id"]))
    assert new["referral_id"] == old["referral_id"] is not None
    # The referral moved with the booking: it is still in use.
    await problem(await api.book(patient, another["id"]), 403, "referral_required")
    await ok(await cancel(api, patient, new["id"]))
    assert (await ok(await api.book(patient, another["id"]), 201))["referral_id"] == new[
        "referral_id"
    ]


# -- listAppointments -----------------------------------------------------------------------


async def test_list_by_period_with_children_and_history(api: Api, clock: ManualClock) -> None:
    guardian = await api.register()
    child_id = await add_child(api, guardian)
    soon = (await api.free_slots(service_type="telephone_consultation"))[0]
    after = datetime.fromisoformat(soon["start"]).astimezone(ZONE).date() + timedelta(days=3)
    later = (await api.free_slots(service="paediatrics-visit", date_from=after.isoformat()))[0]
    mine = await ok(await api.book(guardian, soon["id"]), 201)
    childs = await ok(await api.book(guardian, later["id"], patient_id=child_id), 201)
    cancelled_slot = (
        await api.free_slots(service="paediatrics-visit", date_from=after.isoformat())
    )[0]
    dropped = await ok(await api.book(guardian, cancelled_slot["id"], patient_id=child_id), 201)
    await ok(await cancel(api, guardian, dropped["id"]))

    clock.advance(datetime.fromisoformat(soon["end"]) - clock.now() + timedelta(minutes=1))
    guardian = await api.login(guardian.login, guardian.password)  # the old session idled out

    def summary(items: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
        return [(a["id"], [h["status"] for h in a["history"]]) for a in items]

    by_start = sorted([childs, dropped], key=lambda a: (a["start"], a["id"]))
    upcoming = await listed(api, guardian, period="upcoming")
    assert {a["id"] for a in upcoming} == {childs["id"], dropped["id"]}
    assert [a["start"] for a in upcoming] == sorted(a["start"] for a in by_start)
    assert summary(await listed(api, guardian, period="past")) == [(mine["id"], ["booked"])]
    everything = await listed(api, guardian)
    assert everything[0]["id"] == mine["id"]
    assert {a["id"]: [h["status"] for h in a["history"]] for a in everything} == {
        mine["id"]: ["booked"],
        childs["id"]: ["booked"],
        dropped["id"]: ["booked", "cancelled"],
    }
    own = await listed(api, guardian, patient_id=guardian.patient_id, period="all")
    assert [a["id"] for a in own] == [mine["id"]]
    only_child = await listed(api, guardian, patient_id=child_id, period="upcoming")
    assert {a["id"] for a in only_child} == {childs["id"], dropped["id"]}
    assert await listed(api, guardian, patient_id=child_id, period="past") == []
    response = await api.client.get(
        APPOINTMENTS, params={"period": "soon"}, headers=guardian.headers
    )
    await problem(response, 422, "invalid_input")


async def test_list_is_the_callers_family_only(api: Api) -> None:
    patient = await api.login("demo.patient")
    stranger = await api.register()
    assert await listed(api, stranger) == []
    response = await api.client.get(
        APPOINTMENTS, params={"patient_id": patient.patient_id}, headers=stranger.headers
    )
    await problem(response, 404, "patient_not_found")


async def test_list_by_physician_is_forbidden(api: Api) -> None:
    physician = await api.login("demo.physician")
    response = await api.client.get(APPOINTMENTS, headers=physician.headers)
    await problem(response, 403, "role_forbidden")


async def test_reception_lists_a_named_patient(api: Api, settings: Settings) -> None:
    reception = await api.login("demo.reception")
    patient = await api.login("demo.patient")
    items = await listed(api, reception, patient_id=patient.patient_id)
    assert items
    assert {a["patient"]["id"] for a in items} == {patient.patient_id}
    assert items == await listed(api, patient)
    events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(reception.account["id"]),
        AuditEvent.action == "list",
    )
    assert [(e.patient_id, e.outcome) for e in events] == [
        (uuid.UUID(patient.patient_id), "allowed")
    ]
    response = await api.client.get(APPOINTMENTS, headers=reception.headers)
    body = await problem(response, 422, "invalid_input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("patient_id", "field_required")]
    response = await api.client.get(
        APPOINTMENTS, params={"patient_id": str(uuid.uuid4())}, headers=reception.headers
    )
    await problem(response, 404, "patient_not_found")


# -- getAppointment -------------------------------------------------------------------------


async def test_get_by_everyone_entitled_and_audited(api: Api, settings: Settings) -> None:
    guardian = await api.register()
    child_id = await add_child(api, guardian)
    physician = await api.login("demo.physician")
    reception = await api.login("demo.reception")
    anna = await demo_physician_id(api)
    slot = (await api.free_slots(physician_id=anna, service="internal-medicine-visit"))[0]
    booked = await ok(await api.book(guardian, slot["id"], patient_id=child_id), 201)
    own_slot = (await api.free_slots(service="dermatology-visit"))[0]
    own = await ok(await api.book(guardian, own_slot["id"]), 201)

    for reader in (guardian, physician, reception):
        assert await ok(await get(api, reader, booked["id"])) == booked
    assert await ok(await get(api, guardian, own["id"])) == own
    # The physician sees only their own patients' appointments.
    await problem(await get(api, physician, own["id"]), 404, "appointment_not_found")

    reads = await audit_events(
        settings, AuditEvent.action == "read", AuditEvent.object_type == "Appointment"
    )
    logged = {(e.actor_account_id, e.object_id, e.outcome) for e in reads}
    assert logged == {
        (uuid.UUID(guardian.account["id"]), booked["id"], "allowed"),
        (uuid.UUID(physician.account["id"]), booked["id"], "allowed"),
        (uuid.UUID(reception.account["id"]), booked["id"], "allowed"),
        (uuid.UUID(physician.account["id"]), own["id"], "denied"),
    }
    assert all(e.patient_id is not None for e in reads)


async def test_get_by_another_physician_or_patient_is_not_found(
    api: Api, settings: Settings
) -> None:
    owner = await api.login("demo.patient")
    (visit,) = await listed(api, owner, period="upcoming")
    other_physician = await physician_login(api, settings, PHYSICIANS[1].code)
    stranger = await api.register()
    for reader in (other_physician, stranger):
        await problem(await get(api, reader, visit["id"]), 404, "appointment_not_found")
    await problem(await get(api, None, visit["id"]), 401, "authentication_required")
    await problem(await get(api, owner, str(uuid.uuid4())), 404, "appointment_not_found")
    await problem(await get(api, owner, "not-a-uuid"), 404, "not_found")
    denied = await audit_events(settings, AuditEvent.outcome == "denied")
    assert sorted(str(e.actor_account_id) for e in denied) == sorted(
        [other_physician.account["id"], stranger.account["id"]]
    )
    assert {e.object_id for e in denied} == {visit["id"]}


# -- one patient, one place at a time -------------------------------------------------------


def at_the_same_time(slots: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two free slots of different physicians that overlap in time."""
    for i, first in enumerate(slots):
        for second in slots[i + 1 :]:
            if (
                first["physician"]["id"] != second["physician"]["id"]
                and first["start"] < second["end"]
                and second["start"] < first["end"]
            ):
                return first, second
    raise AssertionError("no two overlapping slots")


async def test_overlapping_visit_is_refused_unless_the_patient_confirms(api: Api) -> None:
    user = await api.full_patient()
    first, second = at_the_same_time(await api.free_slots(limit=100))
    booked = await ok(await api.book(user, first["id"]), 201)
    body = await problem(await api.book(user, second["id"]), 409, "appointment_overlap")
    assert body["conflicting_appointment_id"] == booked["id"]
    start = datetime.fromisoformat(booked["start"])
    assert start.strftime("%H:%M") in body["title"]
    assert second["id"] in free_ids(await api.free_slots(limit=100))
    both = await ok(await api.book(user, second["id"], allow_overlap=True), 201)
    assert {a["id"] for a in await listed(api, user)} == {booked["id"], both["id"]}


async def test_overlap_rule_holds_per_patient_for_children_too(api: Api) -> None:
    guardian = await api.full_patient()
    child_id = await add_child(api, guardian)
    first, second = at_the_same_time(await api.free_slots(limit=100))
    await ok(await api.book(guardian, first["id"], patient_id=child_id), 201)
    await problem(
        await api.book(guardian, second["id"], patient_id=child_id), 409, "appointment_overlap"
    )
    # The guardian's own visit at that time is another patient's: allowed.
    await ok(await api.book(guardian, second["id"]), 201)


async def test_reschedule_refuses_an_overlap_but_not_with_the_visit_it_moves(api: Api) -> None:
    user = await api.full_patient()
    slots = await api.free_slots(service="internal-medicine-visit", limit=100)
    first, clash = at_the_same_time(slots)
    await ok(await api.book(user, first["id"]), 201)
    later = next(s for s in slots if s["start"] >= first["end"] and s["id"] != clash["id"])
    moving = await ok(await api.book(user, later["id"]), 201)
    await problem(
        await reschedule(api, user, moving["id"], clash["id"]), 409, "appointment_overlap"
    )
    response = await api.client.post(
        f"{APPOINTMENTS}/{moving['id']}/reschedule",
        json={"slot_id": clash["id"], "allow_overlap": True},
        headers=user.headers,
    )
    await ok(response)


async def test_a_visit_may_move_onto_its_own_time(api: Api) -> None:
    user = await api.full_patient()
    slots = await api.free_slots(service="internal-medicine-visit", limit=100)
    first, same_time = at_the_same_time(slots)
    booked = await ok(await api.book(user, first["id"]), 201)
    moved = await ok(await reschedule(api, user, booked["id"], same_time["id"]))
    assert moved["start"] == same_time["start"]
