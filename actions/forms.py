"""The base of the assistant's form validation actions: one turn of a form, start to end.

Rasa's ``FormAction`` calls ``validate_<form>`` after every user message while the form is
active (and when it is resumed). :meth:`PortalForm.run` does, in order:

1. rejects the turn when the message is not an answer (an emergency, a question, a request
   for a human): the rules then answer it and, for questions, return to the form;
2. ``extract_<slot>`` methods read the raw text (dates, inflected names) for every slot the
   form still needs *and* for the ones already filled, so corrections ("no, Thursday
   instead", "actually a dermatologist") replace earlier answers;
3. ``validate_<slot>`` methods normalise candidates to the hub's codes;
4. :meth:`PortalForm.after_validation` does the form's own work (search, book, cancel);
5. an answer that filled nothing counts as invalid; after two, the form asks whether to go on;
6. the next slot to ask for is the first empty one of :meth:`PortalForm.needed_slots`; a set
   ``outcome`` slot ends the form (booked, refused, declined, stopped, login, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker, utils
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from .api import HubProblem, HubUnavailable, LoginRequired
from .common import form_error, hub_for, intent_of, is_payload, language_of, text_of, token_of
from .texts import TEXTS, buttons, say

# Replies that are meant as answers to the form's question.
ANSWER_INTENTS: frozenset[str] = frozenset({"inform", "affirm", "deny", "nlu_fallback"})
# Answers that count as invalid when they fill nothing ("deny" is a wish to stop: a rule).
COUNTED_INTENTS: frozenset[str] = frozenset({"inform", "affirm", "nlu_fallback"})
# Slots whose change is bookkeeping, not an answer.
BOOKKEEPING: frozenset[str] = frozenset(
    {REQUESTED_SLOT, "invalid_answers", "offered_slots", "search_key", "language", "outcome"}
)
MAX_INVALID = 2


@dataclass(frozen=True)
class Turn:
    """What the latest user message is, as far as a form cares."""

    language: str
    token: str | None
    intent: str | None
    text: str
    payload: bool
    fresh: bool
    """True when the form runs right after the user's message (not when it resumes after a
    rule answered a question in between)."""
    requested: str | None
    trigger: str = ""

    @classmethod
    def of(cls, tracker: Tracker, form_name: str, trigger: str = "") -> Turn:
        """Read the turn from the tracker the form validation action received."""
        text = text_of(tracker)
        return cls(
            language=language_of(tracker),
            token=token_of(tracker),
            intent=intent_of(tracker),
            text=text,
            payload=is_payload(text),
            fresh=_is_fresh(tracker, form_name),
            requested=tracker.get_slot(REQUESTED_SLOT),
            trigger=trigger,
        )

    @property
    def typed(self) -> bool:
        """A typed answer (not a button payload) to read free text from."""
        if not self.fresh or self.payload:
            return False
        return self.intent in ANSWER_INTENTS or self.intent == self.trigger


def _is_fresh(tracker: Tracker, form_name: str) -> bool:
    quiet = {form_name, "action_listen", "action_extract_slots", f"validate_{form_name}"}
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in ("bot", "action_execution_rejected"):
            return False
        if kind == "action" and event.get("name") not in quiet:
            return False
    return True


class PortalForm(FormValidationAction, ABC):
    """A form of the assistant; subclasses name their slots and do their work."""

    trigger_intent: str = ""
    """The intent that starts this form; it may also carry answers ("book a cardiologist")."""

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Every form ends with a yes/no confirmation; anything else asks again."""
        return {"confirmed": value if isinstance(value, bool) else None}

    form_slots: tuple[str, ...] = ()
    """Every slot the form may fill: extracted and validated on every turn, asked in the order
    :meth:`needed_slots` gives."""

    async def _extract(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.form_slots:
            extract = getattr(self, f"extract_{name}", None)
            if extract is None:
                continue
            result = await utils.call_potential_coroutine(extract(dispatcher, tracker, domain))
            found.update(result)
            # Later extractions see earlier ones (a physician's specialty, a new date).
            tracker.slots.update(result)
        return found

    @abstractmethod
    async def needed_slots(self, tracker: Tracker) -> list[str]:
        """The slots this form asks for, in order, given what is known so far."""

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, turn: Turn
    ) -> dict[str, Any]:
        """The form's own work once the answers are validated; returns slot changes."""
        return {}

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("outcome"):
            return []
        needed = await self.needed_slots(tracker)
        if (tracker.get_slot("invalid_answers") or 0) >= MAX_INVALID:
            return ["continue_form", *needed]
        return needed

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        if turn.fresh and turn.intent not in ANSWER_INTENTS | {self.trigger_intent}:
            # Not an answer: let the rules handle it (emergency, handoff, questions).
            return [ActionExecutionRejected(self.form_name())]
        said_before = len(dispatcher.messages)
        changes: dict[str, Any] = {}
        if turn.fresh and turn.requested is None and turn.token:
            # A new form: check the token once, so an expired one ends the form at once.
            try:
                async with hub_for(tracker) as hub:
                    await hub.get_me()
            except (LoginRequired, HubProblem, HubUnavailable) as error:
                changes.update(form_error(dispatcher, error, turn.language))
                tracker.slots.update(changes)
        if turn.fresh and not changes:
            changes.update(await self._extract(dispatcher, tracker, domain))
        candidates = {
            name: value
            for name, value in tracker.slots_to_validate().items()
            if name in self.form_slots
        }
        candidates.update(changes)
        for name, value in candidates.items():
            validate = getattr(self, f"validate_{name}", None)
            result = {name: value}
            if validate is not None and value is not None:
                result = await utils.call_potential_coroutine(
                    validate(value, dispatcher, tracker, domain)
                )
            changes.update(result)
            tracker.slots.update(result)
        if not tracker.get_slot("outcome"):
            extra = await self.after_validation(dispatcher, tracker, domain, turn)
            changes.update(extra)
            tracker.slots.update(extra)
        if turn.fresh and turn.requested and turn.intent in COUNTED_INTENTS:
            answered = any(
                value is not None and name not in BOOKKEEPING for name, value in changes.items()
            )
            if not answered and tracker.get_slot(turn.requested) is None:
                count = int(tracker.get_slot("invalid_answers") or 0) + 1
                changes["invalid_answers"] = count
                tracker.slots["invalid_answers"] = count
                hint = f"hint_{turn.requested}"
                if len(dispatcher.messages) == said_before and hint in TEXTS:
                    dispatcher.utter_message(text=say(hint, turn.language))
        required = await self.required_slots([], dispatcher, tracker, domain)
        missing = next((name for name in required if tracker.get_slot(name) is None), None)
        events: list[EventType] = [SlotSet(k, v) for k, v in changes.items()]
        events.append(SlotSet(REQUESTED_SLOT, missing))
        return events

    # -- the slot every form shares: go on after two invalid answers? -----------------------

    def validate_continue_form(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is False:
            dispatcher.utter_message(text=say("form_stopped", language_of(tracker)))
            return {"continue_form": False, "outcome": "stopped"}
        if value is True:
            return {"continue_form": None, "invalid_answers": 0}
        return {"continue_form": None}


def yes_no_buttons(language: str) -> list[dict[str, str]]:
    """Yes / No buttons answering with the affirm and deny intents."""
    return buttons(
        [(say("button_yes", language), "/affirm"), (say("button_no", language), "/deny")]
    )
