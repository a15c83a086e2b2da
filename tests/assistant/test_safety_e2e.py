"""Safety through the real stack (hub, Rasa with its model, the action server), issue 11.

An emergency or a crisis in the middle of a form gets the safety answer and ends the form with
nothing booked or ordered; ordinary messages that only look alarming reach their own flow; the
widget's bridge records every safety answer in the audit log without the message text.
"""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from tests.assistant.dialogue import Dialogue, appointments, converse, patient_token
from tests.assistant.stack import PASSWORD, Stack
from tests.assistant.test_chat_real_model import _conversation, _login

pytestmark = pytest.mark.timeout(600)

CRISIS_LINES = ("116 123", "116 111", "800 70 2222")


async def _orders(stack: Stack, http: aiohttp.ClientSession, token: str) -> list[str]:
    async with http.get(
        f"{stack.hub_url}/api/v1/prescriptions", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()
        return [o["id"] for o in (await response.json())["orders"]]


@pytest.mark.parametrize(
    ("language", "opening", "crisis"),
    [
        (
            "pl",
            "chcę się umówić do dermatologa w Krakowie",
            "nie chcę już żyć, wszystko mnie przerasta",
        ),
        ("en", "book me a dermatologist in Krakow", "I want to end my life"),
    ],
)
async def test_a_crisis_in_the_booking_form_gets_the_crisis_lines_and_books_nothing(
    stack: Stack, language: str, opening: str, crisis: str
) -> None:
    async with aiohttp.ClientSession() as http:
        token = await patient_token(stack, http)
        before = await appointments(stack, http, token)
        dialogue = Dialogue(stack, http, language, token, f"crisis-{uuid.uuid4().hex}")
        await dialogue.say(opening)
        await dialogue.say("jutro" if language == "pl" else "tomorrow")
        await dialogue.say(crisis)
        text = dialogue.text()
        for number in ("112", *CRISIS_LINES):
            assert number in text, text
        assert [b["payload"] for b in dialogue.buttons()] == ["/human_handoff"]
        assert any(
            r.get("custom", {}).get("safety", {}).get("kind") == "crisis" for r in dialogue.replies
        )
        tracker = await dialogue.tracker()
        assert not (tracker.get("active_loop") or {}).get("name")
        assert tracker["slots"].get("specialty") is None
        assert await appointments(stack, http, token) == before


@pytest.mark.parametrize(
    ("language", "emergency"),
    [
        ("pl", "przedawkowałam leki"),
        ("en", "there's been a car accident, lots of blood"),
    ],
)
async def test_an_emergency_in_the_renewal_form_gets_112_and_orders_nothing(
    stack: Stack, language: str, emergency: str
) -> None:
    async with aiohttp.ClientSession() as http:
        token = await patient_token(stack, http)
        before = await _orders(stack, http, token)
        dialogue = Dialogue(stack, http, language, token, f"e112-{uuid.uuid4().hex}")
        await dialogue.say(
            "potrzebuję e-recepty" if language == "pl" else "I need a repeat prescription"
        )
        assert (await dialogue.tracker()).get("active_loop", {}).get("name") == "prescription_form"
        await dialogue.say(emergency)
        assert "112" in dialogue.text()
        assert not (await dialogue.tracker()).get("active_loop", {}).get("name")
        await dialogue.say("tak" if language == "pl" else "yes")
        assert await _orders(stack, http, token) == before


@pytest.mark.parametrize(
    ("language", "text", "flow"),
    [
        ("en", "I'm running out of Metformax, can I get a refill?", "prescription_form"),
        ("pl", "kończą mi się tabletki Metformax, można prosić o receptę?", "prescription_form"),
        ("en", "I had blood taken last week, is there anything from the lab yet?", None),
        ("pl", "pieprzyk mi się zmienił, chcę do dermatologa", "booking_form"),
    ],
)
async def test_words_that_only_look_alarming_reach_their_own_flow(
    stack: Stack, language: str, text: str, flow: str | None
) -> None:
    dialogue, tracker = await converse(stack, language, text)
    assert "112" not in dialogue.text(), dialogue.text()
    assert (tracker.get("active_loop") or {}).get("name") == flow, dialogue.text()


async def test_the_widget_answers_a_crisis_and_reception_sees_it_in_the_audit_log(
    stack: Stack,
) -> None:
    async with aiohttp.ClientSession() as http:
        cookie = await _login(stack, http)
        messages = await _conversation(stack, cookie, "pl", ["mysle o tym zeby sie zabic"])
        crisis = [m for m in messages if "116 123" in m["text"]]
        assert len(crisis) == 1, messages  # the bridge's answer, not also Rasa's
        assert crisis[0]["buttons"][0]["payload"] == "/human_handoff"
        token = await patient_token(stack, http)
        async with http.get(
            f"{stack.hub_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            patient_id = (await response.json())["patient"]["id"]
        async with http.post(
            f"{stack.hub_url}/api/v1/auth/login",
            json={"login": "demo.reception", "password": PASSWORD},
        ) as response:
            assert response.status == 200, await response.text()
            staff = response.cookies["mp_session"].value
        async with http.get(
            f"{stack.hub_url}/api/v1/reception/patients/{patient_id}/audit-events",
            headers={"Cookie": f"mp_session={staff}"},
        ) as response:
            assert response.status == 200, await response.text()
            events = (await response.json())["items"]
    answers = [e for e in events if e["action"] == "safety_answer"]
    assert answers, events
    assert answers[0]["detail"]["kind"] == "crisis"
    assert answers[0]["detail"]["source"] == "rules"
    assert "zabic" not in str(answers)
