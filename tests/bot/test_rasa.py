"""The assistant down, slow or failing: the patient hears so within 3 s, and it heals itself."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.rasa import parse_reply
from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from tests.bot.conftest import ChatClient, FakeRasa, hub_url

UNAVAILABLE_PL = "Asystent jest w tej chwili niedostępny"
SLOW_PL = "Asystent odpowiada dłużej niż zwykle"


async def test_slow_assistant_gets_a_notice_within_3_s_then_its_answer(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    rasa.delay = 5.0
    patient = chat()
    await patient.connect(hub_url(client))
    await patient.next("conversation")
    started = time.monotonic()
    assert (await patient.say("halo?"))["ok"] is True
    notice = await patient.next("bot_message", within=3.0)
    assert time.monotonic() - started < 3.0
    assert notice["text"].startswith(SLOW_PL)
    assert notice["from"] == "bot"
    assert notice["buttons"] == [{"title": "Porozmawiaj z osobą", "payload": "/human_handoff"}]
    health = await client.get("/healthz")
    assert health.status == 200
    # The late answer still reaches the patient, after the notice.
    late = await patient.next("bot_message", within=5.0)
    assert late["text"] == "echo: halo?"
    assert late["seq"] > notice["seq"]

    rasa.delay = 0.0
    await patient.say("teraz działa?")
    assert (await patient.next("bot_message"))["text"] == "echo: teraz działa?"
    assert [c["message"] for c in rasa.calls] == ["halo?", "teraz działa?"]


@pytest.mark.parametrize(
    ("status", "replies"),
    [(500, None), (200, [])],
    ids=["rasa-error", "action-server-down-says-nothing"],
)
async def test_failing_assistant_gets_the_notice(
    client: TestClient[Any, Any],
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    status: int,
    replies: list[Any] | None,
) -> None:
    rasa.status = status
    if replies is not None:
        rasa.replies = lambda body: list(replies)
    patient = chat()
    await patient.connect(hub_url(client), language="en")
    await patient.next("conversation")
    await patient.say("hello")
    notice = await patient.next("bot_message", within=3.0)
    assert notice["text"].startswith("The assistant is unavailable right now")
    assert notice["buttons"][0]["payload"] == "/human_handoff"


async def test_closed_port_gets_the_notice_and_the_button_reaches_a_person(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, chat: Callable[[], ChatClient]
) -> None:
    app = create_app(dataclasses.replace(settings, rasa_url="http://127.0.0.1:9"), clock=clock)
    down = await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())
    patient = chat()
    await patient.connect(hub_url(down))
    await patient.next("conversation")
    started = time.monotonic()
    await patient.say("pomocy")
    notice = await patient.next("bot_message", within=3.0)
    assert time.monotonic() - started < 3.0
    assert notice["text"].startswith(UNAVAILABLE_PL)

    ack = await patient.say(notice["buttons"][0]["payload"])
    assert ack["ok"] is True
    assert await patient.next("handoff") == {"state": "waiting"}
    note = await patient.next("bot_message")
    assert note["from"] == "system"
    assert note["text"].startswith("Łączymy Cię z recepcją")


async def test_custom_handoff_message_hands_over(
    client: TestClient[Any, Any], chat: Callable[[], ChatClient], rasa: FakeRasa
) -> None:
    rasa.replies = lambda body: [
        {"recipient_id": body["sender"], "text": "Przekazuję rozmowę do recepcji."},
        {"recipient_id": body["sender"], "custom": {"handoff": True}},
    ]
    patient = chat()
    await patient.connect(hub_url(client))
    await patient.next("conversation")
    await patient.say("chcę rozmawiać z człowiekiem")
    assert (await patient.next("bot_message"))["text"] == "Przekazuję rozmowę do recepcji."
    assert await patient.next("handoff") == {"state": "waiting"}
    assert (await patient.next("bot_message"))["from"] == "system"

    assert (await patient.say("jest tam ktoś?"))["ok"] is True
    await asyncio.sleep(0.3)
    assert len(rasa.calls) == 1  # while waiting, nothing goes to the assistant
    assert patient.pending("bot_message") == []


def test_replies_keep_what_the_widget_renders() -> None:
    reply = parse_reply(
        {
            "text": "Wyniki",
            "buttons": [{"title": "Tak", "payload": "/affirm"}, {"title": "broken"}],
            "custom": {"links": [{"title": "Portal", "url": "/results"}, {"no": "url"}]},
        }
    )
    assert reply is not None
    assert reply.payload() == {
        "buttons": [{"title": "Tak", "payload": "/affirm"}],
        "links": [{"title": "Portal", "url": "/results"}],
    }
    assert parse_reply({"recipient_id": "x"}) is None
    assert parse_reply("text") is None
