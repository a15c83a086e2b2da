"""A small client of Rasa's REST channel (``POST /webhooks/rest/webhook``).

https://rasa.com/docs/rasa/connectors/your-own-website/#rest-channels: the body is
``{sender, message, metadata}`` and the answer a JSON list of bot messages, each with ``text``,
``buttons``, ``image`` or ``custom``. The hub's one ``aiohttp.ClientSession`` carries the
requests; anything but a well-formed answer in time is :class:`AssistantUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.errors import AssistantUnavailable

RASA_TIMEOUT = 30.0
"""Seconds one turn of Rasa (and the actions it runs) may take before it counts as failed."""
SLOW_NOTICE_AFTER = 2.5
"""Seconds after which the patient is told the assistant is slow (they must hear back within
3 s of sending; storing and emitting the notice needs some of that budget). The answer is still
delivered when it comes, up to :data:`RASA_TIMEOUT`."""


@dataclass(frozen=True)
class Button:
    """A quick reply: the widget shows ``title`` and sends ``payload`` as the next message."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One bot message from Rasa, reduced to what the widget renders."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    handoff: bool = False
    """A custom ``{"handoff": true}`` message: hand the conversation to reception."""
    safety: dict[str, Any] | None = None
    """A custom ``{"safety": {"kind", "categories", "source"}}`` message: the assistant's
    previous message was a safety answer (``actions/safety.py``)."""

    def payload(self) -> dict[str, Any] | None:
        """What is stored with the text (and sent to the widget) besides it."""
        extra: dict[str, Any] = {}
        if self.buttons:
            extra["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.links:
            extra["links"] = self.links
        return extra or None


class RasaClient:
    """Sends one user message to Rasa's REST channel and returns the replies."""

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        url: str,
        timeout: float = RASA_TIMEOUT,
    ) -> None:
        self._session = session
        self.webhook = f"{url.rstrip('/')}/webhooks/rest/webhook"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[Reply]:
        """Post ``message`` from ``sender`` (the conversation id); the assistant's replies.

        Raises :class:`AssistantUnavailable` when Rasa is down, slow, failing, or answers
        nothing at all (a turn of ours always says something, so silence means a failed action).
        """
        body = {"sender": sender, "message": message, "metadata": metadata}
        try:
            async with self._session().post(
                self.webhook, json=body, timeout=self.timeout
            ) as response:
                if response.status != 200:
                    raise AssistantUnavailable(f"Rasa answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise AssistantUnavailable(f"Rasa unreachable: {type(error).__name__}") from error
        if not isinstance(answer, list):
            raise AssistantUnavailable("Rasa answered something other than a list")
        replies = [reply for item in answer if (reply := parse_reply(item)) is not None]
        if not replies:
            raise AssistantUnavailable("Rasa answered nothing")
        return replies


def parse_reply(item: Any) -> Reply | None:
    """One Rasa bot message as a :class:`Reply`; ``None`` for nothing the widget can show."""
    if not isinstance(item, dict):
        return None
    text = item.get("text") if isinstance(item.get("text"), str) else ""
    buttons = [
        Button(str(b["title"]), str(b["payload"]))
        for b in item.get("buttons") or []
        if isinstance(b, dict) and "title" in b and "payload" in b
    ]
    links: list[dict[str, str]] = []
    if isinstance(item.get("image"), str):
        links.append({"title": item["image"], "url": item["image"]})
    custom = item.get("custom")
    handoff = False
    safety: dict[str, Any] | None = None
    if isinstance(custom, dict):
        handoff = custom.get("handoff") is True
        if isinstance(custom.get("safety"), dict):
            safety = custom["safety"]
        for link in custom.get("links") or []:
            if isinstance(link, dict) and isinstance(link.get("url"), str):
                links.append({"title": str(link.get("title") or link["url"]), "url": link["url"]})
        if not text and isinstance(custom.get("text"), str):
            text = custom["text"]
    if not (text or buttons or links or handoff or safety):
        return None
    return Reply(text=str(text), buttons=buttons, links=links, handoff=handoff, safety=safety)
