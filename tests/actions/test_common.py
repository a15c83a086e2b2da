"""Language, session start, fallback, handoff, records answers, texts in both languages, and
the repair every form shares ("wróć", "zmień miasto", "od nowa", two misunderstandings)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT, FormDriver, Hub, free_port, make_tracker, run_action, user_event
from nlu_report import macro_f1, plain

from actions.api import HubProblem
from actions.booking import (
    ActionAskCity,
    ActionAskConfirmed,
    ActionAskExamination,
    ActionAskPatientChoice,
    ActionAskPreferredDate,
    ActionAskServiceType,
    ActionAskSlotChoice,
    ActionAskSpecialty,
    ValidateBookingForm,
)
from actions.common import (
    ActionFallback,
    ActionHandoff,
    ActionInformOutside,
    ActionSessionStart,
    ValidateSlotMappings,
    language_of,
    token_of,
)
from actions.forms import Repair, repair_command
from actions.records import (
    ActionCheckInstructions,
    ActionCheckReferrals,
    ActionCheckResults,
    ActionListAppointments,
)
from actions.texts import PROBLEMS, SERVICE_TYPE_NAMES, SPECIALTY_NAMES, TEXTS, explain
from actions.vocabulary import child_for


def test_language_and_token_come_from_the_latest_message_metadata() -> None:
    tracker = make_tracker({"language": "pl"}, "hello", "greet", language="en", token="abc")
    assert language_of(tracker) == "en"
    assert token_of(tracker) == "abc"
    anonymous = make_tracker({"language": "en"}, "hej", "greet", language="xx")
    assert language_of(anonymous) == "en"
    assert token_of(anonymous) is None


async def test_the_language_slot_follows_every_message() -> None:
    tracker = make_tracker({"language": "pl"}, "hello", "greet", language="en")
    events, _ = await run_action(ValidateSlotMappings(), tracker)
    assert {"event": "slot", "name": "language", "value": "en", "timestamp": None} in [
        {**e, "timestamp": None} for e in events
    ]


async def test_a_session_starts_in_the_language_of_its_first_message() -> None:
    tracker = make_tracker({"session_started_metadata": {"language": "en"}}, "", "greet")
    events, _ = await run_action(ActionSessionStart(), tracker)
    kinds = [(e["event"], e.get("name"), e.get("value")) for e in events]
    assert kinds[0][0] == "session_started"
    assert ("slot", "language", "en") in kinds
    assert kinds[-1][:2] == ("action", "action_listen")


async def test_fallback_asks_to_rephrase_then_offers_next_steps() -> None:
    first = make_tracker({}, "asdf qwer", "nlu_fallback")
    _, said = await run_action(ActionFallback(), first)
    assert said[0]["text"] == TEXTS["fallback_rephrase"]["pl"]
    assert not said[0]["buttons"]
    history = [user_event("xyz", "nlu_fallback", {"language": "en"}, [])]
    second = make_tracker({}, "zzz", "nlu_fallback", language="en", history=history)
    _, said = await run_action(ActionFallback(), second)
    assert said[0]["text"] == TEXTS["fallback_human"]["en"]
    payloads = [b["payload"] for b in said[0]["buttons"]]
    assert payloads[0] == "/book_appointment"
    assert payloads[-2:] == ["/human_handoff", "/deny"]
    assert said[0]["buttons"][-2]["title"] == "Talk to reception"


async def test_handoff_tells_the_bridge_and_forgets_the_form() -> None:
    tracker = make_tracker({"service_type": "in_person_visit"}, "human", "human_handoff")
    events, said = await run_action(ActionHandoff(), tracker)
    assert said[0]["custom"] == {"handoff": True}
    assert {"event": "slot", "name": "service_type", "value": None} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events
    ]


async def test_records_answers_are_short_with_links(hub: Hub, patient_token: str) -> None:
    cases = [
        (ActionListAppointments(), "/visits.html"),
        (ActionCheckResults(), "/results.html"),
        (ActionCheckReferrals(), "/referrals.html"),
        (ActionCheckInstructions(), "/instructions.html"),
    ]
    for action, link in cases:
        tracker = make_tracker({}, "?", "check_results", token=patient_token)
        _, said = await run_action(action, tracker)
        assert len(said) == 1
        assert link in said[0]["text"]
    _, said = await run_action(
        ActionCheckResults(), make_tracker({}, "?", "check_results", token=patient_token)
    )
    # Named, never interpreted: no values from the result reach the chat.
    assert "Morfologia krwi z rozmazem" in said[0]["text"]
    assert "11.2" not in said[0]["text"]


async def test_records_without_a_token_ask_to_log_in(hub: Hub) -> None:
    _, said = await run_action(
        ActionCheckReferrals(), make_tracker({}, "referrals", "check_referrals", language="en")
    )
    assert said[0]["text"] == TEXTS["login_required"]["en"]


async def test_an_expired_token_is_explained(hub: Hub) -> None:
    tracker = make_tracker({}, "wyniki", "check_results", token="mpt1.forged.token")
    _, said = await run_action(ActionCheckResults(), tracker)
    assert said[0]["text"] == PROBLEMS["token_invalid"]["pl"]


def test_every_text_and_refusal_exists_in_both_languages() -> None:
    for table in (TEXTS, PROBLEMS, SERVICE_TYPE_NAMES, SPECIALTY_NAMES):
        for key, texts in table.items():
            assert set(texts) == {"pl", "en"}, key
            assert all(texts.values()), key


def test_every_domain_response_has_a_polish_default_and_an_english_variation() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variations in domain["responses"].items():
        plain_ones = [v for v in variations if "condition" not in v]
        english = [
            v
            for v in variations
            if v.get("condition") == [{"type": "slot", "name": "language", "value": "en"}]
        ]
        assert len(plain_ones) == 1 and plain_ones[0]["text"], name
        assert len(english) == 1 and english[0]["text"], name


def test_unknown_refusals_fall_back_to_the_hubs_title() -> None:
    problem = HubProblem(409, "something_new", "Coś nowego.")
    assert explain(problem, "pl").startswith("Coś nowego.")
    known = HubProblem(403, "referral_required", "x")
    assert "/referrals.html" in explain(known, "en")


def test_macro_f1_of_the_report() -> None:
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0
    assert macro_f1([("a", "a"), ("a", "b")]) == pytest.approx((2 / 3 + 0) / 2)
    assert plain("do [kardiologa](specialty) w [Krakowie](city)") == "do kardiologa w Krakowie"


def test_the_nlu_test_split_is_never_trained_on() -> None:
    def examples(folder: Path) -> set[str]:
        found = set()
        for path in folder.rglob("*.yml"):
            for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
                if "intent" in item:
                    found |= {
                        plain(line.strip()[2:]).lower()
                        for line in item["examples"].splitlines()
                        if line.strip()
                    }
        return found

    training = examples(ROOT / "nlu_data")
    held_out = examples(ROOT / "tests" / "assistant" / "nlu_test")
    assert len(held_out) >= 15 * 23 * 2
    assert not training & held_out
    # The hard split too: it measures messages the model has never seen, word for word.
    hard = examples(ROOT / "tests" / "assistant" / "nlu_hard")
    assert len(hard) >= 900
    assert not training & hard


async def test_an_answer_without_a_question_starts_the_matching_form() -> None:
    entities = [{"entity": "specialty", "value": "dermatology", "start": 0, "end": 11}]
    tracker = make_tracker({}, "dermatologa", "inform", entities=entities)
    events, said = await run_action(ActionInformOutside(), tracker)
    assert [(e["event"], e["name"]) for e in events] == [("followup", "booking_form")]
    assert not said
    events, said = await run_action(
        ActionInformOutside(), make_tracker({}, "Kraków?", "inform", language="en")
    )
    assert not events
    assert said[0]["text"] == TEXTS["inform_outside"]["en"]


async def test_an_unreachable_hub_is_a_polite_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_URL", f"http://127.0.0.1:{free_port()}")
    tracker = make_tracker({}, "moje wizyty", "list_appointments", token="mpt1.x.y")
    _, said = await run_action(ActionListAppointments(), tracker)
    assert said[0]["text"] == TEXTS["hub_unavailable"]["pl"]


def test_children_are_found_by_name_or_relation() -> None:
    zofia = {"id": "1", "first_name": "Zofia", "sex": "female"}
    jan = {"id": "2", "first_name": "Jan", "sex": "male"}
    assert child_for("dla Zosi", [zofia, jan]) == zofia
    assert child_for("for my son", [zofia, jan]) == jan
    assert child_for("dla córki", [zofia, jan]) == zofia
    assert child_for("dla dziecka", [zofia, jan]) is None
    assert child_for("dla mnie", [zofia]) is None


# -- repair inside a form ------------------------------------------------------------------------

BOOKING_ASK = {
    "service_type": ActionAskServiceType(),
    "specialty": ActionAskSpecialty(),
    "examination": ActionAskExamination(),
    "city": ActionAskCity(),
    "preferred_date": ActionAskPreferredDate(),
    "patient_choice": ActionAskPatientChoice(),
    "slot_choice": ActionAskSlotChoice(),
    "confirmed": ActionAskConfirmed(),
}


def booking(token: str | None, language: str = "pl") -> FormDriver:
    return FormDriver(
        "booking_form", ValidateBookingForm(), BOOKING_ASK, language=language, token=token
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wróć", Repair("back")),
        ("Cofnij, proszę", Repair("back")),
        ("go back", Repair("back")),
        ("back to the previous question please", Repair("back")),
        ("zacznij od nowa", Repair("restart")),
        ("Od nowa!", Repair("restart")),
        ("start over", Repair("restart")),
        ("zmień miasto", Repair("change", ("city",))),
        ("nie, inne miasto", Repair("change", ("city",))),
        ("change the city", Repair("change", ("city",))),
        ("inny termin", Repair("change", ("preferred_date",))),
        ("zmień datę", Repair("change", ("preferred_date",))),
        ("change the date", Repair("change", ("preferred_date",))),
        ("zmień lekarza", Repair("change", ("specialty",))),
        ("another doctor", Repair("change", ("specialty",))),
        ("dla kogoś innego", Repair("change", ("patient_choice",))),
        ("change who it's for", Repair("change", ("patient_choice",))),
        ("zmień rodzaj wizyty", Repair("change", ("service_type",))),
        ("inny lek", Repair("change", ("prescription_choice",))),
        # An answer inside the words is a correction for the form, not a bare command.
        ("zmień miasto na Gdańsk", None),
        ("change the date to Friday", None),
        ("cofnij wizytę", None),
        ("Kraków", None),
        ("wróć do mnie jutro z terminem u kardiologa", None),
    ],
)
def test_repair_commands_are_short_typed_messages(text: str, expected: Repair | None) -> None:
    assert repair_command(text) == expected


async def test_two_misunderstandings_repeat_the_question_with_repair_buttons(
    hub: Hub, patient_token: str
) -> None:
    form = booking(patient_token)
    await form.say("chcę się umówić", "book_appointment")
    assert form.requested == "service_type"
    await form.say("bla bla", "nlu_fallback")
    assert form.slots["invalid_answers"] == 1
    assert TEXTS["hint_service_type"]["pl"] in form.text()
    assert "/human_handoff" not in form.payloads()
    await form.say("coś tam", "inform")
    assert form.requested == "service_type"
    assert form.text().startswith(TEXTS["repair_prompt"]["pl"])
    payloads = form.payloads()
    assert payloads[-2:] == ["/human_handoff", "/deny"]
    assert len(payloads) == len(SERVICE_TYPE_NAMES) + 2
    titles = [b["title"] for m in form.said for b in m.get("buttons") or []]
    assert titles[-2:] == ["Porozmawiaj z recepcją", "Przerwij"]
    # An answer that fills something ends the repair: the next question is asked plainly.
    await form.say(payloads[0], candidates={"service_type": "in_person_visit"})
    assert form.slots["invalid_answers"] == 0
    assert form.requested == "specialty"
    assert TEXTS["repair_prompt"]["pl"] not in form.text()
    await form.say("hmm", "nlu_fallback")
    await form.say("nie wiem", "inform")
    # A free-text question gets likely answers as buttons.
    assert form.requested == "specialty"
    assert '/inform{"specialty":"internal-medicine"}' in form.payloads()


async def test_go_back_asks_the_previous_question_again(hub: Hub, patient_token: str) -> None:
    slots = {
        "service_type": "in_person_visit",
        "specialty": "cardiology",
        "city": "Kraków",
        "requested_slot": "preferred_date",
    }
    history = [
        {"event": "active_loop", "name": "booking_form"},
        {"event": "slot", "name": "requested_slot", "value": "service_type"},
        user_event("wizyta", "inform", {"language": "pl"}, []),
    ]
    tracker = make_tracker(
        slots,
        "wróć",
        "deny",
        token=patient_token,
        active_loop="booking_form",
        history=history,
    )
    events, said = await run_action(ValidateBookingForm(), tracker)
    changed = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    # The specialty and city came with the first message; the last question asked was the type.
    assert changed["service_type"] is None
    assert "city" not in changed
    assert changed["requested_slot"] == "service_type"
    assert said[0]["text"] == TEXTS["repair_back"]["pl"]
    # Never when the message is an emergency: the rules answer it.
    emergency = make_tracker(
        slots, "wróć", "emergency", token=patient_token, active_loop="booking_form"
    )
    events, _ = await run_action(ValidateBookingForm(), emergency)
    assert [e["event"] for e in events] == ["action_execution_rejected"]


async def test_change_the_city_and_start_over(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token)
    await form.say(
        "wizyta u kardiologa w Krakowie",
        "book_appointment",
        candidates={
            "service_type": "wizyta w placówce",
            "specialty": "kardiolog",
            "city": "Kraków",
        },
    )
    assert form.requested == "preferred_date"
    await form.say("zmień miasto", "inform")
    assert form.slots["city"] is None
    assert form.requested == "city"
    assert form.said[0]["text"] == TEXTS["repair_change_city"]["pl"]
    assert "Przyjmujemy w " in form.text() and "we Wrocławiu" in form.text()
    await form.say('/inform{"city":"Gdańsk"}', candidates={"city": "Gdańsk"})
    assert form.requested == "preferred_date"
    await form.say("od nowa", "nlu_fallback")
    assert form.said[0]["text"] == TEXTS["repair_restart"]["pl"]
    assert form.requested == "service_type"
    assert all(form.slots.get(n) is None for n in ("service_type", "specialty", "city"))
    # A remote consultation has no city to change.
    await form.say(
        '/inform{"service_type":"telephone_consultation"}',
        candidates={"service_type": "telephone_consultation"},
    )
    await form.say("kardiolog", "inform")
    await form.say("inne miasto", "inform")
    assert form.said[0]["text"] == TEXTS["repair_not_needed"]["pl"]
    assert form.requested == "preferred_date"


async def test_a_typed_correction_is_acknowledged_first(hub: Hub, patient_token: str) -> None:
    form = booking(patient_token)
    await form.say(
        "wizyta u kardiologa w Krakowie",
        "book_appointment",
        candidates={
            "service_type": "wizyta w placówce",
            "specialty": "kardiolog",
            "city": "Kraków",
        },
    )
    await form.say("jak najszybciej")
    assert form.requested in ("patient_choice", "slot_choice"), form.text()
    await form.say("a jednak w Gdańsku")
    assert form.slots["city"] == "Gdańsk"
    assert form.said[0]["text"] == "Zmieniam na Gdańsk."
    await form.say("a właściwie do dermatologa")
    assert form.said[0]["text"] == "Zmieniam na dermatologa."
    await form.say("zmień miasto na Warszawę")
    assert form.said[0]["text"] == "Zmieniam na Warszawę."
    # The same answer again, or a button, is no correction.
    await form.say("w Warszawie")
    assert not any(str(m.get("text", "")).startswith("Zmieniam") for m in form.said)

    english = booking(patient_token, language="en")
    await english.say(
        "an in-person visit with a cardiologist in Kraków",
        "book_appointment",
        candidates={"service_type": "in person", "specialty": "cardiologist", "city": "Kraków"},
    )
    await english.say("as soon as possible")
    await english.say("actually in Gdańsk")
    assert english.said[0]["text"] == "Changed to Gdańsk."
