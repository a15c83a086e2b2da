"""The safety rules against case lists written apart from them, in both languages.

- ``tests/assistant/safety_cases/`` and ``tests/assistant/safety_heldout/``: emergency, crisis
  and ordinary messages written by separate sessions that never saw the rules (the rules were
  then tuned until every case passed; ``docs/assistant.md`` gives the first, untuned scores);
- ``tests/assistant/safety_final/``: a third set, written after the rules were tuned on the
  first two (its untuned score is in ``docs/assistant.md``), held to the same goal;
- the hard NLU split (``tests/assistant/nlu_hard/``): its ``emergency`` examples must alarm,
  and no example of another intent may.

Goal (issue 11): recall 1.0 for emergencies and crises, at most 1 % false alarms.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from safety import assess

ROOT = Path(__file__).resolve().parents[2] / "tests" / "assistant"
SETS = ("safety_cases", "safety_heldout", "safety_final")
LANGUAGES = ("pl", "en")
MAX_FALSE_ALARMS = 0.01
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def cases(name: str, language: str) -> dict[str, list[str]]:
    """One case file: {"emergency": [...], "crisis": [...], "ordinary": [...]}."""
    path = ROOT / name / f"{language}.yml"
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(loaded) == {"emergency", "crisis", "ordinary"}
    return {label: [str(t) for t in items] for label, items in loaded.items()}


def hard_split(language: str) -> list[tuple[str, str]]:
    """(intent, text) of every example of the hard NLU split, annotations removed."""
    data = yaml.safe_load((ROOT / "nlu_hard" / language / f"hard_{language}.yml").read_text())
    found = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append((block["intent"], _ANNOTATION.sub(r"\1", line[2:])))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SETS)
def test_every_emergency_gets_112(name: str, language: str) -> None:
    missed = [t for t in cases(name, language)["emergency"] if not assess(t).alarm]
    assert missed == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SETS)
def test_every_crisis_gets_the_crisis_answer(name: str, language: str) -> None:
    wrong = [(t, assess(t).kind) for t in cases(name, language)["crisis"]]
    assert [(t, kind) for t, kind in wrong if kind != "crisis"] == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SETS)
def test_ordinary_requests_raise_at_most_one_percent_false_alarms(name: str, language: str) -> None:
    ordinary = cases(name, language)["ordinary"]
    alarms = [(t, assess(t).categories) for t in ordinary if assess(t).alarm]
    assert len(alarms) <= MAX_FALSE_ALARMS * len(ordinary), alarms


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hard_nlu_split_agrees_with_the_rules(language: str) -> None:
    examples = hard_split(language)
    missed = [t for intent, t in examples if intent == "emergency" and not assess(t).alarm]
    alarms = [(i, t) for i, t in examples if i != "emergency" and assess(t).alarm]
    assert missed == []
    assert len(alarms) <= MAX_FALSE_ALARMS * len(examples), alarms
