"""Two hub nodes sharing ``/consult`` through Redis: a patient on one and the physician on the
other still wait, get admitted, signal and chat (the rooms are Socket.IO rooms, fanned out by
``AsyncRedisManager``)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.setup import ChatConfig
from hub.app import create_app
from hub.settings import Settings
from portal.clock import ManualClock
from tests.conftest import REDIS_URL, Api, service_missing
from tests.rtc.conftest import ConsultClient, hub_url


async def test_a_consultation_across_two_nodes(
    aiohttp_client: Any,
    settings: Settings,
    clock: ManualClock,
    consult: Callable[[], ConsultClient],
    book: Callable[..., Awaitable[str]],
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
        appointment_id = await book()
        patient_user = await api.login("demo.patient")
        physician_user = await api.login("demo.physician")
        physician = consult()
        await physician.connect(hub_url(nodes[1]), cookie=physician_user.cookie)
        await physician.next("queue")
        patient = consult()
        await patient.connect(hub_url(nodes[0]), cookie=patient_user.cookie)
        channel = ChatConfig.channel
        for _ in range(250):  # the three servers listen on the channel before we rely on it
            if dict(await probe.pubsub_numsub(channel)).get(channel.encode(), 0) >= 3:
                break
            await asyncio.sleep(0.02)

        assert (await patient.join(appointment_id))["room"]["state"] == "waiting"
        queue = await physician.next("queue")
        assert [i["appointment_id"] for i in queue["items"]] == [appointment_id]

        assert (await physician.join(appointment_id))["ok"]
        assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
        assert (await patient.next("admitted"))["appointment_id"] == appointment_id
        assert (await physician.next("peer_joined"))["role"] == "patient"

        offer = {
            "appointment_id": appointment_id,
            "description": {"type": "offer", "sdp": "v=0\r\n"},
        }
        assert (await physician.call("signal", offer))["ok"]
        assert (await patient.next("signal"))["description"]["type"] == "offer"

        await patient.say(appointment_id, "z węzła zero", "p-1")
        for side in (patient, physician):
            assert (await side.next("chat"))["message"]["text"] == "z węzła zero"
    finally:
        await probe.aclose()
