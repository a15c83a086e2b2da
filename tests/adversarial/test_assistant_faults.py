"""Faults of the assistant (issue 12): Rasa, its action server or the hub dying mid-conversation.

No trained model is needed: Rasa and the action server are faked by real processes
(:mod:`tests.adversarial.fake_assistant`) run by the hub's own :class:`Supervisor`, and killed
with SIGKILL (or stopped with SIGSTOP). What is asserted is what the patient sees and what is
stored: a polite message in their language instead of silence, every message answered exactly
once, and a turn cut off by the hub's own death answered once or owned up to, never twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from redis.exceptions import RedisError

from bot.namespace import ABANDONED_AFTER
from bot.setup import CHAT_KEY
from hub.app import create_app
from hub.settings import Settings
from hub.supervisor import ProcessSpec, Supervisor
from portal.api.framework import PORTAL_KEY
from portal.clock import ManualClock
from portal.i18n import translate
from portal.models import ChatMessage, Sender
from portal.services import Portal
from tests.adversarial.processes import HubProcess, free_port, hub_env
from tests.conftest import REDIS_URL, service_missing
from tests.sockets import SocketClient

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ("conversation", "bot_message", "typing", "handoff")


class Chat(SocketClient):
    """A widget's connection to ``/chat``."""

    def __init__(self, language: str) -> None:
        super().__init__("/chat", EVENTS, language=language, ack_within=10.0)

    async def say(self, text: str) -> Any:
        ack = await self.call("user_message", {"text": text, "client_msg_id": uuid.uuid4().hex})
        assert ack["ok"] is True, ack
        return ack

    async def bot(self, within: float = 10.0) -> dict[str, Any]:
        """The next message the hub says (the assistant's or its own)."""
        message: dict[str, Any] = await self.next("bot_message", within)
        return message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Assistant:
    """The fake Rasa and action server, supervised like the real ones."""

    supervisor: Supervisor
    rasa_url: str
    actions_url: str
    calls: Path
    grandchild: Path

    def pid(self, name: str) -> int:
        pid = self.supervisor.states[name].pid
        assert pid is not None, self.supervisor.states[name]
        return pid

    async def kill(self, name: str) -> None:
        """SIGKILL the child and wait until the supervisor has seen it die."""
        state = self.supervisor.states[name]
        restarts = state.restarts
        os.kill(self.pid(name), signal.SIGKILL)
        await _until(lambda: state.restarts > restarts, f"{name} seen dead")

    async def back(self, name: str) -> None:
        """Wait until the supervisor has the child running again."""
        state = self.supervisor.states[name]
        await _until(lambda: state.state == "running", f"{name} running again", within=60)

    def messages(self) -> list[str]:
        """Every message Rasa received, over all its lives."""
        if not self.calls.exists():
            return []
        return [json.loads(line)["message"] for line in self.calls.read_text().splitlines()]


async def _until(check: Callable[[], bool], what: str, within: float = 30) -> None:
    """Wait until ``check()`` holds: the state of other processes, polled."""
    try:
        async with asyncio.timeout(within):
            while not check():  # noqa: ASYNC110  (no event to await: another process's state)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    rasa_port, actions_port = _free_port(), _free_port()
    rasa_url, actions_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}"
    calls, grandchild = tmp_path / "rasa-calls.jsonl", tmp_path / "grandchild.pid"
    module = [sys.executable, "-m", "tests.adversarial.fake_assistant"]
    specs = [
        ProcessSpec(
            name="rasa",
            argv=[
                *module,
                "rasa",
                "--port",
                str(rasa_port),
                "--actions",
                actions_url,
                "--calls",
                str(calls),
                "--grandchild",
                str(grandchild),
            ],
            cwd=ROOT,
            env=dict(os.environ),
            ready_url=f"{rasa_url}/",
            log_path=tmp_path / "logs" / "rasa.log",
            ready_timeout=60,
        ),
        ProcessSpec(
            name="actions",
            argv=[*module, "actions", "--port", str(actions_port)],
            cwd=ROOT,
            env=dict(os.environ),
            ready_url=f"{actions_url}/health",
            log_path=tmp_path / "logs" / "actions.log",
            ready_timeout=60,
        ),
    ]
    async with aiohttp.ClientSession() as http:
        supervisor = Supervisor(specs, http)
        supervisor.start()
        try:
            assert await supervisor.wait_ready(60), supervisor.states
            yield Assistant(supervisor, rasa_url, actions_url, calls, grandchild)
        finally:
            for name in ("rasa", "actions"):
                pid = supervisor.states[name].pid
                if pid is not None:  # a test that failed with the child stopped
                    os.kill(pid, signal.SIGCONT)
            await supervisor.stop()


@pytest.fixture
async def hub(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, assistant: Assistant
) -> TestClient[Any, Any]:
    """The real hub app, its assistant the supervised fakes."""
    configured = replace(settings, rasa_url=assistant.rasa_url, actions_url=assistant.actions_url)
    app = create_app(configured, clock=clock)
    return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())


@pytest.fixture
async def chats(hub: TestClient[Any, Any]) -> AsyncIterator[list[Chat]]:
    made: list[Chat] = []
    yield made
    for chat in made:
        await chat.close()


async def _open(hub: TestClient[Any, Any], chats: list[Chat], language: str, **auth: Any) -> Chat:
    chat = Chat(language)
    chats.append(chat)
    await chat.connect(str(hub.make_url("")), **auth)
    return chat


def _unavailable(language: str) -> str:
    return translate("chat_assistant_unavailable", language)


async def _transcript(portal: Portal, conversation_id: str) -> list[tuple[str, str]]:
    messages = await portal.conversations.messages_after(uuid.UUID(conversation_id), 0)
    return [(m.sender.value, m.text) for m in messages]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: a zombie (killed, not yet reaped by whoever adopted it) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_rasa_and_actions_killed_mid_conversation(
    hub: TestClient[Any, Any], chats: list[Chat], assistant: Assistant, language: str
) -> None:
    chat = await _open(hub, chats, language)
    conversation_id = (await chat.next("conversation"))["conversation_id"]
    await chat.say("first")
    assert (await chat.bot())["text"] == "echo: first"
    helper = int(assistant.grandchild.read_text())

    # Rasa dies while it holds the patient's message: the patient is told at once (the
    # "unavailable" notice comes from the broken connection, not from waiting out the 2.5 s
    # slow notice), with the button to a person.
    await chat.say("second [hold]")
    assert (await chat.next("typing"))["active"] is True
    await _until(lambda: "second [hold]" in assistant.messages(), "Rasa holding the message")
    os.kill(assistant.pid("rasa"), signal.SIGKILL)
    told = await chat.bot()
    assert told["text"] == _unavailable(language)
    assert told["buttons"] == [
        {"title": translate("chat_talk_to_person", language), "payload": "/human_handoff"}
    ]
    # Dead between lives: told again, and the hub itself is up (degraded, not down).
    await _until(lambda: assistant.supervisor.states["rasa"].restarts == 1, "Rasa seen dead")
    await chat.say("third")
    assert (await chat.bot())["text"] == _unavailable(language)
    health = await hub.get("/healthz")
    body = await health.json()
    assert health.status == 200
    assert (body["status"], body["components"]["rasa"]["status"]) == ("degraded", "unavailable")

    # The supervisor brings it back, with its old process group gone (the helper it started
    # would otherwise live on), and the conversation goes on.
    await assistant.back("rasa")
    assert not _alive(helper)
    await chat.say("fourth")
    assert (await chat.bot())["text"] == "echo: fourth"

    # The action server dies: Rasa answers nothing, which the patient hears as unavailable.
    await assistant.kill("actions")
    await chat.say("fifth")
    assert (await chat.bot())["text"] == _unavailable(language)
    await assistant.back("actions")
    await chat.say("sixth")
    assert (await chat.bot())["text"] == "echo: sixth"

    # Nothing lost, nothing doubled: each message once, each answered once, in order.
    assert chat.pending("bot_message") == []
    unavailable = _unavailable(language)
    assert await _transcript(hub.app[PORTAL_KEY], conversation_id) == [
        ("patient", "first"),
        ("bot", "echo: first"),
        ("patient", "second [hold]"),
        ("bot", unavailable),
        ("patient", "third"),
        ("bot", unavailable),
        ("patient", "fourth"),
        ("bot", "echo: fourth"),
        ("patient", "fifth"),
        ("bot", unavailable),
        ("patient", "sixth"),
        ("bot", "echo: sixth"),
    ]
    assert assistant.messages() == ["first", "second [hold]", "fourth", "fifth", "sixth"]


async def test_rasa_hung_the_patient_is_told_then_answered(
    hub: TestClient[Any, Any], chats: list[Chat], assistant: Assistant
) -> None:
    chat = await _open(hub, chats, "en")
    await chat.say("hello")
    assert (await chat.bot())["text"] == "echo: hello"
    os.kill(assistant.pid("rasa"), signal.SIGSTOP)
    try:
        await chat.say("are you there")
        # Told while Rasa is still stopped: not silence.
        slow = await chat.bot()
        assert slow["text"] == translate("chat_assistant_slow", "en")
    finally:
        os.kill(assistant.pid("rasa"), signal.SIGCONT)
    assert (await chat.bot())["text"] == "echo: are you there"
    assert chat.pending("bot_message") == []


# -- the hub's own death between storing a message and answering it ------------------------------


async def _left_behind(portal: Portal, conversation_id: str, text: str, turn: str) -> ChatMessage:
    """What a hub process that died mid-turn leaves in the database: the patient's message,
    its turn ``pending`` (Rasa not asked yet) or ``asked``, owned by the dead process."""
    dead = uuid.uuid4().hex
    stored = await portal.conversations.add_patient_message(
        None, uuid.UUID(conversation_id), text, uuid.uuid4().hex, turn_node=dead
    )
    assert stored.message.turn == "pending"
    if turn == "asked":
        assert await portal.conversations.ask_turn(stored.message.id, dead)
    return stored.message


async def _turns(portal: Portal, conversation_id: str) -> list[tuple[str, str | None]]:
    messages = await portal.conversations.messages_after(uuid.UUID(conversation_id), 0)
    return [(m.text, m.turn) for m in messages if m.sender is Sender.PATIENT]


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_a_turn_the_dead_hub_never_asked_is_answered_once(
    hub: TestClient[Any, Any], chats: list[Chat], assistant: Assistant, language: str
) -> None:
    portal = hub.app[PORTAL_KEY]
    first = await _open(hub, chats, language)
    conversation_id = (await first.next("conversation"))["conversation_id"]
    await first.close()
    await _left_behind(portal, conversation_id, "book me a visit", "pending")
    # Two tabs come back at once: exactly one of the two connections adopts the turn.
    tabs = [await _open(hub, chats, language, conversation_id=conversation_id) for _ in range(2)]
    for tab in tabs:
        assert (await tab.bot())["text"] == "echo: book me a visit"
    await asyncio.sleep(0.5)  # time for a second answer, were there one to come
    # A tab that connects while the answer is stored may see it twice, live and replayed: the
    # same message (the widget shows a seq once), not a second answer.
    for tab in tabs:
        assert {m["seq"] for m in tab.pending("bot_message")} <= {2}
    assert assistant.messages() == ["book me a visit"]
    assert await _turns(portal, conversation_id) == [("book me a visit", "answered")]


@pytest.mark.parametrize("language", ["pl", "en"])
async def test_a_turn_the_dead_hub_had_asked_is_owned_up_to_not_asked_again(
    hub: TestClient[Any, Any], chats: list[Chat], assistant: Assistant, language: str
) -> None:
    portal = hub.app[PORTAL_KEY]
    first = await _open(hub, chats, language)
    conversation_id = (await first.next("conversation"))["conversation_id"]
    await first.close()
    await _left_behind(portal, conversation_id, "cancel my Friday visit", "asked")
    chat = await _open(hub, chats, language, conversation_id=conversation_id)
    told = await chat.bot()
    assert told["text"] == translate(
        "chat_assistant_interrupted", language, text="cancel my Friday visit"
    )
    assert told["buttons"][0]["payload"] == "/human_handoff"
    # Rasa may have taken the message in (and cancelled the visit): it is not asked again.
    assert assistant.messages() == []
    assert await _turns(portal, conversation_id) == [("cancel my Friday visit", "told")]
    # A later connection finds nothing left to do; the conversation goes on.
    again = await _open(hub, chats, language, conversation_id=conversation_id, last_seq=99)
    await again.say("thanks")
    assert (await again.bot())["text"] == "echo: thanks"
    assert (await chat.bot())["text"] == "echo: thanks"
    assert [tab.pending("bot_message") for tab in (chat, again)] == [[], []]
    assert assistant.messages() == ["thanks"]


async def test_the_hub_killed_while_rasa_holds_a_message_owns_up_to_it_after_restart(
    database_url: str, tmp_path: Path, assistant: Assistant
) -> None:
    env = hub_env(
        database_url, tmp_path, RASA_URL=assistant.rasa_url, ACTIONS_URL=assistant.actions_url
    )
    hub = HubProcess(env, free_port(), tmp_path / "hub.log")
    chats: list[Chat] = []

    async def widget(**auth: Any) -> Chat:
        chat = Chat("pl")
        chats.append(chat)
        await chat.connect(hub.url, origin=hub.url, **auth)
        return chat

    try:
        await hub.start()
        chat = await widget()
        conversation_id = (await chat.next("conversation"))["conversation_id"]
        await chat.say("pierwsza")
        seen = await chat.bot()
        assert seen["text"] == "echo: pierwsza"
        held = uuid.uuid4().hex
        ack = await chat.call("user_message", {"text": "druga [hold]", "client_msg_id": held})
        assert ack["ok"] is True
        await _until(lambda: "druga [hold]" in assistant.messages(), "Rasa holding the message")
        await hub.kill()  # after asking Rasa, before any answer was stored

        await hub.start()
        again = await widget(conversation_id=conversation_id, last_seq=seen["seq"])
        told = await again.bot()
        assert told["text"] == translate("chat_assistant_interrupted", "pl", text="druga [hold]")
        # The widget re-sends what it is unsure of: a duplicate, neither stored nor asked again.
        repeat = await again.call("user_message", {"text": "druga [hold]", "client_msg_id": held})
        assert (repeat["ok"], repeat["duplicate"]) == (True, True)
        await again.say("trzecia")
        assert (await again.bot())["text"] == "echo: trzecia"
        assert again.pending("bot_message") == []
        assert assistant.messages() == ["pierwsza", "druga [hold]", "trzecia"]
    finally:
        for chat in chats:
            await chat.close()
        await hub.stop()


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_with_several_nodes_a_turn_is_adopted_only_once_its_owner_must_have_died(
    aiohttp_client: Any, settings: Settings, clock: ManualClock, assistant: Assistant
) -> None:
    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(probe.ping(), 2)
    except (RedisError, OSError, TimeoutError) as error:
        service_missing("Redis", error)
    finally:
        await probe.aclose()
    shared = replace(
        settings,
        redis_url=REDIS_URL,
        rasa_url=assistant.rasa_url,
        actions_url=assistant.actions_url,
    )
    node = await aiohttp_client(
        create_app(shared, clock=clock), cookie_jar=aiohttp.DummyCookieJar()
    )
    portal, namespace = node.app[PORTAL_KEY], node.app[CHAT_KEY]
    assert namespace.single_node is False
    chats: list[Chat] = []
    try:
        first = await _open(node, chats, "en")
        conversation_id = (await first.next("conversation"))["conversation_id"]
        await first.close()
        # Another node stored this a moment ago: it may be alive and answering it.
        await _left_behind(portal, conversation_id, "is it still mine", "pending")
        clock.advance(ABANDONED_AFTER - timedelta(seconds=1))
        early = await _open(node, chats, "en", conversation_id=conversation_id)
        await _until(lambda: not namespace.tasks, "the connection's recovery done")
        assert await _turns(portal, conversation_id) == [("is it still mine", "pending")]
        assert assistant.messages() == []
        # Past Rasa's timeout and then some, a live owner would have finished it: adopted.
        clock.advance(timedelta(seconds=2))
        late = await _open(node, chats, "en", conversation_id=conversation_id, last_seq=99)
        assert (await late.bot())["text"] == "echo: is it still mine"
        assert (await early.bot())["text"] == "echo: is it still mine"
        await _until(lambda: not namespace.tasks, "the turn finished")
        assert assistant.messages() == ["is it still mine"]
        assert await _turns(portal, conversation_id) == [("is it still mine", "answered")]
    finally:
        for chat in chats:
            await chat.close()
