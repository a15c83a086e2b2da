"""The REST operations beside the consultation room, and the booking conversation on the
physician's visit detail (the room itself: ``tests/rtc/test_namespace.py``)."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from portal.api import PORTAL_KEY
from portal.clock import ManualClock
from portal.seed import book_demo_consultation
from portal.services import Portal
from tests.conftest import Api
from tests.portal.api.test_records import demo_physician_id


def _form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("description", "zdjęcie")
    form.add_field("file", io.BytesIO(b"\x89PNG\r\n\x1a\n"), filename="a.png")
    return form


def _portal(client: TestClient[Any, Any]) -> Portal:
    return client.app[PORTAL_KEY]


async def test_get_consultation_before_anybody_joined(
    client: TestClient[Any, Any], api: Api, clock: ManualClock
) -> None:
    appointment = await book_demo_consultation(_portal(client), starts_in=timedelta(hours=1))
    patient = await api.login("demo.patient")
    response = await client.get(f"/api/v1/consultations/{appointment.id}", headers=patient.headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["state"] == "scheduled"
    assert body["role"] == "patient"
    assert body["summary"] is None
    assert body["transport"] == "direct"
    assert body["appointment"]["id"] == str(appointment.id)
    opens_at = datetime.fromisoformat(body["opens_at"])
    assert opens_at == appointment.start_at - timedelta(minutes=15)

    physician = await api.login("demo.physician")
    as_physician = await client.get(
        f"/api/v1/consultations/{appointment.id}", headers=physician.headers
    )
    assert (await as_physician.json())["role"] == "physician"


async def test_sharing_needs_an_open_room_and_a_member(
    client: TestClient[Any, Any], api: Api
) -> None:
    appointment = await book_demo_consultation(_portal(client), starts_in=timedelta(hours=2))
    patient = await api.login("demo.patient")
    early = await client.post(
        f"/api/v1/consultations/{appointment.id}/documents", data=_form(), headers=patient.headers
    )
    assert early.status == 409
    assert (await early.json())["code"] == "room_not_open"
    unknown = await client.post(
        f"/api/v1/consultations/{uuid.uuid4()}/documents", data=_form(), headers=patient.headers
    )
    assert unknown.status == 404


async def test_waiting_room_is_for_physicians(client: TestClient[Any, Any], api: Api) -> None:
    patient = await api.login("demo.patient")
    refused = await client.get("/api/v1/physician/waiting-room", headers=patient.headers)
    assert refused.status == 403
    physician = await api.login("demo.physician")
    empty = await client.get("/api/v1/physician/waiting-room", headers=physician.headers)
    assert (await empty.json()) == {"items": []}


async def test_visit_detail_shows_the_assistant_conversation_it_was_booked_in(
    client: TestClient[Any, Any], api: Api
) -> None:
    portal = _portal(client)
    patient = await api.login("demo.patient")
    token_response = await client.post("/api/v1/auth/token", headers=patient.headers)
    token = (await token_response.json())["access_token"]
    principal = await portal.auth.authenticate_token(token)
    conversation = await portal.conversations.open(principal, "pl")
    await portal.conversations.add_patient_message(
        principal, conversation.id, "Boli mnie gardło od trzech dni", "c-1"
    )
    await portal.conversations.add_bot_message(conversation.id, "Wybierz termin wizyty.")

    physician = await api.login("demo.physician")
    slots = await api.free_slots(physician_id=await demo_physician_id(api))
    booked = await client.post(
        "/api/v1/appointments",
        json={"slot_id": slots[0]["id"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert booked.status == 201, await booked.text()
    appointment = await booked.json()
    assert appointment["source"] == "assistant"

    detail = await client.get(
        f"/api/v1/physician/appointments/{appointment['id']}", headers=physician.headers
    )
    body = await detail.json()
    assert [(line["sender"], line["text"]) for line in body["booking_chat"]] == [
        ("patient", "Boli mnie gardło od trzech dni"),
        ("bot", "Wybierz termin wizyty."),
    ]
