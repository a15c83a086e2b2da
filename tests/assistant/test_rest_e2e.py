"""End to end through the running Rasa server's REST channel: bookings land in the portal."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from tests.assistant.dialogue import Dialogue, appointments, patient_token
from tests.assistant.stack import Stack

# Starting the stack (Rasa loads its model; the first run may train it) takes longer than the
# suite's per-test timeout allows.
pytestmark = pytest.mark.timeout(600)

OPENINGS = {
    "pl": "Chcę umówić wizytę u internisty w Warszawie",
    "en": "I'd like to book an appointment with an internist in Warsaw",
}


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_booking_dialogue_ends_with_the_appointment_in_the_portal(
    stack: Stack, language: str
) -> None:
    async with aiohttp.ClientSession() as http:
        token = await patient_token(stack, http)
        before = {a["id"] for a in await appointments(stack, http, token)}
        dialogue = Dialogue(stack, http, language, token, f"e2e-{language}-{uuid.uuid4().hex}")
        await dialogue.book(OPENINGS[language])
        after = await appointments(stack, http, token)
        new = [a for a in after if a["id"] not in before]
        assert len(new) == 1, dialogue.text()
        (booked,) = new
        assert booked["status"] == "booked"
        assert booked["source"] == "assistant"
        assert booked["service"]["type"] == "in_person_visit"


async def test_emergency_answers_at_once_with_112(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        token = await patient_token(stack, http)
        dialogue = Dialogue(stack, http, "pl", token, f"e2e-112-{uuid.uuid4().hex}")
        await dialogue.say("Chcę umówić wizytę u kardiologa")
        replies = await dialogue.say("mój tata stracił przytomność i nie oddycha")
        assert "112" in dialogue.text(), replies
        tracker = await dialogue.tracker()
        assert not (tracker.get("active_loop") or {}).get("name")


async def test_without_a_token_the_assistant_asks_to_log_in(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        dialogue = Dialogue(stack, http, "en", None, f"e2e-anon-{uuid.uuid4().hex}")
        await dialogue.say("Please show my appointments")
        assert "login" in dialogue.text().lower() or "log in" in dialogue.text().lower()
