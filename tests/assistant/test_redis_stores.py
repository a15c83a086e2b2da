"""With REDIS_URL set, Rasa keeps conversations and locks in Redis (endpoints.redis.yml)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.assistant.dialogue import Dialogue
from tests.assistant.stack import Stack, start_stack
from tests.conftest import service_missing

# Starting the stack (Rasa loads its model; the first run may train it) takes longer than the
# suite's per-test timeout allows.
pytestmark = pytest.mark.timeout(600)

REDIS_DB_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    async def ping() -> None:
        client = aioredis.Redis.from_url(REDIS_DB_URL)
        try:
            await asyncio.wait_for(client.ping(), 3)
            await client.flushdb()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except (OSError, TimeoutError, aioredis.ConnectionError) as error:
        service_missing("Redis", error)
    yield from start_stack(Path(tmp_path_factory.mktemp("assistant-redis")), REDIS_DB_URL)


async def test_rasa_keeps_the_tracker_in_redis(redis_stack: Stack) -> None:
    sender = f"redis-{uuid.uuid4().hex}"
    async with aiohttp.ClientSession() as http:
        dialogue = Dialogue(redis_stack, http, "en", None, sender)
        await dialogue.say("hello")
        assert dialogue.text()
    client = aioredis.Redis.from_url(REDIS_DB_URL)
    try:
        keys = [key.decode() for key in await client.keys("*")]
    finally:
        await client.aclose()
    assert any(key.startswith("medportal") and sender in key for key in keys), keys
