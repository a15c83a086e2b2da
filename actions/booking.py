"""Booking: the form that collects what, where, when and for whom, offers free slots as buttons,
and books the chosen one after an explicit yes (``bookAppointment``)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import HubClient, HubProblem, HubUnavailable, LoginRequired
from .common import FORM_SLOTS, form_error, hub_for, language_of, report_error
from .dates import ZONE, WhenParser, describe, format_when, iso_window
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
PHYSICIAN_MARKERS = ("dr", "doktor", "lek", "lekarz", "lekarki", "pani", "pana", "doctor", "prof")

_parser = WhenParser()


def parse_when(text: str, language: str) -> dict[str, Any] | None:
    """Slots for the date and time named in ``text`` (ISO strings), or ``None``."""
    if text.strip().isdigit():
        return None  # a bare number picks from a list; it is not a date
    found = _parser.parse(text, language, datetime.now(ZONE))
    return found.as_slots() if found else None


def search_key(tracker: Tracker) -> str:
    """What the offered slots were searched for; a change means a new search."""
    names = ("service_type", "specialty", "examination", "physician_id", "city", "preferred_date")
    names += ("date_end", "time_of_day", "appointment_choice")
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

    Tries the asked days and part of the day; then the same days at any time; later days;
    other cities; other physicians of the specialty. Returns the note that says which
    widening found them ("offer_slots", "offer_other_days", ...) and up to five slots.
    ``service`` and ``city`` fix the search to one service (rescheduling keeps the service).
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
    first, last, at = iso_window(tracker.slots)
    window = {
        "date_from": first.isoformat() if first else None,
        "date_to": last.isoformat() if last else None,
    }
    part = tracker.get_slot("time_of_day") if at is None else None
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("offer_slots", {**base, **window, "time_of_day": part})
    ]
    if part:
        attempts.append(("offer_other_times", {**base, **window}))
    attempts.append(("offer_other_days", {**base, "date_from": window["date_from"]}))
    attempts.append(("offer_other_days", base))
    if "city" in base:
        wider = {k: v for k, v in base.items() if k != "city"}
        attempts.append(("offer_other_cities", {**wider, **window}))
        attempts.append(("offer_other_cities", wider))
    if "physician_id" in base and tracker.get_slot("specialty"):
        wider = {k: v for k, v in base.items() if k != "physician_id"}
        wider["specialty"] = tracker.get_slot("specialty")
        attempts.append(("offer_other_physicians", {**wider, **window}))
        attempts.append(("offer_other_physicians", wider))
    for note, query in attempts:
        page = await hub.search_slots(**query)
        items = page.get("items") or []
        if items:
            if at is not None and note in ("offer_slots", "offer_other_times"):
                target = datetime.combine(first or datetime.now(ZONE).date(), at, ZONE)
                items.sort(
                    key=lambda s: abs((datetime.fromisoformat(s["start"]) - target).total_seconds())
                )
            return note, [compact(item) for item in items[:SLOTS_SHOWN]]
    return "no_slots", []


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


def pick_from(items: list[dict[str, Any]], text: str, key: str = "id") -> str | None:
    """The id an ordinal ("2", "drugi") or a clock time ("10:30") picks from ``items``."""
    position = ordinal(text)
    if position is not None and items:
        if position == -1:
            return str(items[-1][key])
        if 1 <= position <= len(items):
            return str(items[position - 1][key])
    at = clock_time(text)
    if at is not None:
        matching = [i for i in items if str(i.get("start", ""))[11:16] == at]
        if len(matching) == 1:
            return str(matching[0][key])
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
        if turn.requested == "slot_choice" and pick_from(offered(tracker), turn.text):
            return {}
        found = parse_when(turn.text, turn.language)
        if not found:
            return {}
        if all(tracker.get_slot(k) == v for k, v in found.items()):
            return {}
        return found

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
        if turn.requested == "patient_choice":
            padded = f" {turn.text.lower()} "
            if any(f" {w.strip()} " in padded for w in SELF_WORDS):
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
        first, _, _ = iso_window({"preferred_date": value})
        if first is None:
            return {"preferred_date": None}
        if first < datetime.now(ZONE).date():
            dispatcher.utter_message(text=say("date_in_past", language_of(tracker)))
            return {"preferred_date": None, "date_end": None, "time_of_day": None}
        return {"preferred_date": value}

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
        try:
            async with hub_for(tracker) as hub:
                appointment = await hub.book_appointment(slot_id, patient_id, f"rasa-{key[:40]}")
        except HubProblem as error:
            if error.code in RETRY_WITH_OTHER_SLOT:
                report_error(dispatcher, error, turn.language)
                return {"slot_choice": None, "confirmed": None, "search_key": None}
            return form_error(dispatcher, error, turn.language)
        except (LoginRequired, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        summary = appointment_summary(appointment, turn.language, tracker.get_slot("patient_name"))
        dispatcher.utter_message(text=say("booked", turn.language, summary=summary))
        return {"outcome": "booked"}


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
        if tracker.active_loop_name == "reschedule_form" and moving:
            ask(dispatcher, tracker, say("ask_preferred_date_reschedule", language, summary=moving))
        else:
            ask(dispatcher, tracker, say("ask_preferred_date", language))
        return []


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
