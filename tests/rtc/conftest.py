"""Fixtures of the consultation tests: Socket.IO clients of ``/consult`` on the real hub, and
remote consultations of the demo logins inside their window."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from portal.api import PORTAL_KEY
from portal.models import ServiceType
from portal.seed import book_demo_consultation
from portal.services import Portal
from tests.sockets import SocketClient

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


class ConsultClient(SocketClient):
    """A Socket.IO client of ``/consult`` that queues every event it receives, by name."""

    def __init__(self) -> None:
        super().__init__("/consult", EVENTS, language="en")

    async def join(self, appointment_id: str, after_seq: int = 0) -> Any:
        """Join the room; the ack."""
        return await self.call("join", {"appointment_id": appointment_id, "after_seq": after_seq})

    async def say(self, appointment_id: str, text: str, client_msg_id: str | None = None) -> Any:
        """Send a chat message; the ack."""
        return await self.call(
            "chat",
            {
                "appointment_id": appointment_id,
                "text": text,
                "client_msg_id": client_msg_id or uuid.uuid4().hex,
            },
        )


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
