"""Booking through the actions against the real hub: the happy path, corrections, refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from conftest import FormDriver, Hub

from actions.booking import (
    ActionAskCity,
    ActionAskConfirmed,
    ActionAskContinueForm,
    ActionAskExamination,
    ActionAskPatientChoice,
    ActionAskPreferredDate,
    ActionAskServiceType,
    ActionAskSlotChoice,
    ActionAskSpecialty,
    ValidateBookingForm,
)
from actions.dates import ZONE
from actions.texts import PROBLEMS

ASK = {
    "service_type": ActionAskServiceType(),
    "specialty": ActionAskSpecialty(),
    "examination": ActionAskExamination(),
    "city": ActionAskCity(),
    "preferred_date": ActionAskPreferredDate(),
    "patient_choice": ActionAskPatientChoice(),
    "slot_choice": ActionAskSlotChoice(),
    "confirmed": ActionAskConfirmed(),
    "continue_form": ActionAskContinueForm(),
}


def booking(token: str | None, language: str = "pl") -> FormDriver:
    return FormDriver("booking_form", ValidateBookingForm(), ASK, language=language, token=token)


def payload_value(payload: str, key: str) -> str:
    """The value a button payload sets, e.g. /inform{"slot_choice":"..."}."""
    return str(json.loads(payload[payload.index("{") :])[key])


def weekday_after_tomorrow() -> str:
    """A weekday at least two days ahead, as Polish free text ("15 grudnia")."""
    day = datetime.now(ZONE).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    months = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia"]
    months += ["września", "października", "listopada", "grudnia"]
    return f"{day.day} {months[day.month - 1]}"


async def test_a_full_booking_leaves_exactly_one_new_appointment(
    hub: Hub, patient_token: str
) -> None:
    before = {a["id"] for a in hub.appointments(patient_token)}
    form = booking(patient_token)

    await form.say(
        "Chcę umówić wizytę u internisty w Warszawie",
        "book_appointment",
        candidates={"specialty": "internal-medicine", "city": "Warszawa"},
    )
    assert form.slots["specialty"] == "internal-medicine"
    assert form.slots["city"] == "Warszawa"
    assert form.requested == "service_type"
    assert '/inform{"service_type":"in_person_visit"}' in form.payloads()

    await form.say(
        '/inform{"service_type":"in_person_visit"}', candidates={"service_type": "in_person_visit"}
    )
    assert form.requested == "preferred_date"

    await form.say(weekday_after_tomorrow() + " rano")
    assert form.slots["time_of_day"] == "morning"
    assert form.requested == "patient_choice"
    assert '/inform{"patient_choice":"self"}' in form.payloads()
    assert any("Zofia" in b["title"] for m in form.said for b in m.get("buttons") or [])

    await form.say('/inform{"patient_choice":"self"}', candidates={"patient_choice": "self"})
    assert form.requested == "slot_choice"
    offered = [p for p in form.payloads() if "slot_choice" in p]
    assert offered, form.text()
    chosen = payload_value(offered[0], "slot_choice")

    await form.say(offered[0], candidates={"slot_choice": chosen})
    assert form.requested == "confirmed"
    assert "Potwierdzasz" in form.text()
    assert form.payloads() == ["/affirm", "/deny"]

    await form.say("tak", "affirm", candidates={"confirmed": True})
    assert form.slots["outcome"] == "booked"
    assert form.requested is None
    assert "zarezerwowałem" in form.text()
    assert "/visits.html" in form.text()

    after = hub.appointments(patient_token)
    new = [a for a in after if a["id"] not in before]
    assert len(new) == 1
    assert new[0]["source"] == "assistant"
    assert new[0]["status"] == "booked"
    assert new[0]["service"]["code"] == "internal-medicine-visit"
    assert new[0]["clinic"]["city"] == "Warszawa"


async def test_a_refusal_is_explained_in_the_patients_language(hub: Hub, basic_token: str) -> None:
    form = booking(basic_token, language="en")
    await form.say(
        "I need an online consultation with an internist",
        "book_appointment",
        candidates={"service_type": "online", "specialty": "internist"},
    )
    assert form.slots["service_type"] == "online_consultation"
    assert form.slots["specialty"] == "internal-medicine"
    await form.say("as soon as possible")
    # No children: the patient is booked for themselves without being asked.
    assert form.slots["patient_choice"] == "self"
    assert form.requested == "slot_choice"
    first = payload_value(form.payloads()[0], "slot_choice")
    await form.say(form.payloads()[0], candidates={"slot_choice": first})
    before = hub.appointments(basic_token)
    await form.say("yes", "affirm", candidates={"confirmed": True})

    assert form.slots["outcome"] == "refused"
    assert PROBLEMS["full_access_required"]["en"] in form.text()
    assert "/terms.html" in form.text()
    assert hub.appointments(basic_token) == before


async def test_without_a_token_the_patient_is_asked_to_log_in(hub: Hub) -> None:
    form = booking(None, language="en")
    await form.say(
        "book a cardiologist", "book_appointment", candidates={"specialty": "cardiology"}
    )
    assert form.slots["outcome"] == "login"
    assert form.requested is None
    assert "/login.html" in form.text()


async def test_corrections_replace_earlier_answers_and_void_the_offer(
    hub: Hub, patient_token: str
) -> None:
    form = booking(patient_token)
    await form.say(
        "teleporada z kardiologiem w przyszły wtorek",
        "book_appointment",
        candidates={"service_type": "teleporada", "specialty": "kardiologiem"},
    )
    assert form.slots["service_type"] == "telephone_consultation"
    assert form.slots["specialty"] == "cardiology"
    assert form.requested == "patient_choice"
    await form.say("dla mnie")
    assert form.slots["patient_choice"] == "self"
    assert form.requested == "slot_choice"
    first_offer = form.slots["offered_slots"]["items"]

    await form.say("a właściwie do dermatologa", candidates={"specialty": "dermatologa"})
    assert form.slots["specialty"] == "dermatology"
    assert form.requested == "slot_choice"
    assert form.slots["offered_slots"]["items"] != first_offer
    assert all("dermatolog" in s["service"].lower() for s in form.slots["offered_slots"]["items"])

    chosen = form.slots["offered_slots"]["items"][0]["id"]
    await form.say("pierwszy")
    assert form.slots["slot_choice"] == chosen
    assert form.requested == "confirmed"

    await form.say("nie, jednak w czwartek", "deny", candidates={"confirmed": False})
    assert form.slots["confirmed"] is None
    assert form.slots["slot_choice"] is None
    assert form.requested == "slot_choice"
    starts = [s["start"] for s in form.slots["offered_slots"]["items"]]
    assert starts
    note = form.slots["offered_slots"]["note"]
    if note == "offer_slots":
        assert {datetime.fromisoformat(s).weekday() for s in starts} == {3}


async def test_two_answers_the_form_cannot_use_offer_to_stop(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token)
    await form.say("chcę się umówić", "book_appointment")
    assert form.requested == "service_type"
    await form.say("bla bla", "nlu_fallback")
    assert form.slots["invalid_answers"] == 1
    assert form.requested == "service_type"
    assert "Nie rozpoznałem rodzaju usługi" in form.text()
    await form.say("coś tam", "inform")
    assert form.requested == "continue_form"
    assert form.payloads() == ["/affirm", "/deny"]
    await form.say("przerwij", "deny", candidates={"continue_form": False})
    assert form.slots["outcome"] == "stopped"
    assert form.requested is None


@pytest.mark.parametrize("intent", ["emergency", "human_handoff", "check_results", "help"])
async def test_the_form_steps_aside_for_questions_and_emergencies(
    patient_token: str, intent: str
) -> None:
    form = booking(patient_token)
    form.slots.update(requested_slot="preferred_date", service_type="in_person_visit")
    await form.say("boli mnie w klatce piersiowej i nie mogę oddychać", intent)
    assert form.rejected
    assert form.slots["requested_slot"] == "preferred_date"


async def test_no_free_slot_offers_the_nearest_alternatives(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token, language="en")
    await form.say(
        "an in-person dermatologist in Katowice on Sunday",
        "book_appointment",
        candidates={"service_type": "in person", "specialty": "dermatologist", "city": "Katowice"},
    )
    await form.say("for me")
    assert form.requested == "slot_choice", form.text()
    note = form.slots["offered_slots"]["note"]
    assert note != "offer_slots"
    assert form.payloads()
    assert "Nothing is free" in form.text() or "There is nothing free" in form.text()
