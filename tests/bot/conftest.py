"""Fixtures of the chat bridge tests: a fake Rasa server and Socket.IO clients of the real hub.

Rasa is outside the hub's process, so it is the one thing faked: an aiohttp app answering the
REST channel like ``rasa run`` would, whose behaviour each test sets (answer, be slow, fail).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.models import AccessLevel, Account, Role
from portal.services import Portal
from tests.sockets import SocketClient

EVENTS = ("conversation", "bot_message", "typing", "handoff", "queue", "patient_message")


class FakeRasa:
    """Answers ``POST /webhooks/rest/webhook`` the way Rasa's REST channel does."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.delay = 0.0
        self.status = 200
        self.replies: Callable[[dict[str, Any]], list[dict[str, Any]]] = self.echo
        self._called = asyncio.Condition()

    @staticmethod
    def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        """The default answer: the message repeated, with a quick reply."""
        sender = body["sender"]
        return [
            {
                "recipient_id": sender,
                "text": f"echo: {body['message']}",
                "buttons": [{"title": "Book", "payload": "/book_appointment"}],
            }
        ]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        async with self._called:
            self.calls.append(body)
            self._called.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": "down"}, status=self.status)
        return web.json_response(self.replies(body))

    async def wait_for_calls(self, count: int) -> None:
        """Return once ``count`` messages have reached the fake (at most 5 s)."""
        async with asyncio.timeout(5), self._called:
            await self._called.wait_for(lambda: len(self.calls) >= count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        return app


@pytest.fixture
async def fake_rasa(aiohttp_server: Any) -> tuple[FakeRasa, TestServer]:
    """A fake Rasa server on a free port."""
    fake = FakeRasa()
    server = await aiohttp_server(fake.app())
    return fake, server


@pytest.fixture
def settings(settings: Settings, fake_rasa: tuple[FakeRasa, TestServer]) -> Settings:
    """The shared settings with Rasa pointed at the fake."""
    _, server = fake_rasa
    return dataclasses.replace(settings, rasa_url=str(server.make_url("")).rstrip("/"))


@pytest.fixture
def rasa(fake_rasa: tuple[FakeRasa, TestServer]) -> FakeRasa:
    """The fake Rasa of this test."""
    return fake_rasa[0]


@pytest.fixture
def portal(client: TestClient[Any, Any]) -> Portal:
    """The running app's domain services."""
    return client.app[PORTAL_KEY]


class ChatClient(SocketClient):
    """A Socket.IO client of ``/chat`` that queues every event it receives, by name."""

    def __init__(self) -> None:
        super().__init__("/chat", EVENTS, language="pl", ack_within=5.0)

    async def say(self, text: str, client_msg_id: str | None = None) -> Any:
        """Send a patient message and return the ack."""
        return await self.call(
            "user_message", {"text": text, "client_msg_id": client_msg_id or uuid.uuid4().hex}
        )


@pytest.fixture
async def chat(client: TestClient[Any, Any]) -> AsyncIterator[Callable[[], ChatClient]]:
    """Make Socket.IO clients; each is disconnected at the end of the test."""
    made: list[ChatClient] = []

    def make() -> ChatClient:
        made.append(ChatClient())
        return made[-1]

    yield make
    for chat_client in made:
        await chat_client.close()


def hub_url(client: TestClient[Any, Any]) -> str:
    """The address Socket.IO clients connect to."""
    return str(client.make_url(""))


async def add_reception(portal: Portal, password: str) -> str:
    """A second reception account (the demo data has one); its login."""
    login = f"reception.{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    async with portal.db.write() as session:
        session.add(
            Account(
                id=uuid.uuid4(),
                login=login,
                login_key=login,
                password_hash=await portal.passwords.hash(password),
                role=Role.RECEPTION,
                access_level=AccessLevel.FULL,
                created_at=now,
                password_changed_at=now,
            )
        )
    return login
