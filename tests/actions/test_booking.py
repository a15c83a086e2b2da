"""Booking through the actions against the real hub: the happy path, corrections, refusals."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from conftest import FormDriver, Hub

from actions.api import HubClient, HubProblem
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
    assert "zarezerwowa" in form.text()
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


# -- dates, times and constraints in the form ---------------------------------------------------

POLISH_MONTHS = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca"]
POLISH_MONTHS += ["sierpnia", "września", "października", "listopada", "grudnia"]


def weekday_ahead(days: int = 2) -> date:
    """The first weekday at least ``days`` days ahead."""
    day = datetime.now(ZONE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def polish(day: date) -> str:
    return f"{day.day} {POLISH_MONTHS[day.month - 1]}"


def local_starts(form: FormDriver) -> list[datetime]:
    return [
        datetime.fromisoformat(s["start"]).astimezone(ZONE)
        for s in form.slots["offered_slots"]["items"]
    ]


async def test_every_fact_of_the_first_message_fills_its_slot(hub: Hub, patient_token: str) -> None:
    day = weekday_ahead()
    form = booking(patient_token)
    # No NLU entities: the actions read the raw text themselves.
    await form.say(
        f"Chcę wizytę stacjonarną u internisty w Warszawie {polish(day)} po 10 dla Zosi",
        "book_appointment",
    )
    assert form.slots["service_type"] == "in_person_visit"
    assert form.slots["specialty"] == "internal-medicine"
    assert form.slots["city"] == "Warszawa"
    assert form.slots["preferred_date"] == day.isoformat()
    assert form.slots["time_from"] == "10:00"
    assert form.slots["patient_name"].startswith("Zofia")
    assert form.requested == "slot_choice", form.text()
    assert form.slots["offered_slots"]["note"] == "offer_slots", form.text()
    starts = local_starts(form)
    assert starts
    assert all(s.date() == day and (s.hour, s.minute) >= (10, 0) for s in starts), starts
    assert {s["city"] for s in form.slots["offered_slots"]["items"]} == {"Warszawa"}
    assert "od 10:00" in form.text()


async def test_an_english_first_message_keeps_date_part_of_day_and_physician(
    hub: Hub, patient_token: str
) -> None:
    day = weekday_ahead()
    form = booking(patient_token, language="en")
    await form.say(
        f"a telephone consultation with dr Kowalska on {day.day} {day.strftime('%B')} "
        "in the afternoon",
        "book_appointment",
    )
    assert form.slots["service_type"] == "telephone_consultation"
    assert form.slots["physician_name"] == "dr n. med. Anna Kowalska"
    assert form.slots["preferred_date"] == day.isoformat()
    assert form.slots["time_of_day"] == "afternoon"
    assert form.requested == "patient_choice", form.text()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", "teleporada u internisty {day} o 10, dla mnie"),
        ("en", "a phone consultation with an internist on {day} at 10 for me."),
    ],
)
async def test_for_me_in_the_first_message_is_the_patient(
    hub: Hub, patient_token: str, language: str, text: str
) -> None:
    day = weekday_ahead()
    words = polish(day) if language == "pl" else f"{day.day} {day.strftime('%B')}"
    form = booking(patient_token, language=language)
    await form.say(text.format(day=words), "book_appointment")
    assert form.slots["patient_choice"] == "self"
    assert form.slots["preferred_date"].startswith(day.isoformat())
    assert form.requested == "slot_choice", form.text()
    # A later correction replaces it: the patient's daughter instead.
    await form.say("a właściwie dla Zosi" if language == "pl" else "actually for Zosia")
    assert form.slots["patient_name"].startswith("Zofia")
    await form.say("jednak dla mnie" if language == "pl" else "no, for me after all")
    assert form.slots["patient_choice"] == "self"


async def test_a_weekday_at_the_offer_is_a_new_search_never_a_slot_number(
    hub: Hub, patient_token: str
) -> None:
    form = booking(patient_token)
    await form.say(
        "teleporada z internistą jak najszybciej",
        "book_appointment",
        candidates={"service_type": "teleporada", "specialty": "internistą"},
    )
    await form.say("dla mnie")
    assert form.requested == "slot_choice"
    thursday = (datetime.now(ZONE).date() + timedelta(days=1)).toordinal()
    while date.fromordinal(thursday).weekday() != 3:
        thursday += 1

    await form.say("a może w czwartek?")
    assert form.requested == "slot_choice", form.text()
    assert form.slots["slot_choice"] is None
    assert form.slots["preferred_date"] == date.fromordinal(thursday).isoformat()
    if form.slots["offered_slots"]["note"] == "offer_slots":
        assert {s.weekday() for s in local_starts(form)} == {3}

    await form.say("chodzi mi o piątek w przyszłym tygodniu")
    assert form.requested == "slot_choice", form.text()
    assert form.slots["slot_choice"] is None
    friday = date.fromisoformat(form.slots["preferred_date"])
    assert friday.weekday() == 4
    today = datetime.now(ZONE).date()
    assert friday - (today - timedelta(days=today.weekday())) == timedelta(days=11)

    offered_before = form.slots["offered_slots"]
    await form.say("he's had a cough for a week")
    assert form.slots["preferred_date"] == friday.isoformat()
    assert form.slots["offered_slots"] == offered_before
    assert form.slots["slot_choice"] is None

    await form.say("czwarty")
    assert form.slots["slot_choice"] == offered_before["items"][3]["id"]
    assert form.requested == "confirmed"


async def test_next_weekday_is_asked_back_before_any_search(hub: Hub, patient_token: str) -> None:
    today = datetime.now(ZONE).date()
    form = booking(patient_token)
    await form.say(
        "wizyta stacjonarna u internisty w Warszawie",
        "book_appointment",
        candidates={"service_type": "wizyta stacjonarna", "specialty": "internisty"},
    )
    assert form.requested == "preferred_date"
    if today.weekday() == 6:
        # On a Sunday every coming weekday is in next week already: one reading, no question.
        await form.say("w przyszły wtorek")
        assert form.slots["preferred_date"] == (today + timedelta(days=2)).isoformat()
        return
    tomorrow = today + timedelta(days=1)
    names = ["poniedziałek", "wtorek", "środę", "czwartek", "piątek", "sobotę", "niedzielę"]
    await form.say(f"w przyszły {names[tomorrow.weekday()]} po 10")
    assert form.requested == "preferred_date", form.text()
    assert form.slots["preferred_date"] is None
    assert form.slots.get("offered_slots") is None
    assert form.slots["time_from"] == "10:00"
    later = tomorrow + timedelta(days=7)
    expected = [f'/inform{{"preferred_date":"{d.isoformat()}"}}' for d in (tomorrow, later)]
    assert form.payloads()[:2] == expected
    assert f"{tomorrow.day}" in form.text() and " czy " in form.text()

    await form.say(expected[1], candidates={"preferred_date": later.isoformat()})
    assert form.slots["preferred_date"] == later.isoformat()
    assert form.slots["date_end"] == later.isoformat()
    assert form.slots["date_options"] is None
    assert form.slots["time_from"] == "10:00"
    assert form.requested == "patient_choice"


async def test_a_typed_choice_answers_the_question_too(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token, language="en")
    await form.say(
        "phone consultation with an internist",
        "book_appointment",
        candidates={"service_type": "phone", "specialty": "internist"},
    )
    options = [weekday_ahead(2).isoformat(), (weekday_ahead(2) + timedelta(days=7)).isoformat()]
    form.slots["date_options"] = options
    await form.say(f"the {date.fromisoformat(options[1]).day}th")
    assert form.slots["preferred_date"] == options[1], form.text()
    assert form.slots["date_options"] is None
    assert form.requested == "patient_choice"


async def test_a_payload_that_is_no_date_is_refused(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token)
    form.slots.update(service_type="telephone_consultation", specialty="internal-medicine")
    await form.say('/inform{"preferred_date":"jutro"}', candidates={"preferred_date": "jutro"})
    assert form.slots["preferred_date"] is None
    assert form.requested == "preferred_date"


async def test_bounds_and_excluded_weekdays_reach_the_search(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token)
    await form.say(
        "teleporada u internisty jak najszybciej, byle nie w poniedziałek, po 14",
        "book_appointment",
    )
    assert form.slots["exclude_weekdays"] == "1"
    assert form.slots["time_from"] == "14:00"
    await form.say("dla mnie")
    assert form.requested == "slot_choice", form.text()
    assert form.slots["offered_slots"]["note"] == "offer_slots"
    starts = local_starts(form)
    assert all(s.weekday() != 0 and s.hour >= 14 for s in starts), starts
    assert "bez poniedziałków" in form.text()

    # A time alone keeps the days: "przed 15" now bounds the same open window.
    await form.say("a jednak przed 15")
    assert form.slots["time_from"] is None
    assert form.slots["time_to"] == "15:00"
    assert form.slots["exclude_weekdays"] == "1"
    assert all(s.weekday() != 0 and s.hour < 15 for s in local_starts(form))


async def test_nothing_free_on_the_asked_day_offers_the_nearest_days_in_that_city(
    hub: Hub, patient_token: str
) -> None:
    saturday = datetime.now(ZONE).date() + timedelta(days=3)
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    form = booking(patient_token)
    await form.say(
        f"wizyta stacjonarna u internisty w Warszawie {polish(saturday)}",
        "book_appointment",
    )
    await form.say("dla mnie")
    assert form.requested == "slot_choice", form.text()
    assert form.slots["offered_slots"]["note"] == "offer_other_days"
    assert "nie ma wolnych" in form.text()
    assert {s["city"] for s in form.slots["offered_slots"]["items"]} == {"Warszawa"}
    # The Friday before is nearer than the Monday after.
    assert local_starts(form)[0].date() == saturday - timedelta(days=1)


async def test_the_client_sends_clock_bounds_and_weekdays_to_search_slots(hub: Hub) -> None:
    async with HubClient(None, "en") as client:
        page = await client.search_slots(
            specialty="internal-medicine",
            time_from="10:00",
            time_to="11:00",
            exclude_weekdays=[1, 2],
            limit=50,
        )
        with pytest.raises(HubProblem) as refused:
            await client.search_slots(time_from="25:00")
    starts = [datetime.fromisoformat(s["start"]).astimezone(ZONE) for s in page["items"]]
    assert starts
    assert all(s.hour == 10 and s.isoweekday() not in (1, 2) for s in starts), starts
    assert refused.value.code == "invalid_input"
    assert [e["field"] for e in refused.value.errors] == ["time_from"]


async def test_a_visit_at_the_same_time_is_named_and_booked_only_on_a_second_yes(
    hub: Hub, patient_token: str
) -> None:
    form = booking(patient_token, language="en")
    await form.say(
        "I need a telephone consultation with an internist",
        "book_appointment",
        candidates={"service_type": "telephone", "specialty": "internist"},
    )
    await form.say("as soon as possible")
    await form.say('/inform{"patient_choice":"self"}', candidates={"patient_choice": "self"})
    assert form.requested == "slot_choice", form.text()
    payload = next(p for p in form.payloads() if "slot_choice" in p)
    chosen = payload_value(payload, "slot_choice")
    await form.say(payload, candidates={"slot_choice": chosen})
    assert form.requested == "confirmed"

    # Meanwhile the patient books another visit at that very time on the portal.
    bearer = {"Authorization": f"Bearer {patient_token}"}
    offered = {s["id"]: s for s in form.slots["offered_slots"]["items"]}
    start = offered[chosen]["start"]
    day, clock = start[:10], start[11:16]
    query = f"/slots?date_from={day}&date_to={day}&time_from={clock}&limit=100"
    same_time = [
        s for s in hub.call("GET", query)["items"] if s["start"] == start and s["id"] != chosen
    ]
    assert same_time, "no second slot at the same time"
    hub.call("POST", "/appointments", {"slot_id": same_time[0]["id"]}, bearer)
    before = hub.appointments(patient_token)

    await form.say("yes", "affirm", candidates={"confirmed": True})
    assert form.requested == "confirmed"
    assert "already has another visit" in form.text()
    assert "anyway" in form.text()
    assert form.payloads() == ["/affirm", "/deny"]
    assert hub.appointments(patient_token) == before

    await form.say("yes", "affirm", candidates={"confirmed": True})
    assert form.slots["outcome"] == "booked", form.text()
    booked = [a for a in hub.appointments(patient_token) if a not in before]
    assert [a["start"] for a in booked] == [start]
