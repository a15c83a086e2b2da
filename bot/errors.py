"""Errors of the chat bridge::

    BotError
    └── AssistantUnavailable   Rasa (or its action server) is down, slow or answered nonsense

The namespace translates them at the edge: the patient gets a polite message in their language.
Domain refusals (too long, already taken) are :class:`portal.errors.PortalError` and become
``{ok: false, code, message}`` acknowledgements.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of the chat bridge's own errors."""


class AssistantUnavailable(BotError):
    """The assistant did not answer usefully in time."""
