"""Medical records over HTTP: referrals, results, instructions, prescriptions and questions.

Every test runs against the real app on SQLite and on PostgreSQL with the seeded demo network:
demo.patient (Jan Nowicki, full access, a child Zofia) had two attended visits with
demo.physician (``PHYSICIANS[0]``) 20 and 5 days ago, with an instruction, a released blood
count with a comment, three prescriptions and an answered question, and holds a rehabilitation
referral and one upcoming visit. The helpers here are shared by ``test_desk`` and
``test_records_access``.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientResponse
from sqlalchemy import select

from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.models import (
    AccessLevel,
    Account,
    AuditEvent,
    MedicationRequest,
    Practitioner,
    PrescriptionStatus,
    Role,
)
from portal.passwords import Passwords
from tests.conftest import DEMO_PASSWORD, Api, User

API = "/api/v1"
ZONE = ZoneInfo("Europe/Warsaw")
KEY = re.compile(r"\d{44}")
CODE = re.compile(r"\d{4}")
ANNA = PHYSICIANS[0]
ANNA_NAME = f"{ANNA.title} {ANNA.first_name} {ANNA.last_name}"
OTHER_DOCTOR = PHYSICIANS[1]
LISTS = ("/referrals", "/results", "/instructions", "/prescriptions", "/questions")


# -- helpers (also used by test_desk and test_records_access) --------------------------------


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    return body


async def field_errors(response: ClientResponse) -> list[tuple[str, str]]:
    """The (field, code) pairs of a 422 ``invalid_input`` problem."""
    body = await problem(response, 422, "invalid_input")
    return [(error["field"], error["code"]) for error in body["errors"]]


async def ok(response: ClientResponse, status: int = 200) -> dict[str, Any]:
    """The JSON body of a successful ``response``."""
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def call(
    api: Api,
    user: User | None,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    **params: str,
) -> ClientResponse:
    """``method`` on ``/api/v1`` + ``path`` as ``user`` (None: anonymous)."""
    return await api.client.request(
        method,
        API + path,
        json=body,
        params=params or None,
        headers=user.headers if user else {},
    )


async def read(api: Api, user: User, path: str, **params: str) -> dict[str, Any]:
    """The JSON body of a successful GET."""
    return await ok(await call(api, user, "GET", path, **params))


async def items(api: Api, user: User, path: str, **params: str) -> list[dict[str, Any]]:
    """The ``items`` of a successful list GET."""
    return list((await read(api, user, path, **params))["items"])


async def audit_events(settings: Settings, *where: Any) -> list[AuditEvent]:
    """Audit events matching ``where``, read through a connection of the test's own."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            return list(await session.scalars(select(AuditEvent).where(*where)))
    finally:
        await db.close()


async def denials(settings: Settings, user: User) -> set[tuple[str, str | None, str | None]]:
    """(object_type, object_id, patient_id) of the denied events caused by ``user``."""
    events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(user.account["id"]),
        AuditEvent.outcome == "denied",
    )
    return {
        (e.object_type, e.object_id, str(e.patient_id) if e.patient_id else None) for e in events
    }


async def insert(settings: Settings, *rows: Any) -> None:
    """Add ``rows`` straight to the database (what no API creates)."""
    db = Database(settings.database_url)
    try:
        async with db.write() as session:
            session.add_all(rows)
    finally:
        await db.close()


async def physician_login(api: Api, settings: Settings, code: str = OTHER_DOCTOR.code) -> User:
    """A physician account for the demo practitioner ``code`` (the seed makes only Anna's)."""
    db = Database(settings.database_url)
    try:
        async with db.write() as session:
            practitioner = await session.scalar(
                select(Practitioner).where(Practitioner.code == code)
            )
            assert practitioner is not None
            now = datetime.now(ZONE)
            session.add(
                Account(
                    login=f"dr.{code}",
                    login_key=f"dr.{code}",
                    password_hash=await Passwords().hash(DEMO_PASSWORD),
                    role=Role.PHYSICIAN,
                    access_level=AccessLevel.FULL,
                    practitioner_id=practitioner.id,
                    created_at=now,
                    password_changed_at=now,
                )
            )
    finally:
        await db.close()
    return await api.login(f"dr.{code}")


async def practitioner_id(settings: Settings, code: str) -> uuid.UUID:
    """The id of the demo practitioner ``code``."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            found = await session.scalar(select(Practitioner.id).where(Practitioner.code == code))
    finally:
        await db.close()
    assert found is not None
    return found


async def demo_physician_id(api: Api) -> str:
    """The practitioner id of demo.physician, as listPhysicians shows it."""
    response = await api.client.get(API + "/physicians")
    for item in (await ok(response))["items"]:
        if (item["first_name"], item["last_name"]) == (ANNA.first_name, ANNA.last_name):
            return str(item["id"])
    raise AssertionError("the demo physician is not listed")


def today(clock: ManualClock) -> date:
    """The clinics' local date."""
    return clock.now().astimezone(ZONE).date()


def move_to(clock: ManualClock, instant: datetime) -> None:
    """Move the clock forward to ``instant`` (sessions idle out: log in again after)."""
    assert instant >= clock.now(), (instant, clock.now())
    clock.advance(instant - clock.now())


def noon(day: date) -> datetime:
    """Midday of ``day`` in the clinics' time zone."""
    return datetime.combine(day, time(12), ZONE)


def start_of(appointment: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(appointment["start"])


async def seeded_visits(api: Api, patient: User) -> tuple[dict[str, Any], dict[str, Any]]:
    """demo.patient's attended visits: (5 days ago, 20 days ago).

    A test that moved the clock may have overtaken the seeded upcoming visit too (on some
    weekdays it falls before the slots the test books), so only completed visits count.
    """
    past = await items(api, patient, "/appointments", period="past", patient_id=patient.patient_id)
    recent, old = [a for a in past if a["status"] == "completed"]
    return recent, old


async def upcoming_visit(api: Api, patient: User) -> dict[str, Any]:
    """demo.patient's seeded upcoming (booked) visit."""
    (visit,) = await items(api, patient, "/appointments", period="upcoming")
    assert visit["status"] == "booked"
    return visit


async def prescription(api: Api, patient: User, name: str) -> dict[str, Any]:
    """The patient's newest prescription of ``name``."""
    history = await read(api, patient, "/prescriptions")
    return next(p for p in history["prescriptions"] if p["medication_name"] == name)


async def order(api: Api, patient: User, prescription_id: str, **extra: Any) -> ClientResponse:
    return await call(
        api, patient, "POST", "/prescriptions/orders", {"prescription_id": prescription_id, **extra}
    )


async def review(api: Api, physician: User, order_id: str, **body: Any) -> ClientResponse:
    return await call(
        api, physician, "POST", f"/physician/prescription-orders/{order_id}/review", body
    )


async def ask(api: Api, patient: User, appointment_id: str, text: str) -> ClientResponse:
    return await call(
        api, patient, "POST", "/questions", {"appointment_id": appointment_id, "text": text}
    )


async def answer(api: Api, physician: User, question_id: str, text: str) -> ClientResponse:
    return await call(
        api, physician, "POST", f"/physician/questions/{question_id}/answer", {"answer": text}
    )


async def complete(api: Api, physician: User, appointment_id: str) -> ClientResponse:
    return await call(api, physician, "POST", f"/physician/appointments/{appointment_id}/complete")


async def write(
    api: Api, physician: User, appointment_id: str, kind: str, body: dict[str, Any]
) -> ClientResponse:
    """createResult / createInstruction / createReferral (``kind``: results, ...)."""
    return await call(
        api, physician, "POST", f"/physician/appointments/{appointment_id}/{kind}", body
    )


def blood_count(**extra: Any) -> dict[str, Any]:
    """A createResult body with one high and one low value."""
    return {
        "test_name": "CRP i żelazo",
        "values": [
            {"name": "CRP", "value": "12,5", "unit": "mg/l", "reference_high": 5.0},
            {"name": "Żelazo", "value": "40", "unit": "µg/dl", "reference_low": 60.0},
        ],
        "physician_comment": "Stan zapalny; powtórzyć za 2 tygodnie.",
        **extra,
    }


def rehab_referral(clock: ManualClock) -> dict[str, Any]:
    return {
        "reason": "Rwa kulszowa; 10 zabiegów fizjoterapii.",
        "valid_until": (today(clock) + timedelta(days=60)).isoformat(),
        "service_type": "rehabilitation",
    }


@dataclass
class ChildVisits:
    """Two visits of Zofia (demo.patient's child) with demo.physician, the clock at the second.

    ``attended`` is completed; ``started`` is booked and has begun.
    """

    guardian: User
    physician: User
    child_id: str
    attended: dict[str, Any]
    started: dict[str, Any]


async def child_visits(api: Api, clock: ManualClock) -> ChildVisits:
    """Book two demo.physician slots for Zofia, move to the second, complete the first."""
    anna = await demo_physician_id(api)
    guardian = await api.login("demo.patient")
    (child,) = await items(api, guardian, "/me/dependents")
    first, second = (await api.free_slots(physician_id=anna))[:2]
    attended = await ok(await api.book(guardian, first["id"], patient_id=child["id"]), 201)
    started = await ok(await api.book(guardian, second["id"], patient_id=child["id"]), 201)
    move_to(clock, start_of(started))
    guardian = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    attended = await ok(await complete(api, physician, attended["id"]))
    return ChildVisits(guardian, physician, child["id"], attended, started)


async def attended_visit(api: Api, clock: ManualClock) -> tuple[User, User, dict[str, Any]]:
    """A new full patient's visit with demo.physician, the clock at its start, completed.

    Returns the patient and demo.physician logged in afresh, and the completed appointment.
    """
    patient = await api.full_patient()
    slot = (await api.free_slots(physician_id=await demo_physician_id(api)))[0]
    booked = await ok(await api.book(patient, slot["id"]), 201)
    move_to(clock, start_of(booked))
    patient = await api.login(patient.login, patient.password)
    physician = await api.login("demo.physician")
    return patient, physician, await ok(await complete(api, physician, booked["id"]))


async def child_prescription(settings: Settings, child_id: str, visit_id: str | None = None) -> str:
    """A prescription Anna wrote for the child (no operation writes one without an order)."""
    issued = datetime.now(ZONE)
    row = MedicationRequest(
        id=uuid.uuid4(),
        patient_id=uuid.UUID(child_id),
        practitioner_id=await practitioner_id(settings, ANNA.code),
        appointment_id=uuid.UUID(visit_id) if visit_id else None,
        medication_code="nurofen-forte",
        medication_name="Nurofen dla dzieci Forte",
        substance="ibuprofen",
        form="zawiesina doustna",
        dosage="5 ml do 3 razy dziennie",
        prescription_key="".join(str(secrets.randbelow(10)) for _ in range(44)),
        access_code="0420",
        issued_at=issued,
        valid_until=issued.date() + timedelta(days=30),
        status=PrescriptionStatus.ACTIVE,
        issuer="local",
    )
    await insert(settings, row)
    return str(row.id)


# -- reading: the seeded record ---------------------------------------------------------------


async def test_results_flag_values_and_carry_the_comment(api: Api) -> None:
    patient = await api.login("demo.patient")
    _, old = await seeded_visits(api, patient)
    (result,) = await items(api, patient, "/results")
    assert result["test_name"] == "Morfologia krwi z rozmazem"
    assert result["patient_id"] == patient.patient_id
    assert result["appointment_id"] == old["id"]
    flags = {v["name"]: (v["value"], v["reference_high"], v["flag"]) for v in result["values"]}
    assert flags == {
        "Hemoglobina (HGB)": ("14.8", 18.0, None),
        "Leukocyty (WBC)": ("11.2", 10.0, "H"),
        "Płytki krwi (PLT)": ("243", 400.0, None),
        "Glukoza na czczo": ("118", 99.0, "H"),
    }
    assert result["physician_comment"].startswith("Nieznacznie podwyższone leukocyty")
    assert result["commented_by"] == {"id": old["physician"]["id"], "name": ANNA_NAME}
    assert result["released_at"] is not None


async def test_referral_is_issued_until_valid_until_passes(api: Api, clock: ManualClock) -> None:
    patient = await api.login("demo.patient")
    (referral,) = await items(api, patient, "/referrals")
    assert referral["status"] == "issued"
    assert referral["service_type"] == "rehabilitation"
    assert (referral["service"], referral["specialty"], referral["appointment_id"]) == (
        None,
        None,
        None,
    )
    assert referral["issued_by"]["name"] == ANNA_NAME
    assert referral["patient_id"] == patient.patient_id
    assert referral["reason"].startswith("Przewlekły ból")
    valid_until = date.fromisoformat(referral["valid_until"])
    assert valid_until == today(clock) + timedelta(days=90)
    move_to(clock, noon(valid_until))
    patient = await api.login("demo.patient")
    assert [r["status"] for r in await items(api, patient, "/referrals")] == ["issued"]
    move_to(clock, noon(valid_until + timedelta(days=1)))
    patient = await api.login("demo.patient")
    assert [r["status"] for r in await items(api, patient, "/referrals")] == ["expired"]
    move_to(clock, datetime.now(ZONE) + timedelta(days=100))
    patient = await api.login("demo.patient")
    assert [r["status"] for r in await items(api, patient, "/referrals")] == ["expired"]


async def test_instructions_and_answered_question_of_the_seeded_visits(api: Api) -> None:
    patient = await api.login("demo.patient")
    _, old = await seeded_visits(api, patient)
    (instruction,) = await items(api, patient, "/instructions")
    assert instruction["appointment_id"] == old["id"]
    assert instruction["patient_id"] == patient.patient_id
    assert instruction["physician"] == {"id": old["physician"]["id"], "name": ANNA_NAME}
    assert instruction["text"].startswith("Metformina 500 mg 2 razy dziennie")
    (question,) = await items(api, patient, "/questions")
    assert question["appointment_id"] == old["id"]
    assert question["status"] == "answered"
    assert question["text"] == "Czy metforminę mogę brać razem z suplementem magnezu?"
    assert question["answer"].startswith("Tak, można je przyjmować razem")
    assert question["physician"]["name"] == ANNA_NAME
    assert question["answered_at"] > question["created_at"]


async def test_prescriptions_have_key_and_code_and_expire_after_thirty_days(
    api: Api, clock: ManualClock
) -> None:
    patient = await api.login("demo.patient")
    recent, old = await seeded_visits(api, patient)
    history = await read(api, patient, "/prescriptions")
    assert history["orders"] == []
    prescriptions = history["prescriptions"]
    assert prescriptions[0]["medication_name"] == "Euthyrox N 50"
    assert {p["medication_name"] for p in prescriptions[1:]} == {"Metformax 500", "Bisocard 5"}
    for item in prescriptions:
        assert KEY.fullmatch(item["prescription_key"]), item
        assert CODE.fullmatch(item["access_code"]), item
        assert (item["status"], item["issuer"]) == ("active", "local")
        assert item["physician"]["name"] == ANNA_NAME
        assert item["patient_id"] == patient.patient_id
        assert item["dosage"]
        visit = recent if item["medication_name"] == "Euthyrox N 50" else old
        assert item["issued_at"] == visit["end"]
        issued_on = start_of(visit).date()
        assert date.fromisoformat(item["valid_until"]) == issued_on + timedelta(days=30)
    euthyrox = date.fromisoformat(prescriptions[0]["valid_until"])
    move_to(clock, noon(euthyrox))
    patient = await api.login("demo.patient")
    statuses = {
        p["medication_name"]: p["status"]
        for p in (await read(api, patient, "/prescriptions"))["prescriptions"]
    }
    assert statuses == {
        "Euthyrox N 50": "active",
        "Metformax 500": "expired",
        "Bisocard 5": "expired",
    }
    move_to(clock, noon(euthyrox + timedelta(days=1)))  # day 31 after issue
    patient = await api.login("demo.patient")
    history = await read(api, patient, "/prescriptions")
    assert [p["status"] for p in history["prescriptions"]] == ["expired"] * 3


# -- reading: whose records -------------------------------------------------------------------


async def test_guardian_reads_the_childs_records_by_patient_id(
    api: Api, clock: ManualClock
) -> None:
    world = await child_visits(api, clock)
    visit = world.attended["id"]
    await ok(await write(api, world.physician, visit, "results", blood_count()), 201)
    await ok(await write(api, world.physician, visit, "instructions", {"text": "Dużo pić."}), 201)
    await ok(await write(api, world.physician, visit, "referrals", rehab_referral(clock)), 201)
    await ok(await ask(api, world.guardian, visit, "Czy może iść do szkoły?"), 201)
    guardian, child = world.guardian, world.child_id
    for path in ("/results", "/instructions", "/referrals", "/questions"):
        childs = await items(api, guardian, path, patient_id=child)
        assert [(r["patient_id"], r["appointment_id"]) for r in childs] == [(child, visit)], path
        own = await items(api, guardian, path, patient_id=guardian.patient_id)
        assert {r["patient_id"] for r in own} == {guardian.patient_id}, path
        # Without patient_id: the whole family, newest first.
        family = await items(api, guardian, path)
        assert family[0]["id"] == childs[0]["id"], path
        assert {r["id"] for r in family} == {r["id"] for r in childs + own}, path
    assert await read(api, guardian, "/prescriptions", patient_id=child) == {
        "prescriptions": [],
        "orders": [],
    }


async def test_unreleased_results_are_not_shown(api: Api, clock: ManualClock) -> None:
    world = await child_visits(api, clock)
    visit = world.attended["id"]
    hidden = await ok(
        await write(
            api,
            world.physician,
            visit,
            "results",
            blood_count(test_name="Lipidogram", release=False),
        ),
        201,
    )
    assert hidden["released_at"] is None
    shown = await ok(await write(api, world.physician, visit, "results", blood_count()), 201)
    listed = await items(api, world.guardian, "/results", patient_id=world.child_id)
    assert [r["id"] for r in listed] == [shown["id"]]
    assert hidden["id"] not in {r["id"] for r in await items(api, world.guardian, "/results")}


async def test_strangers_patient_id_is_not_found_and_audited(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    (child,) = await items(api, patient, "/me/dependents")
    stranger = await api.full_patient()
    for path in LISTS:
        # The stranger's own lists are empty: nothing of Jan's leaks into them.
        body = await read(api, stranger, path)
        assert not any(body.values()), (path, body)
        for patient_id in (child["id"], patient.patient_id, str(uuid.uuid4())):
            response = await call(api, stranger, "GET", path, patient_id=patient_id)
            await problem(response, 404, "patient_not_found")
        # Jan cannot reach the stranger's record either.
        response = await call(api, patient, "GET", path, patient_id=stranger.patient_id)
        await problem(response, 404, "patient_not_found")
    assert await denials(settings, stranger) == {
        ("Patient", child["id"], child["id"]),
        ("Patient", patient.patient_id, patient.patient_id),
    }
    assert len(
        await audit_events(
            settings,
            AuditEvent.actor_account_id == uuid.UUID(stranger.account["id"]),
            AuditEvent.outcome == "denied",
        )
    ) == 2 * len(LISTS)


async def test_basic_account_needs_full_access(api: Api) -> None:
    user = await api.register()
    for path in LISTS:
        await problem(await call(api, user, "GET", path), 403, "full_access_required")
    await problem(await order(api, user, str(uuid.uuid4())), 403, "full_access_required")
    await problem(await ask(api, user, str(uuid.uuid4()), "?"), 403, "full_access_required")


async def test_records_need_a_patient(api: Api) -> None:
    physician = await api.login("demo.physician")
    for path in LISTS:
        await problem(await call(api, physician, "GET", path), 403, "role_forbidden")
        await problem(await call(api, None, "GET", path), 401, "authentication_required")


# -- orderPrescription ------------------------------------------------------------------------


async def test_order_from_history_is_pending_for_the_last_prescriber(
    api: Api, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    metformax = await prescription(api, patient, "Metformax 500")
    created = await ok(await order(api, patient, metformax["id"], note="  Kończą się.  "), 201)
    assert created["status"] == "pending"
    assert created["patient_id"] == patient.patient_id
    assert (created["medication_name"], created["dosage"]) == ("Metformax 500", metformax["dosage"])
    assert created["reviewer"] == metformax["physician"]
    assert (created["note"], created["source"]) == ("Kończą się.", "portal")
    assert (created["reviewed_at"], created["rejection_reason"], created["prescription"]) == (
        None,
        None,
        None,
    )
    history = await read(api, patient, "/prescriptions")
    assert history["orders"] == [created]
    # Piotr renewed Metformax since: a renewal of the old entry goes to him, at his dosage.
    metformax_row = MedicationRequest(
        id=uuid.uuid4(),
        patient_id=uuid.UUID(patient.patient_id),
        practitioner_id=await practitioner_id(settings, OTHER_DOCTOR.code),
        medication_code="metformax-500",
        medication_name="Metformax 500",
        dosage="1 tabletka 3 razy dziennie",
        prescription_key="".join(str(secrets.randbelow(10)) for _ in range(44)),
        access_code="1234",
        issued_at=datetime.now(ZONE),
        valid_until=datetime.now(ZONE).date() + timedelta(days=30),
        status=PrescriptionStatus.ACTIVE,
        issuer="local",
    )
    await insert(settings, metformax_row)
    anna = await api.login("demo.physician")
    await ok(await review(api, anna, created["id"], decision="reject", reason="Proszę o wizytę."))
    renewal = await ok(await order(api, patient, metformax["id"]), 201)
    assert renewal["reviewer"]["name"] == (
        f"{OTHER_DOCTOR.title} {OTHER_DOCTOR.first_name} {OTHER_DOCTOR.last_name}"
    )
    assert renewal["dosage"] == "1 tabletka 3 razy dziennie"
    piotr = await physician_login(api, settings)
    assert [o["id"] for o in await items(api, piotr, "/physician/prescription-orders")] == [
        renewal["id"]
    ]
    assert await items(api, anna, "/physician/prescription-orders") == []


async def test_second_order_while_pending_is_a_conflict(api: Api) -> None:
    patient = await api.login("demo.patient")
    metformax = await prescription(api, patient, "Metformax 500")
    bisocard = await prescription(api, patient, "Bisocard 5")
    first = await ok(await order(api, patient, metformax["id"]), 201)
    await problem(await order(api, patient, metformax["id"]), 409, "prescription_order_pending")
    # Another medication is another order.
    await ok(await order(api, patient, bisocard["id"]), 201)
    orders = (await read(api, patient, "/prescriptions"))["orders"]
    assert sorted(o["medication_name"] for o in orders) == ["Bisocard 5", "Metformax 500"]
    # Once reviewed, the medication can be ordered again.
    physician = await api.login("demo.physician")
    await ok(await review(api, physician, first["id"], decision="issue"))
    await ok(await order(api, patient, metformax["id"]), 201)


async def test_order_of_a_strangers_prescription_is_not_found_and_audited(
    api: Api, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    metformax = await prescription(api, patient, "Metformax 500")
    stranger = await api.full_patient()
    await problem(await order(api, stranger, metformax["id"]), 404, "prescription_not_found")
    await problem(await order(api, stranger, str(uuid.uuid4())), 404, "prescription_not_found")
    assert await denials(settings, stranger) == {
        ("MedicationRequest", metformax["id"], patient.patient_id)
    }
    assert (await read(api, patient, "/prescriptions"))["orders"] == []
    assert (await read(api, stranger, "/prescriptions"))["orders"] == []


async def test_order_with_a_bearer_token_comes_from_the_assistant(api: Api) -> None:
    patient = await api.login("demo.patient")
    euthyrox = await prescription(api, patient, "Euthyrox N 50")
    token = await ok(await call(api, patient, "POST", "/auth/token"))
    assistant = User(patient.login, patient.password, bearer=token["access_token"])
    created = await ok(await order(api, assistant, euthyrox["id"]), 201)
    assert created["source"] == "assistant"
    assert (await read(api, patient, "/prescriptions"))["orders"][0]["source"] == "assistant"


async def test_order_rejects_wrong_bodies(api: Api) -> None:
    patient = await api.login("demo.patient")
    response = await call(api, patient, "POST", "/prescriptions/orders", {})
    assert await field_errors(response) == [("prescription_id", "field_required")]
    response = await order(api, patient, str(uuid.uuid4()), note="x" * 501)
    assert await field_errors(response) == [("note", "too_long")]


# -- reviewPrescriptionOrder ------------------------------------------------------------------


async def test_issuing_makes_a_prescription_valid_thirty_days(api: Api, clock: ManualClock) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    euthyrox = await prescription(api, patient, "Euthyrox N 50")
    pending = await ok(await order(api, patient, euthyrox["id"]), 201)
    issued = await ok(
        await review(api, physician, pending["id"], decision="issue", dosage=" 1 tabletka rano ")
    )
    assert (issued["id"], issued["status"]) == (pending["id"], "issued")
    assert issued["reviewed_at"] is not None
    new = issued["prescription"]
    assert KEY.fullmatch(new["prescription_key"])
    assert CODE.fullmatch(new["access_code"])
    assert new["prescription_key"] != euthyrox["prescription_key"]
    assert (new["medication_name"], new["dosage"]) == ("Euthyrox N 50", "1 tabletka rano")
    assert (new["status"], new["issuer"]) == ("active", "local")
    assert new["physician"] == euthyrox["physician"]
    assert date.fromisoformat(new["valid_until"]) == today(clock) + timedelta(days=30)
    history = await read(api, patient, "/prescriptions")
    assert history["prescriptions"][0] == new
    assert len(history["prescriptions"]) == 4
    assert history["orders"] == [issued]
    await problem(
        await review(api, physician, pending["id"], decision="reject", reason="Jednak nie."),
        409,
        "order_already_reviewed",
    )
    assert await items(api, physician, "/physician/prescription-orders") == []
    move_to(clock, noon(date.fromisoformat(new["valid_until"])))
    patient = await api.login("demo.patient")
    assert (await prescription(api, patient, "Euthyrox N 50"))["status"] == "active"
    move_to(clock, noon(date.fromisoformat(new["valid_until"]) + timedelta(days=1)))
    patient = await api.login("demo.patient")
    assert (await prescription(api, patient, "Euthyrox N 50"))["status"] == "expired"


async def test_rejecting_needs_a_reason_the_patient_sees(api: Api) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    bisocard = await prescription(api, patient, "Bisocard 5")
    pending = await ok(await order(api, patient, bisocard["id"]), 201)
    for body in ({}, {"reason": "   "}):
        response = await review(api, physician, pending["id"], decision="reject", **body)
        assert await field_errors(response) == [("reason", "rejection_reason_required")]
    response = await review(api, physician, pending["id"], decision="renew")
    assert await field_errors(response) == [("decision", "invalid_value")]
    rejected = await ok(
        await review(api, physician, pending["id"], decision="reject", reason="Proszę o wizytę.")
    )
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "Proszę o wizytę.")
    assert rejected["prescription"] is None
    history = await read(api, patient, "/prescriptions")
    assert history["orders"] == [rejected]
    assert len(history["prescriptions"]) == 3
    await problem(
        await review(api, physician, pending["id"], decision="issue"),
        409,
        "order_already_reviewed",
    )


async def test_another_physician_cannot_review(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    bisocard = await prescription(api, patient, "Bisocard 5")
    pending = await ok(await order(api, patient, bisocard["id"]), 201)
    other = await physician_login(api, settings)
    assert await items(api, other, "/physician/prescription-orders") == []
    for decision in ("issue", "reject"):
        response = await review(api, other, pending["id"], decision=decision, reason="Nie.")
        await problem(response, 404, "order_not_found")
    await problem(
        await review(api, other, str(uuid.uuid4()), decision="issue"), 404, "order_not_found"
    )
    assert await denials(settings, other) == {
        ("PrescriptionOrder", pending["id"], patient.patient_id)
    }
    await problem(
        await review(api, patient, pending["id"], decision="issue"), 403, "role_forbidden"
    )
    assert (await read(api, patient, "/prescriptions"))["orders"] == [pending]


async def test_prescription_orders_lists_pending_ones_oldest_first(
    api: Api, clock: ManualClock
) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    created = []
    for name in ("Metformax 500", "Bisocard 5", "Euthyrox N 50"):
        chosen = await prescription(api, patient, name)
        created.append(await ok(await order(api, patient, chosen["id"]), 201))
        clock.advance(timedelta(minutes=1))
    listed = await items(api, physician, "/physician/prescription-orders")
    assert [o["id"] for o in listed] == [o["id"] for o in created]
    await ok(await review(api, physician, created[0]["id"], decision="issue"))
    await ok(await review(api, physician, created[2]["id"], decision="reject", reason="Wizyta."))
    listed = await items(api, physician, "/physician/prescription-orders")
    assert listed == [created[1]]
    await problem(
        await call(api, patient, "GET", "/physician/prescription-orders"), 403, "role_forbidden"
    )


# -- askDoctor and answerQuestion -------------------------------------------------------------


async def test_one_open_question_per_visit_until_answered(api: Api, clock: ManualClock) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    recent, _ = await seeded_visits(api, patient)
    asked = await ok(await ask(api, patient, recent["id"], "  Czy mogę ćwiczyć?  "), 201)
    assert (asked["status"], asked["text"], asked["answer"]) == ("open", "Czy mogę ćwiczyć?", None)
    assert (asked["appointment_id"], asked["patient_id"]) == (recent["id"], patient.patient_id)
    assert asked["physician"] == {"id": recent["physician"]["id"], "name": ANNA_NAME}
    await problem(await ask(api, patient, recent["id"], "Halo?"), 409, "question_already_open")
    assert await items(api, physician, "/physician/questions") == [asked]
    answered = await ok(await answer(api, physician, asked["id"], " Tak, umiarkowanie. "))
    assert (answered["status"], answered["answer"]) == ("answered", "Tak, umiarkowanie.")
    assert answered["answered_at"] is not None
    assert (await items(api, patient, "/questions"))[0] == answered
    await problem(
        await answer(api, physician, asked["id"], "Jeszcze raz."), 409, "question_already_answered"
    )
    assert await items(api, physician, "/physician/questions") == []
    clock.advance(timedelta(minutes=1))
    again = await ok(await ask(api, patient, recent["id"], "A basen?"), 201)
    assert await items(api, physician, "/physician/questions") == [again]
    assert [q["status"] for q in await items(api, patient, "/questions")] == [
        "open",
        "answered",
        "answered",
    ]


async def test_questions_close_fourteen_days_after_the_visit(api: Api, clock: ManualClock) -> None:
    patient = await api.login("demo.patient")
    recent, old = await seeded_visits(api, patient)
    body = await problem(
        await ask(api, patient, old["id"], "Wciąż boli."), 409, "question_window_closed"
    )
    assert "14" in body["title"]
    deadline = start_of(recent) + timedelta(days=14)
    move_to(clock, deadline - timedelta(minutes=1))
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    asked = await ok(await ask(api, patient, recent["id"], "Ostatnie pytanie."), 201)
    await ok(await answer(api, physician, asked["id"], "Odpowiedź."))
    move_to(clock, deadline + timedelta(minutes=1))
    patient = await api.login("demo.patient")
    await problem(await ask(api, patient, recent["id"], "Jeszcze?"), 409, "question_window_closed")


async def test_questions_need_an_attended_visit_of_the_family(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    recent, _ = await seeded_visits(api, patient)
    booked = await upcoming_visit(api, patient)
    await problem(
        await ask(api, patient, booked["id"], "Co zabrać?"), 409, "appointment_not_completed"
    )
    stranger = await api.full_patient()
    await problem(await ask(api, stranger, recent["id"], "Hej?"), 404, "appointment_not_found")
    await problem(await ask(api, stranger, str(uuid.uuid4()), "Hej?"), 404, "appointment_not_found")
    assert await denials(settings, stranger) == {("Appointment", recent["id"], patient.patient_id)}
    assert await items(api, stranger, "/questions") == []
    assert [q["status"] for q in await items(api, patient, "/questions")] == ["answered"]
    physician = await api.login("demo.physician")
    await problem(await ask(api, physician, recent["id"], "?"), 403, "role_forbidden")


async def test_empty_question_or_answer_is_invalid(api: Api) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    recent, _ = await seeded_visits(api, patient)
    assert await field_errors(await ask(api, patient, recent["id"], "")) == [("text", "too_short")]
    assert await field_errors(await ask(api, patient, recent["id"], "  \n ")) == [
        ("text", "field_required")
    ]
    response = await call(api, patient, "POST", "/questions", {"appointment_id": recent["id"]})
    assert await field_errors(response) == [("text", "field_required")]
    assert await items(api, physician, "/physician/questions") == []
    asked = await ok(await ask(api, patient, recent["id"], "Pytanie"), 201)
    assert await field_errors(await answer(api, physician, asked["id"], "")) == [
        ("answer", "too_short")
    ]
    assert await field_errors(await answer(api, physician, asked["id"], "   ")) == [
        ("answer", "field_required")
    ]
    assert [q["status"] for q in await items(api, physician, "/physician/questions")] == ["open"]


async def test_another_physician_cannot_answer(api: Api, settings: Settings) -> None:
    patient = await api.login("demo.patient")
    recent, _ = await seeded_visits(api, patient)
    asked = await ok(await ask(api, patient, recent["id"], "Czy to groźne?"), 201)
    other = await physician_login(api, settings)
    assert await items(api, other, "/physician/questions") == []
    await problem(await answer(api, other, asked["id"], "Nie."), 404, "question_not_found")
    await problem(await answer(api, other, str(uuid.uuid4()), "Nie."), 404, "question_not_found")
    assert await denials(settings, other) == {("Question", asked["id"], patient.patient_id)}
    await problem(await answer(api, patient, asked["id"], "Sam sobie."), 403, "role_forbidden")
    assert (await items(api, patient, "/questions"))[0] == asked
