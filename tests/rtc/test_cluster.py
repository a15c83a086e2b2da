"""A relayed room across two hub nodes: the patient's socket on one node, the physician's on the
other, and the room's relay on exactly one of them (``rtc/cluster.py``).

Both nodes share PostgreSQL and Redis, as the scaled setup does; the test peers call each other
as the pages do, with the room in relay mode from the start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.seed import book_demo_consultation
from rtc.cluster import RelayCluster
from rtc.media import MediaPeers
from rtc.setup import CLUSTER_KEY, CONSULT_KEY
from rtc.testpeer import TestPeer
from tests.conftest import DEMO_PASSWORD, Nodes
from tests.rtc.calls import ORIGIN, chat_both_ways, meet, see_and_hear_each_other

NODE_OF = {"demo.patient": 0, "demo.physician": 1}
"""Which node each login's sockets reach (sticky sessions put them on different nodes)."""


@pytest.fixture
def backend() -> str:
    """PostgreSQL: the database of the scaled setup."""
    return "postgresql"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every room relays from the start."""
    return dataclasses.replace(settings, relay_policy="relay")


@pytest.fixture
async def appointment_id(nodes: Nodes) -> str:
    """An online consultation of the demo patient with the demo physician, open now."""
    appointment = await book_demo_consultation(nodes.clients[0].app[PORTAL_KEY])
    return str(appointment.id)


@pytest.fixture
async def people(nodes: Nodes) -> AsyncIterator[Callable[..., TestPeer]]:
    """Test peers, each on its login's node; closed before the nodes stop."""
    made: list[TestPeer] = []

    def make(login: str, **options: Any) -> TestPeer:
        base_url = str(nodes.clients[NODE_OF[login]].make_url("")).rstrip("/")
        made.append(TestPeer(base_url, login, DEMO_PASSWORD, origin=ORIGIN, **options))
        return made[-1]

    for client in nodes.clients:
        # Socket.IO subscribes to Redis at its first Engine.IO handshake: make one per node.
        async with client.get("/socket.io/", params={"EIO": "4", "transport": "polling"}) as hello:
            assert hello.status == 200
    await nodes.listening(2)
    yield make
    for peer in made:
        await peer.close()


def media(client: TestClient[Any, Any]) -> MediaPeers:
    return client.app[CONSULT_KEY].media


def cluster(client: TestClient[Any, Any]) -> RelayCluster:
    return client.app[CLUSTER_KEY]


def relaying(nodes: Nodes, room: str) -> list[int]:
    """The nodes that have a relay bridge for ``room``."""
    return [i for i, client in enumerate(nodes.clients) if room in media(client).relayed_rooms()]


async def claim(nodes: Nodes, room: str) -> str | None:
    value = await nodes.redis.get("rtc:relay:" + room)
    return value.decode() if value is not None else None


async def test_a_relayed_room_lives_on_one_node_whichever_nodes_its_members_reach(
    nodes: Nodes, people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    assert patient.rooms[appointment_id].room["transport"] == "relay"
    await see_and_hear_each_other(patient, physician)
    await chat_both_ways(patient, physician, appointment_id)

    [owner] = relaying(nodes, appointment_id)
    assert await claim(nodes, appointment_id) == cluster(nodes.clients[owner]).node
    stats = media(nodes.clients[owner]).relay_stats(appointment_id)
    assert sorted(stats["peers"]) == ["patient", "physician"]
    for direction in ("patient_to_physician", "physician_to_patient"):
        assert stats["forwarded"][direction]["video"] > 0

    # The physician ends on node 1: the relay closes on the owner and its claim goes.
    await physician.end(appointment_id)
    await patient.wait_for_event("ended", within=5)
    await physician.wait_until(lambda: relaying(nodes, appointment_id) == [], within=5)
    assert await claim(nodes, appointment_id) is None
    assert patient.errors == [] and physician.errors == []


async def test_leaving_on_another_node_closes_the_members_relay_peer(
    nodes: Nodes, people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    await see_and_hear_each_other(patient, physician)
    [owner] = relaying(nodes, appointment_id)
    # Whoever's socket is not on the owner node leaves; the owner drops that member's peer.
    leaver, stayer = (patient, physician) if owner == 1 else (physician, patient)
    left_role = "patient" if leaver is patient else "physician"
    await leaver.leave(appointment_id)
    await stayer.wait_for_event("peer_left", within=5)
    owner_media = media(nodes.clients[owner])
    await stayer.wait_until(
        lambda: left_role not in owner_media.relay_stats(appointment_id).get("peers", {}),
        within=5,
    )
    assert relaying(nodes, appointment_id) == [owner]


async def test_a_claim_left_by_a_vanished_node_is_taken_over(
    nodes: Nodes, people: Callable[..., TestPeer], appointment_id: str
) -> None:
    # A node that crashed while relaying the room: its claim is there, nobody listens for it.
    await nodes.redis.set("rtc:relay:" + appointment_id, "crashed-node", px=60_000)
    patient, physician = await meet(people, appointment_id)
    await see_and_hear_each_other(patient, physician)
    [owner] = relaying(nodes, appointment_id)
    assert await claim(nodes, appointment_id) == cluster(nodes.clients[owner]).node


async def test_a_node_that_stops_gives_up_its_claims(
    nodes: Nodes, people: Callable[..., TestPeer], appointment_id: str
) -> None:
    patient, physician = await meet(people, appointment_id)
    await see_and_hear_each_other(patient, physician)
    [owner] = relaying(nodes, appointment_id)
    await nodes.clients[owner].close()
    # Given up at shutdown, not left to run out: the next relay offer may go anywhere at once.
    assert await claim(nodes, appointment_id) is None
