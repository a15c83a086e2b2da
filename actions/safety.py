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

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from safety import Assessment, answer_buttons, answer_text, assess

from .common import language_of, text_of
from .texts import buttons


def finding_of(tracker: Tracker) -> tuple[Assessment, str]:
    """What the safety check found in the latest message and who decided it: the gate's
    finding, or the same rules judging the text again ("action")."""
    gate = (tracker.latest_message or {}).get("safety")
    found = Assessment.from_finding(gate)
    if found is not None:
        return found, str(gate.get("source") or "rules")
    judged = assess(text_of(tracker))
    # Classified as an emergency without a rule: the 112 answer, as the model said.
    return (judged if judged.alarm else Assessment(kind="emergency")), "action"


class ActionSafety(Action):
    """Answers an emergency or a crisis; the rules end any active form right after."""

    def name(self) -> str:
        return "action_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = language_of(tracker)
        found, source = finding_of(tracker)
        dispatcher.utter_message(
            text=answer_text(found, language), buttons=buttons(answer_buttons(found, language))
        )
        dispatcher.utter_message(json_message={"safety": found.finding(source)})
        # The rules then end any active form and forget its answers: nothing is booked.
        return []
