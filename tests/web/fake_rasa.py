"""A fake Rasa server for the browser tests: scripted booking replies with slot buttons.

The real assistant is another process (and another engineer's model); the browser tests need
only its REST channel (``POST /webhooks/rest/webhook``), so that is what this fakes. Like the
real booking actions it books through the hub's REST API with the patient's bearer token from
``metadata.access_token``, so a booking made in the widget is a real booking.

It runs its own event loop in a thread, so the synchronous Playwright tests can share it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from datetime import date, timedelta
from typing import Any

import aiohttp
from aiohttp import web

BOOK_INTENT = re.compile(r"\b(umów|umówić|umowic|zarezerwuj|book)\b", re.IGNORECASE)
CHOOSE_PREFIX = "/choose_slot"
LINKS = "/links"
"""A message that gets links of every kind back (the widget must show only http(s) ones)."""
LINK_URLS = [
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "/visits.html",
    "https://example.org/info",
    "vbscript:msgbox(1)",
]
SERVICE = "internal-medicine-visit"

TEXTS = {
    "pl": {
        "pick": "Wybierz termin wizyty u internisty:",
        "booked": "Umówiono wizytę: {when}, {physician}.",
        "failed": "Nie udało się umówić: {reason}",
        "login": "Zaloguj się, aby umówić wizytę.",
        "help": "W czym mogę pomóc? Mogę umówić wizytę.",
        "book": "Umów wizytę",
    },
    "en": {
        "pick": "Pick a time with an internist:",
        "booked": "Booked: {when}, {physician}.",
        "failed": "Could not book: {reason}",
        "login": "Please log in to book a visit.",
        "help": "How can I help? I can book a visit.",
        "book": "Book a visit",
    },
}


class FakeRasa:
    """Answers Rasa's REST channel; books through the hub like the real actions do."""

    def __init__(self) -> None:
        self.hub_url = ""
        self.calls: list[dict[str, Any]] = []
        self.bookings: list[dict[str, Any]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """Base URL to give the hub as RASA_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve on a free loopback port in a background thread."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    def stop(self) -> None:
        """Close the server and the loop."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self.status)
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        self._http = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21 (fake)")

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(body)
        metadata = body.get("metadata") or {}
        language = "en" if metadata.get("language") == "en" else "pl"
        text = str(body.get("message", ""))
        token = metadata.get("access_token")
        if text == LINKS:
            links = [{"title": f"link {i}", "url": url} for i, url in enumerate(LINK_URLS)]
            replies = [
                {"recipient_id": body["sender"], "custom": {"text": "Links", "links": links}}
            ]
        elif text.startswith(CHOOSE_PREFIX):
            replies = await self._book(body["sender"], text, token, language)
        elif BOOK_INTENT.search(text):
            replies = await self._offer(body["sender"], language, token)
        else:
            replies = [
                {
                    "recipient_id": body["sender"],
                    "text": TEXTS[language]["help"],
                    "buttons": [
                        {"title": TEXTS[language]["book"], "payload": TEXTS[language]["book"]}
                    ],
                }
            ]
        return web.json_response(replies)

    async def _offer(self, sender: str, language: str, token: str | None) -> list[dict[str, Any]]:
        if not token:
            return [{"recipient_id": sender, "text": TEXTS[language]["login"]}]
        assert self._http is not None
        start = date.today() + timedelta(days=2)
        query = {"service": SERVICE, "date_from": start.isoformat(), "limit": "3"}
        async with self._http.get(
            f"{self.hub_url}/api/v1/slots", params=query, headers={"Accept-Language": language}
        ) as response:
            slots = (await response.json())["items"]
        buttons = [
            {
                "title": f"{slot['start'][:16].replace('T', ' ')} · {slot['physician']['name']}",
                "payload": CHOOSE_PREFIX + json.dumps({"slot_id": slot["id"]}),
            }
            for slot in slots
        ]
        return [{"recipient_id": sender, "text": TEXTS[language]["pick"], "buttons": buttons}]

    async def _book(
        self, sender: str, text: str, token: str | None, language: str
    ) -> list[dict[str, Any]]:
        if not token:
            return [{"recipient_id": sender, "text": TEXTS[language]["login"]}]
        assert self._http is not None
        slot_id = json.loads(text[len(CHOOSE_PREFIX) :])["slot_id"]
        async with self._http.post(
            f"{self.hub_url}/api/v1/appointments",
            json={"slot_id": slot_id, "idempotency_key": f"{sender}:{slot_id}"},
            headers={"Authorization": f"Bearer {token}", "Accept-Language": language},
        ) as response:
            answer = await response.json(content_type=None)
            if response.status not in (200, 201):
                reason = answer.get("title", str(response.status))
                return [
                    {
                        "recipient_id": sender,
                        "text": TEXTS[language]["failed"].format(reason=reason),
                    }
                ]
        self.bookings.append(answer)
        when = answer["start"][:16].replace("T", " ")
        reply = TEXTS[language]["booked"].format(when=when, physician=answer["physician"]["name"])
        return [{"recipient_id": sender, "text": reply}]
