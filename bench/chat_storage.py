"""The chat's storage alone: ``Consultations.add_message`` in the benchmark process.

It explains the hub rows of :mod:`bench.consult_chat`. With one writer: CPU and SQL statements
per stored message. With :data:`WRITERS` writers at once (one room each, as several chatting
pairs): how long each waits for SQLite's write lock at ``BEGIN IMMEDIATE`` (``portal.db``
begins every write transaction that way, after queueing on its in-process write lock, so a
writer no longer sleeps in SQLite's busy handler while another holds the lock). Run while no
hub uses the database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select

from bench.servers import HubSandbox
from portal.access import Principal
from portal.models import Account

MESSAGES = 200
"""Messages stored one after another."""
WRITERS = 4
"""Writers storing at once in the second phase."""
WRITER_MESSAGES = 40
"""Messages each of them stores."""
TEXT = "x" * 120


@dataclass
class StorageCost:
    """What storing chat messages costs without Socket.IO."""

    cpu_seconds: float
    """CPU per message, one writer (this process, every thread)."""
    statements: float
    """SQL statements per message."""
    lock_waits: list[float] = field(default_factory=list)
    """Seconds each ``BEGIN IMMEDIATE`` took with :data:`WRITERS` writers."""
    latencies: list[float] = field(default_factory=list)
    """Seconds each ``add_message`` took with :data:`WRITERS` writers."""


@dataclass
class _Statements:
    """Counts the statements an engine executes and times its ``BEGIN`` s."""

    count: int = 0
    begins: list[float] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def before(self, connection: Any, *_: Any) -> None:
        self.count += 1
        self._started[id(connection)] = time.perf_counter()

    def after(self, connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        started = self._started.pop(id(connection), None)
        if started is not None and statement.startswith("BEGIN"):
            self.begins.append(time.perf_counter() - started)


async def storage_cost(sandbox: HubSandbox, appointment_ids: list[str]) -> StorageCost:
    """Store messages as demo.patient in ``appointment_ids`` (at least :data:`WRITERS`)."""
    rooms = [uuid.UUID(appointment_id) for appointment_id in appointment_ids[:WRITERS]]
    async with sandbox.portal() as portal:
        async with portal.db.read() as session:
            account = await session.scalar(select(Account).where(Account.login == "demo.patient"))
        assert account is not None
        principal = Principal.of(account)
        chat = portal.consultations
        for room in rooms:
            await chat.join(principal, room)
            await chat.add_message(principal, room, "warm-up", "warm-up")
        engine = portal.db.engine.sync_engine
        statements = _Statements()
        event.listen(engine, "before_cursor_execute", statements.before)
        event.listen(engine, "after_cursor_execute", statements.after)
        try:
            started = time.process_time()
            for index in range(MESSAGES):
                await chat.add_message(principal, rooms[0], TEXT, f"alone-{index}")
            cost = StorageCost(
                (time.process_time() - started) / MESSAGES, statements.count / MESSAGES
            )
            statements.begins.clear()

            async def writer(room: uuid.UUID) -> None:
                for index in range(WRITER_MESSAGES):
                    began = time.perf_counter()
                    await chat.add_message(principal, room, TEXT, f"together-{index}")
                    cost.latencies.append(time.perf_counter() - began)

            await asyncio.gather(*(writer(room) for room in rooms))
            cost.lock_waits = list(statements.begins)
        finally:
            event.remove(engine, "before_cursor_execute", statements.before)
            event.remove(engine, "after_cursor_execute", statements.after)
    return cost
