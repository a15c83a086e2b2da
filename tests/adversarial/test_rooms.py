"""Issue 12: a consultation room closes when its visit stops being active, and one account
cannot hold the node's device-check echo peers.

Real sockets on the real hub (``tests/rtc`` shows how): a patient and a physician join and are
admitted, then the visit is cancelled by reception, moved, marked attended from the desk, or the
guardian stops being the patient's guardian (the child turns 18). Every room event after that is
refused (``signal``, ``chat``, ``media``, ``relay_request``, ``relay_offer``, shared documents),
the other side receives nothing, and the sockets are told ``ended`` with the reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from hub.settings import Settings
from portal.clock import ManualClock
from portal.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Consultation,
    ConsultationState,
    Patient,
    Slot,
)
from portal.services import Portal
from rtc.browser import PeerEnd
from tests.conftest import Api, Nodes, User
from tests.portal.test_documents_unit import RawPdf
from tests.rtc.conftest import ConsultClient, hub_url

Book = Callable[..., Awaitable[str]]
Make = Callable[[], ConsultClient]
ZONE = ZoneInfo("Europe/Warsaw")
OFFER = {"type": "offer", "sdp": "v=0\r\n"}
PDF = RawPdf.minimal().build()
# Every event a member sends about a room, with a body the hub would otherwise accept.
ROOM_EVENTS: dict[str, dict[str, Any]] = {
    "signal": {"description": OFFER},
    "chat": {"text": "Czy mnie słychać?", "client_msg_id": "after-close"},
    "media": {"audio": False, "video": True},
    "relay_request": {"reason": "timeout"},
    "relay_offer": OFFER,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Three device checks per node, so the node's cap is reached by three sockets."""
    return replace(settings, max_echo_peers=3)


@pytest.fixture
async def ends() -> AsyncIterator[Callable[[], PeerEnd]]:
    """Browser stand-ins (aiortc peers with synthetic media), closed at the end."""
    made: list[PeerEnd] = []

    def make() -> PeerEnd:
        made.append(PeerEnd())
        return made[-1]

    yield make
    for end in made:
        await end.close()


async def admitted_pair(
    client: TestClient[Any, Any], api: Api, consult: Make, appointment_id: str
) -> tuple[User, ConsultClient, ConsultClient]:
    """demo.patient and demo.physician in the room, admitted, with one chat line said."""
    physician_user = await api.login("demo.physician")
    guardian = await api.login("demo.patient")
    patient, physician = consult(), consult()
    await patient.connect(hub_url(client), cookie=guardian.cookie)
    await physician.connect(hub_url(client), cookie=physician_user.cookie)
    await physician.next("queue")
    assert (await patient.join(appointment_id))["ok"]
    assert (await physician.join(appointment_id))["ok"]
    assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
    await patient.next("admitted")
    assert (await patient.say(appointment_id, "Dzień dobry"))["ok"]
    for side in (patient, physician):
        assert (await side.next("chat"))["message"]["text"] == "Dzień dobry"
    # Signalling works before the change, so the refusals below are the change's doing.
    assert (
        await physician.call("signal", {"appointment_id": appointment_id, **ROOM_EVENTS["signal"]})
    )["ok"]
    await patient.next("signal")
    return guardian, patient, physician


async def refusals(side: ConsultClient, appointment_id: str) -> dict[str, str]:
    """The code each room event is refused with."""
    codes = {}
    for event, body in ROOM_EVENTS.items():
        ack = await side.call(event, {"appointment_id": appointment_id, **body})
        assert ack["ok"] is False, (event, ack)
        assert ack["message"], ack
        codes[event] = ack["code"]
    return codes


async def nothing_relayed(*sides: ConsultClient) -> None:
    await asyncio.sleep(0.2)
    for side in sides:
        for event in ("signal", "chat", "media", "transport", "document"):
            assert side.pending(event) == [], event


async def share(client: TestClient[Any, Any], user: User, appointment_id: str) -> int:
    form = aiohttp.FormData()
    form.add_field("description", "wyniki")
    form.add_field("file", PDF, filename="wyniki.pdf", content_type="application/pdf")
    response = await client.post(
        f"/api/v1/consultations/{appointment_id}/documents", data=form, headers=user.headers
    )
    return response.status


async def room(portal: Portal, appointment_id: str) -> Consultation:
    async with portal.db.read() as session:
        found = await session.scalar(
            select(Consultation).where(Consultation.appointment_id == uuid.UUID(appointment_id))
        )
    assert found is not None
    return found


@pytest.mark.parametrize("how", ["cancel", "reschedule", "complete"])
async def test_a_visit_cancelled_moved_or_completed_outside_the_room_closes_it(
    client: TestClient[Any, Any],
    api: Api,
    consult: Make,
    book: Book,
    portal: Portal,
    clock: ManualClock,
    how: str,
) -> None:
    appointment_id = await book(starts_in=timedelta(minutes=10))
    guardian, patient, physician = await admitted_pair(client, api, consult, appointment_id)
    base = f"/api/v1/appointments/{appointment_id}"
    if how == "cancel":
        reception = await api.login("demo.reception")
        response = await client.post(f"{base}/cancel", json={}, headers=reception.headers)
        reason = "cancelled"
    elif how == "reschedule":
        slot = await moved_slot(portal, appointment_id)
        response = await client.post(
            f"{base}/reschedule", json={"slot_id": slot}, headers=guardian.headers
        )
        reason = "cancelled"
    else:
        clock.advance(timedelta(minutes=10))
        doctor = await api.login("demo.physician")
        response = await client.post(
            f"/api/v1/physician/appointments/{appointment_id}/complete",
            headers=doctor.headers,
        )
        reason = "completed"
    assert response.status in (200, 201), await response.text()

    for side in (patient, physician):
        ended = await side.next("ended")
        assert (ended["appointment_id"], ended["reason"]) == (appointment_id, reason)
        assert [line["text"] for line in ended["summary"]["transcript"]] == ["Dzień dobry"]
    # The sockets were taken out of the room: every event is now about a room not joined.
    for side in (patient, physician):
        assert set((await refusals(side, appointment_id)).values()) == {"not_joined"}
    await nothing_relayed(patient, physician)
    assert await share(client, guardian, appointment_id) == 409
    stored = await room(portal, appointment_id)
    assert stored.state is ConsultationState.ENDED
    assert stored.summary is not None and stored.summary["transcript"][0]["text"] == "Dzień dobry"
    # Nobody gets back in.
    assert (await patient.join(appointment_id))["code"] == "room_closed"
    assert (await physician.join(appointment_id))["code"] == "room_closed"


async def moved_slot(portal: Portal, appointment_id: str) -> str:
    """A new slot of the same service and physician, a day later (made for the test)."""
    async with portal.db.write() as session:
        appointment = await session.get(Appointment, uuid.UUID(appointment_id))
        assert appointment is not None
        old = await session.get(Slot, appointment.slot_id)
        assert old is not None
        start = old.start_at + timedelta(days=1)
        local = start.astimezone(ZONE)
        slot = Slot(
            schedule_id=old.schedule_id,
            service_id=old.service_id,
            practitioner_id=old.practitioner_id,
            clinic_id=old.clinic_id,
            start_at=start,
            end_at=old.end_at + timedelta(days=1),
            local_date=local.date(),
            local_minute=local.hour * 60 + local.minute,
        )
        session.add(slot)
        await session.flush()
        return str(slot.id)


async def test_a_change_the_room_was_not_told_of_is_refused_at_the_next_event(
    client: TestClient[Any, Any], api: Api, consult: Make, book: Book, portal: Portal
) -> None:
    """Another node cancelled it, or telling the room failed: the database still says no."""
    appointment_id = await book()
    _, patient, physician = await admitted_pair(client, api, consult, appointment_id)
    async with portal.db.write() as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.id == uuid.UUID(appointment_id))
            .values(status=AppointmentStatus.CANCELLED)
        )
    assert await refusals(physician, appointment_id) == {
        "signal": "room_closed",
        # The first refusal took this socket out of the room.
        "chat": "not_joined",
        "media": "not_joined",
        "relay_request": "not_joined",
        "relay_offer": "not_joined",
    }
    # The domain's own check of a chat message says the same to the other side.
    assert (await patient.say(appointment_id, "Halo?"))["code"] == "room_closed"
    assert set((await refusals(patient, appointment_id)).values()) == {"not_joined"}
    await nothing_relayed(patient, physician)


async def test_a_guardian_whose_child_turns_18_loses_the_childs_room(
    client: TestClient[Any, Any],
    api: Api,
    consult: Make,
    book: Book,
    portal: Portal,
    clock: ManualClock,
    settings: Settings,
) -> None:
    """The guardian is in the child's call at 23:55; at midnight the child is 18."""
    now_local = clock.now().astimezone(ZONE)
    evening = datetime.combine(now_local.date(), datetime.min.time(), ZONE).replace(
        hour=23, minute=55
    )
    if evening <= now_local:
        evening += timedelta(days=1)
    clock.advance(evening - now_local)
    birthday = (evening + timedelta(days=1)).date()
    appointment_id = await book(starts_in=timedelta(minutes=10), for_child=True)
    async with portal.db.write() as session:
        appointment = await session.get(Appointment, uuid.UUID(appointment_id))
        assert appointment is not None
        child_id = appointment.patient_id
        await session.execute(
            update(Patient)
            .where(Patient.id == child_id)
            .values(birth_date=date(birthday.year - 18, birthday.month, birthday.day))
        )
    guardian, patient, physician = await admitted_pair(client, api, consult, appointment_id)

    clock.advance(timedelta(minutes=10))  # 00:05: the child is an adult now
    ack = await patient.call("signal", {"appointment_id": appointment_id, "candidate": None})
    assert ack["code"] == "appointment_not_found"
    assert (await patient.say(appointment_id, "jeszcze tu?"))["code"] == "not_joined"
    assert (await patient.join(appointment_id))["code"] == "appointment_not_found"
    await nothing_relayed(physician)
    # The physician's side is untouched: the visit itself still stands.
    assert (await physician.call("media", {"appointment_id": appointment_id}))["ok"]
    async with portal.db.read() as session:
        denied = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_account_id == uuid.UUID(guardian.account["id"]),
                    AuditEvent.outcome == "denied",
                )
            )
        )
    assert sorted((e.object_type, e.object_id, e.action) for e in denied) == [
        ("Consultation", appointment_id, "authorize"),
        ("Consultation", appointment_id, "join"),
    ]
    assert {e.patient_id for e in denied} == {child_id}


# -- device-check echo peers ------------------------------------------------------------------


async def device_check(side: ConsultClient, ends: Callable[[], PeerEnd]) -> Any:
    """Offer a new browser peer to the hub's echo; on success connect it, as a page does."""
    end = ends()
    ack = await side.call("device_check", await end.offer())
    if ack["ok"]:
        await end.accept({"sdp": ack["sdp"], "type": ack["type"]})
    return ack


async def test_one_account_cannot_hold_the_nodes_echo_peers(
    client: TestClient[Any, Any],
    api: Api,
    consult: Make,
    ends: Callable[[], PeerEnd],
    settings: Settings,
) -> None:
    assert settings.max_echo_peers == 3
    hog = await api.login("demo.patient")
    tabs = [consult() for _ in range(3)]
    for tab in tabs:
        await tab.connect(hub_url(client), cookie=hog.cookie)
    assert (await device_check(tabs[0], ends))["ok"]
    assert (await device_check(tabs[1], ends))["ok"]
    refused = await device_check(tabs[2], ends)
    assert (refused["ok"], refused["code"]) == (False, "echo_limit")
    assert refused["message"]
    # A new check of a tab that has one replaces it: still two of the account's.
    assert (await device_check(tabs[0], ends))["ok"]

    other = consult()
    await other.connect(hub_url(client), cookie=(await api.full_patient()).cookie)
    assert (await device_check(other, ends))["ok"]
    # The node's three are taken: a fourth account is told the node is busy.
    doctor = consult()
    await doctor.connect(hub_url(client), cookie=(await api.login("demo.physician")).cookie)
    busy = await device_check(doctor, ends)
    assert (busy["ok"], busy["code"]) == (False, "busy")
    # A tab that stops frees one of the account's places and one of the node's.
    assert (await tabs[1].call("device_check_stop", {}))["ok"]
    assert (await device_check(doctor, ends))["ok"]
    assert (await device_check(tabs[2], ends))["code"] == "busy"
    await tabs[0].close()  # a disconnect closes its peer too
    assert (await device_check(tabs[2], ends))["ok"]


async def test_a_room_cancelled_on_one_node_is_closed_on_the_other(
    nodes: Nodes, api: Api, consult: Make, book: Book
) -> None:
    """The patient is on node 0, the physician on node 1; reception cancels through node 0."""
    appointment_id = await book()
    patient_user, physician_user = (
        await api.login("demo.patient"),
        await api.login("demo.physician"),
    )
    patient, physician = consult(), consult()
    await patient.connect(hub_url(nodes.clients[0]), cookie=patient_user.cookie)
    await physician.connect(hub_url(nodes.clients[1]), cookie=physician_user.cookie)
    await nodes.listening(2)
    assert (await patient.join(appointment_id))["ok"]
    assert (await physician.join(appointment_id))["ok"]
    assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
    await patient.next("admitted")

    reception = await api.login("demo.reception")
    response = await nodes.clients[0].post(
        f"/api/v1/appointments/{appointment_id}/cancel", json={}, headers=reception.headers
    )
    assert response.status == 200, await response.text()
    for side in (patient, physician):
        ended = await side.next("ended")
        assert (ended["appointment_id"], ended["reason"]) == (appointment_id, "cancelled")
    # Node 1 was only told through Redis; the database refuses the physician's next signal.
    signal = {"appointment_id": appointment_id, "description": OFFER}
    assert (await physician.call("signal", signal))["code"] == "room_closed"
    assert (await physician.call("signal", signal))["code"] == "not_joined"
    assert (await patient.call("signal", signal))["code"] == "not_joined"
    await nothing_relayed(patient, physician)
