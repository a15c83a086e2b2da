"""The safety answer: 112 for a medical emergency, the crisis lines for thoughts of suicide or
self-harm, at any step and in any form.

The pipeline's safety gate (``nlu_components/safety_gate.py``) puts its finding in the parse
result (``latest_message["safety"]``); a message that reached ``emergency`` some other way
(a button payload, an older model) is judged here again by the same rules. The texts come from
``safety/texts.py``, which the hub's chat bridge also uses when it must answer by itself.
The answer ends with a custom ``{"safety": ...}`` message: the bridge records it in the audit
log for reception and knows the assistant answered.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from safety import CRISIS_HANDOFF_BUTTON, Assessment, answer_text, assess

from .common import language_of, text_of
from .texts import buttons


def finding_of(tracker: Tracker) -> Assessment:
    """What the safety check found in the latest message (the gate's, or judged again)."""
    found = (tracker.latest_message or {}).get("safety")
    if isinstance(found, dict) and found.get("kind") in ("emergency", "crisis"):
        categories = tuple(str(c) for c in found.get("categories") or ())
        return Assessment(kind=found["kind"], categories=categories)
    judged = assess(text_of(tracker))
    # Classified as an emergency without a rule: the 112 answer, as the model said.
    return judged if judged.alarm else Assessment(kind="emergency")


class ActionSafety(Action):
    """Answers an emergency or a crisis; the rules end any active form right after."""

    def name(self) -> str:
        return "action_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        found = finding_of(tracker)
        options: dict[str, Any] = {}
        if found.kind == "crisis":
            options["buttons"] = buttons([(CRISIS_HANDOFF_BUTTON[language], "/human_handoff")])
        dispatcher.utter_message(text=answer_text(found, language), **options)
        source = ((tracker.latest_message or {}).get("safety") or {}).get("source", "action")
        dispatcher.utter_message(
            json_message={
                "safety": {
                    "kind": found.kind,
                    "categories": list(found.categories),
                    "source": source,
                }
            }
        )
        # The rules then end any active form and forget its answers: nothing is booked.
        return []
