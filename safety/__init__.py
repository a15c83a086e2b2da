"""The assistant's deterministic safety check, shared by the Rasa pipeline, the actions and the
hub's chat bridge.

Every patient message is judged here before the classifier's intent is trusted: a medical
emergency gets the 112 answer, thoughts of suicide or self-harm get the crisis answer. The
package uses the standard library only and runs on Python 3.10 (``.venv-bot``) and 3.11+
(``.venv``); ``docs/assistant.md`` ("Safety") explains the rules and where the texts come from.
"""

from safety.check import Assessment, assess
from safety.normalise import fold, normalise
from safety.texts import answer_buttons, answer_text

__all__ = ["Assessment", "answer_buttons", "answer_text", "assess", "fold", "normalise"]
