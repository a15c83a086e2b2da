"""Database access: the async engine, sessions, and the column types shared by the models.

SQLite (the single-node default, via aiosqlite) and PostgreSQL (via asyncpg) are both first
class. On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so that two writers
queue on the database lock instead of failing with "database is locked" when a reader upgrades
(https://www.sqlite.org/lang_transaction.html); reads stay deferred and, in WAL mode, never wait.

A database that cannot be reached, or does not answer in time, surfaces as
:class:`DatabaseUnavailable` (``503 service_unavailable``), never as a request that hangs: a
connection must open within :data:`CONNECT_TIMEOUT`, a statement answer within
:data:`STATEMENT_TIMEOUT` and a pooled connection be free within :data:`POOL_TIMEOUT`. Nothing
needs restarting when the database is back: ``pool_pre_ping`` replaces the dead connections.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from portal.errors import ServiceUnavailable

CONNECT_TIMEOUT = 5.0
"""Seconds to open a PostgreSQL connection (asyncpg waits 60 s by default)."""
STATEMENT_TIMEOUT = 10.0
"""Seconds one statement may take before it is cancelled: bounds a stalled network as well as
a slow query, so a request never waits on the database longer than this."""
POOL_TIMEOUT = 5.0
"""Seconds to wait for a free pooled connection."""
RETRY_AFTER = 5
"""What a ``503`` tells the client to wait before trying again, in seconds."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table, with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite has no timezone type; storing naive UTC there and ``timestamptz`` on PostgreSQL
    keeps comparisons correct on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DatabaseUnavailable(ServiceUnavailable):
    """The database could not be reached, or did not answer in time."""

    def __init__(self, reason: str) -> None:
        super().__init__(RETRY_AFTER)
        self.reason = reason

    def __str__(self) -> str:
        return f"database unavailable: {self.reason}"


_UNREACHABLE = (
    ConnectionError,  # refused or reset
    TimeoutError,  # connect or statement timeout
    socket.gaierror,
    asyncpg.PostgresConnectionError,  # the server refused the connection or went away
    asyncpg.ConnectionDoesNotExistError,  # closed in the middle of an operation
    asyncpg.QueryCanceledError,  # cancelled: the server shutting down, or statement_timeout
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,  # "the database system is starting up"
    asyncpg.TooManyConnectionsError,
)


def unavailable_reason(error: BaseException) -> str | None:
    """Why ``error`` means the database is out of reach (a name for the log), or ``None``
    when it is an ordinary error (a constraint, a bug) that must not be reported as a 503."""
    if isinstance(error, sa_exc.TimeoutError):
        return "pool timeout"
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return "connection lost"
        cause: BaseException | None = error.orig
        # The asyncpg adapter wraps the driver's exception; the original is the cause.
        while cause is not None and not isinstance(cause, _UNREACHABLE):
            cause = cause.__cause__
        if cause is not None:
            return type(cause).__name__
        if isinstance(error, sa_exc.OperationalError) and "locked" in str(error.orig):
            return "database is locked"  # SQLite's busy timeout ran out
        return None
    if isinstance(error, _UNREACHABLE):
        return type(error).__name__
    return None


def new_id() -> uuid.UUID:
    """A random (version 4) UUID: object ids reveal neither order nor count."""
    return uuid.uuid4()


def async_url(url: str) -> str:
    """Map a plain ``sqlite:``/``postgresql:`` URL to its async driver."""
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class Database:
    """The engine and its session factory; opened and closed by the application's lifecycle."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
        statement_timeout: float = STATEMENT_TIMEOUT,
        pool_timeout: float = POOL_TIMEOUT,
    ) -> None:
        self.url = async_url(url)
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(
                pool_size=10,
                max_overflow=20,
                pool_timeout=pool_timeout,
                # command_timeout is asyncpg's default for every statement: on expiry it
                # cancels the query and raises TimeoutError, which becomes a 503.
                connect_args={"timeout": connect_timeout, "command_timeout": statement_timeout},
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sqlite_writer = asyncio.Lock()
        """SQLite has one writer at a time. Waiting here queues this process's writers in
        order; waiting in SQLite's busy handler (sleep and retry) starves some of them for
        seconds under load (``bench/chat_storage.py``)."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; rolled back at the end (nothing it does is kept)."""
        try:
            async with self._sessions() as session:
                yield session
        except Exception as error:
            _raise_if_unavailable(error)
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one write transaction: committed on success, rolled back on error."""
        try:
            if not self.is_sqlite:
                async with self._sessions() as session, session.begin():
                    yield session
                return
            async with self._sqlite_writer, self._sessions() as session, session.begin():
                # Must come first: the options apply when the connection is procured.
                await session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
                yield session
        except Exception as error:
            _raise_if_unavailable(error)
            raise

    async def close(self) -> None:
        """Dispose of every pooled connection."""
        await self.engine.dispose()


def _raise_if_unavailable(error: Exception) -> None:
    """Raise :class:`DatabaseUnavailable` for ``error`` when it means the database is out of
    reach; the caller's own errors, raised inside the session, pass through untouched."""
    if isinstance(error, DatabaseUnavailable):
        return
    reason = unavailable_reason(error)
    if reason is not None:
        raise DatabaseUnavailable(reason) from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (the pysqlite/aiosqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
