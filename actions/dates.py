"""Dates and times in free text ("jutro o 10", "next Friday afternoon") -> a search window.

Two parsers were compared on the phrase table in ``tests/actions/test_dates.py`` (the numbers are
in ``docs/assistant.md``): Duckling (``pyduckling-native-phihos``, in process, no server) wins on
relative dates, weekdays and "o 10"-style hours in Polish and English; ``dateparser`` 1.2.0 wins
on numeric day-first dates ("12.03.2027"), which Duckling reads as a clock time or as
month-first. Neither knows a bound ("po 15", "before 10am"), an exclusion ("any time but
Monday") or a symptom's duration ("od tygodnia", "for a week"), so :meth:`WhenParser.parse`:

1. normalises the text (NFC, lower case; matching runs on the folded twin, without diacritics);
2. cuts what is no date wish: the duration of a symptom ("od tygodnia mnie boli", "he's had a
   cough for a week", "przez tydzień");
3. takes, by its own rules, the part of the day ("rano", "po południu", "morning"; Duckling's
   Polish "po południu" is wrong), clock bounds ("po 15", "przed 10", "między 10 a 12",
   "after 3pm"), excluded weekdays ("byle nie w poniedziałek", "any time but Monday") and the
   week rules: "w przyszły piątek"/"next Friday" (two readings when the coming Friday is in this
   week: :attr:`DateRequest.options`), "za tydzień w czwartek" (the Thursday of next week),
   "na początku przyszłego tygodnia" (Monday to Wednesday), "w najbliższy piątek";
4. reads what is left with dateparser when it is a numeric date (day first), else with
   Duckling in the patient's language, then the other one, then dateparser;
5. returns a :class:`DateRequest` whose :meth:`DateRequest.as_slots` are the form's slots.

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

# -- words of the rules (folded text) -----------------------------------------------------------

# Weekday words in the forms a patient writes them, Monday first. Whole words only: "czwarty"
# and "piąty" (ordinals) and "w środku" (in the middle) are no weekdays.
_WEEKDAY_WORDS: tuple[str, ...] = (
    r"poniedzial(?:ek|ku|kiem|ki|kow|kami)|mondays?",
    r"wtor(?:ek|ku|kiem|ki|kow|kami)|tuesdays?",
    r"sro(?:da|dy|de|dzie|dom|dami|d)|wednesdays?",
    r"czwart(?:ek|ku|kiem|ki|kow|kami)|thursdays?",
    r"piat(?:ek|ku|kiem|ki|kow|kami)|fridays?",
    r"sobot(?:a|y|e|om|ami)?|saturdays?",
    r"niedziel(?:a|i|e|om|ami)?|sundays?",
)
_WEEKDAY = "(?:" + "|".join(_WEEKDAY_WORDS) + ")"
_WEEKDAY_RES = [re.compile(rf"\b(?:{words})\b") for words in _WEEKDAY_WORDS]
_MONTH_NAME = (
    r"(?:stycz\w*|lut\w*|marc\w*|kwie\w*|maj[a]?|czerw\w*|lip\w*|sierp\w*|wrze\w*|pazdz\w*|"
    r"listopad\w*|grud\w*|january|february|march|april|may|june|july|august|september|"
    r"october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
# Words that name a day (not merely a clock time or a part of the day).
_DAY_WORDS = re.compile(
    rf"\b{_WEEKDAY}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s*(?:of\s+)?{_MONTH_NAME}\b|"
    rf"\b{_MONTH_NAME}\s+\d{{1,2}}\b|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b|\b\d{{1,2}}/\d{{1,2}}\b|"
    r"\b(?:jutr\w*|pojutrz\w*|dzis\w*|dzisiaj|today|tomorrow|tmrw|tonight|tydz\w*|tygod\w*|"
    r"weeks?|weekend\w*|miesi\w*|months?|styczen|stycz(?:nia|niu)|lut(?:y|ego|ym)|marzec|"
    r"mar(?:ca|cu)|kwiecien|kwie(?:tnia|tniu)|czerwiec|czerw(?:ca|cu)|lipiec|lip(?:ca|cu)|"
    r"sierpien|sierp(?:nia|niu)|wrzesien|wrze(?:snia|sniu)|pazdziernik\w*|listopad\w*|"
    r"grudzien|grud(?:nia|niu)|january|february|april|june|july|august|september|october|"
    r"november|december)\b|"
    r"\b(?:za|in)\s+\d+\s+(?:dni|days?)\b"
)

# The duration of a symptom is no date wish: "od tygodnia mnie boli", "for a week".
_COUNT_PL = (
    r"(?:jeden|jedna|jednego|dwa|dwie|dwoch|trzy|trzech|cztery|czterech|kilka|kilku|pare|paru|\d+)"
)
_COUNT_EN = r"(?:a|one|two|three|four|five|a\s+few|few|several|a\s+couple\s+of|couple\s+of|\d+)"
_UNIT_PL = (
    r"(?:dzien|dni|dnia|tydzien|tygodnie|tygodni|tygodnia|miesiac\w*|miesiec\w*|miesiecy|"
    r"rok|roku|lata|lat)"
)
_UNIT_EN = r"(?:days?|weeks?|months?|years?)"
_DURATIONS = re.compile(
    rf"\bod\s+(?:{_COUNT_PL}\s+)?{_UNIT_PL}\b|\bod\s+(?:wczoraj|przedwczoraj)\b|"
    rf"\bprzez\s+(?:(?:caly|cala|cale|{_COUNT_PL})\s+)?{_UNIT_PL}\b|"
    rf"\b(?:{_COUNT_PL}\s+)?{_UNIT_PL}\s+temu\b|\bjuz\s+(?:drugi|trzeci|czwarty|\d+)\s+{_UNIT_PL}\b|"
    rf"\bfor\s+(?:(?:the\s+)?(?:last|past)\s+)?(?:{_COUNT_EN}\s+)?{_UNIT_EN}\b|"
    rf"\b{_COUNT_EN}\s+{_UNIT_EN}\s+ago\b|\b(?:the\s+)?(?:last|past)\s+(?:few\s+|couple\s+of\s+)?(?:days|weeks)\b|"
    rf"\bsince\s+(?:yesterday|last\s+\w+|this\s+morning|{_WEEKDAY})\b"
)

# A clock hour in a bound: "15", "15:30", "9.30", "3pm", "15-tej", "piętnastej", "three".
_HOUR_WORDS: dict[str, int] = {
    "pierwsz": 1, "drug": 2, "trzec": 3, "czwart": 4, "piat": 5, "szost": 6, "siodm": 7,
    "osm": 8, "dziewiat": 9, "dziesiat": 10, "jedenast": 11, "dwunast": 12, "trzynast": 13,
    "czternast": 14, "pietnast": 15, "szesnast": 16, "siedemnast": 17, "osiemnast": 18,
    "dziewietnast": 19, "dwudziest": 20,
}  # fmt: skip
_EN_HOURS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve")  # fmt: skip
_NOT_A_CLOCK = (
    rf"(?!\s*(?:[./-]\s*\d|\d|{_MONTH_NAME}\b|dni|dnia|dzien|tyg|week|day|month|mies|min|"
    r"godzin|hour|lat|rok|r\.))"
)


def _hour(n: int) -> str:
    digits = (
        rf"(?P<h{n}>[01]?\d|2[0-3])(?:(?::|\.(?=[0-5][05]\b)|\s*h\s*)(?P<m{n}>[0-5]\d))?"
        rf"(?:-?(?:tej|ej|stej))?(?:\s*(?P<ap{n}>[ap])\.?\s*m\b\.?)?(?:\s*o'?clock)?"
    )
    words = (
        rf"(?P<w{n}>"
        + "|".join(rf"{stem}(?:iej|ej|ia|a)" for stem in _HOUR_WORDS)
        + "|"
        + "|".join(_EN_HOURS)
        + rf")\b(?:\s*(?P<wap{n}>[ap])\.?\s*m\b\.?)?(?:\s*o'?clock)?"
    )
    return rf"(?:godz\w*\.?\s+|the\s+)?(?:{digits}|{words}){_NOT_A_CLOCK}"


_FROM_WORDS = (
    r"po|od|after|from|later\s+than|not\s+before|nie\s+wczesniej\s+niz|najwczesniej\s+(?:o|od)"
)
_TO_WORDS = (
    r"przed|do|before|until|till|earlier\s+than|not\s+later\s+than|no\s+later\s+than|"
    r"nie\s+pozniej\s+niz|najpozniej\s+(?:o|do)"
)
_RANGE = re.compile(
    rf"\b(?:(?:miedzy|pomiedzy|between)\s+{_hour(1)}\s*(?:a|i|and|-|–)\s*{_hour(2)}|"
    rf"(?:od|from)\s+{_hour(3)}\s*(?:do|to|till|until|-|–)\s*{_hour(4)})"
)
_FROM = re.compile(rf"\b(?:{_FROM_WORDS})\s+{_hour(1)}")
_TO = re.compile(rf"\b(?:{_TO_WORDS})\s+{_hour(1)}")

# Weekdays the patient cannot come: "byle nie w poniedziałek", "any time but Monday".
_WEEKDAY_LIST_PL = (
    rf"{_WEEKDAY}(?:\s*(?:,|i|ani|lub|albo|oraz|czy)\s*(?:nie\s+)?(?:w|we)?\s*{_WEEKDAY})*"
)
_WEEKDAY_LIST_EN = rf"{_WEEKDAY}(?:\s*(?:,|and|or|nor)\s*(?:on\s+)?{_WEEKDAY})*"
_EXCLUSIONS = re.compile(
    rf"\b(?:byle\s+|tylko\s+|ale\s+|oby\s+)?nie\s+(?:(?:w|we|na)\s+)?{_WEEKDAY_LIST_PL}|"
    rf"\b(?:oprocz|poza|procz|z\s+wyjatkiem)\s+{_WEEKDAY_LIST_PL}|"
    rf"\b(?:w|we)\s+{_WEEKDAY_LIST_PL}\s+nie\s+(?:moge|mozemy|dam\s+rady|damy\s+rady|pasuje|"
    r"mam\s+czasu|da\s+sie)|"
    r"\bnie\s+(?:moge|mozemy|dam\s+rady|damy\s+rady|pasuje\s+mi|pasuja\s+mi)\s+(?:(?:w|we)\s+)?"
    rf"{_WEEKDAY_LIST_PL}|"
    rf"\b(?:but|except(?:\s+for|\s+on)?|other\s+than|apart\s+from|besides|excluding|not)\s+"
    rf"(?:on\s+)?(?:a\s+)?{_WEEKDAY_LIST_EN}|"
    r"\bno\s+(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)\b|"
    rf"\b(?:can'?t|cannot|can\s+not)\s+(?:do|make|come)\s+(?:on\s+)?{_WEEKDAY_LIST_EN}|"
    rf"\b{_WEEKDAY_LIST_EN}\s+(?:don'?t|doesn'?t|won'?t)\s+work"
)

# The week rules.
_NEXT_WEEKDAY = re.compile(
    rf"\b(?:(?:w|we|na)\s+)?(?:przyszl\w*|nastepn\w*|next)\s+(?:(?:w|we)\s+)?(?P<wd>{_WEEKDAY})\b"
    r"(?!\s+(?:w\s+przyszlym\s+tygodniu|next\s+week|za\s+tydzien))"
)
_NEAREST_WEEKDAY = re.compile(
    rf"\b(?:(?:w|we|on)\s+)?(?:najblizsz\w*|(?:this|the)\s+coming|coming)\s+(?P<wd>{_WEEKDAY})\b"
)
_WEEK_OFFSETS: tuple[tuple[int, str], ...] = (
    (2, r"za\s+(?:dwa|2)\s+tygodnie|in\s+(?:two|2)\s+weeks"),
    (
        1,
        r"za\s+tydzien|w\s+przyszlym\s+tygodniu|w\s+nastepnym\s+tygodniu|przyszlego\s+tygodnia|"
        r"nastepnego\s+tygodnia|(?:the\s+)?week\s+after\s+this|next\s+week|in\s+a\s+week",
    ),
    (0, r"w\s+tym\s+tygodniu|tego\s+tygodnia|this\s+week"),
)
_WEEK_PARTS: tuple[tuple[int, int, str], ...] = (
    (0, 2, r"(?:na\s+|z\s+)?(?:poczatk\w*|pocz\.)|early|(?:the\s+)?(?:beginning|start)\s+of"),
    (1, 3, r"(?:w\s+)?(?:polowie|srodku)|mid|(?:the\s+)?middle\s+of"),
    (3, 6, r"(?:pod\s+|na\s+)?(?:koniec|koncu|koncowce)|late|(?:the\s+)?end\s+of"),
)
_WEEK_PART = re.compile(
    r"\b(?P<part>"
    + "|".join(f"(?:{words})" for _, _, words in _WEEK_PARTS)
    + r")[\s-]+(?P<which>przyszlego\s+|nastepnego\s+|tego\s+|the\s+|this\s+|next\s+)?"
    r"(?:tygodnia|week)\b"
)
_WEEK_PART_RES = [
    (first, last, re.compile(rf"^(?:{words})$")) for first, last, words in _WEEK_PARTS
]


@dataclass(frozen=True)
class DateRequest:
    """A preferred time window for a slot search, in clinic-local dates.

    ``day`` is the first day to search and ``until`` the last (``None``: open-ended, "as soon as
    possible"); ``at`` is an explicit clock time; ``part_of_day`` is morning/afternoon/evening;
    ``time_from``/``time_to`` bound the start ("po 15", "przed 10"); ``exclude_weekdays`` are
    ISO weekday numbers (1 Monday ... 7 Sunday). ``options`` holds the two readings of an
    ambiguous day ("w przyszły piątek" said on a Thursday: 4 or 11 December), which the patient
    chooses between before any search. ``day_named`` is false when the text named only a time
    ("o 10", "po 15", "rano"): a correction like that keeps the days asked before. ``source``
    names what found the date ("duckling", "dateparser", "keywords", "rules").
    """

    day: date
    until: date | None
    at: time | None = None
    part_of_day: str | None = None
    source: str = "duckling"
    time_from: time | None = None
    time_to: time | None = None
    exclude_weekdays: tuple[int, ...] = ()
    options: tuple[date, ...] = ()
    day_named: bool = True

    @property
    def ambiguous(self) -> bool:
        """Whether the patient must choose between :attr:`options` first."""
        return len(self.options) > 1

    def constraint_slots(self) -> dict[str, Any]:
        """The slots of the time constraints alone (part of the day, bounds, weekdays)."""
        return {
            "time_of_day": self.part_of_day,
            "time_from": _clock(self.time_from),
            "time_to": _clock(self.time_to),
            "exclude_weekdays": ",".join(str(d) for d in self.exclude_weekdays) or None,
        }

    def as_slots(self) -> dict[str, Any]:
        """The slots of the booking form: ISO date or datetime, ISO end date, part of the day,
        "HH:MM" bounds, excluded ISO weekdays ("1,3") and the ISO dates to choose between."""
        if self.ambiguous:
            return {
                "preferred_date": None,
                "date_end": None,
                **self.constraint_slots(),
                "date_options": [day.isoformat() for day in self.options],
            }
        if self.at is not None:
            preferred = datetime.combine(self.day, self.at, ZONE).isoformat()
        else:
            preferred = self.day.isoformat()
        return {
            "preferred_date": preferred,
            "date_end": self.until.isoformat() if self.until else None,
            **self.constraint_slots(),
            "date_options": None,
        }


def _clock(moment: time | None) -> str | None:
    return moment.strftime("%H:%M") if moment is not None else None


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


def names_day(text: str) -> bool:
    """Whether ``text`` names a day ("czwartek", "jutro", "15 grudnia", "next week"), not just
    a clock time or a part of the day; ordinals ("czwarty", "the fourth") name none."""
    return bool(_DAY_WORDS.search(fold(text)))


class _Words:
    """The patient's words (NFC, lower case) and their folded twin; rules cut spans from both.

    A cut span becomes blanks, so positions stay the same in both texts. Folding keeps the
    length unless the text holds unusual characters; then the folded text stands for both.
    """

    def __init__(self, text: str) -> None:
        own = unicodedata.normalize("NFC", text).lower()
        self.folded = fold(text)
        self.own = own if len(own) == len(self.folded) else self.folded

    def cut(self, match: re.Match[str]) -> None:
        start, end = match.span()
        blank = " " * (end - start)
        self.own = self.own[:start] + blank + self.own[end:]
        self.folded = self.folded[:start] + blank + self.folded[end:]

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        found = list(pattern.finditer(self.folded))
        for match in found:
            self.cut(match)
        return found

    def take_part_of_day(self) -> str | None:
        for part, pattern in _PART_KEYWORDS:
            match = re.search(rf"\b(?:{pattern})\b", self.folded)
            if match:
                self.cut(match)
                return part
        return None

    @property
    def rest(self) -> str:
        return " ".join(self.own.split())


def _hour_of(match: re.Match[str], n: int, part: str | None) -> time | None:
    digits, word = match.group(f"h{n}"), match.group(f"w{n}")
    if digits is not None:
        hour, minute, meridiem = int(digits), int(match.group(f"m{n}") or 0), match.group(f"ap{n}")
    elif word is not None:
        if word in _EN_HOURS:
            hour = _EN_HOURS.index(word) + 1
        else:
            hour = next(h for stem, h in _HOUR_WORDS.items() if word.startswith(stem))
        minute, meridiem = 0, match.group(f"wap{n}")
    else:
        return None
    if meridiem == "p" and hour < 12:
        hour += 12
    elif meridiem == "a" and hour == 12:
        hour = 0
    elif meridiem is None and part in (AFTERNOON, EVENING) and hour < 12:
        hour += 12
    elif meridiem is None and part is None and 1 <= hour <= 6:
        hour += 12  # "po 3" at a clinic is 15:00, not 3 at night
    return time(hour, minute) if hour <= 23 else None


def _take_bounds(words: _Words, part: str | None) -> tuple[time | None, time | None]:
    """ "po 15", "przed 10", "między 10 a 12", "after 3pm": the earliest and latest start."""
    low = high = None
    for match in words.take(_RANGE):
        n = 1 if match.group("h1") is not None or match.group("w1") is not None else 3
        low, high = _hour_of(match, n, part), _hour_of(match, n + 1, part)
    for match in words.take(_FROM):
        low = low or _hour_of(match, 1, part)
    for match in words.take(_TO):
        high = high or _hour_of(match, 1, part)
    if low is not None and high is not None and low >= high:
        high = None
    return low, high


def _weekday(text: str) -> int:
    """The weekday (0 Monday) a weekday word names."""
    return next(index for index, pattern in enumerate(_WEEKDAY_RES) if pattern.search(text))


def _take_exclusions(words: _Words) -> tuple[int, ...]:
    """ISO weekday numbers of "byle nie w poniedziałek", "any time but Monday or Friday"."""
    days = {
        index
        for match in words.take(_EXCLUSIONS)
        for index, pattern in enumerate(_WEEKDAY_RES, start=1)
        if pattern.search(match.group(0))
    }
    return tuple(sorted(days))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _take_week_rule(words: _Words, today: date) -> tuple[date, date, tuple[date, ...]] | None:
    """First day, last day and the readings to choose between, of the phrases Duckling reads
    one way in Polish and another in English, or not at all (see the module docstring)."""
    match = _NEXT_WEEKDAY.search(words.folded)
    if match:
        words.cut(match)
        weekday = _weekday(match.group("wd"))
        coming = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
        next_week = _monday(today) + timedelta(days=7 + weekday)
        # "Next Friday" is this week's Friday to some and next week's to others.
        options = (coming, next_week) if coming != next_week else ()
        return coming, coming, options
    match = _NEAREST_WEEKDAY.search(words.folded)
    if match:
        words.cut(match)
        day = today + timedelta(days=(_weekday(match.group("wd")) - today.weekday()) % 7 or 7)
        return day, day, ()
    match = _WEEK_PART.search(words.folded)
    if match:
        words.cut(match)
        first, last = next((f, t) for f, t, rx in _WEEK_PART_RES if rx.match(match.group("part")))
        which = (match.group("which") or "").strip()
        monday = _monday(today) + timedelta(
            days=7 if which in ("przyszlego", "nastepnego", "next") else 0
        )
        if not which and monday + timedelta(days=last) < today:
            monday += timedelta(days=7)  # "pod koniec tygodnia" said on a Sunday: the next one
        return max(today, monday + timedelta(days=first)), monday + timedelta(days=last), ()
    for offset, pattern in _WEEK_OFFSETS:
        match = re.search(rf"\b(?:{pattern})\b", words.folded)
        if match is None:
            continue
        named = re.search(rf"\b{_WEEKDAY}\b", words.folded)
        if named is None:
            return None  # "za tydzień", "next week": Duckling reads those right
        words.cut(match)
        words.cut(named)
        day = _monday(today) + timedelta(days=7 * offset + _weekday(named.group(0)))
        return day, day, ()
    return None


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
        language = language if language in ("pl", "en") else "pl"
        words = _Words(text)
        words.take(_DURATIONS)
        part = words.take_part_of_day()
        time_from, time_to = _take_bounds(words, part)
        excluded = _take_exclusions(words)
        rule = _take_week_rule(words, today)
        rest = words.rest
        constraints: dict[str, Any] = {
            "time_from": time_from,
            "time_to": time_to,
            "exclude_weekdays": excluded,
        }
        if rule is not None:
            first, last, options = rule
            at = self._clock_in(rest, language, now)
            return DateRequest(first, last, at, part, "rules", options=options, **constraints)
        if _ASAP.search(fold(rest)):
            return DateRequest(today, None, None, part, "keywords", **constraints)
        found = self._read(rest, language, now)
        if found is not None:
            return DateRequest(
                found.day,
                found.until,
                found.at,
                part or found.part_of_day,
                found.source,
                day_named=found.day_named,
                **constraints,
            )
        if part is not None or time_from or time_to or excluded:
            # Only a time or the days to avoid: from today on.
            return DateRequest(today, None, None, part, "keywords", day_named=False, **constraints)
        return None

    def _clock_in(self, rest: str, language: str, now: datetime) -> time | None:
        """The clock time ("o 10") left beside a day the rules read."""
        if not _TIME_EVIDENCE.search(fold(rest)):
            return None
        parsed = self.duckling.parse(rest, language, now)
        return parsed.at if parsed is not None else None

    def _read(self, rest: str, language: str, now: datetime) -> DateRequest | None:
        """What the libraries read in ``rest`` (the text the rules left)."""
        today = now.date()
        folded_rest = fold(rest)
        day_month = _DAY_MONTH.match(rest)
        if day_month:
            # "12.03": day first, this year or the next; neither library reads it without a year.
            try:
                day = date(today.year, int(day_month.group(2)), int(day_month.group(1)))
            except ValueError:
                return None
            day = day if day >= today else _next_year(day)
            return DateRequest(day, day, source="dateparser")
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
                part_of_day=parsed.part_of_day,
                source=source,
                day_named=bool(_DAY_WORDS.search(folded_rest) or _NUMERIC_DATE.search(rest)),
            )
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
    """A short human description of the stored window, e.g. "czw. 3 grudnia, rano, po 15:00"."""
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
    low, high = slots.get("time_from"), slots.get("time_to")
    words = _BOUND_WORDS["en" if language == "en" else "pl"]
    if low and high:
        text += f", {low}–{high}"
    elif low:
        text += f", {words['from']} {low}"
    elif high:
        text += f", {words['to']} {high}"
    excluded = [int(d) for d in str(slots.get("exclude_weekdays") or "").split(",") if d]
    if excluded:
        names = [_WEEKDAY_PLURALS[language][d - 1] for d in excluded if 1 <= d <= 7]
        text += f", {words['not']} " + f" {words['or']} ".join(names)
    return text


def day_choice(days: list[date], language: str) -> str:
    """ "4 czy 11 grudnia" / "4 or 11 December"; the month of each when they differ."""
    language = language if language in _MONTHS else "pl"
    joiner = " czy " if language == "pl" else " or "
    if len({(d.year, d.month) for d in days}) == 1:
        month = _MONTHS[language][days[0].month - 1]
        return joiner.join(str(d.day) for d in days) + f" {month}"
    return joiner.join(f"{d.day} {_MONTHS[language][d.month - 1]}" for d in days)


_BOUND_WORDS = {
    "pl": {"from": "od", "to": "przed", "not": "bez", "or": "i"},
    "en": {"from": "from", "to": "before", "not": "not on", "or": "or"},
}
_WEEKDAY_PLURALS = {
    "pl": ["poniedziałków", "wtorków", "śród", "czwartków", "piątków", "sobót", "niedziel"],
    "en": ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"],
}
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
