"""Fixtures of the consultation tests: Socket.IO clients of ``/consult`` on the real hub, and
remote consultations of the demo logins inside their window."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from portal.api import PORTAL_KEY
from portal.models import ServiceType
from portal.seed import book_demo_consultation
from portal.services import Portal

ORIGIN = "http://127.0.0.1:8080"
EVENTS = (
    "queue",
    "waiting",
    "admitted",
    "peer_joined",
    "peer_left",
    "signal",
    "media",
    "chat",
    "document",
    "transport",
    "ended",
)


class ConsultClient:
    """A Socket.IO client of ``/consult`` that queues every event it receives, by name."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.refusal: Any = None
        for name in EVENTS:
            self.sio.on(name, self._collector(name), namespace="/consult")
        self.sio.on("connect_error", self._refused, namespace="/consult")

    def _collector(self, name: str) -> Callable[[Any], Awaitable[None]]:
        async def collect(data: Any) -> None:
            await self.events[name].put(data)

        return collect

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    async def connect(self, url: str, *, cookie: str | None = None, **auth: Any) -> None:
        headers = {"Origin": ORIGIN}
        if cookie:
            headers["Cookie"] = f"mp_session={cookie}"
        await self.sio.connect(
            url,
            namespaces=["/consult"],
            headers=headers,
            auth={"language": "en", **auth},
            transports=["websocket"],
            wait_timeout=5,
        )

    async def next(self, event: str, within: float = 5.0) -> Any:
        """The next ``event`` received (waiting up to ``within`` seconds)."""
        return await asyncio.wait_for(self.events[event].get(), within)

    def pending(self, event: str) -> list[Any]:
        """The ``event``s received and not yet read."""
        found = []
        while not self.events[event].empty():
            found.append(self.events[event].get_nowait())
        return found

    async def call(self, event: str, data: Any) -> Any:
        """Emit ``event`` and wait for its acknowledgement."""
        return await self.sio.call(event, data, namespace="/consult", timeout=10)

    async def join(self, appointment_id: str, after_seq: int = 0) -> Any:
        return await self.call("join", {"appointment_id": appointment_id, "after_seq": after_seq})

    async def say(self, appointment_id: str, text: str, client_msg_id: str | None = None) -> Any:
        return await self.call(
            "chat",
            {
                "appointment_id": appointment_id,
                "text": text,
                "client_msg_id": client_msg_id or uuid.uuid4().hex,
            },
        )

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        http = self.sio.eio.http
        if http is not None and not http.closed:
            await http.close()
        await asyncio.sleep(0)


@pytest.fixture
async def consult(client: TestClient[Any, Any]) -> AsyncIterator[Callable[[], ConsultClient]]:
    """Make ``/consult`` clients; each is disconnected at the end of the test."""
    made: list[ConsultClient] = []

    def make() -> ConsultClient:
        made.append(ConsultClient())
        return made[-1]

    yield make
    for consult_client in made:
        await consult_client.close()


@pytest.fixture
def portal(client: TestClient[Any, Any]) -> Portal:
    """The running app's domain services."""
    return client.app[PORTAL_KEY]


@pytest.fixture
def book(portal: Portal) -> Callable[..., Awaitable[str]]:
    """Book a consultation of demo.patient with demo.physician; returns its id."""

    async def make(
        starts_in: timedelta = timedelta(minutes=5),
        service_type: ServiceType = ServiceType.ONLINE_CONSULTATION,
        for_child: bool = False,
    ) -> str:
        appointment = await book_demo_consultation(
            portal, starts_in=starts_in, service_type=service_type, for_child=for_child
        )
        return str(appointment.id)

    return make


def hub_url(client: TestClient[Any, Any]) -> str:
    """The address Socket.IO clients connect to."""
    return str(client.make_url(""))
