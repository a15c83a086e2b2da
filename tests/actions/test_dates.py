"""Dates in free text: Duckling vs dateparser on a table of Polish and English phrases.

The reference "now" is fixed: Wednesday 2 December 2026, 09:30, Europe/Warsaw. A phrase counts
as read correctly when the day is right, and so is the clock time or the part of the day when
the phrase names one. ``PYTHONPATH=. python tests/actions/test_dates.py`` prints the comparison
as the Markdown table kept in docs/assistant.md.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import NamedTuple

import pytest

from actions.dates import (
    ZONE,
    DateparserParser,
    DucklingParser,
    Parsed,
    WhenParser,
    describe,
    format_when,
)

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=ZONE)


class Phrase(NamedTuple):
    """A phrase and what it means relative to NOW."""

    language: str
    text: str
    day: date
    at: time | None = None
    part: str | None = None


D = date
TABLE = [
    Phrase("pl", "jutro o 10", D(2026, 12, 3), time(10, 0)),
    Phrase("pl", "w przyszły wtorek rano", D(2026, 12, 8), part="morning"),
    Phrase("pl", "15 grudnia", D(2026, 12, 15)),
    Phrase("pl", "pojutrze o 15:30", D(2026, 12, 4), time(15, 30)),
    Phrase("pl", "dziś po południu", D(2026, 12, 2), part="afternoon"),
    Phrase("pl", "12.03.2027", D(2027, 3, 12)),
    Phrase("pl", "w czwartek", D(2026, 12, 3)),
    Phrase("pl", "jutro rano", D(2026, 12, 3), part="morning"),
    Phrase("pl", "w piątek po południu", D(2026, 12, 4), part="afternoon"),
    Phrase("pl", "3 stycznia o 9:00", D(2027, 1, 3), time(9, 0)),
    Phrase("pl", "w poniedziałek o 8", D(2026, 12, 7), time(8, 0)),
    Phrase("pl", "w przyszly wtorek", D(2026, 12, 8)),
    Phrase("pl", "nie, jednak w czwartek", D(2026, 12, 3)),
    Phrase("pl", "dzisiaj wieczorem", D(2026, 12, 2), part="evening"),
    Phrase("pl", "20 grudnia o 11", D(2026, 12, 20), time(11, 0)),
    Phrase("pl", "w przyszłym tygodniu", D(2026, 12, 7)),
    Phrase("pl", "w środę", D(2026, 12, 9)),
    Phrase("pl", "jak najszybciej", D(2026, 12, 2)),
    Phrase("en", "next Friday afternoon", D(2026, 12, 11), part="afternoon"),
    Phrase("en", "tomorrow at 10", D(2026, 12, 3), time(10, 0)),
    Phrase("en", "December 15", D(2026, 12, 15)),
    Phrase("en", "no, Thursday instead", D(2026, 12, 3)),
    Phrase("en", "on Monday morning", D(2026, 12, 7), part="morning"),
    Phrase("en", "15th of December at 3pm", D(2026, 12, 15), time(15, 0)),
    Phrase("en", "the day after tomorrow", D(2026, 12, 4)),
    Phrase("en", "in 2 weeks", D(2026, 12, 16)),
    Phrase("en", "this evening", D(2026, 12, 2), part="evening"),
    Phrase("en", "12/03/2027", D(2027, 3, 12)),
    Phrase("en", "next week", D(2026, 12, 7)),
    Phrase("en", "tmrw morning", D(2026, 12, 3), part="morning"),
    Phrase("en", "Friday 4pm", D(2026, 12, 4), time(16, 0)),
    Phrase("en", "as soon as possible", D(2026, 12, 2)),
]


def is_right(phrase: Phrase, parsed: Parsed | None) -> bool:
    """Whether a library's reading matches the table."""
    if parsed is None or parsed.day != phrase.day:
        return False
    if phrase.at is not None and parsed.at != phrase.at:
        return False
    return phrase.part is None or parsed.part_of_day == phrase.part


@pytest.fixture(scope="module")
def duckling() -> DucklingParser:
    return DucklingParser()


@pytest.fixture(scope="module")
def dateparser_() -> DateparserParser:
    return DateparserParser()


@pytest.mark.parametrize("phrase", TABLE, ids=[p.text for p in TABLE])
def test_the_combined_parser_reads_every_phrase(phrase: Phrase) -> None:
    found = WhenParser().parse(phrase.text, phrase.language, NOW)
    assert found is not None
    assert found.day == phrase.day
    assert found.at == phrase.at
    if phrase.part is not None:
        assert found.part_of_day == phrase.part


def scores(duckling: DucklingParser, dateparser_: DateparserParser) -> dict[str, int]:
    """How many phrases each library alone reads right."""
    result = {"duckling": 0, "dateparser": 0}
    for phrase in TABLE:
        result["duckling"] += is_right(phrase, duckling.parse(phrase.text, phrase.language, NOW))
        result["dateparser"] += is_right(
            phrase, dateparser_.parse(phrase.text, phrase.language, NOW)
        )
    return result


def test_duckling_wins_and_dateparser_covers_numeric_dates(
    duckling: DucklingParser, dateparser_: DateparserParser
) -> None:
    result = scores(duckling, dateparser_)
    # The measured numbers (docs/assistant.md): Duckling 27, dateparser 15 of 32.
    assert result["duckling"] > result["dateparser"]
    assert result["duckling"] >= 25
    numeric = [p for p in TABLE if p.text in ("12.03.2027", "12/03/2027")]
    for phrase in numeric:
        assert not is_right(phrase, duckling.parse(phrase.text, phrase.language, NOW))
        assert is_right(phrase, dateparser_.parse(phrase.text, phrase.language, NOW))


def test_slots_are_iso_strings() -> None:
    found = WhenParser().parse("jutro o 10", "pl", NOW)
    assert found is not None
    slots = found.as_slots()
    assert slots == {
        "preferred_date": "2026-12-03T10:00:00+01:00",
        "date_end": "2026-12-03",
        "time_of_day": None,
    }
    assert datetime.fromisoformat(slots["preferred_date"]).hour == 10
    week = WhenParser().parse("next week", "en", NOW)
    assert week is not None
    assert week.as_slots()["date_end"] == "2026-12-13"


def test_words_that_are_not_dates_stay_none() -> None:
    parser = WhenParser()
    for text in ("Kraków", "kardiolog", "dla Zosi", "wizyta stacjonarna", "Warsaw"):
        assert parser.parse(text, "pl", NOW) is None, text


def test_a_past_day_and_month_means_next_year() -> None:
    found = WhenParser().parse("1 grudnia", "pl", NOW)
    assert found is not None
    assert found.day == date(2027, 12, 1)


def test_windows_are_described_in_both_languages() -> None:
    slots = {"preferred_date": "2026-12-08", "date_end": "2026-12-08", "time_of_day": "morning"}
    assert describe(slots, "pl") == "wt. 8 grudnia, rano"
    assert describe(slots, "en") == "Tue 8 December, in the morning"
    assert format_when("2026-12-03T10:00:00+01:00", "pl") == "czw. 3 grudnia, 10:00"


def markdown_table() -> str:
    """The comparison as Markdown, for docs/assistant.md."""
    duckling, dateparser_, combined = DucklingParser(), DateparserParser(), WhenParser()
    lines = [
        "| lang | phrase | expected | Duckling | dateparser 1.2.0 | combined |",
        "|---|---|---|---|---|---|",
    ]
    totals = [0, 0, 0]
    for phrase in TABLE:
        expected = phrase.day.isoformat()
        if phrase.at:
            expected += f" {phrase.at.strftime('%H:%M')}"
        if phrase.part:
            expected += f" {phrase.part}"
        cells = []
        for index, parsed in enumerate(
            (
                duckling.parse(phrase.text, phrase.language, NOW),
                dateparser_.parse(phrase.text, phrase.language, NOW),
            )
        ):
            right = is_right(phrase, parsed)
            totals[index] += right
            cells.append(("✓ " if right else "✗ ") + _show(parsed))
        found = combined.parse(phrase.text, phrase.language, NOW)
        right = found is not None and is_right(
            phrase, Parsed(found.day, found.at, found.until, found.part_of_day)
        )
        totals[2] += right
        cells.append(("✓ " if right else "✗ ") + (found.source if found else "-"))
        lines.append(f"| {phrase.language} | {phrase.text} | {expected} | " + " | ".join(cells))
    n = len(TABLE)
    lines.append(
        f"| | **total** | {n} | **{totals[0]}/{n}** | **{totals[1]}/{n}** | **{totals[2]}/{n}** |"
    )
    return "\n".join(lines)


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
