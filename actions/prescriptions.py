"""E-prescription renewal: pick the medication from ``listPrescriptions`` (buttons), confirm,
``orderPrescription``, and say what happens next. The physician decides; the assistant never
suggests a medication or a dose."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from .api import HubProblem, HubUnavailable, LoginRequired
from .booking import pick_from
from .common import form_error, hub_for, language_of
from .dates import ZONE, fold, format_day
from .forms import PortalForm, Turn, ask
from .texts import say


def renewable(history: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per medication (the latest prescription), without those already ordered."""
    pending = {
        fold(order["medication_name"])
        for order in history.get("orders") or []
        if order.get("status") == "pending"
    }
    latest: dict[str, dict[str, Any]] = {}
    for item in sorted(history.get("prescriptions") or [], key=lambda p: p["issued_at"]):
        if item.get("status") == "cancelled":
            continue
        latest[fold(item["medication_name"])] = item
    return [
        {
            "id": item["id"],
            "medication": item["medication_name"],
            "dosage": item["dosage"],
            "physician": item["physician"]["name"],
        }
        for name, item in sorted(latest.items())
        if name not in pending
    ]


def waiting(history: dict[str, Any]) -> list[dict[str, Any]]:
    """The renewal orders still waiting for the physician: order id, medication, since when."""
    return [
        {"id": order["id"], "medication": order["medication_name"], "since": order["created_at"]}
        for order in history.get("orders") or []
        if order.get("status") == "pending"
    ]


def _named(items: list[dict[str, Any]], text: str) -> dict[str, Any] | None:
    words = set(re.sub(r"[^\w\s]", " ", fold(text)).split())
    found = [i for i in items if fold(i["medication"]).split()[0] in words]
    return found[0] if len(found) == 1 else None


def medication_in(items: list[dict[str, Any]], text: str) -> str | None:
    """The prescription whose medication a typed reply names ("Euthyrox", "metformax")."""
    found = _named(items, text)
    return str(found["id"]) if found else None


def medications(tracker: Tracker) -> list[dict[str, Any]]:
    """The medications the form offered (``offered_prescriptions["items"]``)."""
    value = tracker.get_slot("offered_prescriptions") or {}
    # A list: a conversation from before the pending orders were kept beside it.
    return list(value.get("items") or []) if isinstance(value, dict) else list(value)


def pending(tracker: Tracker) -> list[dict[str, Any]]:
    """The renewal orders waiting for the physician, as the form found them."""
    value = tracker.get_slot("offered_prescriptions") or {}
    return list(value.get("pending") or []) if isinstance(value, dict) else []


def pending_text(order: dict[str, Any], language: str) -> str:
    """ "Zamówienie na Euthyrox N 50 już czeka na lekarza (od 2 grudnia)..."."""
    day = datetime.fromisoformat(order["since"]).astimezone(ZONE).date()
    # format_day reads "<weekday> <day> <month>"; "od 2 grudnia" wants the day and month.
    since = format_day(day, language).partition(" ")[2]
    return say("order_pending", language, medication=order["medication"], since=since)


def already_waiting(tracker: Tracker, turn: Turn) -> dict[str, Any] | None:
    """A typed reply that names only a medication already waiting for the physician."""
    if not turn.typed or medication_in(medications(tracker), turn.text):
        return None
    return _named(pending(tracker), turn.text)


class ValidatePrescriptionForm(PortalForm):
    """Slots of ``prescription_form``; orders on the patient's yes."""

    trigger_intent = "order_prescription"
    form_slots = ("continue_form", "prescription_choice", "confirmed")

    def name(self) -> str:
        return "validate_prescription_form"

    async def needed_slots(self, tracker: Tracker) -> list[str]:
        return ["prescription_choice", "confirmed"]

    async def extract_prescription_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if not turn.typed or tracker.get_slot("prescription_choice"):
            return {}
        items = medications(tracker)
        chosen = medication_in(items, turn.text)
        if chosen is None and turn.requested == "prescription_choice":
            chosen = pick_from(items, turn.text)
        if chosen is None and (order := already_waiting(tracker, turn)):
            # Named, but already ordered: say so and end, instead of ordering it twice.
            dispatcher.utter_message(text=pending_text(order, turn.language))
            return {"outcome": "pending"}
        return {"prescription_choice": chosen} if chosen else {}

    def validate_prescription_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        items = medications(tracker)
        for item in items:
            if item["id"] == value or fold(item["medication"]).startswith(fold(str(value))):
                summary = {k: item[k] for k in ("medication", "dosage", "physician")}
                return {"prescription_choice": item["id"], "prescription_summary": summary}
        if items:
            dispatcher.utter_message(text=say("hint_prescription_choice", language_of(tracker)))
        return {"prescription_choice": None}

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, turn: Turn
    ) -> dict[str, Any]:
        if not turn.token:
            dispatcher.utter_message(text=say("login_required", turn.language))
            return {"outcome": "login"}
        changes: dict[str, Any] = {}
        # Listed afresh when the form starts: action_finish_form does not clear the list
        # (common.FORM_SLOTS), and an order placed since must not be offered again.
        starting = turn.fresh and turn.requested is None
        if starting or tracker.get_slot("offered_prescriptions") is None:
            try:
                async with hub_for(tracker) as hub:
                    history = await hub.list_prescriptions()
            except (LoginRequired, HubProblem, HubUnavailable) as error:
                return form_error(dispatcher, error, turn.language)
            items, orders = renewable(history), waiting(history)
            changes["offered_prescriptions"] = {"items": items, "pending": orders}
            tracker.slots.update(changes)
            order = already_waiting(tracker, turn)
            if order is not None or (not items and orders):
                for each in [order] if order else orders:
                    dispatcher.utter_message(text=pending_text(each, turn.language))
                return {**changes, "outcome": "pending"}
            if not items:
                dispatcher.utter_message(text=say("no_prescriptions", turn.language))
                return {**changes, "outcome": "none"}
            named = medication_in(items, turn.text) if turn.typed else None
            candidate = named or tracker.get_slot("prescription_choice")
            if candidate:
                changes.update(
                    self.validate_prescription_choice(candidate, dispatcher, tracker, domain)
                )
                tracker.slots.update(changes)
        confirmed = tracker.get_slot("confirmed")
        if confirmed is False:
            dispatcher.utter_message(text=say("not_ordered", turn.language))
            changes["outcome"] = "declined"
        elif confirmed is True and tracker.get_slot("prescription_choice"):
            medication = tracker.get_slot("prescription_summary") or {}
            try:
                async with hub_for(tracker) as hub:
                    order = await hub.order_prescription(
                        str(tracker.get_slot("prescription_choice"))
                    )
            except (LoginRequired, HubProblem, HubUnavailable) as error:
                changes.update(form_error(dispatcher, error, turn.language))
                return changes
            dispatcher.utter_message(
                text=say(
                    "prescription_ordered",
                    turn.language,
                    medication=order.get("medication_name") or medication.get("medication", ""),
                    physician=(order.get("reviewer") or {}).get("name")
                    or medication.get("physician", ""),
                )
            )
            changes["outcome"] = "ordered"
        return changes


class ActionAskPrescriptionChoice(Action):
    """Offers the renewable medications as buttons setting ``prescription_choice``."""

    def name(self) -> str:
        return "action_ask_prescription_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        pairs = [
            (
                f"{item['medication']} – {item['dosage']}",
                f'/inform{{"prescription_choice":"{item["id"]}"}}',
            )
            for item in medications(tracker)
        ]
        ask(dispatcher, tracker, say("ask_prescription_choice", language), pairs)
        return []
