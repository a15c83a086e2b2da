"""Shared fixtures: the real app on SQLite and on PostgreSQL, seeded once per run.

Each test gets its own database, copied from a migrated and seeded template (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never see each other's data.
With ``REQUIRE_SERVICES=1`` a missing PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient
from redis.exceptions import RedisError
from sqlalchemy import select

from bot.setup import ChatConfig
from hub.app import create_app
from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.clock import ManualClock
from portal.config import Secret
from portal.db import Database
from portal.migrate import upgrade
from portal.models import AuditEvent
from portal.pesel import make_pesel
from portal.seed import seed_demo
from portal.services import Portal

DEMO_PASSWORD = "correct horse battery staple 42"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(what: str, error: BaseException | None = None) -> None:
    """Skip the test, or fail it when CI requires the service."""
    reason = f"{what} is not reachable" + (f": {error!r}" if error else "")
    if REQUIRE_SERVICES:
        pytest.fail(reason + " (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _pg_dsn(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


async def _pg_execute(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _build_template(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        portal = Portal(db, Settings(secret=Secret("template")).portal_config())
        await seed_demo(portal, DEMO_PASSWORD)
    finally:
        await db.close()


@dataclass
class Templates:
    """Seeded template databases, built on first use."""

    root: Path
    sqlite_file: Path | None = None
    pg_name: str | None = None
    pg_error: BaseException | None = None
    made: list[str] = field(default_factory=list)

    def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.root / "template.sqlite3"
            asyncio.run(_build_template(f"sqlite:///{path}"))
            self.sqlite_file = path
        return self.sqlite_file

    def postgres(self) -> str:
        if self.pg_error is not None:
            service_missing("PostgreSQL", self.pg_error)
        if self.pg_name is None:
            name = f"mp_template_{os.getpid()}_{secrets.token_hex(3)}"
            try:
                asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                self.pg_error = error
                service_missing("PostgreSQL", error)
            self.made.append(name)
            asyncio.run(_build_template(_pg_dsn(name)))
            self.pg_name = name
        return self.pg_name


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    found = Templates(tmp_path_factory.mktemp("templates"))
    yield found
    for name in found.made:
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded database for this test."""
    if backend == "sqlite":
        path = tmp_path / "portal.sqlite3"
        shutil.copyfile(templates.sqlite(), path)
        yield f"sqlite:///{path}"
        return
    template = templates.postgres()
    name = f"mp_test_{secrets.token_hex(6)}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_dsn(name)
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand; it starts at the real present."""
    return ManualClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a hub whose assistant is absent (its ports are closed)."""
    return Settings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        documents_dir=tmp_path / "var" / "documents",
        secret=Secret("test-secret-" + secrets.token_hex(8)),
        rasa_url="http://127.0.0.1:9",
        actions_url="http://127.0.0.1:9",
        public_url="http://127.0.0.1:8080",
    )


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> TestClient[Any, Any]:
    """The real hub app behind a test server; it keeps no cookies (users carry their own)."""
    app = create_app(settings, clock=clock)
    return await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())


@pytest.fixture
def api(client: TestClient[Any, Any]) -> Api:
    """Helpers that speak to the API as different users."""
    return Api(client)


# -- users ------------------------------------------------------------------------------------

_serials = itertools.count(1)


@dataclass
class User:
    """A logged-in user: the session cookie and CSRF token travel with every request."""

    login: str
    password: str
    cookie: str = ""
    csrf: str = ""
    account: dict[str, Any] = field(default_factory=dict)
    bearer: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        return {"Cookie": f"mp_session={self.cookie}", "X-CSRF-Token": self.csrf}

    @property
    def patient_id(self) -> str:
        return str(self.account["patient"]["id"])


async def role_refusals(db: Database, account_id: str) -> list[tuple[str | None, str]]:
    """What the audit log says this account's role was refused: (operation, action) pairs."""
    async with db.read() as session:
        events = await session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.actor_account_id == uuid.UUID(account_id),
                AuditEvent.object_type == "Operation",
                AuditEvent.outcome == "denied",
            )
            .order_by(AuditEvent.at)
        )
        return [(event.object_id, event.action) for event in events]


def registration_form(**overrides: Any) -> dict[str, Any]:
    """A valid registration form with a unique login and PESEL."""
    serial = next(_serials)
    birth = date(1960 + serial % 40, 1 + serial % 12, 1 + serial % 28)
    sex = "female" if serial % 2 else "male"
    form = {
        "first_name": "Katarzyna" if sex == "female" else "Tomasz",
        "last_name": "Wiśniewska" if sex == "female" else "Wiśniewski",
        "email": f"user{serial}.{uuid.uuid4().hex[:6]}@example.com",
        "phone": "600 100 200",
        "birth_date": birth.strftime("%d-%m-%Y"),
        "sex": sex,
        "pesel": make_pesel(birth, sex, (serial * 7 + secrets.randbelow(900)) % 1000),
        "login": f"patient.{serial}.{uuid.uuid4().hex[:6]}",
        "password": f"Zielona łąka {uuid.uuid4().hex[:8]}",
    }
    form.update(overrides)
    return form


class Api:
    """Thin helpers over the test client."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client

    @property
    def portal(self) -> Portal:
        """The app's domain services."""
        return self.client.app[PORTAL_KEY]

    async def settle(self) -> None:
        """Wait for the work the hub does after its answers (mail, see ``Portal.drain``)."""
        await self.portal.drain()

    async def login(self, login: str, password: str = DEMO_PASSWORD) -> User:
        response = await self.client.post(
            "/api/v1/auth/login", json={"login": login, "password": password}
        )
        assert response.status == 200, await response.text()
        body = await response.json()
        cookie = response.cookies["mp_session"].value
        return User(
            login, password, cookie=cookie, csrf=body["csrf_token"], account=body["account"]
        )

    async def register(self, **overrides: Any) -> User:
        """Register a new basic patient and log them in."""
        form = registration_form(**overrides)
        response = await self.client.post("/api/v1/accounts", json=form)
        assert response.status == 201, await response.text()
        return await self.login(form["login"], form["password"])

    async def full_patient(self) -> User:
        """A new patient with full access (Terms accepted online)."""
        user = await self.register()
        response = await self.client.post(
            "/api/v1/me/full-access", json={"accept_terms": True}, headers=user.headers
        )
        assert response.status == 200, await response.text()
        user.account = await response.json()
        return user

    async def free_slots(self, **query: Any) -> list[dict[str, Any]]:
        """Free slots matching ``query`` (see searchSlots)."""
        response = await self.client.get("/api/v1/slots", params={"limit": 50, **query})
        assert response.status == 200, await response.text()
        return list((await response.json())["items"])

    async def bookable_slots(self, user: User, count: int, **query: Any) -> list[dict[str, Any]]:
        """``count`` free slots matching ``query`` that ``user`` may hold together: none
        overlaps another or one of the user's booked visits (``appointment_overlap``)."""
        response = await self.client.get(
            "/api/v1/appointments", params={"period": "upcoming"}, headers=user.headers
        )
        assert response.status == 200, await response.text()

        def span(item: dict[str, Any]) -> tuple[datetime, datetime]:
            return datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])

        taken = [span(a) for a in (await response.json())["items"] if a["status"] == "booked"]
        chosen: list[dict[str, Any]] = []
        for slot in await self.free_slots(**query):
            start, end = span(slot)
            if all(end <= s or start >= e for s, e in [*taken, *map(span, chosen)]):
                chosen.append(slot)
            if len(chosen) == count:
                return chosen
        raise AssertionError(f"fewer than {count} bookable slots for {query}")

    async def book(self, user: User, slot_id: str, **extra: Any) -> aiohttp.ClientResponse:
        return await self.client.post(
            "/api/v1/appointments", json={"slot_id": slot_id, **extra}, headers=user.headers
        )


# -- several hub nodes ------------------------------------------------------------------------


@dataclass
class Nodes:
    """Hub nodes sharing Socket.IO through Redis, and a Redis connection to watch them."""

    clients: list[TestClient[Any, Any]]
    redis: aioredis.Redis

    async def listening(self, count: int) -> None:
        """Wait until ``count`` Socket.IO servers listen on the shared channel (at most 5 s)."""
        channel = ChatConfig.channel
        for _ in range(250):  # Redis has no "subscribed" event to wait for: poll, 5 s at most
            if dict(await self.redis.pubsub_numsub(channel)).get(channel.encode(), 0) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {count} servers listen on {channel}")


@pytest.fixture
async def nodes(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> AsyncIterator[Nodes]:
    """Two hub nodes on one database, sharing Socket.IO through Redis (which must run)."""
    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(probe.ping(), 2)
    except (RedisError, OSError, TimeoutError) as error:
        await probe.aclose()
        service_missing("Redis", error)
    shared = replace(settings, redis_url=REDIS_URL)
    clients = [
        await aiohttp_client(create_app(shared, clock=clock), cookie_jar=aiohttp.DummyCookieJar())
        for _ in range(2)
    ]
    try:
        yield Nodes(clients, probe)
    finally:
        await probe.aclose()
