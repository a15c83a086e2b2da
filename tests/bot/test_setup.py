"""Wiring: the origin allowlist, and two hub nodes sharing the chat through Redis."""

from __future__ import annotations

from collections.abc import Callable

from hub.settings import Settings
from tests.bot.conftest import ChatClient, FakeRasa, hub_url
from tests.conftest import Api, Nodes


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
    nodes: Nodes, chat: Callable[[], ChatClient], rasa: FakeRasa, api: Api
) -> None:
    reception = await api.login("demo.reception")
    staff = chat()
    await staff.connect(hub_url(nodes.clients[1]), cookie=reception.cookie)
    await staff.next("queue")
    patient = chat()
    await patient.connect(hub_url(nodes.clients[0]))
    conversation_id = (await patient.next("conversation"))["conversation_id"]
    await nodes.listening(2)  # both nodes listen on the channel before we rely on it

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
