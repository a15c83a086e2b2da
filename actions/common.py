"""What every action shares (the patient's language and token, hub errors) and the small actions:
session start, the language slot, fallback, handoff, clearing forms.

The chat bridge sends every message with metadata ``{"language": "pl"|"en", "access_token":
...}``. The token is read from the latest user message each time and never stored in a slot,
so it never lands in the tracker store.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from .api import HubClient, HubProblem, HubUnavailable, LoginRequired
from .texts import buttons, explain, lang_of, say

log = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"

# Slots of the forms, cleared when a form ends in any way.
FORM_SLOTS = (
    "service_type",
    "specialty",
    "physician_id",
    "physician_name",
    "examination",
    "city",
    "preferred_date",
    "date_end",
    "time_of_day",
    "time_from",
    "time_to",
    "exclude_weekdays",
    "date_options",
    "patient_choice",
    "patient_name",
    "slot_choice",
    "offered_slots",
    "overlap_warning",
    "search_key",
    "appointment_choice",
    "appointment_summary",
    "prescription_choice",
    "prescription_summary",
    "confirmed",
    "continue_form",
    "invalid_answers",
    "outcome",
)


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata of the latest user message (from ``latest_message`` or the event list)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    if isinstance(metadata, dict) and metadata:
        return metadata
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            found = event.get("metadata")
            return found if isinstance(found, dict) else {}
    return {}


def language_of(tracker: Tracker) -> str:
    """The patient's language: this message's metadata, else the slot, else Polish."""
    language = latest_metadata(tracker).get("language")
    if language in ("pl", "en"):
        return str(language)
    return lang_of(tracker.get_slot(LANGUAGE_SLOT))


def token_of(tracker: Tracker) -> str | None:
    """The bearer token the chat bridge put in the latest message's metadata, if any."""
    token = latest_metadata(tracker).get("access_token")
    return str(token) if isinstance(token, str) and token.strip() else None


def hub_for(tracker: Tracker) -> HubClient:
    """A hub client acting as this conversation's patient."""
    return HubClient(token_of(tracker), language_of(tracker))


def intent_of(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def text_of(tracker: Tracker) -> str:
    """The latest user message's text ("" for none)."""
    return str((tracker.latest_message or {}).get("text") or "")


def is_payload(text: str) -> bool:
    """Whether the text is a button payload ("/inform{...}") rather than typed words."""
    return text.strip().startswith("/")


AUTH_CODES = frozenset({"authentication_required", "token_invalid", "session_expired"})


def report_error(dispatcher: CollectingDispatcher, error: Exception, language: str) -> None:
    """Tell the patient why the hub said no (or could not be asked), with the next step."""
    if isinstance(error, LoginRequired):
        dispatcher.utter_message(text=say("login_required", language))
    elif isinstance(error, HubProblem):
        dispatcher.utter_message(text=explain(error, language))
    elif isinstance(error, HubUnavailable):
        log.warning("hub unavailable: %s", error)
        dispatcher.utter_message(text=say("hub_unavailable", language))
    else:
        raise error


def form_error(dispatcher: CollectingDispatcher, error: Exception, language: str) -> dict[str, Any]:
    """Report a hub error inside a form and end the form: ``outcome`` "login" when the patient
    must log in (again), "refused" otherwise."""
    report_error(dispatcher, error, language)
    needs_login = isinstance(error, LoginRequired) or (
        isinstance(error, HubProblem) and (error.status == 401 or error.code in AUTH_CODES)
    )
    return {"outcome": "login" if needs_login else "refused"}


async def with_hub(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    work: Callable[[HubClient, str], Awaitable[list[EventType]]],
) -> list[EventType]:
    """Run ``work(hub, language)``; hub errors become a polite message instead of a crash."""
    language = language_of(tracker)
    try:
        async with hub_for(tracker) as hub:
            return await work(hub, language)
    except (LoginRequired, HubProblem, HubUnavailable) as error:
        report_error(dispatcher, error, language)
        return []


class ActionSessionStart(Action):
    """Starts a session with the language from the first message's metadata."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        metadata = tracker.get_slot("session_started_metadata") or {}
        language = metadata.get("language") if isinstance(metadata, dict) else None
        if language in ("pl", "en"):
            events.append(SlotSet(LANGUAGE_SLOT, language))
        # Carry the language over from the previous session when this one has none.
        elif tracker.get_slot(LANGUAGE_SLOT) in ("pl", "en"):
            events.append(SlotSet(LANGUAGE_SLOT, tracker.get_slot(LANGUAGE_SLOT)))
        events.append(ActionExecuted("action_listen"))
        return events


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message: the ``language`` slot follows the message metadata."""

    def domain_slots(self, domain: DomainDict) -> list[str]:
        # Only the language is a global custom slot; the forms validate their own slots.
        return [LANGUAGE_SLOT]

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = latest_metadata(tracker).get("language")
        if language in ("pl", "en") and language != tracker.get_slot(LANGUAGE_SLOT):
            return {LANGUAGE_SLOT: language}
        return {}

    def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {LANGUAGE_SLOT: value if value in ("pl", "en") else "pl"}


class ActionFallback(Action):
    """NLU fallback: ask to rephrase; after a second failure in a row, offer the likely next
    steps as buttons, reception and stop."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        misses = 0
        for event in reversed(tracker.events or []):
            if event.get("event") != "user":
                continue
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent != "nlu_fallback":
                break
            misses += 1
        if misses >= 2:
            dispatcher.utter_message(
                text=say("fallback_human", language),
                buttons=buttons(
                    [
                        (say("button_book", language), "/book_appointment"),
                        (say("button_visits", language), "/list_appointments"),
                        (say("button_prescription", language), "/order_prescription"),
                        (say("button_help", language), "/help"),
                        (say("button_human", language), "/human_handoff"),
                        # Outside a form, "no" answers "all right, write when you need me".
                        (say("button_stop", language), "/deny"),
                    ]
                ),
            )
        else:
            dispatcher.utter_message(text=say("fallback_rephrase", language))
        return []


class ActionHandoff(Action):
    """Hands the conversation to reception: ``{"handoff": true}`` for the chat bridge.

    The rule runs ``utter_handoff`` (the patient-facing message) just before this action.
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(json_message={"handoff": True})
        return [SlotSet(name, None) for name in FORM_SLOTS]


class ActionClearForms(Action):
    """Forgets a stopped form's answers so the next form starts clean."""

    def name(self) -> str:
        return "action_clear_forms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(name, None) for name in FORM_SLOTS]


BOOKING_ENTITIES = frozenset({"specialty", "service_type", "examination", "city"})


class ActionInformOutside(Action):
    """An answer with no question before it: "a dermatologist" starts booking, a medication
    starts a renewal, anything else gets the menu."""

    def name(self) -> str:
        return "action_inform_outside"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        entities = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        if entities & BOOKING_ENTITIES:
            return [FollowupAction("booking_form")]
        if "medication" in entities:
            return [FollowupAction("prescription_form")]
        dispatcher.utter_message(text=say("inform_outside", language_of(tracker)))
        return []
