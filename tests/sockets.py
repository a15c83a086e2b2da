"""A Socket.IO test client of one namespace of the real hub that queues what it receives."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import socketio

ORIGIN = "http://127.0.0.1:8080"
"""The settings fixture's PUBLIC_URL: an allowed origin by default."""


class SocketClient:
    """Connects to ``namespace`` and queues every event of ``events``, by name."""

    def __init__(
        self,
        namespace: str,
        events: Iterable[str],
        language: str = "pl",
        ack_within: float = 10.0,
    ) -> None:
        self.namespace = namespace
        self.ack_within = ack_within
        self.language = language
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.refusal: Any = None
        for name in events:
            self.sio.on(name, self._collector(name), namespace=namespace)
        self.sio.on("connect_error", self._refused, namespace=namespace)

    def _collector(self, name: str) -> Callable[[Any], Awaitable[None]]:
        async def collect(data: Any) -> None:
            await self.events[name].put(data)

        return collect

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    async def connect(
        self, url: str, *, cookie: str | None = None, origin: str = ORIGIN, **auth: Any
    ) -> None:
        """Open the namespace with the session ``cookie`` (if any) and ``auth``."""
        headers = {"Origin": origin}
        if cookie:
            headers["Cookie"] = f"mp_session={cookie}"
        await self.sio.connect(
            url,
            namespaces=[self.namespace],
            headers=headers,
            auth={"language": self.language, **auth},
            transports=["websocket"],
            wait_timeout=5,
        )

    async def next(self, event: str, within: float = 5.0) -> Any:
        """The next ``event`` received (waiting up to ``within`` seconds)."""
        return await asyncio.wait_for(self.events[event].get(), within)

    async def next_matching(
        self, event: str, check: Callable[[Any], bool], within: float = 5.0
    ) -> Any:
        """The next ``event`` for which ``check`` holds, skipping others."""
        async with asyncio.timeout(within):
            while True:
                data = await self.events[event].get()
                if check(data):
                    return data

    def pending(self, event: str) -> list[Any]:
        """The ``event``s received and not yet read."""
        found = []
        while not self.events[event].empty():
            found.append(self.events[event].get_nowait())
        return found

    async def call(self, event: str, data: Any) -> Any:
        """Emit ``event`` and wait for its acknowledgement (up to ``ack_within`` seconds)."""
        return await self.sio.call(event, data, namespace=self.namespace, timeout=self.ack_within)

    async def close(self) -> None:
        """Disconnect, and close what a refused handshake leaves open."""
        if self.sio.connected:
            await self.sio.disconnect()
        # A refused client keeps the HTTP session it opened for the handshake.
        http = self.sio.eio.http
        if http is not None and not http.closed:
            await http.close()
        # The client's engine.io task finishes its shutdown on the next loop turns.
        await asyncio.sleep(0)
