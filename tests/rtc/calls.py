"""Calls between two test peers as the room's pages make them: meeting in the room, and
checking that each side sees and hears the other (shared by the tests of one hub and of two)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rtc.testpeer import TestPeer

ORIGIN = "http://127.0.0.1:8080"
"""The settings fixture's PUBLIC_URL: an allowed origin."""
PATIENT_SIZE = (320, 240)
PHYSICIAN_SIZE = (160, 120)
MEDIA_WITHIN = 15.0
"""Seconds for the first frames to arrive (loopback needs well under one)."""
VIDEO_FRAMES = 20
AUDIO_FRAMES = 50
"""About 1.3 s of synthetic video at 15 fps and 1 s of audio."""


async def meet(
    people: Callable[..., TestPeer], appointment_id: str, **patient_options: Any
) -> tuple[TestPeer, TestPeer]:
    """The patient waits, the physician joins and admits; both have media on."""
    patient = people("demo.patient", video_size=PATIENT_SIZE, **patient_options)
    physician = people("demo.physician", video_size=PHYSICIAN_SIZE)
    await patient.start()
    await physician.start()
    room = await patient.join(appointment_id)
    assert room["role"] == "patient"
    assert room["state"] == "waiting"
    await patient.connect_media(appointment_id)
    room = await physician.join(appointment_id)
    assert room["role"] == "physician"
    assert room["peer_present"] is True
    await physician.connect_media(appointment_id)
    await physician.admit(appointment_id)
    await patient.wait_for_event("admitted", within=5)
    return patient, physician


async def see_and_hear_each_other(patient: TestPeer, physician: TestPeer) -> None:
    await physician.wait_for_frames("video", VIDEO_FRAMES, MEDIA_WITHIN, size=PATIENT_SIZE)
    await patient.wait_for_frames("video", VIDEO_FRAMES, MEDIA_WITHIN, size=PHYSICIAN_SIZE)
    await physician.wait_for_frames("audio", AUDIO_FRAMES, MEDIA_WITHIN)
    await patient.wait_for_frames("audio", AUDIO_FRAMES, MEDIA_WITHIN)
    assert PHYSICIAN_SIZE not in physician.frame_sizes, "the physician sees only the patient"
    assert PATIENT_SIZE not in patient.frame_sizes, "the patient sees only the physician"
    assert patient.errors == [] and physician.errors == []


async def chat_both_ways(patient: TestPeer, physician: TestPeer, appointment_id: str) -> None:
    """A message each way, delivered to both members exactly once."""
    sent = [
        await patient.chat(appointment_id, "Dzień dobry, słychać mnie?"),
        await physician.chat(appointment_id, "Good morning, I can hear you."),
    ]
    for peer in (patient, physician):
        await peer.wait_until(lambda p=peer: len(p.messages) >= 2, within=5)
    for peer in (patient, physician):
        received = [message["client_msg_id"] for message in peer.messages]
        assert sorted(received) == sorted(message["client_msg_id"] for message in sent)
    assert [message["sender"] for message in sent] == ["patient", "physician"]
