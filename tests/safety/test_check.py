"""The deterministic safety rules on messages as patients write them (``safety/check.py``).

The phrases of the outside check that found the gaps (issue 11) are here verbatim; the larger
case lists written apart from the rules are in ``tests/safety/test_cases.py``.
"""

from __future__ import annotations

import re

import pytest

from safety import assess, fold, normalise
from safety.texts import CRISIS, EMERGENCY, answer_text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("przedawkowałam leki", "poisoning"),
        ("there's been a car accident, lots of blood", "accident"),
        ("ból w klatce piersiowej od pół godziny", "cardiac"),
        ("POMOCYYY dziecko sie dusi", "breathing"),
        ("mama nie oddycha!!!", "breathing"),
        ("I cant breath", "breathing"),
        ("tata stracił przytomność", "unconscious"),
        ("he collapsed and isn't responding", "unconscious"),
        ("opadł mu kącik ust i bełkocze", "stroke"),
        ("her face is drooping and her speech is slurred", "stroke"),
        ("krwawi i nie przestaje, leje się krew", "bleeding"),
        ("my son swallowed a battery", "poisoning"),
        ("spuchło mi gardło po orzeszkach", "anaphylaxis"),
        ("he is having a seizure", "seizure"),
        ("synek ma drgawki", "seizure"),
        ("potrącił ją samochód", "accident"),
        ("wezwijcie karetkę", "call"),
    ],
)
def test_medical_emergencies(text: str, category: str) -> None:
    found = assess(text)
    assert found.kind == "emergency", text
    assert category in found.categories
    assert found.medical


@pytest.mark.parametrize(
    "text",
    [
        "nie chcę już żyć, wszystko mnie przerasta",
        "I want to end my life",
        "nie widze sensu zeby dalej zyc",
        "everyone would be better off without me",
        "myślę o samobójstwie",
        "tnę się od kilku dni",
        "I've been cutting myself again",
        "chce sie zabic",
        "i wanna die",
        "mam dość życia",
    ],
)
def test_thoughts_of_suicide_or_self_harm_are_a_crisis(text: str) -> None:
    assert assess(text).kind == "crisis", text


@pytest.mark.parametrize(
    "text",
    [
        "I'm running out of Metformax, can I get a refill?",
        "pieprzyk mi się zmienił",
        "I had blood taken last week, is there anything from the lab yet?",
        "you're not helping, transfer me to someone",
        "w przyszły piątek po 15",
        "miałem zawał 3 lata temu, chcę kontrolę u kardiologa",
        "family history of stroke, I'd like a check-up",
        "nie mam myśli samobójczych, chcę przełożyć wizytę u psychiatry",
        "umrę z nudów w tej kolejce",
        "this app is killing me",
        "I can't go on Thursday",
        "refill my seizure meds please",
        "I'm lost, where are my referrals?",
        "this hour doesn't suit me",
        "blood test results please",
        "chcę oddać krew, gdzie jest punkt krwiodawstwa",
        "he's had a cough for a week",
        "umów mnie do psychiatry",
    ],
)
def test_words_that_only_look_alarming_do_not_trigger(text: str) -> None:
    found = assess(text)
    assert found.kind is None, (text, found)


def test_a_now_word_overrides_the_past_context() -> None:
    assert assess("zawał 3 lata temu, a teraz znowu ból w klatce").kind == "emergency"
    assert assess("miałem zawał 3 lata temu").kind is None


def test_overdose_with_suicidal_words_gets_both_answers() -> None:
    found = assess("wzięłam wszystkie tabletki bo nie chcę już żyć")
    assert found.kind == "crisis"
    assert found.medical
    text = answer_text(found, "pl")
    assert text.startswith(EMERGENCY["pl"])
    assert "116 123" in text


def test_normalise_folds_case_diacritics_repeats_and_spelling() -> None:
    assert fold("Łódź ŻÓŁW") == "lodz zolw"
    assert normalise("  POMOCYYY!!! Nie mogę oddychać…") == " pomocy nie moge oddychac "
    assert normalise("I cant breath") == " i can't breathe "
    assert normalise("samobujstwo") == " samobojstwo "


def test_the_answers_name_the_numbers_in_both_languages() -> None:
    for language in ("pl", "en"):
        assert "112" in EMERGENCY[language]
        for number in ("112", "116 123", "116 111", "800 70 2222"):
            assert number in CRISIS[language]
    assert answer_text(assess("I want to die"), "en") == CRISIS["en"]
    assert answer_text(assess("chest pain"), "xx") == EMERGENCY["pl"]


def test_polish_answers_do_not_assume_the_patients_sex() -> None:
    gendered = re.compile(r"\b\w+(łeś|łaś|łbyś|łabyś|ny sam|na sama)\b|\bsam\b|\bsama\b|\bsamemu\b")
    for text in (EMERGENCY["pl"], CRISIS["pl"]):
        assert not gendered.search(text), gendered.search(text)
