"""The physician's desk and the reception desk over HTTP.

Completing visits and writing records for them, the schedule and a visit's detail, finding
patients and reading their audit trail, on SQLite and PostgreSQL with the seeded demo network
(see ``test_records`` for what the seed holds).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hub.settings import Settings
from portal.clock import ManualClock
from portal.models import AuditEvent, Document
from portal.pesel import make_pesel
from tests.conftest import Api, User
from tests.portal.api.test_records import (
    ANNA_NAME,
    CODE,
    ZONE,
    ask,
    attended_visit,
    audit_events,
    blood_count,
    call,
    child_prescription,
    complete,
    demo_physician_id,
    denials,
    field_errors,
    insert,
    items,
    move_to,
    ok,
    order,
    physician_login,
    prescription,
    problem,
    read,
    rehab_referral,
    seeded_visits,
    start_of,
    today,
    upcoming_visit,
    write,
)

SCHEDULE = "/physician/appointments"
JAN_PESEL = make_pesel(date(1985, 3, 14), "male", 417)
KINDS = ("results", "instructions", "referrals")


def bodies(clock: ManualClock) -> dict[str, dict[str, Any]]:
    """A valid body for each of createResult, createInstruction and createReferral."""
    return {
        "results": blood_count(),
        "instructions": {"text": "Odpoczynek, dużo płynów, kontrola za tydzień."},
        "referrals": rehab_referral(clock),
    }


async def document_for(settings: Settings, patient: User, appointment_id: str) -> str:
    """A document attached to a visit (inserted: uploading is not part of these operations)."""
    row = Document(
        id=uuid.uuid4(),
        patient_id=uuid.UUID(patient.patient_id),
        appointment_id=uuid.UUID(appointment_id),
        uploaded_by_account_id=uuid.UUID(patient.account["id"]),
        description="Wynik TSH z innej przychodni",
        file_name="tsh.pdf",
        content_type="application/pdf",
        size=2048,
        sha256="0" * 64,
        stored_name=uuid.uuid4().hex,
        kind="patient_upload",
        created_at=datetime.now(UTC),
    )
    await insert(settings, row)
    return str(row.id)


def days_ago(clock: ManualClock, days: int) -> str:
    return (today(clock) - timedelta(days=days)).isoformat()


# -- completeAppointment ----------------------------------------------------------------------


async def test_complete_from_fifteen_minutes_before_the_start(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    patient = await api.full_patient()
    anna = await demo_physician_id(api)
    tomorrow = (today(clock) + timedelta(days=1)).isoformat()
    slot = (await api.free_slots(physician_id=anna, date_from=tomorrow))[0]
    booked = await ok(await api.book(patient, slot["id"]), 201)
    opens = start_of(booked) - timedelta(minutes=15)
    move_to(clock, opens - timedelta(minutes=1))
    physician = await api.login("demo.physician")
    other = await physician_login(api, settings)
    patient = await api.login(patient.login, patient.password)
    await problem(await complete(api, physician, booked["id"]), 409, "appointment_not_started")
    await problem(await complete(api, other, booked["id"]), 404, "appointment_not_found")
    await problem(await complete(api, physician, str(uuid.uuid4())), 404, "appointment_not_found")
    assert await denials(settings, other) == {("Appointment", booked["id"], patient.patient_id)}
    await problem(await complete(api, patient, booked["id"]), 403, "role_forbidden")

    move_to(clock, opens)
    completed = await ok(await complete(api, physician, booked["id"]))
    assert (completed["id"], completed["status"]) == (booked["id"], "completed")
    assert [(h["status"], h["source"]) for h in completed["history"]] == [
        ("booked", "portal"),
        ("completed", "portal"),
    ]
    assert datetime.fromisoformat(completed["history"][-1]["at"]) == clock.now()
    body = await problem(
        await complete(api, physician, booked["id"]), 409, "appointment_not_active"
    )
    assert "completed" in body["title"]
    await problem(await complete(api, other, booked["id"]), 404, "appointment_not_found")
    (listed,) = await items(api, patient, "/appointments")
    assert listed == completed
    events = await audit_events_of(settings, physician, action="complete")
    assert [(e.object_id, e.outcome, e.actor_role) for e in events] == [
        (booked["id"], "allowed", "physician")
    ]


async def audit_events_of(settings: Settings, user: User, **where: str) -> list[AuditEvent]:
    """Events caused by ``user`` with the given column values."""
    conditions = [getattr(AuditEvent, name) == value for name, value in where.items()]
    return await audit_events(
        settings, AuditEvent.actor_account_id == uuid.UUID(user.account["id"]), *conditions
    )


async def test_records_need_a_completed_visit(api: Api, clock: ManualClock) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    booked = await upcoming_visit(api, patient)
    before = {kind: await items(api, patient, f"/{kind}") for kind in KINDS}
    for kind, body in bodies(clock).items():
        response = await write(api, physician, booked["id"], kind, body)
        await problem(response, 409, "appointment_not_completed")
        assert await items(api, patient, f"/{kind}") == before[kind]
    assert [len(before[kind]) for kind in KINDS] == [1, 1, 1]


async def test_records_written_after_the_visit_reach_the_patient(
    api: Api, clock: ManualClock
) -> None:
    patient, physician, visit = await attended_visit(api, clock)
    anna = {"id": visit["physician"]["id"], "name": ANNA_NAME}
    for kind in KINDS:
        assert await items(api, patient, f"/{kind}") == []
    written = {}
    for kind, body in bodies(clock).items():
        written[kind] = await ok(await write(api, physician, visit["id"], kind, body), 201)
        assert written[kind]["patient_id"] == patient.patient_id
        assert written[kind]["appointment_id"] == visit["id"]
        assert await items(api, patient, f"/{kind}") == [written[kind]]

    result = written["results"]
    assert result["test_name"] == "CRP i żelazo"
    assert [(v["name"], v["flag"]) for v in result["values"]] == [("CRP", "H"), ("Żelazo", "L")]
    assert result["physician_comment"] == "Stan zapalny; powtórzyć za 2 tygodnie."
    assert result["commented_by"] == anna
    assert datetime.fromisoformat(result["performed_at"]) == clock.now()
    assert datetime.fromisoformat(result["released_at"]) == clock.now()
    instruction = written["instructions"]
    assert (instruction["physician"], instruction["text"]) == (
        anna,
        bodies(clock)["instructions"]["text"],
    )
    referral = written["referrals"]
    assert (referral["status"], referral["service_type"]) == ("issued", "rehabilitation")
    assert referral["issued_by"] == anna
    assert referral["valid_until"] == rehab_referral(clock)["valid_until"]
    assert CODE.fullmatch(referral["access_code"])
    # A blank comment is no comment, and names no commenting physician.
    plain = await ok(
        await write(
            api,
            physician,
            visit["id"],
            "results",
            {
                "test_name": "TSH",
                "values": [{"name": "TSH", "value": "2.1", "unit": "mIU/l"}],
                "physician_comment": "  ",
            },
        ),
        201,
    )
    assert (plain["physician_comment"], plain["commented_by"]) == (None, None)
    assert plain["values"][0]["flag"] is None


async def test_referral_names_a_target_and_a_future_date(api: Api, clock: ManualClock) -> None:
    patient, physician, visit = await attended_visit(api, clock)
    good = rehab_referral(clock)
    cases = [
        ({"service_type": None}, [("service_type", "referral_target_required")]),
        ({"valid_until": today(clock).isoformat()}, [("valid_until", "valid_until_past")]),
        ({"valid_until": days_ago(clock, 1)}, [("valid_until", "valid_until_past")]),
        ({"valid_until": "31-12-2030"}, [("valid_until", "iso_date_format")]),
        ({"service_type": "surgery"}, [("service_type", "invalid_value")]),
        ({"service_code": "no-such-service"}, [("service_code", "invalid_value")]),
        ({"specialty_code": "alchemy"}, [("specialty_code", "invalid_value")]),
        ({"reason": ""}, [("reason", "too_short")]),
        ({"reason": "   "}, [("reason", "field_required")]),
    ]
    for change, expected in cases:
        response = await write(api, physician, visit["id"], "referrals", {**good, **change})
        assert await field_errors(response) == expected, change
    assert await items(api, patient, "/referrals") == []
    # A service or a specialty alone is a target too.
    by_service = {**good, "service_type": None, "service_code": "cardiology-visit"}
    made = await ok(await write(api, physician, visit["id"], "referrals", by_service), 201)
    assert (made["service"]["code"], made["service_type"], made["specialty"]) == (
        "cardiology-visit",
        None,
        None,
    )
    by_specialty = {**good, "service_type": None, "specialty_code": "cardiology"}
    made = await ok(await write(api, physician, visit["id"], "referrals", by_specialty), 201)
    assert (made["specialty"]["code"], made["service"]) == ("cardiology", None)


async def test_rehabilitation_referral_opens_booking_rehabilitation(
    api: Api, clock: ManualClock
) -> None:
    patient, physician, visit = await attended_visit(api, clock)
    slot = (await api.free_slots(service_type="rehabilitation"))[0]
    await problem(await api.book(patient, slot["id"]), 403, "referral_required")
    referral = await ok(
        await write(api, physician, visit["id"], "referrals", rehab_referral(clock)), 201
    )
    booked = await ok(await api.book(patient, slot["id"]), 201)
    assert booked["referral_id"] == referral["id"]
    assert booked["service"]["type"] == "rehabilitation"
    (used,) = await items(api, patient, "/referrals")
    assert (used["id"], used["status"]) == (referral["id"], "used")


# -- listPhysicianAppointments ----------------------------------------------------------------


async def test_schedule_for_a_day_and_a_range_with_counts(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    recent, old = await seeded_visits(api, patient)
    (row,) = await items(api, physician, SCHEDULE, date=days_ago(clock, 5))
    assert row["appointment"] == recent
    assert (row["documents_count"], row["open_questions_count"]) == (0, 0)
    await ok(await ask(api, patient, recent["id"], "Czy zmienić dawkę?"), 201)
    await document_for(settings, patient, recent["id"])
    await document_for(settings, patient, recent["id"])
    (row,) = await items(api, physician, SCHEDULE, date=days_ago(clock, 5))
    assert (row["documents_count"], row["open_questions_count"]) == (2, 1)
    rows = await items(
        api, physician, SCHEDULE, date_from=days_ago(clock, 20), date_to=days_ago(clock, 5)
    )
    assert [r["appointment"]["id"] for r in rows] == [old["id"], recent["id"]]
    assert [(r["documents_count"], r["open_questions_count"]) for r in rows] == [(0, 0), (2, 1)]
    assert await items(api, physician, SCHEDULE, date=days_ago(clock, 6)) == []
    # Another physician's schedule does not hold Anna's visits.
    other = await physician_login(api, settings)
    assert await items(api, other, SCHEDULE, date=days_ago(clock, 5)) == []
    reads = await audit_events_of(settings, physician, action="list")
    assert {(e.object_id, str(e.patient_id), e.outcome) for e in reads} == {
        (recent["id"], patient.patient_id, "allowed"),
        (old["id"], patient.patient_id, "allowed"),
    }


async def test_schedule_defaults_to_today(api: Api, clock: ManualClock) -> None:
    patient = await api.full_patient()
    anna = await demo_physician_id(api)
    tomorrow = (today(clock) + timedelta(days=1)).isoformat()
    slot = (await api.free_slots(physician_id=anna, date_from=tomorrow))[0]
    booked = await ok(await api.book(patient, slot["id"]), 201)
    day = start_of(booked).astimezone(ZONE).date()
    physician = await api.login("demo.physician")
    assert booked["id"] not in {
        r["appointment"]["id"] for r in await items(api, physician, SCHEDULE)
    }
    move_to(clock, datetime.combine(day, time(0, 5), ZONE))
    physician = await api.login("demo.physician")
    rows = await items(api, physician, SCHEDULE)
    assert booked["id"] in {r["appointment"]["id"] for r in rows}
    assert {datetime.fromisoformat(r["appointment"]["start"]).date() for r in rows} == {day}
    assert rows == await items(api, physician, SCHEDULE, date=day.isoformat())


async def test_schedule_range_is_at_most_31_days(api: Api, clock: ManualClock) -> None:
    physician = await api.login("demo.physician")
    start = today(clock) - timedelta(days=25)
    longest = await items(
        api,
        physician,
        SCHEDULE,
        date_from=start.isoformat(),
        date_to=(start + timedelta(days=30)).isoformat(),
    )
    assert [r["appointment"]["status"] for r in longest][:2] == ["completed", "completed"]
    response = await call(
        api,
        physician,
        "GET",
        SCHEDULE,
        date_from=start.isoformat(),
        date_to=(start + timedelta(days=31)).isoformat(),
    )
    assert await field_errors(response) == [("date_to", "invalid_value")]
    response = await call(
        api, physician, "GET", SCHEDULE, date_from=start.isoformat(), date_to=days_ago(clock, 26)
    )
    assert await field_errors(response) == [("date_from", "date_range")]
    response = await call(api, physician, "GET", SCHEDULE, date="2026-13-01")
    assert await field_errors(response) == [("date", "iso_date_format")]


async def test_schedule_is_for_physicians(api: Api) -> None:
    for login in ("demo.patient", "demo.reception"):
        user = await api.login(login)
        await problem(await call(api, user, "GET", SCHEDULE), 403, "role_forbidden")
    await problem(await call(api, None, "GET", SCHEDULE), 401, "authentication_required")


# -- getPhysicianAppointment ------------------------------------------------------------------


async def test_visit_detail_has_the_patient_questions_and_pending_orders(
    api: Api, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    recent, old = await seeded_visits(api, patient)
    document_id = await document_for(settings, patient, recent["id"])
    question = await ok(await ask(api, patient, recent["id"], "Czy mogę pić kawę?"), 201)
    metformax = await prescription(api, patient, "Metformax 500")
    pending = await ok(await order(api, patient, metformax["id"]), 201)
    # Zofia's order for Anna is not part of Jan's visits.
    (child,) = await items(api, patient, "/me/dependents")
    childs = await child_prescription(settings, child["id"])
    await ok(await order(api, patient, childs), 201)
    detail = await read(api, physician, f"{SCHEDULE}/{recent['id']}")
    assert detail["appointment"] == recent
    assert detail["patient"] == {
        "id": patient.patient_id,
        "first_name": "Jan",
        "last_name": "Nowicki",
        "birth_date": "14-03-1985",
        "sex": "male",
        "pesel": JAN_PESEL,
        "guardian_id": None,
    }
    assert [d["id"] for d in detail["documents"]] == [document_id]
    assert detail["documents"][0]["file_name"] == "tsh.pdf"
    assert detail["open_questions"] == [question]
    assert detail["pending_prescription_orders"] == [pending]
    # The open question and the order are the patient's, so the older visit shows them too.
    older = await read(api, physician, f"{SCHEDULE}/{old['id']}")
    assert (older["documents"], older["open_questions"]) == ([], [question])
    assert older["pending_prescription_orders"] == [pending]
    await ok(
        await call(
            api,
            physician,
            "POST",
            f"/physician/questions/{question['id']}/answer",
            {"answer": "Tak."},
        )
    )
    await ok(
        await call(
            api,
            physician,
            "POST",
            f"/physician/prescription-orders/{pending['id']}/review",
            {"decision": "issue"},
        )
    )
    detail = await read(api, physician, f"{SCHEDULE}/{recent['id']}")
    assert (detail["open_questions"], detail["pending_prescription_orders"]) == ([], [])
    reads = await audit_events_of(settings, physician, action="read")
    assert [(e.object_id, str(e.patient_id), e.outcome) for e in reads].count(
        (recent["id"], patient.patient_id, "allowed")
    ) == 2


async def test_visit_detail_of_another_physicians_visit_is_not_found_and_audited(
    api: Api, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    recent, _ = await seeded_visits(api, patient)
    other = await physician_login(api, settings)
    await problem(
        await call(api, other, "GET", f"{SCHEDULE}/{recent['id']}"), 404, "appointment_not_found"
    )
    await problem(
        await call(api, other, "GET", f"{SCHEDULE}/{uuid.uuid4()}"), 404, "appointment_not_found"
    )
    assert await denials(settings, other) == {("Appointment", recent["id"], patient.patient_id)}
    for user in (patient, await api.login("demo.reception")):
        await problem(
            await call(api, user, "GET", f"{SCHEDULE}/{recent['id']}"), 403, "role_forbidden"
        )


# -- reception --------------------------------------------------------------------------------


async def test_reception_finds_patients_by_pesel_login_and_last_name(
    api: Api, settings: Settings
) -> None:
    reception = await api.login("demo.reception")
    patient = await api.login("demo.patient")
    (child,) = await items(api, patient, "/me/dependents")
    search = "/reception/patients"
    for query in (JAN_PESEL, "Demo.Patient", "demo.patient@example.com"):
        (match,) = await items(api, reception, search, q=query)
        assert match["patient"]["id"] == patient.patient_id, query
        assert (match["account_id"], match["login"], match["access_level"]) == (
            patient.account["id"],
            "demo.patient",
            "full",
        )
    found = await items(api, reception, search, q="nowic")
    assert [(m["patient"]["last_name"], m["login"]) for m in found] == [
        ("Nowicka", None),
        ("Nowicki", "demo.patient"),
    ]
    assert found[0]["patient"] == child
    assert found[0]["account_id"] is None
    assert await items(api, reception, search, q="Kowalczykówna") == []
    for short in ("No", " No "):
        response = await call(api, reception, "GET", search, q=short)
        assert await field_errors(response) == [("q", "too_short")], short
    searched = await audit_events_of(settings, reception, action="search")
    assert {str(e.patient_id) for e in searched} == {patient.patient_id, child["id"]}
    for user in (patient, await api.login("demo.physician")):
        await problem(await call(api, user, "GET", search, q="nowic"), 403, "role_forbidden")


async def test_audit_trail_shows_physicians_reads_and_denials(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    other = await physician_login(api, settings)
    reception = await api.login("demo.reception")
    recent, _ = await seeded_visits(api, patient)
    trail = f"/reception/patients/{patient.patient_id}/audit-events"
    assert await items(api, reception, trail) == []
    # The patient's own reads are not logged.
    for path in ("/results", "/prescriptions", "/appointments"):
        await read(api, patient, path)
    clock.advance(timedelta(minutes=1))
    await read(api, physician, f"{SCHEDULE}/{recent['id']}")
    clock.advance(timedelta(minutes=1))
    await problem(
        await call(api, other, "GET", f"{SCHEDULE}/{recent['id']}"), 404, "appointment_not_found"
    )
    events = await items(api, reception, trail)
    assert [
        (e["actor_account_id"], e["actor_role"], e["object_type"], e["action"], e["outcome"])
        for e in events
    ] == [
        (other.account["id"], "physician", "Appointment", "read", "denied"),
        (physician.account["id"], "physician", "Appointment", "read", "allowed"),
        (reception.account["id"], "reception", "AuditEvent", "list", "allowed"),
    ]
    assert [e["object_id"] for e in events[:2]] == [recent["id"], recent["id"]]
    assert events[0]["at"] > events[1]["at"] > events[2]["at"]
    response = await call(api, reception, "GET", f"/reception/patients/{uuid.uuid4()}/audit-events")
    await problem(response, 404, "patient_not_found")
    for user in (patient, physician):
        await problem(await call(api, user, "GET", trail), 403, "role_forbidden")


# -- createPrescription -----------------------------------------------------------------------


async def test_prescription_written_at_a_visit_reaches_the_patient(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    body = {
        "medication_name": "Amlozek 5",
        "substance": "amlodypina",
        "form": "tabletki, 5 mg, 30 szt.",
        "dosage": "1 tabletka raz dziennie rano",
    }
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    booked = await upcoming_visit(api, patient)
    await problem(
        await write(api, physician, booked["id"], "prescriptions", body),
        409,
        "appointment_not_completed",
    )

    patient, physician, visit = await attended_visit(api, clock)
    issued = await ok(await write(api, physician, visit["id"], "prescriptions", body), 201)
    assert issued["medication_name"] == "Amlozek 5"
    assert issued["status"] == "active"
    assert issued["issuer"] == "local"
    assert len(issued["prescription_key"]) == 44
    assert issued["prescription_key"].isdigit()
    assert CODE.fullmatch(issued["access_code"])
    assert issued["valid_until"] == (today(clock) + timedelta(days=30)).isoformat()
    history = await read(api, patient, "/prescriptions")
    assert [p["id"] for p in history["prescriptions"]] == [issued["id"]]

    assert await field_errors(
        await write(api, physician, visit["id"], "prescriptions", {**body, "dosage": ""})
    ) == [("dosage", "too_short")]
    other = await physician_login(api, settings)
    response = await write(api, other, visit["id"], "prescriptions", body)
    await problem(response, 404, "appointment_not_found")
    assert ("Appointment", visit["id"], patient.patient_id) in await denials(settings, other)
    history = await read(api, patient, "/prescriptions")
    assert len(history["prescriptions"]) == 1
