"""Issue 12: every object a stranger reaches for is refused AND the refusal is in the audit log.

``tests/portal/api/test_access_matrix.py`` pins the status of every appointment operation for
every role, and ``test_records_access.py`` the status and the audit event of every record
operation. This matrix adds what those leave out, in the same form: the audit event of each
appointment refusal, the ``patient_id`` of every operation that takes one (query, body or form
field), documents, questions, consultations and their transcripts, dependents and the audit log
itself, over REST and over Socket.IO ``/consult``.

The objects are those of Zofia, demo.patient's daughter: a remote consultation in its window (so
its room is open), a document for it, and her ids. The columns:

- ``guardian``: demo.patient, acting for Zofia (the control: each object is real and reachable);
- ``other_pt``: another patient with full access, a stranger to the family;
- ``other_dr``: a physician who is not Zofia's (demo.physician is);
- ``reception``: whose work needs appointments, never documents or consultations.

A 404 to a logged-in caller (an object that exists, refused as if it did not) must leave exactly
one ``denied`` event naming the object and Zofia; a 403 ``role_forbidden`` the refused
operation (or, for documents, the domain's own denial); a 2xx no denial.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from hub.settings import Settings
from portal.clock import ManualClock
from portal.models import AuditEvent, Patient
from portal.services import Portal
from tests.conftest import Api, User
from tests.portal.api.test_records import (
    audit_events,
    call,
    demo_physician_id,
    ok,
    physician_login,
    problem,
)
from tests.portal.test_documents_unit import RawPdf
from tests.rtc.conftest import ConsultClient, hub_url

Book = Callable[..., Awaitable[str]]
Make = Callable[[], ConsultClient]
PDF = RawPdf.minimal().build()

MATRIX_TABLE = """
operation                  guardian  other_pt  other_dr  reception
getAppointment                  200       404       404       200
cancelAppointment               200       404       403       200
rescheduleAppointment           200       404       403       200
listAppointments                200       404       403       200
bookAppointment                 201       404       403       201
listQuestions                   200       404       403       403
listDocuments                   200       404       403       403
uploadDocument                  201       404       403       403
downloadDocument                200       404       404       404
deleteDocument                  204       404       404       404
getConsultation                 200       404       404       403
shareConsultationDocument       201       404       404       403
listAuditEvents                 403       403       403       200
"""

DENIED_AS = {
    # The problem code of a 404, and the audit event it leaves: (object_type, object of ...).
    "getAppointment": ("appointment_not_found", "Appointment", "appointment"),
    "cancelAppointment": ("appointment_not_found", "Appointment", "appointment"),
    "rescheduleAppointment": ("appointment_not_found", "Appointment", "appointment"),
    "listAppointments": ("patient_not_found", "Appointment", None),
    "bookAppointment": ("patient_not_found", "Appointment", None),
    "listQuestions": ("patient_not_found", "Patient", "patient"),
    "listDocuments": ("patient_not_found", "DocumentReference", None),
    "uploadDocument": ("patient_not_found", "DocumentReference", None),
    "downloadDocument": ("document_not_found", "DocumentReference", "document"),
    "deleteDocument": ("document_not_found", "DocumentReference", "document"),
    "getConsultation": ("appointment_not_found", "Consultation", "appointment"),
    "shareConsultationDocument": ("appointment_not_found", "Consultation", "appointment"),
    "listAuditEvents": ("patient_not_found", "AuditEvent", None),
}
ROLE_REFUSED_AS = {
    # A 403 the domain records itself, on Zofia's record (other 403s name the operation).
    ("listDocuments", "reception"): ("DocumentReference", None, None),
    ("listDocuments", "other_dr"): ("DocumentReference", None, None),
}


def _parse(table: str) -> tuple[tuple[str, ...], dict[str, dict[str, int]]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    roles = tuple(header[1:])
    matrix = {}
    for operation, *statuses in rows:
        assert len(statuses) == len(roles), operation
        matrix[operation] = dict(zip(roles, map(int, statuses), strict=True))
    return roles, matrix


ROLES, MATRIX = _parse(MATRIX_TABLE)


@dataclass
class World:
    """Zofia's objects, and the users who reach for them."""

    api: Api
    guardian: User
    child_id: str
    consultation: str
    """Zofia's remote consultation (its room is open now)."""
    visit: str
    """Zofia's in-person visit with demo.physician, booked by her guardian (read, moved)."""
    second_visit: str
    """Another of hers (cancelled)."""
    spare_slot: str
    """A free slot of the visit's service and physician."""
    other_slot: str

    async def document(self) -> str:
        """A document of Zofia's for her consultation (uploaded now)."""
        response = await upload(self.api, self.guardian, self.child_id)
        return str((await ok(response, 201))["id"])

    async def request(self, operation: str, user: User) -> tuple[ClientResponse, str | None]:
        """Perform ``operation`` on Zofia's object as ``user``; the response and the object id
        a denial must name."""
        client, headers = self.api.client, user.headers
        visit = f"/api/v1/appointments/{self.visit}"
        child = {"patient_id": self.child_id}
        if operation == "getAppointment":
            return await client.get(visit, headers=headers), self.visit
        if operation == "cancelAppointment":
            second = f"/api/v1/appointments/{self.second_visit}/cancel"
            return await client.post(second, json={}, headers=headers), self.second_visit
        if operation == "rescheduleAppointment":
            body = {"slot_id": self.spare_slot}
            return await client.post(f"{visit}/reschedule", json=body, headers=headers), self.visit
        if operation == "listAppointments":
            return await client.get("/api/v1/appointments", params=child, headers=headers), None
        if operation == "bookAppointment":
            body = {"slot_id": self.other_slot, **child}
            return await client.post("/api/v1/appointments", json=body, headers=headers), None
        if operation == "listQuestions":
            response = await client.get("/api/v1/questions", params=child, headers=headers)
            return response, self.child_id
        if operation == "listDocuments":
            return await client.get("/api/v1/documents", params=child, headers=headers), None
        if operation == "uploadDocument":
            return await upload(self.api, user, self.child_id), None
        if operation in ("downloadDocument", "deleteDocument"):
            document = await self.document()
            path = f"/api/v1/documents/{document}"
            if operation == "downloadDocument":
                return await client.get(f"{path}/content", headers=headers), document
            return await client.delete(path, headers=headers), document
        room = f"/api/v1/consultations/{self.consultation}"
        if operation == "getConsultation":
            return await client.get(room, headers=headers), self.consultation
        if operation == "shareConsultationDocument":
            data = pdf_form()
            return await client.post(f"{room}/documents", data=data, headers=headers), (
                self.consultation
            )
        assert operation == "listAuditEvents", operation
        trail = f"/api/v1/reception/patients/{self.child_id}/audit-events"
        return await client.get(trail, headers=headers), None


def pdf_form(**fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("description", "Skan skierowania")
    for name, value in fields.items():
        data.add_field(name, value)
    data.add_field("file", io.BytesIO(PDF), filename="skan.pdf", content_type="application/pdf")
    return data


async def upload(api: Api, user: User, patient_id: str) -> ClientResponse:
    return await api.client.post(
        "/api/v1/documents", data=pdf_form(patient_id=patient_id), headers=user.headers
    )


async def accept_regulations(api: Api, user: User) -> None:
    response = await api.client.post(
        "/api/v1/me/document-regulations", json={}, headers=user.headers
    )
    await ok(response)


async def build_world(api: Api, book: Book) -> World:
    guardian = await api.login("demo.patient")
    consultation = await book(for_child=True)
    response = await api.client.get("/api/v1/me/dependents", headers=guardian.headers)
    (child,) = (await ok(response))["items"]
    await accept_regulations(api, guardian)
    slots = await api.bookable_slots(
        guardian, 4, service="internal-medicine-visit", physician_id=await demo_physician_id(api)
    )
    visits = []
    for slot in slots[:2]:
        response = await api.book(guardian, slot["id"], patient_id=child["id"])
        visits.append((await ok(response, 201))["id"])
    return World(api, guardian, child["id"], consultation, *visits, slots[2]["id"], slots[3]["id"])


async def user_for(role: str, world: World, settings: Settings) -> User:
    api = world.api
    if role == "guardian":
        return world.guardian
    if role == "other_pt":
        stranger = await api.full_patient()
        await accept_regulations(api, stranger)  # so that uploads reach the patient check
        return stranger
    if role == "other_dr":
        return await physician_login(api, settings)
    assert role == "reception", role
    return await api.login("demo.reception")


async def denied_events(settings: Settings, user: User) -> list[tuple[str, str, str]]:
    """(object_type, object_id, patient_id) of ``user``'s denials, as text ("None": none)."""
    events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(user.account["id"]),
        AuditEvent.outcome == "denied",
    )
    return sorted((e.object_type, str(e.object_id), str(e.patient_id)) for e in events)


def test_matrix_covers_every_role_and_operation() -> None:
    assert ROLES == ("guardian", "other_pt", "other_dr", "reception")
    assert set(MATRIX) == set(DENIED_AS)


@pytest.mark.parametrize("role", ROLES)
async def test_strangers_are_refused_and_every_refusal_is_audited(
    api: Api, book: Book, settings: Settings, role: str
) -> None:
    world = await build_world(api, book)
    user = await user_for(role, world, settings)
    for operation, row in MATRIX.items():
        expected = row[role]
        before = await denied_events(settings, user)
        response, object_id = await world.request(operation, user)
        cell = f"{operation} as {role}"
        raw = await response.read()  # a download's body is binary
        assert response.status == expected, (cell, raw[:300])
        after = await denied_events(settings, user)
        for event in before:
            after.remove(event)
        code, object_type, _ = DENIED_AS[operation]
        if expected == 404:
            assert (await response.json(content_type=None))["code"] == code, cell
            assert after == [(object_type, str(object_id), world.child_id)], cell
        elif expected == 403:
            body = await response.json(content_type=None)
            assert body["code"] == "role_forbidden", (cell, body)
            refused = ROLE_REFUSED_AS.get((operation, role))
            if refused is None:
                assert after == [("Operation", operation, "None")], cell
            else:
                assert after == [(refused[0], str(refused[1]), str(refused[2]))], cell
        else:
            assert after == [], cell


async def test_allowed_cells_reach_zofias_objects(api: Api, book: Book) -> None:
    """The 2xx cells return Zofia's objects, so the refusals above refuse something real."""
    world = await build_world(api, book)
    guardian, child = world.guardian, world.child_id
    listed = await ok(await call(api, guardian, "GET", "/appointments", patient_id=child))
    assert {a["patient"]["id"] for a in listed["items"]} == {child}
    assert world.visit in {a["id"] for a in listed["items"]}
    documents = await ok(await call(api, guardian, "GET", "/documents", patient_id=child))
    assert documents["items"] == []
    document = await world.document()
    documents = await ok(await call(api, guardian, "GET", "/documents", patient_id=child))
    assert [d["id"] for d in documents["items"]] == [document]
    room = await ok(await call(api, guardian, "GET", f"/consultations/{world.consultation}"))
    assert (room["appointment"]["patient"]["id"], room["role"]) == (child, "patient")


# -- Socket.IO /consult ------------------------------------------------------------------------


async def test_strangers_cannot_reach_a_room_or_its_transcript_over_socketio(
    client: TestClient[Any, Any],
    api: Api,
    consult: Make,
    book: Book,
    portal: Portal,
    settings: Settings,
) -> None:
    world = await build_world(api, book)
    room = world.consultation
    guardian = consult()
    await guardian.connect(hub_url(client), cookie=world.guardian.cookie)
    assert (await guardian.join(room))["ok"]
    assert (await guardian.say(room, "Zofia ma gorączkę"))["ok"]

    for role in ("other_pt", "other_dr"):
        user = await user_for(role, world, settings)
        before = await denied_events(settings, user)
        # Naming the room at connect, then joining it: both refused, both audited.
        probe = consult()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await probe.connect(hub_url(client), cookie=user.cookie, appointment_id=room)
        assert probe.refusal["data"]["code"] == "appointment_not_found", role
        stranger = consult()
        await stranger.connect(hub_url(client), cookie=user.cookie)
        joined = await stranger.join(room)
        assert (joined["ok"], joined["code"]) == (False, "appointment_not_found"), role
        assert "room" not in joined
        # The transcript and every room event are refused without the room: nothing leaks.
        history = await stranger.call("history", {"appointment_id": room, "after_seq": 0})
        assert (history["ok"], history["code"]) == (False, "not_joined")
        assert "messages" not in history
        for event in ("chat", "signal", "media", "relay_request", "relay_offer", "leave"):
            ack = await stranger.call(event, {"appointment_id": room, "text": "x"})
            assert ack["code"] == "not_joined", (role, event)
        end = await stranger.call("end", {"appointment_id": room})
        assert end["code"] == ("role_forbidden" if role == "other_pt" else "appointment_not_found")
        after = await denied_events(settings, user)
        for seen in before:
            after.remove(seen)
        probes = 2 if role == "other_pt" else 3  # a stranger physician's `end` is a probe too
        assert after == [("Consultation", room, world.child_id)] * probes, role
        assert stranger.pending("chat") == []

    reception = await api.login("demo.reception")
    desk = consult()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await desk.connect(hub_url(client), cookie=reception.cookie, appointment_id=room)
    assert desk.refusal["data"]["code"] == "role_forbidden"
    assert await denied_events(settings, reception) == [("Operation", "/consult", "None")]


# -- patient_id ---------------------------------------------------------------------------------

PATIENT_ID_OPERATIONS = (
    # Every operation that takes a patient_id, and where it goes.
    ("listAppointments", "GET", "/appointments", "query"),
    ("bookAppointment", "POST", "/appointments", "body"),
    ("listResults", "GET", "/results", "query"),
    ("listReferrals", "GET", "/referrals", "query"),
    ("listInstructions", "GET", "/instructions", "query"),
    ("listPrescriptions", "GET", "/prescriptions", "query"),
    ("listQuestions", "GET", "/questions", "query"),
    ("listDocuments", "GET", "/documents", "query"),
    ("uploadDocument", "POST", "/documents", "form"),
)


async def with_patient_id(
    api: Api, user: User, method: str, path: str, where: str, patient_id: str, slot: str
) -> ClientResponse:
    url = "/api/v1" + path
    if where == "query":
        return await api.client.get(url, params={"patient_id": patient_id}, headers=user.headers)
    if where == "body":
        body = {"slot_id": slot, "patient_id": patient_id}
        return await api.client.post(url, json=body, headers=user.headers)
    return await upload(api, user, patient_id)


async def test_every_operation_taking_a_patient_id_is_listed(api: Api) -> None:
    """The list above is the OpenAPI document's: a new operation with a patient_id joins it."""
    document = await ok(await api.client.get("/api/v1/openapi.json"))
    schemas = document["components"]["schemas"]

    def properties(schema: dict[str, Any]) -> set[str]:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return set(schema.get("properties", {}))

    found = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            for content in operation.get("requestBody", {}).get("content", {}).values():
                names |= properties(content.get("schema", {}))
            if "patient_id" in names:
                found.add(operation["operationId"])
    # These two share uploadDocument's form schema, but their patient is the appointment of
    # their path: a patient_id in the form is not read (parts other than file and
    # description are ignored), so it cannot name anyone.
    shared_form = {"shareConsultationDocument", "uploadResultAttachment"}
    assert found - shared_form == {name for name, *_ in PATIENT_ID_OPERATIONS}


async def test_a_patient_id_outside_the_family_is_refused_and_audited(
    api: Api, book: Book, settings: Settings
) -> None:
    world = await build_world(api, book)
    stranger = await api.full_patient()
    await accept_regulations(api, stranger)
    for target, who in (
        (world.child_id, "a child of another family"),
        (world.guardian.patient_id, "another adult"),
    ):
        for operation, method, path, where in PATIENT_ID_OPERATIONS:
            before = await denied_events(settings, stranger)
            response = await with_patient_id(
                api, stranger, method, path, where, target, world.other_slot
            )
            await problem(response, 404, "patient_not_found")
            after = await denied_events(settings, stranger)
            for event in before:
                after.remove(event)
            assert len(after) == 1, (operation, who, after, await response.text())
            ((_, _, patient),) = after
            assert patient == target, (operation, who)
    # An id that is nobody's is refused the same way; no patient's record names the probe
    # (documents keep it as the actor's denial without a patient).
    nobody = str(uuid.uuid4())
    before = await denied_events(settings, stranger)
    for operation, method, path, where in PATIENT_ID_OPERATIONS:
        response = await with_patient_id(
            api, stranger, method, path, where, nobody, world.other_slot
        )
        assert response.status == 404, operation
        await problem(response, 404, "patient_not_found")
    after = await denied_events(settings, stranger)
    for event in before:
        after.remove(event)
    assert after == [("DocumentReference", "None", "None")] * 2


# -- a child who turns 18 ------------------------------------------------------------------------


async def test_a_guardians_access_ends_when_the_child_turns_18(
    api: Api, book: Book, settings: Settings, clock: ManualClock, portal: Portal
) -> None:
    world = await build_world(api, book)
    guardian, child = world.guardian, world.child_id
    # Zofia turns 18 in two days (a margin for local midnight against UTC); not on 29 February.
    birthday = clock.now().date() + timedelta(days=2)
    if (birthday.month, birthday.day) == (2, 29):
        birthday += timedelta(days=1)
    born = date(birthday.year - 18, birthday.month, birthday.day)
    async with portal.db.write() as session:
        await session.execute(
            update(Patient).where(Patient.id == uuid.UUID(child)).values(birth_date=born)
        )
    # Still a minor: everything works (the control).
    await ok(await call(api, guardian, "GET", "/appointments", patient_id=child))
    await ok(await call(api, guardian, "GET", f"/appointments/{world.visit}"))
    clock.advance(timedelta(days=4))
    guardian = await api.login("demo.patient")  # the session ended while the days passed
    dependents = await ok(await call(api, guardian, "GET", "/me/dependents"))
    assert dependents["items"] == []
    before = await denied_events(settings, guardian)
    for path in ("/appointments", "/results", "/prescriptions", "/questions", "/documents"):
        await problem(
            await call(api, guardian, "GET", path, patient_id=child), 404, "patient_not_found"
        )
    await problem(
        await call(api, guardian, "GET", f"/appointments/{world.visit}"),
        404,
        "appointment_not_found",
    )
    response = await api.book(guardian, world.other_slot, patient_id=child)
    await problem(response, 404, "patient_not_found")
    # Without patient_id the guardian's lists are their own only.
    own = await ok(await call(api, guardian, "GET", "/appointments"))
    assert {a["patient"]["id"] for a in own["items"]} == {guardian.patient_id}
    after = await denied_events(settings, guardian)
    for event in before:
        after.remove(event)
    assert len(after) == 7 and {patient for *_, patient in after} == {child}
