"""Throttling under concurrency (issue 12): attempts are counted before the work they guard.

Each burst is sent at once (``asyncio.gather``); the counts are checked exactly: with a limit of
five, five attempts are answered and the rest get ``429 too_many_attempts`` with Retry-After,
however the requests interleave. Time moves only by ``clock.advance``; every test runs on
SQLite and on PostgreSQL, and the two-node one through Redis.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
import socketio
from aiohttp import ClientResponse, DummyCookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.app import create_app
from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.clock import ManualClock
from portal.config import Limit
from portal.errors import ServiceUnavailable
from portal.models import AuditEvent, Patient, ThrottleCounter
from portal.pesel import make_pesel
from portal.throttle import Bucket, RedisStore, Throttle
from tests.conftest import DEMO_PASSWORD, Api, Nodes, User, registration_form
from tests.sockets import SocketClient

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/me"
CHANGE_PASSWORD = "/api/v1/me/password"
RESET = "/api/v1/auth/password-reset"
ACCOUNTS = "/api/v1/accounts"
DEPENDENTS = "/api/v1/me/dependents"
SEARCH = "/api/v1/reception/patients"
NEW_PASSWORD = "Nowe hasło do portalu 2026"


async def outcome(response: ClientResponse) -> tuple[int, str | None]:
    """(status, problem code or None) of a response, read in full."""
    if response.content_type == "application/problem+json":
        return response.status, (await response.json(content_type=None))["code"]
    await response.read()
    return response.status, None


async def statuses(responses: list[ClientResponse]) -> Counter[tuple[int, str | None]]:
    """How many responses had each (status, code)."""
    return Counter([await outcome(response) for response in responses])


def login_body(login: str, password: str) -> dict[str, str]:
    return {"login": login, "password": password}


async def retry_after(response: ClientResponse) -> int:
    """The Retry-After of a 429, checked against the problem body's ``retry_after``."""
    assert response.status == 429, await response.text()
    body = await response.json(content_type=None)
    assert body["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) == body["retry_after"]
    return int(body["retry_after"])


# -- logins -------------------------------------------------------------------------------------


async def test_25_concurrent_wrong_passwords_for_one_login_verify_only_five(api: Api) -> None:
    passwords = api.portal.passwords
    before = passwords.dummy_verifications
    burst = await asyncio.gather(
        *(api.client.post(LOGIN, json=login_body("demo.patient", f"guess {i}")) for i in range(25))
    )
    assert await statuses(burst) == {
        (401, "invalid_credentials"): 5,
        (429, "too_many_attempts"): 20,
    }
    for response in burst:
        if response.status == 429:
            assert 1 <= await retry_after(response) <= 900
    # Even the right password waits now: the five guesses used the name's allowance.
    response = await api.client.post(LOGIN, json=login_body("demo.patient", DEMO_PASSWORD))
    assert await retry_after(response) == 900
    assert passwords.dummy_verifications == before  # a known login: real hashes only


async def test_25_concurrent_guesses_from_one_address_verify_only_twenty(
    api: Api, clock: ManualClock
) -> None:
    burst = await asyncio.gather(
        *(api.client.post(LOGIN, json=login_body(f"guess.{i}", "wrong")) for i in range(25))
    )
    assert await statuses(burst) == {
        (401, "invalid_credentials"): 20,
        (429, "too_many_attempts"): 5,
    }
    clock.advance(timedelta(minutes=15))
    response = await api.client.post(LOGIN, json=login_body("demo.patient", DEMO_PASSWORD))
    assert response.status == 200, await response.text()


async def test_two_nodes_share_the_count_through_redis(nodes: Nodes, settings: Settings) -> None:
    first, second = nodes.clients
    burst = await asyncio.gather(
        *(
            (first if i % 2 else second).post(LOGIN, json=login_body("demo.reception", f"g{i}"))
            for i in range(12)
        )
    )
    assert await statuses(burst) == {
        (401, "invalid_credentials"): 5,
        (429, "too_many_attempts"): 7,
    }
    for node in (first, second):
        response = await node.post(LOGIN, json=login_body("demo.reception", DEMO_PASSWORD))
        assert await retry_after(response) == 900
    # The count lives in Redis under this deployment's prefix (not in the nodes' database).
    key = RedisStore(lambda: nodes.redis, settings.secret.reveal()).prefix + "login:demo.reception"
    assert await nodes.redis.hget(key, "n") == b"5"
    async with nodes.clients[0].app[PORTAL_KEY].db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ThrottleCounter)) == 0
    await nodes.redis.delete(key)


async def test_two_nodes_without_redis_share_the_count_in_the_database(
    aiohttp_client: Any, settings: Settings, clock: ManualClock
) -> None:
    # Two apps, two connection pools, one database: the row lock is what they share.
    first, second = [
        await aiohttp_client(create_app(settings, clock=clock), cookie_jar=DummyCookieJar())
        for _ in range(2)
    ]
    burst = await asyncio.gather(
        *(
            (first if i % 2 else second).post(LOGIN, json=login_body("demo.physician", f"g{i}"))
            for i in range(12)
        )
    )
    assert await statuses(burst) == {
        (401, "invalid_credentials"): 5,
        (429, "too_many_attempts"): 7,
    }
    async with first.app[PORTAL_KEY].db.read() as session:
        row = await session.get(ThrottleCounter, "login:demo.physician")
    assert row is not None and row.failures == 5


async def test_successes_from_a_shared_address_do_not_block_it(api: Api) -> None:
    # A clinic's NAT: 21 good logins and 19 typos from one address stay under its limit of 20.
    for _ in range(21):
        response = await api.client.post(LOGIN, json=login_body("demo.physician", DEMO_PASSWORD))
        assert response.status == 200, await response.text()
    typos = [api.client.post(LOGIN, json=login_body(f"typo.{i}", "x")) for i in range(19)]
    assert await statuses(list(await asyncio.gather(*typos))) == {(401, "invalid_credentials"): 19}
    response = await api.client.post(LOGIN, json=login_body("demo.patient", DEMO_PASSWORD))
    assert response.status == 200, await response.text()


async def test_a_patients_typos_never_lock_out_the_assistants_token(api: Api) -> None:
    patient = await api.login("demo.patient")
    response = await api.client.post("/api/v1/auth/token", headers=patient.headers)
    token = {"Authorization": f"Bearer {(await response.json())['access_token']}"}
    # Typos at the login page, from the address the action server also calls from (loopback):
    # the login name and then the whole address are blocked ...
    await asyncio.gather(
        *(api.client.post(LOGIN, json=login_body("demo.patient", f"typo {i}")) for i in range(5)),
        *(api.client.post(LOGIN, json=login_body(f"other.{i}", "typo")) for i in range(15)),
    )
    response = await api.client.post(LOGIN, json=login_body("demo.patient", DEMO_PASSWORD))
    assert await retry_after(response) == 900
    # ... yet the assistant, acting with the patient's token, does its work as before.
    for path in (ME, DEPENDENTS, "/api/v1/appointments"):
        response = await api.client.get(path, headers=token)
        assert response.status == 200, (path, await response.text())
    assert (await api.client.get(ME, headers=patient.headers)).status == 200


# -- changing the password ----------------------------------------------------------------------


async def change(api: Api, user: User, old: str) -> ClientResponse:
    return await api.client.post(
        CHANGE_PASSWORD,
        json={"old_password": old, "new_password": NEW_PASSWORD},
        headers=user.headers,
    )


async def test_wrong_old_passwords_end_the_session_and_pause_changes(
    api: Api, clock: ManualClock
) -> None:
    thief = await api.login("demo.patient")
    owner = await api.login("demo.patient")
    burst = await asyncio.gather(*(change(api, thief, f"guess {i}") for i in range(10)))
    # Four wrong answers, the fifth ends the session; the rest were never checked.
    assert await statuses(list(burst)) == {
        (422, "invalid_input"): 4,
        (429, "too_many_attempts"): 6,
    }
    assert (await api.client.get(ME, headers=thief.headers)).status == 401
    async with api.portal.db.read() as session:
        refusals = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_account_id == uuid.UUID(thief.account["id"]),
                    AuditEvent.action == "password_change",
                )
            )
        )
    assert [(e.outcome, e.detail) for e in refusals] == [
        ("denied", {"reason": "too_many_wrong_old_passwords"})
    ]
    # Not a lockout: the owner's other session works and logging in works ...
    assert (await api.client.get(ME, headers=owner.headers)).status == 200
    again = await api.login("demo.patient")
    # ... but changing the password waits out the block, right password or not.
    assert await retry_after(await change(api, again, DEMO_PASSWORD)) == 900
    clock.advance(timedelta(minutes=15))
    response = await change(api, again, DEMO_PASSWORD)
    assert response.status == 204, await response.text()


async def test_a_right_old_password_clears_the_wrong_ones(api: Api) -> None:
    user = await api.login("demo.patient")
    for _ in range(2):
        for i in range(4):
            assert (await change(api, user, f"guess {i}")).status == 422
        response = await api.client.post(
            CHANGE_PASSWORD,
            json={"old_password": DEMO_PASSWORD, "new_password": "krótkie"},
            headers=user.headers,
        )
        assert await outcome(response) == (422, "invalid_input")
    assert (await api.client.get(ME, headers=user.headers)).status == 200


# -- password reset requests --------------------------------------------------------------------


async def test_reset_requests_are_counted_per_name_known_or_not(
    api: Api, settings: Settings
) -> None:
    answers: dict[str, list[ClientResponse]] = {}
    for name in ("demo.patient", "no.such.login"):
        answers[name] = list(
            await asyncio.gather(*(api.client.post(RESET, json={"login": name}) for _ in range(8)))
        )
    shapes = []
    for name, burst in answers.items():
        assert await statuses(burst) == {(202, None): 5, (429, "too_many_attempts"): 3}, name
        refused = next(r for r in burst if r.status == 429)
        shapes.append((refused.headers["Retry-After"], await refused.read()))
    # Known or not, the refusal is the same, byte for byte.
    assert shapes[0] == shapes[1]
    # Five requests were answered; the account got three links, the most an hour allows.
    await api.settle()
    mailed = [
        message["To"]
        for message in (
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in (settings.var_dir / "outbox").glob("*.eml")
        )
    ]
    assert mailed == ["demo.patient@example.com"] * 3


async def test_reset_requests_are_counted_per_address(api: Api) -> None:
    burst = await asyncio.gather(
        *(api.client.post(RESET, json={"login": f"name.{i}"}) for i in range(23))
    )
    assert await statuses(list(burst)) == {(202, None): 20, (429, "too_many_attempts"): 3}
    await api.settle()


# -- registration, dependents, reception's searches ---------------------------------------------


async def test_registrations_are_counted_per_address(api: Api) -> None:
    forms = [registration_form() for _ in range(22)]
    burst = await asyncio.gather(*(api.client.post(ACCOUNTS, json=form) for form in forms))
    assert await statuses(list(burst)) == {(201, None): 20, (429, "too_many_attempts"): 2}
    refused = [f for f, r in zip(forms, burst, strict=True) if r.status == 429]
    async with api.portal.db.read() as session:
        stored = await session.scalar(
            select(func.count(Patient.id)).where(Patient.pesel.in_([f["pesel"] for f in refused]))
        )
    assert stored == 0
    # A wrong field is not counted: it tells nothing about anyone and costs no hash.
    response = await api.client.post(ACCOUNTS, json=registration_form(pesel="123"))
    assert await outcome(response) == (422, "invalid_input")
    await api.settle()


async def test_dependents_are_counted_per_guardian(api: Api, clock: ManualClock) -> None:
    user = await api.register()
    born = date(clock.now().year - 6, 6, 15)
    forms = [
        {
            "first_name": "Ala",
            "last_name": "Nowicka",
            "birth_date": born.strftime("%d-%m-%Y"),
            "sex": "female",
            "pesel": make_pesel(born, "female", 100 + i),
        }
        for i in range(12)
    ]
    burst = await asyncio.gather(
        *(api.client.post(DEPENDENTS, json=form, headers=user.headers) for form in forms)
    )
    assert await statuses(list(burst)) == {(201, None): 10, (429, "too_many_attempts"): 2}
    response = await api.client.get(DEPENDENTS, headers=user.headers)
    assert len((await response.json())["items"]) == 10
    await api.settle()


async def test_reception_searches_at_a_humans_pace(api: Api, clock: ManualClock) -> None:
    desk = await api.login("demo.reception")
    # Numbers a script walks through; a day no demo patient was born on, so none matches.
    probes = [make_pesel(date(1913, 2, 3), "male", i) for i in range(33)]
    burst = await asyncio.gather(
        *(api.client.get(SEARCH, params={"q": q}, headers=desk.headers) for q in probes)
    )
    assert await statuses(list(burst)) == {(200, None): 30, (429, "too_many_attempts"): 3}
    async with api.portal.db.read() as session:
        searched = await session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "search")
        )
    assert searched == 0  # none of the made-up numbers is a patient's
    clock.advance(timedelta(minutes=5))
    response = await api.client.get(SEARCH, params={"q": "Kowalsk"}, headers=desk.headers)
    assert response.status == 200, await response.text()


# -- anonymous /chat connections ----------------------------------------------------------------


async def test_anonymous_chat_connections_are_counted_per_address(
    client: TestClient[Any, Any], api: Api
) -> None:
    # The limit is 120 in 5 minutes (many visitors share a clinic's address); 10 here keeps
    # the burst small. The namespace reads the limit from the portal's config at each connect.
    portal = api.portal
    portal.config = dataclasses.replace(
        portal.config, chat_connects=Limit(10, timedelta(minutes=5), timedelta(minutes=5))
    )
    url = str(client.make_url(""))
    sockets = [SocketClient("/chat", ("conversation",)) for _ in range(13)]
    patient = await api.login("demo.patient")
    logged_in = SocketClient("/chat", ("conversation",))
    try:
        results = await asyncio.gather(
            *(socket.connect(url) for socket in sockets), return_exceptions=True
        )
        refused = [s for s, r in zip(sockets, results, strict=True) if isinstance(r, Exception)]
        for result in results:
            assert result is None or isinstance(result, socketio.exceptions.ConnectionError)
        assert len(refused) == 3
        for socket in refused:
            assert socket.refusal["data"]["code"] == "too_many_attempts"
            assert 1 <= socket.refusal["data"]["retry_after"] <= 300
        # A logged-in patient from the same address is not counted with the anonymous ones.
        await logged_in.connect(url, cookie=patient.cookie)
        assert (await logged_in.next("conversation"))["state"] == "bot"
    finally:
        for socket in [*sockets, logged_in]:
            await socket.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_block_ends_and_is_never_forever(api: Api, clock: ManualClock) -> None:
    name = f"someone.{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        for i in range(5):
            response = await api.client.post(LOGIN, json=login_body(name, f"x{i}"))
            assert response.status == 401
        assert await retry_after(await api.client.post(LOGIN, json=login_body(name, "x"))) == 900
        clock.advance(timedelta(minutes=15))
    # Each round waited exactly the same block: refused attempts do not lengthen it.
    response = await api.client.post(LOGIN, json=login_body(name, "x"))
    assert response.status == 401


async def test_without_redis_nothing_is_let_through_uncounted(clock: ManualClock) -> None:
    # Nodes that count in Redis refuse (503) rather than let attempts through uncounted.
    gone = aioredis.Redis.from_url("redis://127.0.0.1:9", socket_connect_timeout=1)
    throttle = Throttle(RedisStore(lambda: gone, "secret"), clock)
    limit = Limit(5, timedelta(minutes=15), timedelta(minutes=15))
    try:
        with pytest.raises(ServiceUnavailable):
            await throttle.hit(Bucket("login:demo.patient", limit))
    finally:
        await gone.aclose()
