"""A patient and a physician in a consultation, end to end through the real hub.

Two :class:`~rtc.testpeer.TestPeer` log in over the REST API, join the room over ``/consult``
and call each other as the room's pages do: directly (the hub only signals), with the room in
relay mode from the start (``RELAY_POLICY=relay``), and falling back to relay when the direct
path never connects (a patient behind a "firewall" that drops every ICE candidate). The two
send different picture sizes, so each can tell the other's picture from its own and from the
hub's black filler.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.seed import book_demo_consultation
from rtc.setup import CONSULT_KEY
from rtc.testpeer import TestPeer
from tests.conftest import DEMO_PASSWORD
from tests.rtc.calls import (
    AUDIO_FRAMES,
    MEDIA_WITHIN,
    ORIGIN,
    PATIENT_SIZE,
    PHYSICIAN_SIZE,
    VIDEO_FRAMES,
    chat_both_ways,
    meet,
    see_and_hear_each_other,
)


@pytest.fixture
def backend() -> str:
    """SQLite only: the media path is the same on both databases (tests/portal runs both)."""
    return "sqlite"


@pytest.fixture
def rtc_overrides() -> dict[str, Any]:
    """Settings of the consultation rooms a test changes (by parametrizing this fixture)."""
    return {}


@pytest.fixture
def settings(settings: Settings, rtc_overrides: dict[str, Any]) -> Settings:
    """The shared settings with this test's room settings."""
    return dataclasses.replace(settings, **rtc_overrides)


@pytest.fixture
async def appointment_id(client: TestClient[Any, Any]) -> str:
    """An online consultation of the demo patient with the demo physician, open now."""
    appointment = await book_demo_consultation(client.app[PORTAL_KEY])
    return str(appointment.id)


@pytest.fixture
async def people(client: TestClient[Any, Any]) -> AsyncIterator[Callable[..., TestPeer]]:
    """Make test peers of the running hub; each is closed before the hub stops."""
    made: list[TestPeer] = []
    base_url = str(client.make_url("")).rstrip("/")

    def make(login: str, **options: Any) -> TestPeer:
        made.append(TestPeer(base_url, login, DEMO_PASSWORD, origin=ORIGIN, **options))
        return made[-1]

    yield make
    for peer in made:
        await peer.close()


async def test_a_direct_call_carries_media_and_chat_both_ways(
    client: TestClient[Any, Any], people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    await see_and_hear_each_other(patient, physician)
    await chat_both_ways(patient, physician, appointment_id)

    # Peer to peer: the hub signalled (the offer went through it) and carried no media.
    assert any(event == "signal" for event, _ in patient.events)
    assert patient.rooms[appointment_id].relay_requests == []
    assert physician.rooms[appointment_id].relay_requests == []
    assert client.app[CONSULT_KEY].media.relayed_rooms() == []


@pytest.mark.parametrize("rtc_overrides", [{"relay_policy": "relay"}])
async def test_a_room_with_relay_policy_calls_through_the_hub(
    client: TestClient[Any, Any], people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    assert patient.rooms[appointment_id].room["transport"] == "relay"
    assert physician.rooms[appointment_id].room["policy"] == "relay"
    await see_and_hear_each_other(patient, physician)
    await chat_both_ways(patient, physician, appointment_id)

    media = client.app[CONSULT_KEY].media
    assert media.relayed_rooms() == [appointment_id]
    forwarded = media.relay_stats(appointment_id)["forwarded"]
    for direction in ("patient_to_physician", "physician_to_patient"):
        assert forwarded[direction]["video"] > 0 and forwarded[direction]["audio"] > 0
    # No direct connection was tried.
    assert not any(event == "signal" for event, _ in patient.events + physician.events)

    await physician.end(appointment_id)
    await patient.wait_for_event("ended", within=5)
    await physician.wait_until(lambda: media.relayed_rooms() == [], within=5)


@pytest.mark.parametrize("rtc_overrides", [{"relay_timeout": 1.0}])
async def test_a_direct_path_that_never_connects_falls_back_to_relay(
    client: TestClient[Any, Any], people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id, block_direct=True)
    assert patient.rooms[appointment_id].room["relay_timeout_ms"] == 1000

    for peer in (patient, physician):
        event = await peer.wait_for_event(
            "transport", within=10, check=lambda data: data["transport"] == "relay"
        )
        assert event["appointment_id"] == appointment_id
        assert event["reason"] == "timeout"
    requests = (
        patient.rooms[appointment_id].relay_requests
        + physician.rooms[appointment_id].relay_requests
    )
    assert requests and set(requests) == {"timeout"}
    # The direct offer did go out: the path failed, not the signalling.
    assert any(event == "signal" for event, _ in patient.events)

    await see_and_hear_each_other(patient, physician)
    assert client.app[CONSULT_KEY].media.relayed_rooms() == [appointment_id]


@pytest.mark.parametrize("rtc_overrides", [{}, {"relay_policy": "relay"}], ids=["direct", "relay"])
async def test_a_reloaded_patient_page_gets_the_call_back(
    people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    await physician.wait_for_frames("video", 5, MEDIA_WITHIN, size=PATIENT_SIZE)
    await patient.close()
    await physician.wait_for_event("peer_left", within=5)

    reloaded_size = (240, 180)
    reloaded = people("demo.patient", video_size=reloaded_size)
    await reloaded.start()
    room = await reloaded.join(appointment_id)
    assert room["state"] == "admitted", "an admitted room takes the patient straight back"
    await reloaded.connect_media(appointment_id)
    await physician.wait_for_frames("video", VIDEO_FRAMES, MEDIA_WITHIN, size=reloaded_size)
    await reloaded.wait_for_frames("video", VIDEO_FRAMES, MEDIA_WITHIN, size=PHYSICIAN_SIZE)
    await reloaded.wait_for_frames("audio", AUDIO_FRAMES, MEDIA_WITHIN)
    assert reloaded.errors == [] and physician.errors == []
