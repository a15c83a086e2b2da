"""The base of the assistant's form validation actions: one turn of a form, start to end.

Rasa's ``FormAction`` calls ``validate_<form>`` after every user message while the form is
active (and when it is resumed). :meth:`PortalForm.run` does, in order:

1. handles the repair commands by their text, whatever the intent (except ``emergency``):
   "wróć"/"go back" (ask the previous question again), "zmień miasto"/"change the city" (and
   the date, specialist, person, ...), "od nowa"/"start over" (the first question again);
2. rejects the turn when the message is not an answer (an emergency, a question, a request
   for a human): the rules then answer it and, for questions, return to the form;
3. ``extract_<slot>`` methods read the raw text (dates, inflected names) for every slot the
   form still needs *and* for the ones already filled, so corrections ("no, Thursday
   instead", "actually a dermatologist") replace earlier answers;
4. ``validate_<slot>`` methods normalise candidates to the hub's codes;
5. :meth:`PortalForm.after_validation` does the form's own work (search, book, cancel);
6. a typed answer that replaced an earlier different one is acknowledged ("Zmieniam na
   Gdańsk."); an answer that filled nothing counts as invalid, one that filled something
   resets the count; after two in a row the question is asked again with the repair buttons
   (:func:`ask`): its own choices, reception and stop;
7. the next slot to ask for is the first empty one of :meth:`PortalForm.needed_slots`; a set
   ``outcome`` slot ends the form (booked, refused, declined, stopped, login, ...).
"""

from __future__ import annotations

import dataclasses
import re
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
from .dates import describe, fold
from .texts import (
    SERVICE_TYPE_ACCUSATIVE_PL,
    SERVICE_TYPE_NAMES,
    SPECIALTY_ACCUSATIVE_PL,
    SPECIALTY_NAMES,
    TEXTS,
    buttons,
    changed_city,
    say,
)
from .vocabulary import IMPLIED_SPECIALTY

# Replies that are meant as answers to the form's question.
ANSWER_INTENTS: frozenset[str] = frozenset({"inform", "affirm", "deny", "nlu_fallback"})
# Answers that count as invalid when they fill nothing ("deny" is a wish to stop: a rule).
COUNTED_INTENTS: frozenset[str] = frozenset({"inform", "affirm", "nlu_fallback"})
# Slots whose change is bookkeeping, not an answer.
BOOKKEEPING: frozenset[str] = frozenset(
    {REQUESTED_SLOT, "invalid_answers", "offered_slots", "search_key", "language", "outcome"}
)
MAX_INVALID = 2

# What one answer consists of: clearing the answer clears all of these.
ANSWER_PARTS: dict[str, tuple[str, ...]] = {
    "service_type": ("service_type", "examination"),
    "specialty": ("specialty", "physician_id", "physician_name"),
    "examination": ("examination",),
    "city": ("city",),
    "preferred_date": (
        "preferred_date",
        "date_end",
        "time_of_day",
        "time_from",
        "time_to",
        "exclude_weekdays",
        "date_options",
    ),
    "patient_choice": ("patient_choice", "patient_name"),
    "slot_choice": ("slot_choice",),
    "confirmed": ("confirmed",),
    "appointment_choice": ("appointment_choice", "appointment_summary"),
    "prescription_choice": ("prescription_choice", "prescription_summary"),
}


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
    # action_inform_outside starts a form from a bare answer ("teleporada u internisty jak
    # najszybciej") without saying anything: the form still reads that message.
    quiet = {
        form_name,
        "action_listen",
        "action_extract_slots",
        f"validate_{form_name}",
        "action_inform_outside",
    }
    for event in reversed(tracker.events or []):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind in ("bot", "action_execution_rejected"):
            return False
        if kind == "action" and event.get("name") not in quiet:
            return False
    return True


# -- repair commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    """A repair command: ``back``, ``restart``, or ``change`` one of ``slots`` (the first of
    them the form has)."""

    kind: str
    slots: tuple[str, ...] = ()


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that do not change what a short command means ("no, go back please").
_FILLERS = _word_set(
    "prosze please pls plz ok okej okay dobra dobrze jednak a moze no nie hmm to the an lets "
    "let us can could we i want wanna chce chcialbym chcialabym mozemy mozna sie jeszcze raz"
)
_CHANGE_WORDS = _word_set(
    "zmien zmienmy zmienic zmiana inny inna inne innego innej innym nowy nowa nowe change "
    "another different other new"
)
# Folded words naming what to change -> the slots they may mean (the first one the form has).
_NOUNS: dict[str, tuple[str, ...]] = {
    word: slots
    for slots, words in (
        (("city",), "miasto miasta miescie miejscowosc city town"),
        (("preferred_date",), "termin terminu data date daty dzien dnia day godzine godzina time"),
        (
            ("specialty",),
            "specjaliste specjalista specjalisty specjalizacje specjalizacja specjalizacji "
            "lekarza lekarz lekarke lekarka doktora doktor doctor physician specialist specialty "
            "speciality",
        ),
        (("patient_choice",), "osobe osoba osoby pacjenta pacjent patient person"),
        (("service_type",), "usluge usluga uslugi rodzaj typ service type kind"),
        (("examination",), "badanie badania examination exam test"),
        (("prescription_choice",), "lek leku lekarstwo medication medicine drug"),
        (("appointment_choice", "service_type"), "wizyte wizyta wizyty visit appointment"),
    )
    for word in words.split()
}


def _command_words(text: str) -> list[str]:
    words = re.sub(r"[^\w\s]", " ", fold(text)).split()
    return [w for w in words if w not in _FILLERS]


def _phrases(*texts: str) -> frozenset[str]:
    return frozenset(" ".join(_command_words(text)) for text in texts)


_BACK = _phrases(
    "wróć",
    "cofnij",
    "wstecz",
    "poprzednie pytanie",
    "wróć do poprzedniego pytania",
    "cofnij do poprzedniego pytania",
    "back",
    "go back",
    "previous question",
    "go back to the previous question",
    "back to the previous question",
    "go back one step",
)
_RESTART = _phrases(
    "od nowa",
    "zacznij od nowa",
    "zacznijmy od nowa",
    "od początku",
    "zacznij od początku",
    "zacznijmy od początku",
    "start over",
    "start over again",
    "start again",
    "restart",
    "start from scratch",
    "start from the beginning",
    "from the beginning",
)
_SOMEONE_ELSE = _phrases(
    "dla kogoś innego",
    "dla kogo innego",
    "dla innej osoby",
    "zmień dla kogo",
    "zmień dla kogo jest wizyta",
    "for someone else",
    "for somebody else",
    "for another person",
    "change who it is for",
    "change who it's for",
    "change for whom",
)


def repair_command(text: str) -> Repair | None:
    """The repair command a short typed message is, if it is one; a message that also carries
    an answer ("zmień miasto na Gdańsk") is no command: the form reads it as a correction."""
    words = _command_words(text)
    if not words or len(words) > 6:
        return None
    phrase = " ".join(words)
    if phrase in _BACK:
        return Repair("back")
    if phrase in _RESTART:
        return Repair("restart")
    if phrase in _SOMEONE_ELSE:
        return Repair("change", ("patient_choice",))
    if words[0] in _CHANGE_WORDS and len(words) > 1 and all(w in _NOUNS for w in words[1:]):
        return Repair("change", _NOUNS[words[1]])
    return None


def _asked_in_form(tracker: Tracker, form_name: str) -> list[str]:
    """The slots the form asked for since it was last activated, oldest first."""
    asked: list[str] = []
    for event in reversed(tracker.events or []):
        if event.get("event") == "active_loop" and event.get("name") == form_name:
            break
        is_question = event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT
        if is_question and event.get("value"):
            asked.append(str(event["value"]))
    return asked[::-1]


# -- acknowledging a correction --------------------------------------------------------------

_ACKNOWLEDGED = (
    "service_type",
    "specialty",
    "physician_id",
    "physician_name",
    "city",
    "preferred_date",
    "date_end",
    "time_of_day",
    "time_from",
    "time_to",
    "exclude_weekdays",
    "patient_choice",
    "patient_name",
)
_DATE_PARTS = (
    "preferred_date",
    "date_end",
    "time_of_day",
    "time_from",
    "time_to",
    "exclude_weekdays",
)


def _values_before_turn(tracker: Tracker) -> dict[str, Any]:
    """The acknowledged slots as they were before the latest user message: the last value set
    before it; a slot first set after it (a candidate) had none."""
    set_after: set[str] = set()
    found: dict[str, Any] = {}
    passed_user = False
    for event in reversed(tracker.events or []):
        kind, name = event.get("event"), event.get("name")
        if not passed_user:
            if kind == "user":
                passed_user = True
            elif kind == "slot":
                set_after.add(str(name))
            continue
        if kind == "slot" and name in _ACKNOWLEDGED and name not in found:
            found[str(name)] = event.get("value")
    for name in _ACKNOWLEDGED:
        if name not in found:
            found[name] = None if name in set_after else tracker.slots.get(name)
    return found


def acknowledgement(before: dict[str, Any], tracker: Tracker, language: str) -> str:
    """ "Zmieniam na Gdańsk." for every answer that replaced an earlier, different one."""
    now = {name: tracker.get_slot(name) for name in _ACKNOWLEDGED}

    def replaced(*names: str) -> bool:
        old, new = tuple(before[n] for n in names), tuple(now[n] for n in names)
        return before[names[0]] is not None and now[names[0]] is not None and old != new

    said: list[str] = []
    pl = language == "pl"
    if replaced("service_type"):
        code = str(now["service_type"])
        names = SERVICE_TYPE_NAMES.get(code, {})
        service = SERVICE_TYPE_ACCUSATIVE_PL.get(code, code) if pl else names.get("en", code)
        said.append(say("changed_service_type", language, service=service))
    if now["physician_id"] and now["physician_id"] != before["physician_id"]:
        if before["physician_id"] or before["specialty"]:
            said.append(say("changed_physician", language, name=now["physician_name"] or ""))
    elif replaced("specialty") and not replaced("service_type"):
        code = str(now["specialty"])
        names = SPECIALTY_NAMES.get(code, {})
        specialty = SPECIALTY_ACCUSATIVE_PL.get(code, code) if pl else names.get("en", code)
        said.append(say("changed_specialty", language, specialty=specialty))
    if replaced("city"):
        said.append(changed_city(str(now["city"]), language))
    if replaced(*_DATE_PARTS):
        said.append(say("changed_date", language, when=describe(tracker.slots, language)))
    if replaced("patient_choice", "patient_name"):
        if now["patient_choice"] == "self":
            said.append(say("changed_patient_self", language))
        else:
            said.append(say("changed_patient", language, name=now["patient_name"] or ""))
    return " ".join(said)


# -- asking a question, with the repair buttons after two misunderstandings ------------------

# Likely answers to the questions that have no buttons of their own.
SUGGESTED_SPECIALTIES = ("internal-medicine", "family-medicine", "paediatrics", "cardiology")


def repairing(tracker: Tracker) -> bool:
    """Whether the last two answers in a row could not be used."""
    return int(tracker.get_slot("invalid_answers") or 0) >= MAX_INVALID


def suggestions(slot: str | None, language: str) -> list[tuple[str, str]]:
    """Buttons for a free-text question: a few specialties, "as soon as possible"."""
    if slot == "specialty":
        return [
            (SPECIALTY_NAMES[code][language].capitalize(), f'/inform{{"specialty":"{code}"}}')
            for code in SUGGESTED_SPECIALTIES
        ]
    if slot == "preferred_date":
        # Sent as typed text, so the form's date reading takes it like any other answer.
        title = say("button_asap", language)
        return [(title, title.lower())]
    return []


def ask(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    pairs: list[tuple[str, str]] | None = None,
) -> None:
    """Ask the form's question; after two answers in a row it could not use, say so and add
    suggestions (for a question without buttons), reception and stop to its own buttons."""
    choices = list(pairs or [])
    if repairing(tracker):
        language = language_of(tracker)
        text = f"{say('repair_prompt', language)}\n{text}"
        if not choices:
            choices = suggestions(tracker.get_slot(REQUESTED_SLOT), language)
        repair = [
            (say("button_human", language), "/human_handoff"),
            (say("button_stop", language), "/deny"),
        ]
        # The confirmation's own "No" already stops.
        choices += [pair for pair in repair if pair[1] not in {p for _, p in choices}]
    if choices:
        dispatcher.utter_message(text=text, buttons=buttons(choices))
    else:
        dispatcher.utter_message(text=text)


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
        return await self.needed_slots(tracker)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn.of(tracker, self.form_name(), self.trigger_intent)
        command = None
        if turn.fresh and turn.requested and not turn.payload and turn.intent != "emergency":
            command = repair_command(turn.text)
        if command is not None:
            changes = await self._repair(command, dispatcher, tracker, domain, turn)
            return await self._finish(changes, dispatcher, tracker, domain)
        if turn.fresh and turn.intent not in ANSWER_INTENTS | {self.trigger_intent}:
            # Not an answer: let the rules handle it (emergency, handoff, questions).
            return [ActionExecutionRejected(self.form_name())]
        said_before = len(dispatcher.messages)
        before = _values_before_turn(tracker)
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
        if turn.typed and turn.requested:
            said = acknowledgement(before, tracker, turn.language)
            if said:
                dispatcher.utter_message(text=said)
                # Before anything else this turn says: the change, then what follows from it.
                dispatcher.messages.insert(said_before, dispatcher.messages.pop())
        if turn.fresh and turn.requested and turn.intent in COUNTED_INTENTS:
            changes.update(self._count(changes, dispatcher, tracker, turn, said_before))
        return await self._finish(changes, dispatcher, tracker, domain)

    def _count(
        self,
        changes: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        turn: Turn,
        said_before: int,
    ) -> dict[str, Any]:
        """Count an answer that filled nothing; one that filled something resets the count."""
        answered = any(
            value is not None and name not in BOOKKEEPING for name, value in changes.items()
        )
        count = int(tracker.get_slot("invalid_answers") or 0)
        if answered or tracker.get_slot(str(turn.requested)) is not None:
            result = {"invalid_answers": 0} if count else {}
        else:
            count += 1
            result = {"invalid_answers": count}
            hint = f"hint_{turn.requested}"
            quiet = len(dispatcher.messages) == said_before
            # From the second miss on, the question itself says so (see ``ask``).
            if quiet and count < MAX_INVALID and hint in TEXTS:
                dispatcher.utter_message(text=say(hint, turn.language))
        tracker.slots.update(result)
        return result

    async def _finish(
        self,
        changes: dict[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        required = await self.required_slots([], dispatcher, tracker, domain)
        missing = next((name for name in required if tracker.get_slot(name) is None), None)
        events: list[EventType] = [SlotSet(k, v) for k, v in changes.items()]
        events.append(SlotSet(REQUESTED_SLOT, missing))
        return events

    # -- repair: back, change, start over ------------------------------------------------------

    def _parts(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        """The slots to clear to forget the answer to ``slot``, and what follows from it."""
        cleared = dict.fromkeys(ANSWER_PARTS.get(slot, (slot,)))
        if slot == "service_type" and tracker.get_slot("specialty") in IMPLIED_SPECIALTY.values():
            cleared["specialty"] = None
        if slot != "confirmed":
            cleared.update(confirmed=None)
        if slot not in ("slot_choice", "confirmed"):
            cleared.update(slot_choice=None)
        return cleared

    async def _repair(
        self,
        command: Repair,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        turn: Turn,
    ) -> dict[str, Any]:
        language = turn.language
        changes: dict[str, Any] = {"invalid_answers": 0}
        if command.kind == "restart":
            for slot in self.form_slots:
                if slot != "continue_form":
                    changes.update(self._parts(slot, tracker))
            changes.update(offered_slots=None, search_key=None)
            dispatcher.utter_message(text=say("repair_restart", language))
        elif command.kind == "back":
            target = await self._previous_answer(tracker, turn)
            if target is None:
                dispatcher.utter_message(text=say("repair_first", language))
            else:
                changes.update(self._parts(target, tracker))
                dispatcher.utter_message(text=say("repair_back", language))
        else:
            slot = next((s for s in command.slots if s in self.form_slots), None)
            cleared = self._parts(slot, tracker) if slot else {}
            kept = {name: tracker.get_slot(name) for name in cleared}
            tracker.slots.update(cleared)
            # Applies when the form asks it (now or later) or it holds an answer to forget.
            if slot is None or (
                slot not in await self.needed_slots(tracker) and kept.get(slot) is None
            ):
                tracker.slots.update(kept)
                dispatcher.utter_message(text=say("repair_not_needed", language))
            else:
                changes.update(cleared)
                dispatcher.utter_message(text=say(f"repair_change_{slot}", language))
        tracker.slots.update(changes)
        if not tracker.get_slot("outcome"):
            # The command's words are no answer: the form's work sees no text.
            quiet = dataclasses.replace(turn, text="")
            extra = await self.after_validation(dispatcher, tracker, domain, quiet)
            changes.update(extra)
            tracker.slots.update(extra)
        return changes

    async def _previous_answer(self, tracker: Tracker, turn: Turn) -> str | None:
        """The answer before the current question: the last one asked (and answered) before
        it, else the last one given at all (in the first message)."""
        needed = await self.needed_slots(tracker)
        current = turn.requested
        earlier = needed[: needed.index(current)] if current in needed else needed
        answered = [name for name in earlier if tracker.get_slot(name) is not None]
        asked = set(_asked_in_form(tracker, self.form_name())) - {current}
        return next(
            (name for name in reversed(answered) if name in asked),
            answered[-1] if answered else None,
        )

    # -- the slot of the earlier "continue or stop?" question --------------------------------

    def validate_continue_form(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A yes/no to the earlier "continue or stop?" question (a conversation that was asked
        it before the repair buttons replaced it): no stops, yes goes on."""
        if value is False:
            dispatcher.utter_message(text=say("form_stopped", language_of(tracker)))
            return {"continue_form": False, "outcome": "stopped"}
        if value is True:
            return {"continue_form": None, "invalid_answers": 0}
        return {"continue_form": None}
