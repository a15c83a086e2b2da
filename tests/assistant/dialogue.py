"""Drives a booking dialogue with the real assistant, answering whatever the form asks next.

The form decides the order of its questions (actions/forms.py), so the driver reads the
requested slot from Rasa's tracker (its HTTP API, with the stack's token) and answers that,
in the dialogue's language, like a patient would: in words where the assistant expects words,
by pressing the offered button where it offers buttons.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.assistant.stack import PASSWORD, Stack

ANSWERS: dict[str, dict[str, str]] = {
    "pl": {
        "service_type": "wizyta w przychodni",
        "specialty": "internista",
        "city": "Warszawa",
        "preferred_date": "w przyszły wtorek",
        "patient_choice": "dla mnie",
        "confirmed": "tak",
        "continue_form": "tak",
    },
    "en": {
        "service_type": "an in-person visit",
        "specialty": "internist",
        "city": "Warsaw",
        "preferred_date": "next Tuesday",
        "patient_choice": "for me",
        "confirmed": "yes",
        "continue_form": "yes",
    },
}
BUTTON_SLOTS = ("slot_choice", "examination")


@dataclass
class Dialogue:
    """One patient's conversation with Rasa over its REST channel."""

    stack: Stack
    http: aiohttp.ClientSession
    language: str
    token: str | None
    sender: str
    replies: list[dict[str, Any]] = field(default_factory=list)

    async def say(self, text: str) -> list[dict[str, Any]]:
        """Send ``text`` as the patient; returns the assistant's replies."""
        metadata: dict[str, Any] = {"language": self.language}
        if self.token:
            metadata["access_token"] = self.token
        async with self.http.post(
            f"{self.stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text, "metadata": metadata},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            assert response.status == 200, await response.text()
            self.replies = list(await response.json())
        return self.replies

    async def tracker(self) -> dict[str, Any]:
        """Rasa's tracker of this conversation (slots, active loop)."""
        token = (self.stack.var_dir / "rasa_token").read_text().strip()
        async with self.http.get(
            f"{self.stack.rasa_url}/conversations/{self.sender}/tracker",
            params={"token": token},
        ) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
        return body

    def buttons(self) -> list[dict[str, Any]]:
        """The buttons of the latest replies."""
        return [button for reply in self.replies for button in reply.get("buttons", [])]

    def text(self) -> str:
        """The latest replies' text, joined."""
        return "\n".join(reply.get("text", "") for reply in self.replies if reply.get("text"))

    async def book(self, opening: str, max_turns: int = 14) -> dict[str, Any]:
        """Answer the booking form until it closes; returns the final tracker."""
        await self.say(opening)
        previous = None
        for _ in range(max_turns):
            tracker = await self.tracker()
            asked = tracker["slots"].get("requested_slot")
            if asked is None and not (tracker.get("active_loop") or {}).get("name"):
                return tracker
            # Asked the same again with buttons (an ambiguous date asked back): press one.
            again = asked == previous and bool(self.buttons())
            previous = asked
            if (
                again
                or asked in BUTTON_SLOTS
                or (asked not in ANSWERS[self.language] and self.buttons())
            ):
                choices = self.buttons()
                assert choices, f"asked {asked!r} without buttons: {self.text()}"
                await self.say(choices[0]["payload"])
            else:
                answer = ANSWERS[self.language].get(str(asked))
                assert answer is not None, f"no scripted answer for {asked!r}: {self.text()}"
                await self.say(answer)
        raise AssertionError(f"the booking form did not close: {self.text()}")


async def patient_token(stack: Stack, http: aiohttp.ClientSession) -> str:
    """A delegated bearer token of demo.patient, as the chat bridge would pass it."""
    async with http.post(
        f"{stack.hub_url}/api/v1/auth/login",
        json={"login": "demo.patient", "password": PASSWORD},
    ) as response:
        assert response.status == 200, await response.text()
        csrf = (await response.json())["csrf_token"]
        cookie = response.cookies["mp_session"].value
    async with http.post(
        f"{stack.hub_url}/api/v1/auth/token",
        headers={"Cookie": f"mp_session={cookie}", "X-CSRF-Token": csrf},
    ) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def appointments(stack: Stack, http: aiohttp.ClientSession, token: str) -> list[Any]:
    """demo.patient's appointments as the portal lists them."""
    async with http.get(
        f"{stack.hub_url}/api/v1/appointments",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()
        return list(json.loads(await response.text())["items"])


async def converse(stack: Stack, language: str, *texts: str) -> tuple[Dialogue, dict[str, Any]]:
    """demo.patient says ``texts`` in turn in a new conversation; the dialogue (its replies are
    the last message's) and Rasa's tracker after the last one."""
    async with aiohttp.ClientSession() as http:
        token = await patient_token(stack, http)
        dialogue = Dialogue(stack, http, language, token, f"e2e-{uuid.uuid4().hex}")
        for text in texts:
            await dialogue.say(text)
        return dialogue, await dialogue.tracker()
