"""``/consult`` end to end over real sockets: who may connect and join, the waiting room,
signalling confined to the room, chat exactly once, reconnection, relay switch, documents and
the summary stored on end."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from portal.clock import ManualClock
from portal.models import (
    AccessLevel,
    Account,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Practitioner,
    Role,
    ServiceType,
)
from portal.services import Portal
from tests.conftest import DEMO_PASSWORD, Api, User, role_refusals
from tests.portal.test_documents_unit import RawPdf
from tests.rtc.conftest import ConsultClient, hub_url

Book = Callable[..., Awaitable[str]]
Make = Callable[[], ConsultClient]

# A minimal PDF the document checks accept (one page); the hub stores qpdf's copy of it.
PDF = RawPdf.minimal().build()


async def _pair(
    client: TestClient[Any, Any], api: Api, consult: Make
) -> tuple[User, User, ConsultClient, ConsultClient]:
    patient_user = await api.login("demo.patient")
    physician_user = await api.login("demo.physician")
    patient, physician = consult(), consult()
    await patient.connect(hub_url(client), cookie=patient_user.cookie)
    await physician.connect(hub_url(client), cookie=physician_user.cookie)
    await physician.next("queue")
    return patient_user, physician_user, patient, physician


async def _admitted(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> tuple[str, User, User, ConsultClient, ConsultClient]:
    appointment_id = await book()
    patient_user, physician_user, patient, physician = await _pair(client, api, consult)
    assert (await patient.join(appointment_id))["ok"]
    assert (await physician.join(appointment_id))["ok"]
    assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
    await patient.next("admitted")
    return appointment_id, patient_user, physician_user, patient, physician


# -- who may connect and join ---------------------------------------------------------------


async def test_a_stranger_without_a_session_is_refused(
    client: TestClient[Any, Any], consult: Make
) -> None:
    stranger = consult()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.connect(hub_url(client))
    assert stranger.refusal["data"]["code"] == "authentication_required"


async def test_reception_and_basic_patients_are_refused(
    client: TestClient[Any, Any], api: Api, consult: Make, portal: Portal
) -> None:
    reception = await api.login("demo.reception")
    desk = consult()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await desk.connect(hub_url(client), cookie=reception.cookie)
    assert desk.refusal["data"]["code"] == "role_forbidden"
    assert await role_refusals(portal.db, reception.account["id"]) == [("/consult", "connect")]

    basic = await api.register()
    newcomer = consult()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await newcomer.connect(hub_url(client), cookie=basic.cookie)
    assert newcomer.refusal["data"]["code"] == "full_access_required"


async def test_another_patient_is_refused_at_connect_and_at_join_and_it_is_audited(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, portal: Portal
) -> None:
    appointment_id = await book()
    other = await api.full_patient()
    probe = consult()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await probe.connect(hub_url(client), cookie=other.cookie, appointment_id=appointment_id)
    assert probe.refusal["data"]["code"] == "appointment_not_found"

    joiner = consult()
    await joiner.connect(hub_url(client), cookie=other.cookie)
    refused = await joiner.join(appointment_id)
    assert refused["ok"] is False
    assert refused["code"] == "appointment_not_found"
    # Nothing of the room leaks into the refusal, and events for it are not relayed.
    assert (await joiner.say(appointment_id, "hello?"))["code"] == "not_joined"
    signal = {"appointment_id": appointment_id, "candidate": None}
    assert (await joiner.call("signal", signal))["code"] == "not_joined"

    async with portal.db.read() as session:
        denied = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.object_type == "Consultation", AuditEvent.outcome == "denied"
                )
            )
        )
    assert len(denied) == 2
    assert {str(e.object_id) for e in denied} == {appointment_id}


async def test_another_physician_is_refused(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, portal: Portal
) -> None:
    appointment_id = await book()
    async with portal.db.write() as session:
        appointment = await session.get(Appointment, uuid.UUID(appointment_id))
        assert appointment is not None
        colleague = await session.scalar(
            select(Practitioner).where(Practitioner.id != appointment.practitioner_id).limit(1)
        )
        assert colleague is not None
        login = f"physician.{uuid.uuid4().hex[:8]}"
        session.add(
            Account(
                id=uuid.uuid4(),
                login=login,
                login_key=login,
                password_hash=await portal.passwords.hash(DEMO_PASSWORD),
                role=Role.PHYSICIAN,
                access_level=AccessLevel.FULL,
                practitioner_id=colleague.id,
                created_at=portal.clock.now(),
                password_changed_at=portal.clock.now(),
            )
        )
    other = await api.login(login)
    physician = consult()
    await physician.connect(hub_url(client), cookie=other.cookie)
    assert (await physician.join(appointment_id))["code"] == "appointment_not_found"
    admit = await physician.call("admit", {"appointment_id": appointment_id})
    assert admit["code"] == "appointment_not_found"


async def test_the_room_opens_15_minutes_before_and_closes_after(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, clock: ManualClock
) -> None:
    appointment_id = await book(starts_in=timedelta(minutes=40))
    patient_user = await api.login("demo.patient")
    patient = consult()
    await patient.connect(hub_url(client), cookie=patient_user.cookie)
    early = await patient.join(appointment_id)
    assert early["ok"] is False
    assert early["code"] == "room_not_open"
    assert "15 minutes" in early["message"]

    clock.advance(timedelta(minutes=26))  # 14 minutes before the start
    assert (await patient.join(appointment_id))["ok"]

    clock.advance(timedelta(hours=3))  # long past the end (20 min) and the 2 h grace
    # Three idle hours ended the session as well (and that socket with it): log in afresh.
    again = consult()
    await again.connect(hub_url(client), cookie=(await api.login("demo.patient")).cookie)
    late = await again.join(appointment_id)
    assert late["code"] == "room_closed"


async def test_a_cancelled_appointment_has_no_room(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id = await book()
    patient_user = await api.login("demo.patient")
    response = await client.post(
        f"/api/v1/appointments/{appointment_id}/cancel", headers=patient_user.headers, json={}
    )
    assert response.status == 200, await response.text()
    patient = consult()
    await patient.connect(hub_url(client), cookie=patient_user.cookie)
    assert (await patient.join(appointment_id))["code"] == "room_closed"


async def test_an_in_person_visit_has_no_room(
    client: TestClient[Any, Any], api: Api, consult: Make, portal: Portal
) -> None:
    patient_user = await api.login("demo.patient")
    appointments = await client.get("/api/v1/appointments", headers=patient_user.headers)
    visits = [
        a for a in (await appointments.json())["items"] if a["service"]["type"] == "in_person_visit"
    ]
    patient = consult()
    await patient.connect(hub_url(client), cookie=patient_user.cookie)
    assert (await patient.join(visits[0]["id"]))["code"] == "not_a_consultation"


# -- the waiting room -----------------------------------------------------------------------


async def test_waiting_room_admit_and_queue(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, clock: ManualClock
) -> None:
    appointment_id = await book()
    _, physician_user, patient, physician = await _pair(client, api, consult)

    joined = await patient.join(appointment_id)
    assert joined["ok"]
    room = joined["room"]
    assert room["state"] == "waiting"
    assert room["role"] == "patient"
    assert room["physician_notified"] is True
    assert room["relay_timeout_ms"] == 5000
    assert room["transport"] == "direct"
    waiting = await patient.next("waiting")
    assert waiting["physician_notified"] is True

    queue = await physician.next("queue")
    assert [item["appointment_id"] for item in queue["items"]] == [appointment_id]
    assert queue["items"][0]["patient"]["name"]

    clock.advance(timedelta(seconds=90))
    listed = await client.get("/api/v1/physician/waiting-room", headers=physician_user.headers)
    items = (await listed.json())["items"]
    assert items[0]["appointment_id"] == appointment_id
    assert items[0]["waited_seconds"] == 90

    # The patient cannot admit themself; the physician can.
    assert (await patient.call("admit", {"appointment_id": appointment_id}))[
        "code"
    ] == "role_forbidden"
    assert (await physician.join(appointment_id))["room"]["peer_present"] is True
    assert (await patient.next("peer_joined"))["role"] == "physician"
    admitted = await physician.call("admit", {"appointment_id": appointment_id})
    assert admitted == {"ok": True, "state": "admitted"}
    assert (await patient.next("admitted"))["appointment_id"] == appointment_id
    assert (await physician.next("peer_joined"))["role"] == "patient"
    assert (await physician.next("queue"))["items"] == []


async def test_a_patient_who_leaves_the_waiting_room_leaves_the_queue(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id = await book()
    _, _, patient, physician = await _pair(client, api, consult)
    await patient.join(appointment_id)
    assert len((await physician.next("queue"))["items"]) == 1
    await patient.sio.disconnect()
    assert (await physician.next("queue"))["items"] == []


# -- signalling -----------------------------------------------------------------------------


async def test_signals_reach_only_the_other_member(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id = await book()
    patient_user, physician_user, patient, physician = await _pair(client, api, consult)
    await patient.join(appointment_id)
    await physician.join(appointment_id)
    offer = {"appointment_id": appointment_id, "description": {"type": "offer", "sdp": "v=0\r\n"}}
    assert (await physician.call("signal", offer))["code"] == "not_admitted"

    # A second tab of the patient, a stranger in their own room, and a bystander physician tab.
    other_room = await book()
    bystander = consult()
    await bystander.connect(hub_url(client), cookie=patient_user.cookie)
    await bystander.join(other_room)
    stranger_user = await api.full_patient()
    stranger = consult()
    await stranger.connect(hub_url(client), cookie=stranger_user.cookie)
    desk_tab = consult()
    await desk_tab.connect(hub_url(client), cookie=physician_user.cookie)

    await physician.call("admit", {"appointment_id": appointment_id})
    assert (await physician.call("signal", offer))["ok"]
    received = await patient.next("signal")
    assert received["from"] == "physician"
    assert received["description"] == {"type": "offer", "sdp": "v=0\r\n"}
    candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}
    answer = {"appointment_id": appointment_id, "candidate": candidate}
    assert (await patient.call("signal", answer))["ok"]
    assert (await physician.next("signal"))["candidate"] == candidate

    await asyncio.sleep(0.2)
    for outsider in (bystander, stranger, desk_tab):
        assert outsider.pending("signal") == []
    assert physician.pending("signal") == []  # not echoed back to its sender
    assert patient.pending("signal") == []

    malformed = await physician.call("signal", {"appointment_id": appointment_id})
    assert malformed["code"] == "invalid_message"
    bad_sdp = {"appointment_id": appointment_id, "description": {"type": "pranswer", "sdp": 1}}
    assert (await physician.call("signal", bad_sdp))["code"] == "invalid_message"


# -- chat -----------------------------------------------------------------------------------


async def test_chat_is_stored_once_shown_to_both_in_order_and_resumes_after_a_reload(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id, patient_user, _, patient, physician = await _admitted(
        client, api, consult, book
    )
    first = await patient.say(appointment_id, "Dzień dobry", "p-1")
    assert first["ok"]
    assert first["message"]["seq"] == 1
    assert first["message"]["sender"] == "patient"
    assert first["message"]["sender_name"] == joined_name(patient_user)
    again = await patient.say(appointment_id, "Dzień dobry", "p-1")  # a retry
    assert again["message"] == first["message"]
    await physician.say(appointment_id, "Dzień dobry, w czym mogę pomóc?", "d-1")

    for side in (patient, physician):
        seen = [(await side.next("chat"))["message"]["seq"] for _ in range(2)]
        assert seen == [1, 2]
    await asyncio.sleep(0.1)
    assert patient.pending("chat") == [] and physician.pending("chat") == []

    # The patient reloads: a new socket, join with the last seq seen, nothing missed or doubled.
    await patient.sio.disconnect()
    assert (await physician.next("peer_left"))["role"] == "patient"
    await physician.say(appointment_id, "Czy mnie słychać?", "d-2")
    reloaded = consult()
    await reloaded.connect(hub_url(client), cookie=patient_user.cookie)
    rejoined = await reloaded.join(appointment_id, after_seq=2)
    assert rejoined["room"]["state"] == "admitted"
    assert [m["text"] for m in rejoined["room"]["messages"]] == ["Czy mnie słychać?"]
    assert (await physician.next("peer_joined"))["role"] == "patient"
    history = await reloaded.call("history", {"appointment_id": appointment_id, "after_seq": 0})
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3]

    assert (await reloaded.say(appointment_id, "   "))["code"] == "invalid_input"
    assert (await reloaded.say(appointment_id, "x" * 2001))["code"] == "invalid_input"


async def test_chat_is_rate_limited(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id, _, _, patient, _ = await _admitted(client, api, consult, book)
    acks = [await patient.say(appointment_id, f"m{n}") for n in range(21)]
    assert all(a["ok"] for a in acks[:20])
    assert acks[20]["code"] == "rate_limited"


# -- media state and relay ------------------------------------------------------------------


async def test_media_toggles_and_the_switch_to_relay_reach_both(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id, _, _, patient, physician = await _admitted(client, api, consult, book)
    media = {"appointment_id": appointment_id, "audio": True, "video": False}
    assert (await patient.call("media", media))["ok"]
    assert await physician.next("media") == {**media, "role": "patient"}

    request = {"appointment_id": appointment_id, "reason": "timeout"}
    assert await patient.call("relay_request", request) == {"ok": True, "transport": "relay"}
    for side in (patient, physician):
        switched = await side.next("transport")
        assert switched["transport"] == "relay"
        assert switched["reason"] == "timeout"
    # Asked again by the other side: acked, not broadcast again.
    assert (await physician.call("relay_request", request))["transport"] == "relay"
    await asyncio.sleep(0.1)
    assert patient.pending("transport") == []

    garbage = {"appointment_id": appointment_id, "type": "offer", "sdp": "not sdp"}
    assert (await patient.call("relay_offer", garbage))["code"] == "media_failed"


# -- documents and the end ------------------------------------------------------------------


async def test_shared_document_is_announced_and_the_end_stores_the_summary(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, portal: Portal
) -> None:
    appointment_id, patient_user, physician_user, patient, physician = await _admitted(
        client, api, consult, book
    )
    await patient.say(appointment_id, "Wysyłam wyniki", "p-1")

    form = aiohttp.FormData()
    form.add_field("description", "Skierowanie na badania")
    form.add_field("file", io.BytesIO(PDF), filename="skierowanie.pdf")
    shared = await client.post(
        f"/api/v1/consultations/{appointment_id}/documents",
        data=form,
        headers=physician_user.headers,
    )
    assert shared.status == 201, await shared.text()
    document = await shared.json()
    for side in (patient, physician):
        announced = await side.next("document")
        assert announced["document"]["id"] == document["id"]
        assert announced["shared_by"] == "physician"
    opened = await client.get(
        f"/api/v1/documents/{document['id']}/content", headers=patient_user.headers
    )
    assert opened.status == 200
    assert (await opened.read()).startswith(b"%PDF")

    # A stranger can neither share into the room nor read its state.
    stranger = await api.full_patient()
    form = aiohttp.FormData()
    form.add_field("description", "x")
    form.add_field("file", io.BytesIO(PDF), filename="x.pdf")
    refused = await client.post(
        f"/api/v1/consultations/{appointment_id}/documents", data=form, headers=stranger.headers
    )
    assert refused.status == 404
    peek = await client.get(f"/api/v1/consultations/{appointment_id}", headers=stranger.headers)
    assert peek.status == 404

    assert (await patient.call("end", {"appointment_id": appointment_id}))[
        "code"
    ] == "role_forbidden"
    ended = await physician.call("end", {"appointment_id": appointment_id})
    assert ended["ok"]
    for side in (patient, physician):
        assert (await side.next("ended"))["appointment_id"] == appointment_id

    state = await client.get(
        f"/api/v1/consultations/{appointment_id}", headers=patient_user.headers
    )
    body = await state.json()
    assert body["state"] == "ended"
    summary = body["summary"]
    assert [line["text"] for line in summary["transcript"]] == ["Wysyłam wyniki"]
    assert [d["id"] for d in summary["documents"]] == [document["id"]]
    assert summary["documents"][0]["shared_by"] == "physician"
    events = {(p["role"], p["event"]) for p in summary["participants"]}
    assert {("patient", "joined"), ("physician", "joined"), ("physician", "admitted")} <= events
    assert summary["ended_at"] and summary["started_at"]

    async with portal.db.read() as session:
        appointment = await session.get(Appointment, uuid.UUID(appointment_id))
    assert appointment is not None and appointment.status is AppointmentStatus.COMPLETED
    # The room is closed: nobody gets back in.
    assert (await patient.join(appointment_id))["code"] == "room_closed"


async def test_telephone_consultations_have_rooms_too(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id = await book(service_type=ServiceType.TELEPHONE_CONSULTATION)
    patient_user = await api.login("demo.patient")
    patient = consult()
    await patient.connect(hub_url(client), cookie=patient_user.cookie)
    assert (await patient.join(appointment_id))["ok"]


async def test_the_guardian_joins_their_childs_consultation(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book
) -> None:
    appointment_id = await book(for_child=True)
    guardian_user, _, guardian, physician = await _pair(client, api, consult)
    joined = await guardian.join(appointment_id)
    assert joined["ok"]
    assert joined["room"]["role"] == "patient"
    queue = await physician.next("queue")
    child_name = queue["items"][0]["patient"]["name"]
    assert child_name == joined["room"]["patient"]["name"]
    holder = guardian_user.account["patient"]
    assert child_name != f"{holder['first_name']} {holder['last_name']}"


def joined_name(user: User) -> str:
    """How the room names a patient account's own patient."""
    return f"{user.account['patient']['first_name']} {user.account['patient']['last_name']}"
