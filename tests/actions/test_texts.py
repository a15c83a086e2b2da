"""What the assistant says reads naturally: Polish plurals and city cases, no assumed sex."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT

from actions.texts import (
    CITY_CASES_PL,
    NOUNS,
    PROBLEMS,
    SERVICE_TYPE_ACCUSATIVE_PL,
    SERVICE_TYPE_NAMES,
    SPECIALTY_ACCUSATIVE_PL,
    SPECIALTY_NAMES,
    TEXTS,
    changed_city,
    count_of,
    in_cities,
    in_city,
    plural_pl,
)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "wizyt"),
        (1, "wizyta"),
        (2, "wizyty"),
        (4, "wizyty"),
        (5, "wizyt"),
        (11, "wizyt"),
        (12, "wizyt"),
        (14, "wizyt"),
        (21, "wizyt"),
        (22, "wizyty"),
        (24, "wizyty"),
        (25, "wizyt"),
        (101, "wizyt"),
        (102, "wizyty"),
        (112, "wizyt"),
        (1000, "wizyt"),
    ],
)
def test_polish_plurals_follow_1_2_to_4_and_5_or_more(count: int, expected: str) -> None:
    assert plural_pl(count, "wizyta", "wizyty", "wizyt") == expected


def test_counts_read_as_phrases_in_both_languages() -> None:
    assert count_of(1, "visit", "pl") == "1 wizyta"
    assert count_of(3, "visit", "pl") == "3 wizyty"
    assert count_of(5, "visit", "pl") == "5 wizyt"
    assert count_of(1, "upcoming_visit", "pl") == "1 nadchodzącą wizytę"
    assert count_of(22, "result", "pl") == "22 wyniki badań"
    assert count_of(1, "result", "en") == "1 examination result"
    assert count_of(2, "visit", "en") == "2 visits"
    assert count_of(0, "visit", "en") == "0 visits"
    for noun, forms in NOUNS.items():
        assert len(forms["pl"]) == 3 and len(forms["en"]) == 2, noun


def test_cities_take_the_locative_with_a_neutral_fallback() -> None:
    assert in_city("Kraków", "pl") == "w Krakowie"
    assert in_city("Wrocław", "pl") == "we Wrocławiu"
    assert in_city("Łódź", "pl") == "w Łodzi"
    assert in_city("katowice", "pl") == "w Katowicach"
    assert in_city("Zakopane", "pl") == "(miasto: Zakopane)"
    assert in_city("Kraków", "en") == "in Kraków"
    assert in_cities(["Gdańsk", "Katowice", "Wrocław"], "pl") == (
        "w Gdańsku, w Katowicach i we Wrocławiu"
    )
    assert in_cities(["Gdańsk"], "pl") == "w Gdańsku"
    assert in_cities(["Gdańsk", "Zakopane"], "pl") == "w placówkach: Gdańsk, Zakopane"
    assert in_cities(["Gdańsk", "Katowice"], "en") == "in Gdańsk and Katowice"
    assert changed_city("Warszawa", "pl") == "Zmieniam na Warszawę."
    assert changed_city("Gdańsk", "pl") == "Zmieniam na Gdańsk."
    assert changed_city("Zakopane", "pl") == "Zmieniam miasto: Zakopane."
    assert changed_city("Gdańsk", "en") == "Changed to Gdańsk."


def test_every_network_city_and_code_has_its_polish_forms() -> None:
    # The clinics of portal/demo_data.py.
    for city in ("Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Katowice"):
        assert city in CITY_CASES_PL
    assert set(SPECIALTY_ACCUSATIVE_PL) == set(SPECIALTY_NAMES)
    assert set(SERVICE_TYPE_ACCUSATIVE_PL) == set(SERVICE_TYPE_NAMES)


def _domain_responses() -> dict[str, list[dict]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def polish_texts() -> dict[str, str]:
    """Every Polish text the assistant can say: texts.py tables and domain.yml responses."""
    found = {f"texts:{key}": value["pl"] for key, value in TEXTS.items()}
    found |= {f"problems:{key}": value["pl"] for key, value in PROBLEMS.items()}
    found |= {f"cases:{city}": " ".join(forms) for city, forms in CITY_CASES_PL.items()}
    for noun, forms in NOUNS.items():
        found[f"nouns:{noun}"] = " ".join(forms["pl"])
    for name, variations in _domain_responses().items():
        for variation in variations:
            if "condition" not in variation:
                found[f"domain:{name}"] = variation["text"]
    return found


# First person past ("zarezerwowałem", "przerwałam", "skończyliśmy"), the gendered second person
# ("brałeś", "mógłbyś", "gdybyś ... potrzebował") and adjectives that assume the patient's sex.
GENDERED = re.compile(
    r"\w+(?:łem|łam|łeś|łaś|łbym|łabym|łbyś|łabyś|liśmy|łyśmy|liście|łyście)\b"
    r"|\bgdybyś\b|\bjesteś\s+\w+[ya]\b"
    r"|\b(?:zalogowan|wylogowan|zadowolon)[ya]\b",
    re.IGNORECASE,
)


def test_the_gendered_pattern_catches_what_it_must() -> None:
    for wrong in (
        "Przeczytałem",
        "niczego nie zmieniłem",
        "zaczniemy tam, gdzie skończyliśmy",
        "który już brałeś",
        "Gdybyś czegoś potrzebował",
        "jesteś zalogowany",
        "musisz być zalogowana",
        "Czy mógłbyś",
        "wysłałam",
    ):
        assert GENDERED.search(wrong), wrong
    for right in ("Nic nie zostało zmienione.", "Gdyby coś było potrzebne, napisz.", "Pokażę"):
        assert not GENDERED.search(right), right


def test_no_polish_text_assumes_a_sex() -> None:
    found = {key: GENDERED.findall(text) for key, text in polish_texts().items()}
    assert not {key: words for key, words in found.items() if words}


def test_a_stopped_form_says_one_text() -> None:
    """The form's own stop (validate_continue_form) and the rule's utter_form_stopped."""
    responses = _domain_responses()["utter_form_stopped"]
    plain = next(v["text"] for v in responses if "condition" not in v)
    english = next(v["text"] for v in responses if "condition" in v)
    assert TEXTS["form_stopped"] == {"pl": plain, "en": english}
    stops = {key for key, text in polish_texts().items() if re.search(r"przerw(ał|ano)", text)}
    assert not stops
