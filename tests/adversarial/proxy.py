"""A loopback TCP proxy the fault tests put between the hub and a server it depends on.

The machine's PostgreSQL and Redis are shared by every test run, so the tests never stop them:
they cut or stall this proxy instead. ``cut()`` resets every open connection and refuses new
ones (the server went away); ``stall()`` keeps the connections open but forwards nothing (a
hung server or a black-holed network); ``restore()`` lets traffic through again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

Mode = Literal["pass", "refuse", "stall"]


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<target_port>`` until told otherwise."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self.port = 0
        self.accepted = 0
        """Connections accepted so far (whether forwarded or refused)."""
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        """Listen on a free loopback port (:attr:`port`)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        self._reset_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """The server is gone: reset what is open, refuse what comes."""
        self.mode = "refuse"
        self._flowing.set()  # held pipes wake up, see the mode and close
        self._reset_all()

    def stall(self) -> None:
        """The server hangs: connections open (and stay open) but no byte goes through."""
        self.mode = "stall"
        self._flowing.clear()

    def restore(self) -> None:
        """Traffic flows again (connections reset while cut stay dead: clients reconnect)."""
        self.mode = "pass"
        self._flowing.set()

    def _reset_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        try:
            if self.mode == "refuse":
                writer.transport.abort()
                return
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            except OSError:
                writer.transport.abort()
                return
            self._transports.update((writer.transport, upstream_writer.transport))
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        finally:
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                if self.mode == "refuse":
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._transports.discard(writer.transport)
            with contextlib.suppress(OSError):
                writer.transport.abort()
