"""The safety gate: the deterministic safety check decides before the classifier's intent counts.

It runs after the intent classifier and before the ``FallbackClassifier`` (``config.yml``):

- a safety rule matched (:func:`safety.assess`): the intent becomes ``emergency`` with
  confidence 1.0, whatever the model said; the message carries ``safety`` =
  ``{"kind", "categories", "source": "rules"}`` for the actions;
- no rule matched but the model says ``emergency``: the model is a second opinion. It is kept
  (``source: "model"``) when its confidence reaches ``model_threshold`` and the message has no
  words that only look alarming ("running out of", "wyniki"), no past, chronic, family or
  medicine context and no "I am safe" / "not an emergency";
  otherwise ``emergency`` is taken out of the ranking and the next intent stands (and the
  fallback classifier may still call it ``nlu_fallback``).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from safety import Assessment, assess

EMERGENCY = "emergency"
SAFETY = "safety"
"""The message property (in the parse result) the actions read the gate's finding from."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyGate(GraphComponent, IntentClassifier):
    """Overrides the intent with ``emergency`` by the safety rules; vets the model's own."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``model_threshold``: the model's ``emergency`` confidence it takes alone."""
        return {"model_threshold": 0.5}

    def __init__(self, config: dict[str, Any]) -> None:
        self.model_threshold = float(config["model_threshold"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyGate:
        """Creates the gate (it has nothing to train or load)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Judge every message; see the module docstring."""
        for message in messages:
            self._judge(message)
        return messages

    def _judge(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):
            return  # a button payload names its intent itself
        found = assess(text)
        intent = message.get(INTENT) or {}
        ranking = [dict(item) for item in message.get(INTENT_RANKING_KEY) or []]
        if found.alarm:
            top = {"name": EMERGENCY, "confidence": 1.0}
            message.set(INTENT, top, add_to_output=True)
            # The ranking is the rule's alone: with the model's runner-up in it, a confident
            # runner-up would make the fallback classifier call the message ambiguous.
            message.set(INTENT_RANKING_KEY, [top], add_to_output=True)
            message.set(SAFETY, found.finding("rules"), add_to_output=True)
            return
        if intent.get("name") != EMERGENCY:
            return
        confidence = float(intent.get("confidence") or 0.0)
        vetoed = found.benign or found.silenced or found.context
        if confidence >= self.model_threshold and not vetoed:
            message.set(SAFETY, Assessment(kind="emergency").finding("model"), add_to_output=True)
            return
        rest = [item for item in ranking if item.get("name") != EMERGENCY]
        if rest:
            message.set(INTENT, rest[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, rest, add_to_output=True)
        else:
            message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
