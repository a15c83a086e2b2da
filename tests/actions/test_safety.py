"""``action_safety``: the answer for what the pipeline's safety gate found (or, without its
finding, for what the same rules find in the text)."""

from __future__ import annotations

from conftest import make_tracker, run_action

from actions.safety import ActionSafety
from safety.texts import CRISIS, EMERGENCY


async def test_a_crisis_gets_the_crisis_lines_and_a_person() -> None:
    tracker = make_tracker({}, "I want to end my life", "emergency", language="en")
    tracker.latest_message["safety"] = {
        "kind": "crisis",
        "categories": ["suicide"],
        "source": "rules",
    }
    events, messages = await run_action(ActionSafety(), tracker)
    assert events == []
    text, marker = messages
    assert text["text"] == CRISIS["en"]
    assert [b["payload"] for b in text["buttons"]] == ["/human_handoff"]
    assert marker["custom"] == {
        "safety": {"kind": "crisis", "categories": ["suicide"], "source": "rules"}
    }


async def test_without_the_gates_finding_the_rules_judge_the_text_again() -> None:
    tracker = make_tracker({}, "mój mąż nie oddycha", "emergency")
    _, messages = await run_action(ActionSafety(), tracker)
    assert messages[0]["text"] == EMERGENCY["pl"]
    assert not messages[0]["buttons"]
    assert messages[1]["custom"]["safety"]["kind"] == "emergency"
    assert messages[1]["custom"]["safety"]["source"] == "action"


async def test_the_models_own_emergency_gets_112() -> None:
    tracker = make_tracker({}, "coś bardzo złego dzieje się z tatą", "emergency")
    tracker.latest_message["safety"] = {"kind": "emergency", "categories": [], "source": "model"}
    _, messages = await run_action(ActionSafety(), tracker)
    assert messages[0]["text"] == EMERGENCY["pl"]
    assert messages[1]["custom"]["safety"]["source"] == "model"
