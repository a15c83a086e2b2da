"""The safety answers, in Polish and English: one source for the assistant's action and for the
chat bridge, which answers by itself when the assistant is slow, down or missed it.

The numbers (checked for ``docs/assistant.md``, "Safety", which names the sources):

- 112: the European emergency number, answered in Poland by the emergency notification centres;
  999: the Polish ambulance service's own number;
- 116 123: the helpline for adults in emotional crisis (Instytut Psychologii Zdrowia);
- 116 111: the helpline for children and young people, around the clock (Fundacja Dajemy
  Dzieciom Siłę);
- 800 70 2222: the 24-hour support centre for people in mental crisis (Centrum Wsparcia,
  Fundacja ITAKA).

The Polish texts address the patient without assuming their sex.
"""

from __future__ import annotations

from safety.check import Assessment

EMERGENCY = {
    "pl": (
        "To może być stan nagły. Natychmiast zadzwoń pod numer alarmowy 112 (albo 999 – "
        "pogotowie ratunkowe). Nie czekaj na wizytę ani na odpowiedź w czacie. Dyspozytor "
        "powie, co robić do przyjazdu pomocy."
    ),
    "en": (
        "This may be an emergency. Call the emergency number 112 (or 999 for an ambulance) "
        "right now. Do not wait for a visit or for an answer in this chat. The dispatcher will "
        "tell you what to do until help arrives."
    ),
}

_LINES = {
    "pl": (
        "Możesz też od razu, bezpłatnie porozmawiać z kimś, kto pomaga w takich chwilach:\n"
        "• 116 123 – telefon zaufania dla dorosłych w kryzysie emocjonalnym,\n"
        "• 116 111 – telefon zaufania dla dzieci i młodzieży (całą dobę),\n"
        "• 800 70 2222 – Centrum Wsparcia dla osób w kryzysie psychicznym (całą dobę).\n"
        "Jeśli chcesz, przekażę tę rozmowę osobie z naszej recepcji."
    ),
    "en": (
        "You can also talk to someone who helps in moments like this, right now and free of "
        "charge (these are Polish helplines):\n"
        "• 116 123 – helpline for adults in emotional crisis,\n"
        "• 116 111 – helpline for children and young people (24 hours),\n"
        "• 800 70 2222 – support centre for people in mental crisis (24 hours).\n"
        "If you like, I can pass this chat to a person at our reception."
    ),
}

CRISIS = {
    "pl": (
        "Dziękuję, że o tym piszesz. To, co czujesz, jest ważne i nie trzeba zostawać z tym "
        "w pojedynkę. Jeśli Twoje życie jest teraz w niebezpieczeństwie, zadzwoń pod 112.\n"
        + _LINES["pl"]
    ),
    "en": (
        "Thank you for telling me. What you feel matters, and you do not have to face it "
        "alone. If your life is in danger right now, call 112.\n" + _LINES["en"]
    ),
}

CRISIS_HANDOFF_BUTTON = {
    "pl": "Porozmawiaj z osobą z recepcji",
    "en": "Talk to a person at reception",
}
"""The title of the quick reply ``/human_handoff`` that the crisis answer offers."""
HANDOFF_PAYLOAD = "/human_handoff"
"""The payload of that quick reply (the ``human_handoff`` intent; the chat bridge answers it)."""


def answer_text(assessment: Assessment, language: str) -> str:
    """The safety answer for ``assessment`` in ``language`` ("pl" unless "en").

    A medical emergency comes first: 112 at once, then, when the message also speaks of
    suicide or self-harm (an overdose taken on purpose), the crisis lines.
    """
    lang = "en" if language == "en" else "pl"
    if assessment.medical and assessment.kind == "crisis":
        return EMERGENCY[lang] + "\n" + _LINES[lang]
    if assessment.kind == "crisis":
        return CRISIS[lang]
    return EMERGENCY[lang]


def answer_buttons(assessment: Assessment, language: str) -> list[tuple[str, str]]:
    """The quick replies of the safety answer as (title, payload): a person at reception for a
    crisis, none for an emergency (the patient is to call 112, not to chat)."""
    if assessment.kind != "crisis":
        return []
    return [(CRISIS_HANDOFF_BUTTON["en" if language == "en" else "pl"], HANDOFF_PAYLOAD)]
