"""Dates in free text: Duckling vs dateparser on a table of Polish and English phrases, and the
rules around them (bounds, excluded weekdays, "next Friday" asked back, symptom durations).

The reference "now" is fixed: Wednesday 2 December 2026, 09:30, Europe/Warsaw, or (rows marked
``THU``) Thursday 3 December, 09:30. A phrase counts as read correctly when the day is right,
and so is the clock time or the part of the day when the phrase names one; for the combined
parser also the last day, the clock bounds, the excluded weekdays and the two readings of an
ambiguous day. A library alone cannot express bounds, exclusions or an ambiguity, so those rows
are wrong for it by construction; a symptom's duration is right only when nothing is read.
``PYTHONPATH=. python tests/actions/test_dates.py`` prints the comparison as the Markdown table
kept in docs/assistant.md.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import NamedTuple

import pytest

from actions.booking import choose_day, keep_days, parse_when, pick_from
from actions.dates import (
    ZONE,
    DateparserParser,
    DateRequest,
    DucklingParser,
    Parsed,
    WhenParser,
    day_choice,
    describe,
    format_when,
    names_day,
)
from actions.vocabulary import clock_time, ordinal

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=ZONE)
THU = datetime(2026, 12, 3, 9, 30, tzinfo=ZONE)


class Phrase(NamedTuple):
    """A phrase and what it means relative to ``now`` (``day`` None: it names no date)."""

    language: str
    text: str
    day: date | None
    at: time | None = None
    part: str | None = None
    until: date | bool | None = False
    """The last day when the row checks it (None: open-ended); False: not checked."""
    low: time | None = None
    high: time | None = None
    excluded: tuple[int, ...] = ()
    options: tuple[date, ...] = ()
    now: datetime = NOW

    @property
    def beyond_libraries(self) -> bool:
        """Whether the row asks for what neither library can say."""
        return bool(self.low or self.high or self.excluded or self.options or self.day is None)


D = date
T = time
FRIDAYS = (D(2026, 12, 4), D(2026, 12, 11))
TABLE = [
    Phrase("pl", "jutro o 10", D(2026, 12, 3), T(10, 0)),
    Phrase("pl", "w przyszły wtorek rano", D(2026, 12, 8), part="morning"),
    Phrase("pl", "15 grudnia", D(2026, 12, 15)),
    Phrase("pl", "pojutrze o 15:30", D(2026, 12, 4), T(15, 30)),
    Phrase("pl", "dziś po południu", D(2026, 12, 2), part="afternoon"),
    Phrase("pl", "12.03.2027", D(2027, 3, 12)),
    Phrase("pl", "w czwartek", D(2026, 12, 3)),
    Phrase("pl", "jutro rano", D(2026, 12, 3), part="morning"),
    Phrase("pl", "w piątek po południu", D(2026, 12, 4), part="afternoon"),
    Phrase("pl", "3 stycznia o 9:00", D(2027, 1, 3), T(9, 0)),
    Phrase("pl", "w poniedziałek o 8", D(2026, 12, 7), T(8, 0)),
    Phrase("pl", "w przyszly wtorek", D(2026, 12, 8)),
    Phrase("pl", "nie, jednak w czwartek", D(2026, 12, 3)),
    Phrase("pl", "dzisiaj wieczorem", D(2026, 12, 2), part="evening"),
    Phrase("pl", "20 grudnia o 11", D(2026, 12, 20), T(11, 0)),
    Phrase("pl", "w przyszłym tygodniu", D(2026, 12, 7)),
    Phrase("pl", "w środę", D(2026, 12, 9)),
    Phrase("pl", "jak najszybciej", D(2026, 12, 2), until=None),
    # -- bounds, exclusions, the week rules, ambiguity, durations ---------------------------
    Phrase("pl", "w przyszły piątek po 15", D(2026, 12, 4), low=T(15), options=FRIDAYS),
    Phrase("pl", "w przyszły piątek po 15", D(2026, 12, 4), low=T(15), options=FRIDAYS, now=THU),
    Phrase("pl", "w przyszły piątek", D(2026, 12, 4), options=FRIDAYS, now=THU),
    Phrase("pl", "w piątek", D(2026, 12, 4), until=D(2026, 12, 4), now=THU),
    Phrase("pl", "w przyszły wtorek rano", D(2026, 12, 8), part="morning", now=THU),
    Phrase("pl", "we wtorek po południu", D(2026, 12, 8), part="afternoon"),
    Phrase("pl", "pojutrze przed 10", D(2026, 12, 4), until=D(2026, 12, 4), high=T(10)),
    Phrase("pl", "pojutrze przed 10", D(2026, 12, 5), high=T(10), now=THU),
    Phrase("pl", "za tydzień w czwartek", D(2026, 12, 10), until=D(2026, 12, 10)),
    Phrase("pl", "za tydzień w czwartek", D(2026, 12, 10), now=THU),
    Phrase("pl", "w czwartek za tydzień", D(2026, 12, 10), now=THU),
    Phrase("pl", "chodzi mi o piątek w przyszłym tygodniu", D(2026, 12, 11), now=THU),
    Phrase("pl", "na początku przyszłego tygodnia", D(2026, 12, 7), until=D(2026, 12, 9)),
    Phrase("pl", "pod koniec przyszłego tygodnia", D(2026, 12, 10), until=D(2026, 12, 13)),
    Phrase("pl", "w najbliższy piątek", D(2026, 12, 4)),
    Phrase("pl", "jak najszybciej", D(2026, 12, 3), until=None, now=THU),
    Phrase("pl", "jak najszybciej, ale po 16", D(2026, 12, 2), until=None, low=T(16)),
    Phrase("pl", "byle nie w poniedziałek", D(2026, 12, 2), until=None, excluded=(1,)),
    Phrase(
        "pl", "obojętnie, oprócz poniedziałku i piątku", D(2026, 12, 2), until=None, excluded=(1, 5)
    ),
    Phrase(
        "pl", "nie mogę w piątki, najlepiej po 16", D(2026, 12, 2), until=None, low=T(16),
        excluded=(5,),
    ),
    Phrase("pl", "między 10 a 12", D(2026, 12, 2), low=T(10), high=T(12)),
    Phrase("pl", "jutro po piętnastej", D(2026, 12, 3), low=T(15)),
    Phrase("pl", "w czwartek od 8 do 11", D(2026, 12, 3), low=T(8), high=T(11)),
    Phrase("pl", "a może w czwartek?", D(2026, 12, 3)),
    Phrase("pl", "od tygodnia mnie boli", None),
    Phrase("pl", "przez tydzień", None),
    Phrase("pl", "boli mnie od dwóch dni, jutro rano", D(2026, 12, 3), part="morning"),
    Phrase("en", "next Friday afternoon", D(2026, 12, 4), part="afternoon", options=FRIDAYS),
    Phrase("en", "tomorrow at 10", D(2026, 12, 3), T(10, 0)),
    Phrase("en", "December 15", D(2026, 12, 15)),
    Phrase("en", "no, Thursday instead", D(2026, 12, 3)),
    Phrase("en", "on Monday morning", D(2026, 12, 7), part="morning"),
    Phrase("en", "15th of December at 3pm", D(2026, 12, 15), T(15, 0)),
    Phrase("en", "the day after tomorrow", D(2026, 12, 4)),
    Phrase("en", "in 2 weeks", D(2026, 12, 16)),
    Phrase("en", "this evening", D(2026, 12, 2), part="evening"),
    Phrase("en", "12/03/2027", D(2027, 3, 12)),
    Phrase("en", "next week", D(2026, 12, 7)),
    Phrase("en", "tmrw morning", D(2026, 12, 3), part="morning"),
    Phrase("en", "Friday 4pm", D(2026, 12, 4), T(16, 0)),
    Phrase("en", "as soon as possible", D(2026, 12, 2), until=None),
    Phrase("en", "next Tuesday afternoon", D(2026, 12, 8), part="afternoon"),
    Phrase("en", "next Tuesday afternoon", D(2026, 12, 8), part="afternoon", now=THU),
    Phrase("en", "next Friday", D(2026, 12, 4), options=FRIDAYS, now=THU),
    Phrase("en", "Thursday next week", D(2026, 12, 10), until=D(2026, 12, 10), now=THU),
    Phrase("en", "after 3pm", D(2026, 12, 2), until=None, low=T(15)),
    Phrase("en", "tomorrow before 10am", D(2026, 12, 3), high=T(10)),
    Phrase("en", "between 9 and 11 on Friday", D(2026, 12, 4), low=T(9), high=T(11)),
    Phrase("en", "any time but Monday", D(2026, 12, 2), until=None, excluded=(1,)),
    Phrase("en", "not on Mondays or Fridays", D(2026, 12, 3), until=None, excluded=(1, 5), now=THU),
    Phrase("en", "early next week", D(2026, 12, 7), until=D(2026, 12, 9)),
    Phrase("en", "he's had a cough for a week", None),
    Phrase("en", "she has been coughing for 3 days", None),
]  # fmt: skip


def is_right(phrase: Phrase, parsed: Parsed | None) -> bool:
    """Whether a library's reading matches the table."""
    if phrase.day is None:
        return parsed is None
    if phrase.beyond_libraries or parsed is None or parsed.day != phrase.day:
        return False
    if phrase.at is not None and parsed.at != phrase.at:
        return False
    if isinstance(phrase.until, date) and (parsed.until or parsed.day) != phrase.until:
        return False
    return phrase.part is None or parsed.part_of_day == phrase.part


def combined_is_right(phrase: Phrase, found: DateRequest | None) -> bool:
    """Whether the combined parser's window matches the table, bounds and readings included."""
    if phrase.day is None or found is None:
        return phrase.day is None and found is None
    return (
        found.day == phrase.day
        and found.at == phrase.at
        and (phrase.part is None or found.part_of_day == phrase.part)
        and (phrase.until is False or found.until == phrase.until)
        and (found.time_from, found.time_to) == (phrase.low, phrase.high)
        and found.exclude_weekdays == phrase.excluded
        and found.options == phrase.options
    )


def ids(table: list[Phrase]) -> list[str]:
    return [f"{p.text}{' (Thu)' if p.now == THU else ''}" for p in table]


@pytest.fixture(scope="module")
def duckling() -> DucklingParser:
    return DucklingParser()


@pytest.fixture(scope="module")
def dateparser_() -> DateparserParser:
    return DateparserParser()


@pytest.fixture(scope="module")
def parser() -> WhenParser:
    return WhenParser()


@pytest.mark.parametrize("phrase", TABLE, ids=ids(TABLE))
def test_the_combined_parser_reads_every_phrase(parser: WhenParser, phrase: Phrase) -> None:
    found = parser.parse(phrase.text, phrase.language, phrase.now)
    assert combined_is_right(phrase, found), found


def scores(duckling: DucklingParser, dateparser_: DateparserParser) -> dict[str, int]:
    """How many phrases each library alone reads right."""
    result = {"duckling": 0, "dateparser": 0}
    for phrase in TABLE:
        result["duckling"] += is_right(
            phrase, duckling.parse(phrase.text, phrase.language, phrase.now)
        )
        result["dateparser"] += is_right(
            phrase, dateparser_.parse(phrase.text, phrase.language, phrase.now)
        )
    return result


def test_duckling_wins_and_dateparser_covers_numeric_dates(
    duckling: DucklingParser, dateparser_: DateparserParser
) -> None:
    result = scores(duckling, dateparser_)
    # The measured numbers are in docs/assistant.md.
    assert result["duckling"] > result["dateparser"]
    assert result["duckling"] >= 30
    numeric = [p for p in TABLE if p.text in ("12.03.2027", "12/03/2027")]
    for phrase in numeric:
        assert not is_right(phrase, duckling.parse(phrase.text, phrase.language, NOW))
        assert is_right(phrase, dateparser_.parse(phrase.text, phrase.language, NOW))


def test_slots_are_iso_strings(parser: WhenParser) -> None:
    found = parser.parse("jutro o 10", "pl", NOW)
    assert found is not None
    slots = found.as_slots()
    assert slots == {
        "preferred_date": "2026-12-03T10:00:00+01:00",
        "date_end": "2026-12-03",
        "time_of_day": None,
        "time_from": None,
        "time_to": None,
        "exclude_weekdays": None,
        "date_options": None,
    }
    assert datetime.fromisoformat(slots["preferred_date"]).hour == 10
    week = parser.parse("next week", "en", NOW)
    assert week is not None
    assert week.as_slots()["date_end"] == "2026-12-13"


def test_bounds_and_exclusions_are_slots_for_the_search(parser: WhenParser) -> None:
    found = parser.parse("pojutrze między 10 a 12, byle nie w sobotę", "pl", NOW)
    assert found is not None
    assert found.as_slots() == {
        "preferred_date": "2026-12-04",
        "date_end": "2026-12-04",
        "time_of_day": None,
        "time_from": "10:00",
        "time_to": "12:00",
        "exclude_weekdays": "6",
        "date_options": None,
    }


def test_an_ambiguous_next_friday_holds_no_date_until_the_patient_chooses(
    parser: WhenParser,
) -> None:
    found = parser.parse("w przyszły piątek po 15", "pl", THU)
    assert found is not None
    assert found.ambiguous
    slots = found.as_slots()
    # No preferred_date: the form asks before it searches.
    assert slots["preferred_date"] is None
    assert slots["date_options"] == ["2026-12-04", "2026-12-11"]
    assert slots["time_from"] == "15:00"
    assert day_choice(list(found.options), "pl") == "4 czy 11 grudnia"
    assert day_choice(list(found.options), "en") == "4 or 11 December"
    assert day_choice([D(2026, 12, 31), D(2027, 1, 7)], "pl") == "31 grudnia czy 7 stycznia"


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # Said on a Friday: the coming Friday is a week ahead, in next week; one reading.
        (datetime(2026, 12, 4, 9, 0, tzinfo=ZONE), "w przyszły piątek", D(2026, 12, 11)),
        # Said on a Saturday: the coming Tuesday is in next week already.
        (datetime(2026, 12, 5, 9, 0, tzinfo=ZONE), "next Tuesday", D(2026, 12, 8)),
        # Said on a Sunday: the coming Friday is next week's.
        (datetime(2026, 12, 6, 9, 0, tzinfo=ZONE), "w następny piątek", D(2026, 12, 11)),
    ],
)
def test_next_weekday_is_asked_back_only_when_the_readings_differ(
    parser: WhenParser, now: datetime, text: str, expected: date
) -> None:
    found = parser.parse(text, "pl", now)
    assert found is not None
    assert (found.day, found.options) == (expected, ())


@pytest.mark.parametrize(
    "text",
    [
        "ma kaszel od tygodnia",
        "gorączka od 3 dni",
        "boli mnie już drugi tydzień",
        "two days ago it started",
        "for the past few days",
        "since Monday",
    ],
)
def test_a_symptoms_duration_is_no_date_wish(parser: WhenParser, text: str) -> None:
    assert parser.parse(text, "pl", NOW) is None


def test_words_that_are_not_dates_stay_none(parser: WhenParser) -> None:
    for text in ("Kraków", "kardiolog", "dla Zosi", "wizyta stacjonarna", "Warsaw"):
        assert parser.parse(text, "pl", NOW) is None, text


def test_a_past_day_and_month_means_next_year(parser: WhenParser) -> None:
    found = parser.parse("1 grudnia", "pl", NOW)
    assert found is not None
    assert found.day == date(2027, 12, 1)


def test_a_time_alone_names_no_day(parser: WhenParser) -> None:
    for text in ("o 16", "po 15", "rano", "before 10am", "ale nie w poniedziałek"):
        found = parser.parse(text, "pl", NOW)
        assert found is not None and not found.day_named, text
    for text in ("jutro o 16", "w czwartek", "15 grudnia", "jak najszybciej"):
        found = parser.parse(text, "pl", NOW)
        assert found is not None and found.day_named, text


def test_windows_are_described_in_both_languages() -> None:
    slots = {"preferred_date": "2026-12-08", "date_end": "2026-12-08", "time_of_day": "morning"}
    assert describe(slots, "pl") == "wt. 8 grudnia, rano"
    assert describe(slots, "en") == "Tue 8 December, in the morning"
    assert format_when("2026-12-03T10:00:00+01:00", "pl") == "czw. 3 grudnia, 10:00"
    bounded = {"preferred_date": "2026-12-04", "date_end": "2026-12-04", "time_from": "15:00"}
    assert describe(bounded, "pl") == "pt. 4 grudnia, od 15:00"
    assert describe({**bounded, "time_to": "17:00"}, "en") == "Fri 4 December, 15:00–17:00"
    open_ended = {"preferred_date": "2026-12-02", "date_end": None, "exclude_weekdays": "1,5"}
    assert describe(open_ended, "pl") == "od śr. 2 grudnia, bez poniedziałków i piątków"
    assert describe(open_ended, "en") == "from Wed 2 December, not on Mondays or Fridays"


# -- picking from a list: ordinals, clock times, and what is a new date wish instead ------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("4", 4),
        ("4.", 4),
        ("nr 4", 4),
        ("numer 2", 2),
        ("czwarty", 4),
        ("piąty", 5),
        ("poproszę piątą", 5),
        ("the fourth", 4),
        ("the fourth one", 4),
        ("drugi", 2),
        ("the first one", 1),
        ("ostatni", -1),
        ("czwartek", None),
        ("a może w czwartek?", None),
        ("piątek", None),
        ("chodzi mi o piątek w przyszłym tygodniu", None),
        ("Thursday", None),
        ("po drugiej", None),
        ("przed piątą", None),
        ("he's had a cough for a week", None),
    ],
)
def test_ordinals_are_never_weekdays(text: str, position: int | None) -> None:
    assert ordinal(text) == position


def offer() -> list[dict[str, str]]:
    """Five offered slots: Thursday 3 December 10:00, 10:30, 12:00; Friday 4 at 10:00, 13:15."""
    starts = ["2026-12-03T10:00", "2026-12-03T10:30", "2026-12-03T12:00"]
    starts += ["2026-12-04T10:00", "2026-12-04T13:15"]
    return [{"id": f"s{n}", "start": f"{start}:00+01:00"} for n, start in enumerate(starts, 1)]


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("4", "s4"),
        ("4.", "s4"),
        ("nr 4", "s4"),
        ("czwarty", "s4"),
        ("piąty", "s5"),
        ("the fourth", "s4"),
        ("drugi", "s2"),
        ("ostatni", "s5"),
        ("10:30", "s2"),
        ("ten o 10:30", "s2"),
        ("13:15", "s5"),
        ("w piątek o 10", "s4"),
        ("w czwartek o 10:00", "s1"),
        ("Friday at 1:15 pm", "s5"),
        # A day alone, a day or a time nobody offered, bounds: a new date wish.
        ("a może w czwartek?", None),
        ("chodzi mi o piątek w przyszłym tygodniu", None),
        ("czwartek", None),
        ("w piątek", None),
        ("10:00", None),
        ("o 16", None),
        ("w czwartek o 16", None),
        ("po 15", None),
        ("w przyszły piątek", None),
        ("he's had a cough for a week", None),
        ("od tygodnia mnie boli", None),
        ("drugiego grudnia", None),
        ("9", None),
    ],
)
def test_pick_from_takes_positions_and_offered_times_only(text: str, chosen: str | None) -> None:
    language = "en" if any(word in text for word in ("Friday", "fourth", "cough")) else "pl"
    assert pick_from(offer(), text, language=language, now=NOW) == chosen


def test_pick_from_a_list_without_times() -> None:
    items = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert pick_from(items, "drugi") == "b"
    assert pick_from(items, "3") == "c"
    assert pick_from(items, "czwartek") is None
    assert pick_from(items, "4") is None
    assert pick_from([], "1") is None


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("11 grudnia", "2026-12-11"),
        ("4 grudnia", "2026-12-04"),
        ("11", "2026-12-11"),
        ("4.", "2026-12-04"),
        ("ten w przyszłym tygodniu", "2026-12-11"),
        ("w tym tygodniu", "2026-12-04"),
        ("pierwszy", "2026-12-04"),
        ("the later one", "2026-12-11"),
        ("next week's", "2026-12-11"),
        ("this week", "2026-12-04"),
        ("nie wiem", None),
    ],
)
def test_the_ambiguous_day_is_chosen_by_a_typed_reply(text: str, chosen: str | None) -> None:
    # Asked on Wednesday 2 December (NOW): "w przyszły piątek" is the 4th or the 11th. The
    # clock is fixed, or the test would break once those days have passed.
    assert choose_day(text, ["2026-12-04", "2026-12-11"], "pl", NOW) == chosen


def test_a_time_alone_keeps_the_days_asked_before(parser: WhenParser) -> None:
    before = {"preferred_date": "2026-12-08", "date_end": "2026-12-10", "time_of_day": "morning"}
    later = parser.parse("a może po 15?", "pl", NOW)
    assert later is not None
    assert keep_days(before, later) == {
        "preferred_date": "2026-12-08",
        "date_end": "2026-12-10",
        "date_options": None,
        "time_of_day": None,
        "time_from": "15:00",
        "time_to": None,
        "exclude_weekdays": None,
    }
    avoid = parser.parse("ale nie w środę", "pl", NOW)
    assert avoid is not None
    assert keep_days(before, avoid) == {
        "preferred_date": "2026-12-08",
        "date_end": "2026-12-10",
        "date_options": None,
        "exclude_weekdays": "3",
    }


def test_a_bare_number_is_no_date() -> None:
    assert parse_when("4", "pl", NOW) is None
    assert clock_time("ten o 10:30") == "10:30"
    assert names_day("czwartek") and not names_day("czwarty")


def markdown_table() -> str:
    """The comparison as Markdown, for docs/assistant.md."""
    duckling, dateparser_, combined = DucklingParser(), DateparserParser(), WhenParser()
    lines = [
        "| lang | said on | phrase | expected | Duckling | dateparser 1.2.0 | combined |",
        "|---|---|---|---|---|---|---|",
    ]
    totals = [0, 0, 0]
    for phrase in TABLE:
        cells = []
        for index, parsed in enumerate(
            (
                duckling.parse(phrase.text, phrase.language, phrase.now),
                dateparser_.parse(phrase.text, phrase.language, phrase.now),
            )
        ):
            right = is_right(phrase, parsed)
            totals[index] += right
            cells.append(("✓ " if right else "✗ ") + _show(parsed))
        found = combined.parse(phrase.text, phrase.language, phrase.now)
        right = combined_is_right(phrase, found)
        totals[2] += right
        cells.append(("✓ " if right else "✗ ") + (found.source if found else "none"))
        said = "Thu" if phrase.now == THU else "Wed"
        lines.append(
            f"| {phrase.language} | {said} | {phrase.text} | {_expected(phrase)} | "
            + " | ".join(cells)
            + " |"
        )
    n = len(TABLE)
    lines.append(
        f"| | | **total** | {n} | **{totals[0]}/{n}** | **{totals[1]}/{n}** | **{totals[2]}/{n}** |"
    )
    return "\n".join(lines)


def _expected(phrase: Phrase) -> str:
    if phrase.day is None:
        return "no date (a duration)"
    if phrase.options:
        text = "ask: " + " or ".join(d.isoformat() for d in phrase.options)
    else:
        text = phrase.day.isoformat()
    if phrase.until is None:
        text += " onwards"
    elif phrase.until and phrase.until != phrase.day:
        text += f" to {phrase.until.isoformat()}"
    if phrase.at:
        text += f" {phrase.at.strftime('%H:%M')}"
    if phrase.part:
        text += f" {phrase.part}"
    if phrase.low:
        text += f" from {phrase.low.strftime('%H:%M')}"
    if phrase.high:
        text += f" before {phrase.high.strftime('%H:%M')}"
    if phrase.excluded:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        text += " not " + "/".join(names[d - 1] for d in phrase.excluded)
    return text


def _show(parsed: Parsed | None) -> str:
    if parsed is None:
        return "none"
    text = parsed.day.isoformat()
    if parsed.at:
        text += f" {parsed.at.strftime('%H:%M')}"
    if parsed.part_of_day:
        text += f" {parsed.part_of_day}"
    return text


if __name__ == "__main__":
    print(markdown_table())
