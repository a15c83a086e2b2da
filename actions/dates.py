"""Dates and times in free text ("jutro o 10", "next Friday afternoon") -> a search window.

Two parsers were compared on the phrase table in ``tests/actions/test_dates.py`` (the numbers are
in ``docs/assistant.md``): Duckling (``pyduckling-native-phihos``, in process, no server) wins on
relative dates, weekdays and "o 10"-style hours in Polish and English; ``dateparser`` 1.2.0 wins
on numeric day-first dates ("12.03.2027"), which Duckling reads as a clock time or as
month-first. So :func:`parse_when`:

1. normalises the text (NFC, lower case) and takes the part of the day from keywords ("rano",
   "po południu", "wieczorem", "morning", ...): Duckling's Polish rules get "po południu" wrong;
2. reads a numeric date with dateparser (day first), anything else with Duckling in the
   patient's language, then the other language, and falls back to dateparser when Duckling
   finds nothing;
3. returns a :class:`DateRequest` whose :meth:`DateRequest.as_slots` are ISO strings.

Both libraries are imported on first use: Duckling starts a Haskell runtime and reads the time
zone database, which must not happen at import time.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ZONE_NAME = "Europe/Warsaw"
ZONE = ZoneInfo(ZONE_NAME)

MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
PARTS_OF_DAY = (MORNING, AFTERNOON, EVENING)

# Keywords are matched on text without diacritics, so "południu" and "poludniu" both work.
_PART_KEYWORDS: list[tuple[str, str]] = [
    (AFTERNOON, r"po\s*poludniu|popoludni\w*|po\s+obiedzie|afternoon|after\s+lunch"),
    (MORNING, r"przed\s*poludniem|do\s+poludnia|z\s+rana|rano|rankiem|rana|morning|before\s+noon"),
    (EVENING, r"wieczor\w*|evening|tonight|after\s+work|po\s+pracy"),
]
_ASAP = re.compile(
    r"jak\s+najszybciej|najszybciej|najblizsz\w*|obojetnie|wszystko\s+jedno|dowolny|"
    r"kiedykolwiek|asap|as\s+soon\s+as|earliest|soonest|any\s*time|whenever|first\s+free|"
    r"next\s+available|doesn'?t\s+matter|no\s+preference"
)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b")
_MONTH_WORD = re.compile(
    r"stycz|lut|marc|kwie|maj|czerw|lip|sierp|wrze|pazdziern|listopad|grud|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
)
_YEAR = re.compile(r"\b20\d\d\b")
# Without one of these, a phrase names no date: dateparser would read "się" as August ("sie")
# and "nie" as Sunday ("niedz."), so it is not even asked.
_DATE_EVIDENCE = re.compile(
    r"\d|stycz|luty|lutego|marz|marc|kwie|maj|czerw|lipc|lipiec|sierp|wrzes|pazdzier|listopad|"
    r"grudz|grudn|january|february|march|april|\bmay\b|june|july|august|september|october|"
    r"november|december|poniedz|wtor|srod|czwart|piat|sobot|niedziel|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|jutr|dzis|dzisiaj|pojutrz|tomorrow|today|tonight|week|"
    r"tydz|tygod|month|miesi"
)
# A clock time must be asked for: Duckling gives "za 3 dni" (in 3 days) the current hour.
_TIME_EVIDENCE = re.compile(
    r"\b(?:o|na|at|by|around|about|godz\.?|godzinie|okolo|ok\.?)\s*\d{1,2}\b|"
    r"\d{1,2}[:.]\d{2}|\d\s*(?:am|pm)\b|\b(?:noon|poludni[eu])\b"
)
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})\.?\s*$")
# Duckling matches this short are abbreviations in running text ("nie", "pt", "wt"), not dates.
_MIN_DUCKLING_SPAN = 4


@dataclass(frozen=True)
class DateRequest:
    """A preferred time window for a slot search, in clinic-local dates.

    ``day`` is the first day to search and ``until`` the last (``None``: open-ended, "as soon as
    possible"); ``at`` is an explicit clock time; ``part_of_day`` is morning/afternoon/evening.
    ``source`` names the parser that found the date ("duckling", "dateparser", "keywords").
    """

    day: date
    until: date | None
    at: time | None = None
    part_of_day: str | None = None
    source: str = "duckling"

    def as_slots(self) -> dict[str, Any]:
        """The slots of the booking form: ISO date or datetime, ISO end date, part of the day."""
        if self.at is not None:
            preferred = datetime.combine(self.day, self.at, ZONE).isoformat()
        else:
            preferred = self.day.isoformat()
        return {
            "preferred_date": preferred,
            "date_end": self.until.isoformat() if self.until else None,
            "time_of_day": self.part_of_day,
        }


def fold(text: str) -> str:
    """Lower case without diacritics ("Łódź" -> "lodz"): for matching, never for display."""
    text = unicodedata.normalize("NFC", text).lower().replace("ł", "l")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def part_of_day_in(text: str) -> tuple[str | None, str]:
    """The part of the day named in ``text`` and the text without those words.

    Matching runs on the folded text; the words are cut from the patient's own spelling (NFC,
    lower case), which has the same length unless it holds unusual characters.
    """
    own = unicodedata.normalize("NFC", text).lower()
    folded = fold(text)
    if len(own) != len(folded):
        own = folded
    for part, pattern in _PART_KEYWORDS:
        match = re.search(rf"\b(?:{pattern})\b", folded)
        if match:
            return part, (own[: match.start()] + " " + own[match.end() :]).strip()
    return None, own


def part_of_hour(hour: int) -> str:
    """The hub's part of the day for a clock hour (catalogue.TIME_OF_DAY_MINUTES)."""
    if hour < 12:
        return MORNING
    if hour < 17:
        return AFTERNOON
    return EVENING


@dataclass(frozen=True)
class Parsed:
    """What one library made of a phrase: a day, maybe an hour and a part of the day."""

    day: date
    at: time | None = None
    until: date | None = None
    part_of_day: str | None = None


class DucklingParser:
    """Duckling in process; the time zone database is loaded on first use."""

    _lock = threading.Lock()

    def __init__(self, zoneinfo_dir: str | None = None) -> None:
        self._zoneinfo_dir = zoneinfo_dir
        self._state: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._state is None:
                import duckling

                directory = self._zoneinfo_dir or _zoneinfo_dir()
                self._state = (duckling, duckling.load_time_zones(directory))
            return self._state

    def parse(self, text: str, language: str, now: datetime) -> Parsed | None:
        """The first time expression Duckling finds in ``text``, or ``None``."""
        duckling, zones = self._load()
        reference = duckling.parse_ref_time(zones, ZONE_NAME, int(now.timestamp()))
        locale = duckling.default_locale_lang(duckling.parse_lang(language.upper()))
        context = duckling.Context(reference, locale)
        found = duckling.parse(text, context, duckling.parse_dimensions(["time"]), False)
        for entity in found:
            body = text[int(entity.get("start", 0)) : int(entity.get("end", 0))]
            if len(body.strip()) < _MIN_DUCKLING_SPAN and not any(c.isdigit() for c in body):
                continue
            parsed = _from_duckling(entity.get("value") or {})
            if parsed is not None:
                return parsed
        return None


def _zoneinfo_dir() -> str:
    for candidate in ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo"):
        if os.path.isdir(candidate):
            return candidate
    import tzdata  # the zoneinfo files shipped as a package when the system has none

    return os.path.join(os.path.dirname(tzdata.__file__), "zoneinfo")


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZONE)


def _from_duckling(value: dict[str, Any]) -> Parsed | None:
    if value.get("type") == "interval":
        start = value.get("from") or {}
        end = value.get("to") or {}
        if not start.get("value"):
            return None
        begin = _iso(start["value"])
        finish = _iso(end["value"]) - timedelta(seconds=1) if end.get("value") else begin
        grain = start.get("grain")
        if grain in ("hour", "minute"):
            middle = begin + (finish - begin) / 2
            return Parsed(day=begin.date(), part_of_day=part_of_hour(middle.hour))
        return Parsed(day=begin.date(), until=finish.date())
    if not value.get("value"):
        return None
    moment = _iso(value["value"])
    grain = value.get("grain")
    if grain in ("hour", "minute", "second"):
        return Parsed(day=moment.date(), at=moment.time().replace(second=0, microsecond=0))
    if grain == "week":
        return Parsed(day=moment.date(), until=moment.date() + timedelta(days=6))
    if grain == "month":
        following = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Parsed(day=moment.date(), until=following.date() - timedelta(days=1))
    if grain in ("year", "quarter"):
        return None
    return Parsed(day=moment.date())


class DateparserParser:
    """dateparser 1.2.0, day-first, preferring future dates."""

    def parse(self, text: str, language: str, now: datetime) -> Parsed | None:
        """The date dateparser reads in ``text`` (whole, then searched), or ``None``."""
        import dateparser
        from dateparser.search import search_dates

        naive_now = now.astimezone(ZONE).replace(tzinfo=None)
        settings = {
            "RELATIVE_BASE": naive_now,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        }
        languages = [language, "en" if language == "pl" else "pl"]
        found = dateparser.parse(text, languages=languages, settings=settings)
        if found is None:
            hits = search_dates(text, languages=languages, settings=settings) or []
            found = hits[-1][1] if hits else None
        if found is None:
            return None
        at = found.time().replace(second=0, microsecond=0)
        # dateparser fills a missing time with midnight or with the reference time.
        if at in (time(0, 0), naive_now.time().replace(second=0, microsecond=0)):
            return Parsed(day=found.date())
        return Parsed(day=found.date(), at=at)


Parser = Callable[[str, str, datetime], Parsed | None]


class WhenParser:
    """The combined parser: keywords, then Duckling or dateparser as the module docstring says."""

    def __init__(
        self,
        duckling: DucklingParser | None = None,
        dateparser: DateparserParser | None = None,
    ) -> None:
        self.duckling = duckling or DucklingParser()
        self.dateparser = dateparser or DateparserParser()

    def parse(
        self, text: str, language: str = "pl", now: datetime | None = None
    ) -> DateRequest | None:
        """The window ``text`` asks for, or ``None`` when it names no date or time."""
        now = (now or datetime.now(ZONE)).astimezone(ZONE)
        today = now.date()
        part, rest = part_of_day_in(text)
        folded_rest = fold(rest)
        if _ASAP.search(folded_rest):
            return DateRequest(today, None, None, part, "keywords")
        language = language if language in ("pl", "en") else "pl"
        day_month = _DAY_MONTH.match(rest)
        if day_month:
            # "12.03": day first, this year or the next; neither library reads it without a year.
            try:
                day = date(today.year, int(day_month.group(2)), int(day_month.group(1)))
            except ValueError:
                return None
            day = day if day >= today else _next_year(day)
            return DateRequest(day, day, None, part, "dateparser")
        other = "en" if language == "pl" else "pl"
        attempts: list[tuple[str, Parser, str]]
        if _NUMERIC_DATE.search(rest):
            attempts = [
                ("dateparser", self.dateparser.parse, language),
                ("duckling", self.duckling.parse, language),
            ]
        else:
            attempts = [
                ("duckling", self.duckling.parse, language),
                ("duckling", self.duckling.parse, other),
                ("dateparser", self.dateparser.parse, language),
            ]
        for source, parse, lang in attempts:
            if not rest.strip():
                break
            if source == "dateparser" and not _DATE_EVIDENCE.search(folded_rest):
                continue
            parsed = parse(rest, lang, now)
            if parsed is None:
                continue
            day = parsed.day
            if day < today and _MONTH_WORD.search(folded_rest) and not _YEAR.search(rest):
                day = _next_year(day)
            at = parsed.at if _TIME_EVIDENCE.search(folded_rest) else None
            until = parsed.until
            if until is not None and day < today <= until:
                day = today
            if until is None:
                until = day
            return DateRequest(
                day=day,
                until=until,
                at=at,
                part_of_day=part or parsed.part_of_day,
                source=source,
            )
        if part is not None:
            return DateRequest(today, None, None, part, "keywords")
        return None


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def iso_window(slots: dict[str, Any]) -> tuple[date | None, date | None, time | None]:
    """The search window stored in the slots: first day, last day, clock time."""
    raw = slots.get("preferred_date")
    if not raw:
        return None, None, None
    at: time | None = None
    if "T" in raw:
        moment = datetime.fromisoformat(raw).astimezone(ZONE)
        first, at = moment.date(), moment.time()
    else:
        first = date.fromisoformat(raw)
    end = slots.get("date_end")
    return first, (date.fromisoformat(end) if end else None), at


def describe(slots: dict[str, Any], language: str) -> str:
    """A short human description of the stored window, e.g. "czw. 3 grudnia, rano"."""
    first, last, at = iso_window(slots)
    if first is None:
        return ""
    text = format_day(first, language)
    if last is None:
        text = ("od " if language == "pl" else "from ") + text
    elif last != first:
        text += " – " + format_day(last, language)
    if at is not None:
        text += f", {at.strftime('%H:%M')}"
    part = slots.get("time_of_day")
    if part:
        text += ", " + PART_NAMES[language][part]
    return text


PART_NAMES = {
    "pl": {MORNING: "rano", AFTERNOON: "po południu", EVENING: "wieczorem"},
    "en": {MORNING: "in the morning", AFTERNOON: "in the afternoon", EVENING: "in the evening"},
}
_WEEKDAYS = {
    "pl": ["pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
_MONTHS = {
    "pl": [
        "stycznia",
        "lutego",
        "marca",
        "kwietnia",
        "maja",
        "czerwca",
        "lipca",
        "sierpnia",
        "września",
        "października",
        "listopada",
        "grudnia",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def format_day(day: date, language: str) -> str:
    """ "czw. 3 grudnia" / "Thu 3 December"."""
    language = language if language in _MONTHS else "pl"
    return f"{_WEEKDAYS[language][day.weekday()]} {day.day} {_MONTHS[language][day.month - 1]}"


def format_when(iso: str, language: str) -> str:
    """An ISO datetime from the hub as "czw. 3 grudnia, 10:00"."""
    moment = datetime.fromisoformat(iso).astimezone(ZONE)
    return f"{format_day(moment.date(), language)}, {moment.strftime('%H:%M')}"
