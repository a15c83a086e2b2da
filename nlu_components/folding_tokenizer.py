"""Whitespace tokens whose lemma is the word as patients spell it least: folded.

Patients write Polish without diacritics ("wizyte", "zle sie czuje"), with letters repeated
("pilneee") and in any case, and the training data cannot hold every spelling of every word.
This tokenizer is Rasa's ``WhitespaceTokenizer`` (same tokens, same offsets, so entities are
unchanged) whose ``lemma`` is the token folded by :func:`safety.normalise.fold` with repeats
collapsed: "Wizytę", "wizyte" and "WIZYTEEE" share one lemma. The count-vector featurizers
read lemmas (``use_lemma``, their default), so a spelling the model never saw still meets the
features of the one it did.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from safety import fold

_REPEATS = re.compile(r"(\w)\1{2,}")


def folded_lemma(word: str) -> str:
    """ "WIZYTĘĘĘ" -> "wizyte"."""
    return _REPEATS.sub(r"\1", fold(word))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """``WhitespaceTokenizer`` with folded lemmas (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The whitespace tokenizer's own defaults."""
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """The whitespace tokens, each with its folded lemma."""
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = folded_lemma(token.text)
        return tokens
