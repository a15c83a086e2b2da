"""Wiring: the origin allowlist, and two hub nodes sharing the chat through Redis."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.setup import ChatConfig
from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from tests.bot.conftest import ChatClient, FakeRasa, hub_url
from tests.conftest import REDIS_URL, Api, service_missing


def test_allowed_origins_default_to_the_hub_and_can_be_set() -> None:
    default = Settings.from_env({"HUB_PORT": "8090", "PUBLIC_URL": "https://portal.example.pl/"})
    assert default.chat_origins() == (
        "https://portal.example.pl",
        "http://127.0.0.1:8090",
        "http://localhost:8090",
    )
    chosen = Settings.from_env({"ALLOWED_ORIGINS": "https://a.example.pl, https://b.example.pl/ ,"})
    assert chosen.chat_origins() == ("https://a.example.pl", "https://b.example.pl")


async def test_two_nodes_share_the_chat_through_redis(
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    chat: Callable[[], ChatClient],
    rasa: FakeRasa,
    api: Api,
) -> None:
    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(probe.ping(), 2)
    except (RedisError, OSError, TimeoutError) as error:
        await probe.aclose()
        service_missing("Redis", error)
    shared = dataclasses.replace(settings, redis_url=REDIS_URL)
    nodes = [
        await aiohttp_client(create_app(shared, clock=clock), cookie_jar=aiohttp.DummyCookieJar())
        for _ in range(2)
    ]
    try:
        reception = await api.login("demo.reception")
        staff = chat()
        await staff.connect(hub_url(nodes[1]), cookie=reception.cookie)
        await staff.next("queue")
        patient = chat()
        await patient.connect(hub_url(nodes[0]))
        conversation_id = (await patient.next("conversation"))["conversation_id"]
        channel = ChatConfig.channel
        for _ in range(250):  # both nodes listen on the channel before we rely on it
            if dict(await probe.pubsub_numsub(channel)).get(channel.encode(), 0) >= 2:
                break
            await asyncio.sleep(0.02)

        # Node 0 changes the queue; node 1's reception console hears it.
        await patient.call("request_human", {})
        assert (await patient.next("handoff"))["state"] == "waiting"
        await staff.next_matching(
            "queue",
            lambda q: any(i["conversation_id"] == conversation_id for i in q["items"]),
        )
        # Node 1 takes it; node 0's patient hears it, and the two talk across the nodes.
        assert (await staff.call("take", {"conversation_id": conversation_id}))["ok"] is True
        assert (await patient.next("handoff"))["state"] == "human"
        await patient.say("witam z węzła zero")
        assert (await staff.next("patient_message"))["text"] == "witam z węzła zero"
        await staff.call(
            "staff_message",
            {"conversation_id": conversation_id, "text": "witam z jedynki", "client_msg_id": "r"},
        )
        heard = await patient.next_matching("bot_message", lambda m: m["from"] == "staff")
        assert heard["text"] == "witam z jedynki"
    finally:
        await probe.aclose()
