"""Booking: the form that collects what, where, when and for whom, offers free slots as buttons,
and books the chosen one after an explicit yes (``bookAppointment``)."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import HubClient, HubProblem, HubUnavailable, LoginRequired
from .common import FORM_SLOTS, form_error, hub_for, language_of, report_error
from .dates import (
    ZONE,
    DateRequest,
    WhenParser,
    day_choice,
    describe,
    fold,
    format_day,
    format_when,
    iso_window,
    names_day,
)
from .forms import PortalForm, Turn, ask
from .texts import (
    RETRY_WITH_OTHER_SLOT,
    SERVICE_TYPE_NAMES,
    SPECIALTY_NAMES,
    buttons,
    in_cities,
    in_city,
    say,
)
from .vocabulary import (
    CONSULTATION_TYPES,
    IMPLIED_SPECIALTY,
    IN_CLINIC_TYPES,
    child_for,
    city_name,
    clock_time,
    examination_code,
    ordinal,
    physician_matches,
    service_type_code,
    specialty_code,
)

log = logging.getLogger(__name__)

SLOTS_SHOWN = 5
SELF_WORDS = ("dla mnie", "mnie", "siebie", "ja ", "for me", "myself", "me", "self", "moja", "moj")
_FOR_SELF = re.compile(r"\b(?:dla\s+(?:mnie|siebie)|for\s+(?:me|myself))\b")
PHYSICIAN_MARKERS = ("dr", "doktor", "lek", "lekarz", "lekarki", "pani", "pana", "doctor", "prof")

_parser = WhenParser()


def read_when(text: str, language: str, now: datetime | None = None) -> DateRequest | None:
    """The date and time wish in ``text`` (``actions.dates``), or ``None``."""
    if text.strip().isdigit():
        return None  # a bare number picks from a list; it is not a date
    return _parser.parse(text, language, now or datetime.now(ZONE))


def parse_when(text: str, language: str, now: datetime | None = None) -> dict[str, Any] | None:
    """Slots for the date and time named in ``text`` (ISO strings), or ``None``."""
    found = read_when(text, language, now)
    return found.as_slots() if found else None


DATE_SLOTS = ("preferred_date", "date_end", "time_of_day", "time_from", "time_to")
DATE_SLOTS += ("exclude_weekdays", "date_options")
"""The slots of one date wish (``DateRequest.as_slots``): a new wish replaces all of them."""


def search_key(tracker: Tracker) -> str:
    """What the offered slots were searched for; a change means a new search."""
    names = ("service_type", "specialty", "examination", "physician_id", "city", *DATE_SLOTS)
    names += ("appointment_choice",)
    return "|".join(str(tracker.get_slot(name) or "") for name in names)


def slot_summary(slot: dict[str, Any], language: str, patient: str | None = None) -> str:
    """ "Wizyta u kardiologa – czw. 3 grudnia, 10:00, dr X, Centrum ... (ul. ...)."."""
    if slot.get("clinic_name"):
        place = f"{slot['clinic_name']} ({slot.get('clinic_address', '')})"
    else:
        place = say("remote_place", language)
    text = (
        f"{slot['service']} – {format_when(slot['start'], language)}, {slot['physician']}, {place}"
    )
    if patient:
        text += ", " + say("for_patient", language, name=patient)
    return text + "."


def slot_button_title(slot: dict[str, Any], language: str) -> str:
    """A short button label: "czw. 3 grudnia, 10:00 · dr X · Kraków"."""
    where = slot.get("city") or say("remote_place", language)
    return f"{format_when(slot['start'], language)} · {slot['physician']} · {where}"


def compact(slot: dict[str, Any]) -> dict[str, Any]:
    """The parts of a hub slot the conversation keeps (in the ``offered_slots`` slot).

    The hub's appointments have the same shape (id, start, service, physician, clinic), so
    this serves them too.
    """
    clinic = slot.get("clinic") or {}
    return {
        "id": slot["id"],
        "start": slot["start"],
        "service": slot["service"]["name"],
        "service_code": slot["service"]["code"],
        "type": slot["service"]["type"],
        "physician": slot["physician"]["name"],
        "clinic_name": clinic.get("name"),
        "clinic_address": clinic.get("address"),
        "city": clinic.get("city"),
    }


async def find_slots(
    hub: HubClient, tracker: Tracker, service: str | None = None, city: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The nearest free slots for the form's answers, widening the search when none match.

    Tries the asked days at the asked time (part of the day, "po 15"/"przed 10" bounds, or
    around an exact hour); then the same days at any time; the nearest other days at the asked
    time, then at any time (later ones, or one of the week before when it is nearer), the
    nearest days from now - all in the asked city; then other cities; other physicians of the
    specialty. Excluded weekdays ("byle nie w poniedziałek") stay excluded throughout. Returns
    the note that says which widening found them ("offer_slots", "offer_other_days", ...) and up
    to five slots. ``service`` and ``city`` fix the search to one service (rescheduling keeps
    the service).
    """
    service_type = tracker.get_slot("service_type")
    base: dict[str, Any] = {"limit": 20}
    if service:
        base["service"] = service
        if city:
            base["city"] = city
    elif service_type == "examination":
        base["service"] = tracker.get_slot("examination")
    else:
        base["service_type"] = service_type
        if tracker.get_slot("physician_id"):
            base["physician_id"] = tracker.get_slot("physician_id")
        elif tracker.get_slot("specialty"):
            base["specialty"] = tracker.get_slot("specialty")
    if not service and service_type in IN_CLINIC_TYPES and tracker.get_slot("city"):
        base["city"] = tracker.get_slot("city")
    if tracker.get_slot("exclude_weekdays"):
        base["exclude_weekdays"] = tracker.get_slot("exclude_weekdays")
    first, last, at = iso_window(tracker.slots)
    window = {
        "date_from": first.isoformat() if first else None,
        "date_to": last.isoformat() if last else None,
    }
    times = asked_times(tracker.slots, at)
    # (note, query, around): "around" also looks at the week before the asked days, so the
    # nearest other days come first, whichever side of the asked ones they are on.
    attempts: list[tuple[str, dict[str, Any], bool]] = [
        ("offer_slots", {**base, **window, **times}, False)
    ]
    if times:
        attempts.append(("offer_other_times", {**base, **window}, False))
        attempts.append(
            ("offer_other_days", {**base, "date_from": window["date_from"], **times}, True)
        )
    attempts.append(("offer_other_days", {**base, "date_from": window["date_from"]}, True))
    attempts.append(("offer_other_days", base, False))
    if "city" in base:
        wider = {k: v for k, v in base.items() if k != "city"}
        # Another city keeps what was asked of the day and the hour, as long as it can.
        attempts.append(("offer_other_cities", {**wider, **window, **times}, False))
        attempts.append(("offer_other_cities", {**wider, **window}, False))
        attempts.append(
            ("offer_other_cities", {**wider, "date_from": window["date_from"], **times}, True)
        )
        attempts.append(("offer_other_cities", wider, False))
    if "physician_id" in base and tracker.get_slot("specialty"):
        wider = {k: v for k, v in base.items() if k != "physician_id"}
        wider["specialty"] = tracker.get_slot("specialty")
        attempts.append(("offer_other_physicians", {**wider, **window, **times}, False))
        attempts.append(("offer_other_physicians", {**wider, **window}, False))
        attempts.append(("offer_other_physicians", wider, False))
    today = datetime.now(ZONE).date()
    asked: list[dict[str, Any]] = []
    for note, query, around in attempts:
        query = {k: v for k, v in query.items() if v is not None}
        if query in asked:
            continue  # an open window ("jak najszybciej") makes some widenings the same
        asked.append(query)
        items = list((await hub.search_slots(**query)).get("items") or [])
        if around and first is not None and first > today:
            items = await _with_days_before(hub, query, items, first, last, today)
        if items:
            if at is not None and note in ("offer_slots", "offer_other_times"):
                target = datetime.combine(first or today, at, ZONE)
                items.sort(
                    key=lambda s: abs((datetime.fromisoformat(s["start"]) - target).total_seconds())
                )
            return note, [compact(item) for item in items[:SLOTS_SHOWN]]
    return "no_slots", []


async def _with_days_before(
    hub: HubClient,
    query: dict[str, Any],
    later: list[dict[str, Any]],
    first: date,
    last: date | None,
    today: date,
) -> list[dict[str, Any]]:
    """``later`` (slots from ``first`` on) with the nearest free day of the week before
    ``first`` when it is nearer than the first later day; nearest first."""
    nearest = min((_days_off(s["start"], first, last) for s in later), default=8)
    for back in range(1, min(nearest, 8)):
        day = first - timedelta(days=back)
        if day < today:
            break
        query_day = {**query, "date_from": day.isoformat(), "date_to": day.isoformat()}
        found = (await hub.search_slots(**query_day)).get("items") or []
        if found:
            merged = later + list(found)
            merged.sort(key=lambda s: (_days_off(s["start"], first, last), s["start"]))
            return merged
    return later


def _days_off(start: str, first: date, last: date | None) -> int:
    """How many days a slot lies outside the asked days (0 inside)."""
    day = _local_day(start)
    if day < first:
        return (first - day).days
    return (day - last).days if last is not None and day > last else 0


def keep_days(slots: dict[str, Any], found: DateRequest) -> dict[str, Any]:
    """A correction that names only a time ("o 16", "po 15", "rano") or only days to avoid
    ("ale nie w poniedziałek"): the days asked before stay, the part it names is replaced."""
    first, _, _ = iso_window(slots)
    day = first or found.day
    new = found.constraint_slots()
    times_named = found.at or found.part_of_day or found.time_from or found.time_to
    result: dict[str, Any] = {
        "preferred_date": (
            datetime.combine(day, found.at, ZONE).isoformat() if found.at else day.isoformat()
        ),
        "date_end": slots.get("date_end"),
        "date_options": None,
    }
    if times_named:
        result.update(time_of_day=new["time_of_day"], time_from=new["time_from"])
        result["time_to"] = new["time_to"]
    elif "T" in (slots.get("preferred_date") or ""):
        result["preferred_date"] = slots["preferred_date"]  # the hour asked before stays
    result["exclude_weekdays"] = new["exclude_weekdays"] or slots.get("exclude_weekdays")
    return result


def asked_times(slots: dict[str, Any], at: time | None) -> dict[str, Any]:
    """The searchSlots time filters of the wish: around an exact hour (from 90 minutes before,
    the nearest first), else the part of the day and the "HH:MM" bounds."""
    if at is not None:
        earliest = max(0, at.hour * 60 + at.minute - 90)
        return {"time_from": f"{earliest // 60:02d}:{earliest % 60:02d}"}
    names = ("time_of_day", "time_from", "time_to")
    return {name: slots[name] for name in names if slots.get(name)}


def what_text(tracker: Tracker, language: str) -> str:
    """ "Wizyta w placówce, kardiolog w Krakowie" for the offer message."""
    parts = [SERVICE_TYPE_NAMES.get(tracker.get_slot("service_type") or "", {}).get(language, "")]
    specialty = tracker.get_slot("specialty") or ""
    who = (
        tracker.get_slot("physician_name")
        or tracker.get_slot("examination")
        or SPECIALTY_NAMES.get(specialty, {}).get(language, specialty)
    )
    city = tracker.get_slot("city")
    if city and tracker.get_slot("service_type") in IN_CLINIC_TYPES:
        who = f"{who} {in_city(city, language)}".strip()
    parts.append(who)
    return ", ".join(p for p in parts if p)


def offered(tracker: Tracker) -> list[dict[str, Any]]:
    """The slots offered last (``offered_slots`` holds {"note": ..., "items": [...]})."""
    value = tracker.get_slot("offered_slots") or {}
    return list(value.get("items") or []) if isinstance(value, dict) else []


def pick_from(
    items: list[dict[str, Any]],
    text: str,
    key: str = "id",
    language: str = "pl",
    now: datetime | None = None,
) -> str | None:
    """The id a reply picks from ``items``, or ``None`` when it picks none.

    A pick is a position ("2", "4.", "nr 4", "drugi", "the fourth"; a weekday word such as
    "czwartek" never is one) or the clock time of exactly one item ("10:30", "ten o 10"),
    optionally with its day ("w czwartek o 10:30"). A reply that names only a day, a part of
    the day or bounds ("a może w czwartek?", "po 15", "w przyszły piątek"), or a day or a time
    no item has, picks nothing: it is a new date wish.
    """
    if not items:
        return None
    position = ordinal(text)
    day_named = names_day(text)
    wish = read_when(text, language, now)
    if wish is not None and (
        wish.ambiguous or wish.time_from or wish.time_to or wish.exclude_weekdays
    ):
        return None
    at = wish.at.strftime("%H:%M") if wish and wish.at else clock_time(text)
    if position is not None and not day_named and at is None:
        if position == -1:
            return str(items[-1][key])
        return str(items[position - 1][key]) if 1 <= position <= len(items) else None
    if at is None or (day_named and wish is None):
        return None
    matching = [i for i in items if str(i.get("start", ""))[11:16] == at]
    if day_named and wish is not None:
        last = wish.until or wish.day
        matching = [i for i in matching if wish.day <= _local_day(i["start"]) <= last]
    return str(matching[0][key]) if len(matching) == 1 else None


def _local_day(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(ZONE).date()


_EARLIER = re.compile(
    r"\b(?:ten|ta|tym|this|najblizsz\w*|wczesniejsz\w*|blizsz\w*|earlier|sooner|first)\b"
)
_LATER = re.compile(
    r"\b(?:przyszl\w*|nastepn\w*|kolejn\w*|pozniejsz\w*|dalsz\w*|next|later|following)\b"
)


def choose_day(
    text: str, options: list[str], language: str, now: datetime | None = None
) -> str | None:
    """The ISO day a reply picks from the two readings of "w przyszły piątek" ("11 grudnia",
    "11", "ten w przyszłym tygodniu", "the first one", "this week's"), or ``None``; ``now``
    (default: the clinic's clock) anchors "this week" and a day named without a year."""
    days = [date.fromisoformat(day) for day in options]
    wish = read_when(text, language, now)
    if wish is not None and wish.day_named and not wish.ambiguous:
        inside = [d for d in days if wish.day <= d <= (wish.until or wish.day)]
        if len(inside) == 1:
            return inside[0].isoformat()
    number = re.fullmatch(r"\s*(\d{1,2})\s*\.?\s*", text)
    if number and any(d.day == int(number.group(1)) for d in days):
        return next(d.isoformat() for d in days if d.day == int(number.group(1)))
    position = ordinal(text)
    if position in (1, 2, -1):
        return days[0 if position == 1 else -1].isoformat()
    folded = fold(text)
    if _LATER.search(folded) and not _EARLIER.search(folded):
        return days[-1].isoformat()
    if _EARLIER.search(folded) and not _LATER.search(folded):
        return days[0].isoformat()
    return None


class ValidateBookingForm(PortalForm):
    """Slots of ``booking_form``; books on the patient's yes."""

    trigger_intent = "book_appointment"
    form_slots = (
        "continue_form",
        "service_type",
        "specialty",
        "examination",
        "city",
        "preferred_date",
        "patient_choice",
        "slot_choice",
        "confirmed",
    )

    def name(self) -> str:
        return "validate_booking_form"

    async def needed_slots(self, tracker: Tracker) -> list[str]:
        service_type = tracker.get_slot("service_type")
        slots = ["service_type"]
        if service_type == "examination":
            slots.append("examination")
        elif service_type in CONSULTATION_TYPES and not tracker.get_slot("physician_id"):
            slots.append("specialty")
        if service_type in IN_CLINIC_TYPES:
            slots.append("city")
        slots += ["preferred_date", "patient_choice", "slot_choice", "confirmed"]
        return slots

    # -- extraction from the raw text: answers and corrections -------------------------------

    async def extract_service_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed:
            return {}
        current = tracker.get_slot("service_type")
        if current is not None and turn.requested != "service_type":
            return {}
        code = service_type_code(turn.text)
        return {"service_type": code} if code and code != current else {}

    async def extract_specialty(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed:
            return {}
        code = specialty_code(turn.text)
        if code and code != tracker.get_slot("specialty"):
            return {"specialty": code, "physician_id": None, "physician_name": None}
        if code is None and self._may_name_physician(turn):
            return await self._physician_in(turn)
        return {}

    def _may_name_physician(self, turn: Turn) -> bool:
        words = turn.text.lower().replace(".", " ").split()
        return turn.requested == "specialty" or any(w in PHYSICIAN_MARKERS for w in words)

    async def _physician_in(self, turn: Turn) -> dict[str, Any]:
        try:
            async with HubClient(None, turn.language) as hub:
                physicians = await hub.list_physicians()
        except (HubProblem, HubUnavailable) as error:
            # Not fatal: the patient is asked for the specialty instead.
            log.warning("physician lookup failed: %s", error)
            return {}
        found = [p for p in physicians if physician_matches(turn.text, p["last_name"])]
        if len(found) != 1:
            return {}
        physician = found[0]
        specialties = physician.get("specialties") or []
        return {
            "physician_id": physician["id"],
            "physician_name": physician["name"],
            "specialty": specialties[0]["code"] if specialties else None,
        }

    async def extract_examination(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed or tracker.get_slot("service_type") != "examination":
            return {}
        code = examination_code(turn.text)
        return {"examination": code} if code and code != tracker.get_slot("examination") else {}

    async def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed:
            return {}
        city = city_name(turn.text)
        return {"city": city} if city and city != tracker.get_slot("city") else {}

    async def extract_preferred_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed:
            return {}
        if turn.requested == "slot_choice" and pick_from(
            offered(tracker), turn.text, language=turn.language
        ):
            return {}
        options = tracker.get_slot("date_options") or []
        if options:
            chosen = choose_day(turn.text, options, turn.language)
            if chosen is not None:
                return {"preferred_date": chosen, "date_end": chosen, "date_options": None}
        found = read_when(turn.text, turn.language)
        if found is None:
            return {}
        slots = found.as_slots()
        if not found.day_named and tracker.get_slot("preferred_date") and not options:
            slots = keep_days(tracker.slots, found)
        if all(tracker.get_slot(k) == v for k, v in slots.items()):
            return {}
        return slots

    async def extract_patient_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.token or not turn.fresh:
            return {}
        current = tracker.get_slot("patient_choice")
        if current is not None and not turn.typed:
            return {}
        try:
            async with hub_for(tracker) as hub:
                children = await hub.list_dependents()
        except (LoginRequired, HubProblem, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        if not children:
            return {"patient_choice": "self", "patient_name": None} if current is None else {}
        if not turn.typed:
            return {}
        child = child_for(turn.text, children)
        if child is not None:
            if child["id"] == current:
                return {}
            name = f"{child['first_name']} {child['last_name']}"
            return {"patient_choice": child["id"], "patient_name": name}
        if turn.requested == "patient_choice" or _FOR_SELF.search(fold(turn.text)):
            # Asked "for whom?", a bare "mnie" is an answer; anywhere else (the first message,
            # a correction) only an explicit "dla mnie"/"for me" is.
            padded = " " + " ".join(re.findall(r"\w+", turn.text.lower())) + " "
            if current != "self" and any(f" {w.strip()} " in padded for w in SELF_WORDS):
                return {"patient_choice": "self", "patient_name": None}
        return {}

    async def extract_slot_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed or turn.requested != "slot_choice":
            return {}
        chosen = pick_from(offered(tracker), turn.text)
        return {"slot_choice": chosen} if chosen else {}

    # -- validation: normalise to the hub's codes --------------------------------------------

    async def validate_service_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = service_type_code(str(value)) if value else None
        if code is None:
            return {"service_type": None}
        result: dict[str, Any] = {"service_type": code}
        if code in IMPLIED_SPECIALTY:
            result.update(specialty=IMPLIED_SPECIALTY[code], physician_id=None, physician_name=None)
        elif tracker.get_slot("specialty") in IMPLIED_SPECIALTY.values():
            result["specialty"] = None
        if code != "examination":
            result["examination"] = None
        return result

    async def validate_specialty(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = specialty_code(str(value)) if value else None
        if code is None:
            language = language_of(tracker)
            if value:
                dispatcher.utter_message(text=say("hint_specialty", language))
            return {"specialty": None}
        return {"specialty": code}

    async def validate_examination(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = language_of(tracker)
        try:
            async with HubClient(None, language) as hub:
                services = await hub.list_services(service_type="examination")
        except (HubProblem, HubUnavailable) as error:
            return {"examination": None, **form_error(dispatcher, error, language)}
        known = [(s["code"], s["name_pl"], s["name_en"]) for s in services]
        code = examination_code(str(value), known) if value else None
        return {"examination": code}

    async def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = language_of(tracker)
        cities = await clinic_cities(language)
        city = city_name(str(value), cities) if value else None
        if city is None and value:
            dispatcher.utter_message(text=say("hint_city", language))
        return {"city": city}

    async def validate_preferred_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            first = iso_window({"preferred_date": value})[0] if isinstance(value, str) else None
        except ValueError:
            first = None  # a payload such as /inform{"preferred_date":"jutro"}: no ISO date
        if first is None:
            return {"preferred_date": None}
        if first < datetime.now(ZONE).date():
            dispatcher.utter_message(text=say("date_in_past", language_of(tracker)))
            return dict.fromkeys(DATE_SLOTS)
        result: dict[str, Any] = {"preferred_date": value}
        if tracker.get_slot("date_options"):
            # A button answering "4 czy 11 grudnia?": that one day, with the time asked before.
            result.update(date_end=first.isoformat(), date_options=None)
        return result

    async def validate_patient_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value == "self":
            return {"patient_choice": "self", "patient_name": None}
        language = language_of(tracker)
        try:
            async with hub_for(tracker) as hub:
                children = await hub.list_dependents()
        except (LoginRequired, HubProblem, HubUnavailable) as error:
            return {"patient_choice": None, **form_error(dispatcher, error, language)}
        child = next((c for c in children if c["id"] == str(value)), None)
        child = child or child_for(str(value), children)
        if child is not None:
            name = f"{child['first_name']} {child['last_name']}"
            return {"patient_choice": child["id"], "patient_name": name}
        dispatcher.utter_message(text=say("hint_patient_choice", language))
        return {"patient_choice": None}

    async def validate_slot_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if any(item["id"] == value for item in offered(tracker)):
            return {"slot_choice": value}
        dispatcher.utter_message(text=say("slot_hint", language_of(tracker)))
        return {"slot_choice": None}

    # -- the form's work ---------------------------------------------------------------------

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, turn: Turn
    ) -> dict[str, Any]:
        if not turn.token:
            dispatcher.utter_message(text=say("login_required", turn.language))
            return {"outcome": "login"}
        changes: dict[str, Any] = {}
        key = search_key(tracker)
        if tracker.get_slot("search_key") not in (None, key):
            # An earlier answer changed: the offered slots and the yes are void.
            changes.update(slot_choice=None, confirmed=None, offered_slots=None, search_key=None)
            tracker.slots.update(changes)
        needed = await self.needed_slots(tracker)
        before_choice = needed[: needed.index("slot_choice")]
        answered = all(tracker.get_slot(name) is not None for name in before_choice)
        if answered and tracker.get_slot("search_key") is None:
            changes.update(await self._offer(dispatcher, tracker, turn, key))
            tracker.slots.update(changes)
        if tracker.get_slot("confirmed") is True and tracker.get_slot("slot_choice"):
            changes.update(await self._book(dispatcher, tracker, turn))
        elif tracker.get_slot("confirmed") is False:
            dispatcher.utter_message(text=say("not_booked", turn.language))
            changes["outcome"] = "declined"
        return changes

    async def _offer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, key: str
    ) -> dict[str, Any]:
        try:
            async with hub_for(tracker) as hub:
                note, items = await find_slots(hub, tracker)
        except (HubProblem, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        if not items:
            what = what_text(tracker, turn.language)
            dispatcher.utter_message(text=say("no_slots", turn.language, what=what))
            return {"outcome": "no_slots"}
        return {"offered_slots": {"note": note, "items": items}, "search_key": key}

    async def _book(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn
    ) -> dict[str, Any]:
        slot_id = str(tracker.get_slot("slot_choice"))
        patient = tracker.get_slot("patient_choice")
        patient_id = None if patient in (None, "self") else str(patient)
        key = hashlib.sha256(f"{tracker.sender_id}:{slot_id}:{patient_id}".encode()).hexdigest()
        # After an overlap warning for this very slot, the patient's yes means "book both".
        insisted = overlap_warning_for(tracker, slot_id) is not None
        try:
            async with hub_for(tracker) as hub:
                appointment = await hub.book_appointment(
                    slot_id, patient_id, f"rasa-{key[:40]}", allow_overlap=insisted
                )
        except HubProblem as error:
            if error.code == "appointment_overlap" and not insisted:
                # The patient already has a visit then: say so and ask again, yes or no.
                warning = {"slot": slot_id, "text": error.title}
                return {"confirmed": None, "overlap_warning": warning}
            if error.code in RETRY_WITH_OTHER_SLOT:
                report_error(dispatcher, error, turn.language)
                return {"slot_choice": None, "confirmed": None, "search_key": None}
            return form_error(dispatcher, error, turn.language)
        except (LoginRequired, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        summary = appointment_summary(appointment, turn.language, tracker.get_slot("patient_name"))
        dispatcher.utter_message(text=say("booked", turn.language, summary=summary))
        return {"outcome": "booked"}


def overlap_warning_for(tracker: Tracker, slot_id: str) -> str | None:
    """The hub's ``appointment_overlap`` text when it was given for ``slot_id`` (a slot chosen
    since then needs its own check), else ``None``."""
    warning = tracker.get_slot("overlap_warning")
    if isinstance(warning, dict) and warning.get("slot") == slot_id:
        return str(warning.get("text") or "")
    return None


def appointment_summary(
    appointment: dict[str, Any], language: str, patient: str | None = None
) -> str:
    """An appointment from the hub, as :func:`slot_summary` words it."""
    return slot_summary(compact(appointment), language, patient)


async def clinic_cities(language: str) -> list[str]:
    """The cities with a clinic, from the hub (empty when it cannot be asked)."""
    try:
        async with HubClient(None, language) as hub:
            clinics = await hub.list_clinics()
    except (HubProblem, HubUnavailable) as error:
        # The static city table still recognises the network's cities.
        log.warning("clinic list failed: %s", error)
        return []
    return sorted({c["city"] for c in clinics})


# -- the questions of the form --------------------------------------------------------------


class ActionAskServiceType(Action):
    """Asks for the kind of service, with a button per type."""

    def name(self) -> str:
        return "action_ask_service_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        pairs = [
            (names[language], f'/inform{{"service_type":"{code}"}}')
            for code, names in SERVICE_TYPE_NAMES.items()
        ]
        ask(dispatcher, tracker, say("ask_service_type", language), pairs)
        return []


class ActionAskSpecialty(Action):
    """Asks for the specialty (or a physician's name)."""

    def name(self) -> str:
        return "action_ask_specialty"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ask(dispatcher, tracker, say("ask_specialty", language_of(tracker)))
        return []


class ActionAskExamination(Action):
    """Asks which examination, with the hub's examinations as buttons."""

    def name(self) -> str:
        return "action_ask_examination"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        try:
            async with HubClient(None, language) as hub:
                services = await hub.list_services(service_type="examination")
        except (HubProblem, HubUnavailable) as error:
            report_error(dispatcher, error, language)
            return []
        pairs = [(s["name"], f'/inform{{"examination":"{s["code"]}"}}') for s in services]
        ask(dispatcher, tracker, say("ask_examination", language), pairs)
        return []


class ActionAskCity(Action):
    """Asks for the city, with the clinics' cities as buttons."""

    def name(self) -> str:
        return "action_ask_city"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        cities = await clinic_cities(language)
        pairs = [(city, f'/inform{{"city":"{city}"}}') for city in cities]
        if cities:
            text = say("ask_city", language, cities=in_cities(cities, language))
        else:
            text = say("ask_city_plain", language)
        ask(dispatcher, tracker, text, pairs)
        return []


class ActionAskPreferredDate(Action):
    """Asks when; when rescheduling, names the visit being moved."""

    def name(self) -> str:
        return "action_ask_preferred_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        moving = tracker.get_slot("appointment_summary")
        options = tracker.get_slot("date_options") or []
        if options:
            self._ask_options(dispatcher, tracker, options)
        elif tracker.active_loop_name == "reschedule_form" and moving:
            ask(dispatcher, tracker, say("ask_preferred_date_reschedule", language, summary=moving))
        else:
            ask(dispatcher, tracker, say("ask_preferred_date", language))
        return []

    def _ask_options(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, options: list[str]
    ) -> None:
        """ "O który dzień chodzi: 4 czy 11 grudnia?" with a button per day."""
        language = language_of(tracker)
        days = [date.fromisoformat(day) for day in options]
        pairs = [
            (format_day(day, language), f'/inform{{"preferred_date":"{day.isoformat()}"}}')
            for day in days
        ]
        text = say("ask_date_options", language, options=day_choice(days, language))
        ask(dispatcher, tracker, text, pairs)


class ActionAskPatientChoice(Action):
    """Asks for whom: the patient or one of their children (listDependents), as buttons."""

    def name(self) -> str:
        return "action_ask_patient_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        pairs = [(say("patient_self", language), '/inform{"patient_choice":"self"}')]
        try:
            async with hub_for(tracker) as hub:
                children = await hub.list_dependents()
        except (LoginRequired, HubProblem, HubUnavailable) as error:
            report_error(dispatcher, error, language)
            return []
        pairs += [
            (f"{c['first_name']} {c['last_name']}", f'/inform{{"patient_choice":"{c["id"]}"}}')
            for c in children
        ]
        ask(dispatcher, tracker, say("ask_patient_choice", language), pairs)
        return []


class ActionAskSlotChoice(Action):
    """Offers the slots the form found, as buttons setting ``slot_choice``."""

    def name(self) -> str:
        return "action_ask_slot_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        value = tracker.get_slot("offered_slots") or {}
        items = offered(tracker)
        note = value.get("note", "offer_slots") if isinstance(value, dict) else "offer_slots"
        if note == "offer_slots":
            when = describe(tracker.slots, language)
            what = what_text(tracker, language) or tracker.get_slot("appointment_summary") or ""
            text = say(note, language, what=what, when=when)
        else:
            city = tracker.get_slot("city") or ""
            text = say(note, language, city=city, in_city=in_city(city, language))
        pairs = [
            (f"{n}. {slot_button_title(s, language)}", f'/inform{{"slot_choice":"{s["id"]}"}}')
            for n, s in enumerate(items, start=1)
        ]
        ask(dispatcher, tracker, text, pairs)
        return []


class ActionAskConfirmed(Action):
    """The explicit yes/no before the form acts: book, cancel, move or order."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        form = tracker.active_loop_name
        chosen = next(
            (s for s in offered(tracker) if s["id"] == tracker.get_slot("slot_choice")), None
        )
        if form == "cancel_form":
            text = say(
                "ask_confirmed_cancel", language, summary=tracker.get_slot("appointment_summary")
            )
        elif form == "reschedule_form" and chosen:
            text = say(
                "ask_confirmed_reschedule",
                language,
                old=tracker.get_slot("appointment_summary"),
                new=format_when(chosen["start"], language),
            )
        elif form == "prescription_form":
            medication = tracker.get_slot("prescription_summary") or {}
            text = say("ask_confirmed_prescription", language, **medication)
        elif chosen and overlap_warning_for(tracker, chosen["id"]):
            warning = overlap_warning_for(tracker, chosen["id"])
            text = say("ask_confirmed_overlap", language, warning=warning)
        elif chosen:
            summary = slot_summary(chosen, language, tracker.get_slot("patient_name"))
            text = say("ask_confirmed_booking", language, summary=summary)
        else:
            text = say("hint_confirmed", language)
        pairs = [(say("button_yes", language), "/affirm"), (say("button_no", language), "/deny")]
        ask(dispatcher, tracker, text, pairs)
        return []


class ActionAskContinueForm(Action):
    """After two answers the form could not use: go on or stop?"""

    def name(self) -> str:
        return "action_ask_continue_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        pairs = [
            (say("button_continue", language), "/affirm"),
            (say("button_stop", language), "/deny"),
        ]
        dispatcher.utter_message(text=say("continue_form", language), buttons=buttons(pairs))
        return []


class ActionFinishForm(Action):
    """After any form: forget its answers (the outcome was already told)."""

    def name(self) -> str:
        return "action_finish_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(name, None) for name in FORM_SLOTS]
