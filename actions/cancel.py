"""Cancelling and rescheduling: pick the visit from ``listAppointments`` (buttons when there are
several), confirm, then ``cancelAppointment`` or ``rescheduleAppointment``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import HubClient, HubProblem, HubUnavailable, LoginRequired
from .booking import (
    ValidateBookingForm,
    compact,
    find_slots,
    offered,
    pick_from,
    search_key,
)
from .common import form_error, hub_for, language_of, report_error
from .dates import ZONE, format_when
from .forms import PortalForm, Turn, ask
from .texts import RETRY_WITH_OTHER_SLOT, say
from .vocabulary import specialty_code

ACTIVE_STATUSES = ("booked", "confirmed", "scheduled")


def compact_appointment(appointment: dict[str, Any]) -> dict[str, Any]:
    """The parts of an appointment the conversation keeps (``offered_appointments``)."""
    return {**compact(appointment), "patient": appointment["patient"]["name"]}


def appointment_line(item: dict[str, Any], language: str) -> str:
    """ "czw. 3 grudnia, 10:00 – Wizyta u internisty, dr X (Jan Nowicki)"."""
    where = f", {item['clinic_name']}" if item.get("clinic_name") else ""
    return (
        f"{format_when(item['start'], language)} – {item['service']}, {item['physician']}"
        f"{where} ({item['patient']})"
    )


async def upcoming(hub: HubClient) -> list[dict[str, Any]]:
    """The patient's (and children's) visits still to come, soonest first."""
    now = datetime.now(ZONE)
    found = await hub.list_appointments("upcoming")
    return [
        compact_appointment(a)
        for a in found
        if a.get("status") in ACTIVE_STATUSES and datetime.fromisoformat(a["start"]) > now
    ]


def appointments(tracker: Tracker) -> list[dict[str, Any]]:
    """The visits the form listed (``offered_appointments``)."""
    return list(tracker.get_slot("offered_appointments") or [])


def narrow(items: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Visits a typed request points at ("odwołaj wizytę u kardiologa")."""
    code = specialty_code(text)
    if code is None:
        return items
    stem = code.split("-")[0][:6]
    matching = [i for i in items if stem in i["service_code"]]
    return matching or items


class AppointmentForm(PortalForm):
    """Shared by cancelling and rescheduling: which visit."""

    intro_key = "ask_appointment_cancel"

    async def extract_appointment_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed or turn.requested != "appointment_choice":
            return {}
        chosen = pick_from(appointments(tracker), turn.text)
        return {"appointment_choice": chosen} if chosen else {}

    def validate_appointment_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = language_of(tracker)
        for item in appointments(tracker):
            if item["id"] == value:
                return {
                    "appointment_choice": value,
                    "appointment_summary": appointment_line(item, language),
                }
        dispatcher.utter_message(text=say("hint_appointment_choice", language))
        return {"appointment_choice": None}

    async def choose_appointment(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn
    ) -> dict[str, Any]:
        """List the visits once; pick the only one (or the one the request names)."""
        # Listed afresh when the form starts: an earlier form's list may hold a visit cancelled
        # since (action_finish_form does not clear ``offered_appointments``).
        starting = turn.fresh and turn.requested is None
        if not starting and (
            tracker.get_slot("appointment_choice") or tracker.get_slot("offered_appointments")
        ):
            return {}
        try:
            async with hub_for(tracker) as hub:
                items = await upcoming(hub)
        except (LoginRequired, HubProblem, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        if not items:
            dispatcher.utter_message(text=say("no_upcoming", turn.language))
            return {"outcome": "none"}
        candidates = narrow(items, turn.text) if not turn.payload else items
        changes: dict[str, Any] = {"offered_appointments": items}
        if len(candidates) == 1:
            only = candidates[0]
            changes["appointment_choice"] = only["id"]
            changes["appointment_summary"] = appointment_line(only, turn.language)
        return changes

    def chosen(self, tracker: Tracker) -> dict[str, Any] | None:
        """The visit the patient picked."""
        wanted = tracker.get_slot("appointment_choice")
        return next((i for i in appointments(tracker) if i["id"] == wanted), None)


class ValidateCancelForm(AppointmentForm):
    """Slots of ``cancel_form``; cancels on the patient's yes."""

    trigger_intent = "cancel_appointment"
    form_slots = ("continue_form", "appointment_choice", "confirmed")

    def name(self) -> str:
        return "validate_cancel_form"

    async def needed_slots(self, tracker: Tracker) -> list[str]:
        return ["appointment_choice", "confirmed"]

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, turn: Turn
    ) -> dict[str, Any]:
        if not turn.token:
            dispatcher.utter_message(text=say("login_required", turn.language))
            return {"outcome": "login"}
        changes = await self.choose_appointment(dispatcher, tracker, turn)
        tracker.slots.update(changes)
        if changes.get("outcome"):
            return changes
        confirmed = tracker.get_slot("confirmed")
        if confirmed is False:
            dispatcher.utter_message(text=say("not_cancelled", turn.language))
            changes["outcome"] = "declined"
        elif confirmed is True and tracker.get_slot("appointment_choice"):
            summary = tracker.get_slot("appointment_summary")
            try:
                async with hub_for(tracker) as hub:
                    await hub.cancel_appointment(str(tracker.get_slot("appointment_choice")))
            except (LoginRequired, HubProblem, HubUnavailable) as error:
                changes.update(form_error(dispatcher, error, turn.language))
                return changes
            dispatcher.utter_message(text=say("cancelled", turn.language, summary=summary))
            changes["outcome"] = "cancelled"
        return changes


class ValidateRescheduleForm(AppointmentForm, ValidateBookingForm):
    """Slots of ``reschedule_form``: which visit, when instead, which slot; then moves it."""

    trigger_intent = "reschedule_appointment"
    form_slots = (
        "continue_form",
        "appointment_choice",
        "preferred_date",
        "slot_choice",
        "confirmed",
    )

    def name(self) -> str:
        return "validate_reschedule_form"

    async def needed_slots(self, tracker: Tracker) -> list[str]:
        return ["appointment_choice", "preferred_date", "slot_choice", "confirmed"]

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, turn: Turn
    ) -> dict[str, Any]:
        if not turn.token:
            dispatcher.utter_message(text=say("login_required", turn.language))
            return {"outcome": "login"}
        changes = await self.choose_appointment(dispatcher, tracker, turn)
        tracker.slots.update(changes)
        if changes.get("outcome"):
            return changes
        key = search_key(tracker)
        if tracker.get_slot("search_key") not in (None, key):
            changes.update(slot_choice=None, confirmed=None, offered_slots=None, search_key=None)
            tracker.slots.update(changes)
        visit = self.chosen(tracker)
        if visit and tracker.get_slot("preferred_date") and tracker.get_slot("search_key") is None:
            try:
                async with HubClient(None, turn.language) as hub:
                    note, items = await find_slots(
                        hub, tracker, service=visit["service_code"], city=visit.get("city")
                    )
            except (HubProblem, HubUnavailable) as error:
                changes.update(form_error(dispatcher, error, turn.language))
                return changes
            if not items:
                dispatcher.utter_message(text=say("no_slots", turn.language, what=visit["service"]))
                changes["outcome"] = "no_slots"
                return changes
            changes.update(offered_slots={"note": note, "items": items}, search_key=key)
            tracker.slots.update(changes)
        confirmed = tracker.get_slot("confirmed")
        if confirmed is False:
            dispatcher.utter_message(text=say("not_rescheduled", turn.language))
            changes["outcome"] = "declined"
        elif confirmed is True and visit and tracker.get_slot("slot_choice"):
            changes.update(await self._move(dispatcher, tracker, turn, visit))
        return changes

    async def _move(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, visit: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            async with hub_for(tracker) as hub:
                moved = await hub.reschedule_appointment(
                    visit["id"], str(tracker.get_slot("slot_choice"))
                )
        except HubProblem as error:
            if error.code in RETRY_WITH_OTHER_SLOT:
                report_error(dispatcher, error, turn.language)
                return {"slot_choice": None, "confirmed": None, "search_key": None}
            return form_error(dispatcher, error, turn.language)
        except (LoginRequired, HubUnavailable) as error:
            return form_error(dispatcher, error, turn.language)
        summary = appointment_line(compact_appointment(moved), turn.language)
        dispatcher.utter_message(text=say("rescheduled", turn.language, summary=summary))
        return {"outcome": "rescheduled"}


class ActionAskAppointmentChoice(Action):
    """Offers the upcoming visits as buttons setting ``appointment_choice``."""

    def name(self) -> str:
        return "action_ask_appointment_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        key = (
            "ask_appointment_reschedule"
            if tracker.active_loop_name == "reschedule_form"
            else "ask_appointment_cancel"
        )
        pairs = [
            (
                f"{n}. {appointment_line(item, language)}",
                f'/inform{{"appointment_choice":"{item["id"]}"}}',
            )
            for n, item in enumerate(appointments(tracker), start=1)
        ]
        ask(dispatcher, tracker, say(key, language), pairs)
        return []


__all__ = [
    "ActionAskAppointmentChoice",
    "ValidateCancelForm",
    "ValidateRescheduleForm",
    "offered",
]
