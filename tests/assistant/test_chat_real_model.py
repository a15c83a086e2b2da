"""The chat bridge with the real assistant behind it: what the patient sees in the widget."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from typing import Any

import aiohttp
import pytest
import socketio

from portal.i18n import MESSAGES
from tests.assistant.stack import PASSWORD, Stack

# Starting the stack (Rasa loads its model; the first run may train it) takes longer than the
# suite's per-test timeout allows.
pytestmark = pytest.mark.timeout(600)


async def _login(stack: Stack, http: aiohttp.ClientSession) -> str:
    async with http.post(
        f"{stack.hub_url}/api/v1/auth/login",
        json={"login": "demo.patient", "password": PASSWORD},
    ) as response:
        assert response.status == 200
        return str(response.cookies["mp_session"].value)


async def _conversation(stack: Stack, cookie: str, language: str, texts: list[str]) -> list[Any]:
    """Connect to /chat as demo.patient, say ``texts`` one by one, collect bot messages."""
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def on_bot(data: Any) -> None:
        await received.put(data)

    client.on("bot_message", on_bot, namespace="/chat")
    await client.connect(
        stack.hub_url,
        namespaces=["/chat"],
        headers={"Cookie": f"mp_session={cookie}", "Origin": stack.hub_url},
        auth={"language": language},
        transports=["websocket"],
        wait_timeout=10,
    )
    messages: list[Any] = []
    try:
        for text in texts:
            ack = await client.call(
                "user_message",
                {"text": text, "client_msg_id": uuid.uuid4().hex},
                namespace="/chat",
                timeout=30,
            )
            assert ack["ok"], ack
            messages.append(await asyncio.wait_for(received.get(), 30))
            await asyncio.sleep(0.5)
            while not received.empty():
                messages.append(received.get_nowait())
    finally:
        await client.disconnect()
    return messages


async def test_the_widget_gets_the_assistants_answers_in_polish_and_english(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        cookie = await _login(stack, http)
    polish = await _conversation(stack, cookie, "pl", ["Chcę umówić wizytę"])
    english = await _conversation(stack, cookie, "en", ["I want to book an appointment"])
    for messages in (polish, english):
        assert messages, "no answer from the assistant"
        assert all(m["from"] == "bot" for m in messages)
        assert any(m.get("buttons") for m in messages), messages
    assert polish[0]["text"] != english[0]["text"]


async def test_emergency_through_the_widget(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        cookie = await _login(stack, http)
    messages = await _conversation(stack, cookie, "en", ["chest pain, I can't breathe"])
    assert any("112" in m["text"] for m in messages), messages


async def test_real_rasa_killed_mid_conversation_the_patient_is_told_and_it_goes_on(
    stack: Stack,
) -> None:
    # Last in this module: it kills the stack's real Rasa with SIGKILL, and the hub's supervisor
    # starts it again (the fault suite, tests/adversarial/test_assistant_faults.py, covers the
    # crash gaps with a fake assistant it can stop at chosen moments).
    async with aiohttp.ClientSession() as http:
        cookie = await _login(stack, http)
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def on_bot(data: Any) -> None:
        await received.put(data)

    async def say(text: str) -> list[Any]:
        ack = await client.call(
            "user_message",
            {"text": text, "client_msg_id": uuid.uuid4().hex},
            namespace="/chat",
            timeout=30,
        )
        assert ack["ok"], ack
        answers = [await asyncio.wait_for(received.get(), 30)]
        await asyncio.sleep(0.5)
        while not received.empty():
            answers.append(received.get_nowait())
        return answers

    client.on("bot_message", on_bot, namespace="/chat")
    await client.connect(
        stack.hub_url,
        namespaces=["/chat"],
        headers={"Cookie": f"mp_session={cookie}", "Origin": stack.hub_url},
        auth={"language": "pl"},
        transports=["websocket"],
        wait_timeout=10,
    )
    try:
        assert any(m.get("buttons") for m in await say("Chcę umówić wizytę"))
        before = stack.get("/healthz")["components"]["rasa"]["process"]
        os.kill(before["pid"], signal.SIGKILL)
        # Rasa's port refuses at once, so the notice is the next message, not a timeout's.
        [notice] = await say("dermatologa")
        assert notice["text"] == MESSAGES["chat_assistant_unavailable"]["pl"]
        assert stack.process.poll() is None  # the hub stays up

        deadline = time.monotonic() + 400  # the supervisor's backoff, then the model loads
        while time.monotonic() < deadline:
            rasa = stack.get("/healthz")["components"]["rasa"]
            if rasa["status"] == "ok" and rasa["process"]["restarts"] > before["restarts"]:
                break
            await asyncio.sleep(2)
        else:
            pytest.fail(f"Rasa did not come back: {rasa}")
        # The same conversation goes on: the assistant answers again, in the same socket.
        assert any(m.get("buttons") for m in await say("Chcę umówić wizytę"))
    finally:
        await client.disconnect()
