"""Language, session start, fallback, handoff, records answers, texts in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT, Hub, free_port, make_tracker, run_action, user_event
from nlu_report import macro_f1, plain

from actions.api import HubProblem
from actions.common import (
    ActionFallback,
    ActionHandoff,
    ActionInformOutside,
    ActionSessionStart,
    ValidateSlotMappings,
    language_of,
    token_of,
)
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


async def test_fallback_asks_to_rephrase_then_offers_a_human() -> None:
    first = make_tracker({}, "asdf qwer", "nlu_fallback")
    _, said = await run_action(ActionFallback(), first)
    assert said[0]["text"] == TEXTS["fallback_rephrase"]["pl"]
    history = [user_event("xyz", "nlu_fallback", {"language": "en"}, [])]
    second = make_tracker({}, "zzz", "nlu_fallback", language="en", history=history)
    _, said = await run_action(ActionFallback(), second)
    assert said[0]["text"] == TEXTS["fallback_human"]["en"]
    assert said[0]["buttons"][0]["payload"] == "/human_handoff"


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
