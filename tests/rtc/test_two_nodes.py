"""Two hub nodes sharing ``/consult`` through Redis: a patient on one and the physician on the
other still wait, get admitted, signal and chat (the rooms are Socket.IO rooms, fanned out by
``AsyncRedisManager``), and each sees whether the other is there (``rtc/presence.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.conftest import Api, Nodes, User
from tests.rtc.conftest import ConsultClient, hub_url

People = tuple[str, User, User]


@pytest.fixture
async def people(book: Callable[..., Awaitable[str]], api: Api) -> People:
    """A consultation open now, and its patient's and physician's logins."""
    return await book(), await api.login("demo.patient"), await api.login("demo.physician")


async def test_a_consultation_across_two_nodes(
    nodes: Nodes, consult: Callable[[], ConsultClient], people: People
) -> None:
    appointment_id, patient_user, physician_user = people
    physician = consult()
    await physician.connect(hub_url(nodes.clients[1]), cookie=physician_user.cookie)
    await physician.next("queue")
    patient = consult()
    await patient.connect(hub_url(nodes.clients[0]), cookie=patient_user.cookie)
    await nodes.listening(2)  # both nodes listen on the channel before we rely on it

    room = (await patient.join(appointment_id))["room"]
    assert room["state"] == "waiting"
    # The physician's desk is open on the other node: the patient hears they have been told.
    assert room["physician_notified"] is True
    assert (await patient.next("waiting"))["physician_notified"] is True
    queue = await physician.next("queue")
    assert [i["appointment_id"] for i in queue["items"]] == [appointment_id]

    joined = await physician.join(appointment_id)
    assert joined["room"]["peer_present"] is True, "the patient waits on the other node"
    assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
    assert (await patient.next("admitted"))["appointment_id"] == appointment_id
    assert (await physician.next("peer_joined"))["role"] == "patient"

    offer = {"appointment_id": appointment_id, "description": {"type": "offer", "sdp": "v=0\r\n"}}
    assert (await physician.call("signal", offer))["ok"]
    assert (await patient.next("signal"))["description"]["type"] == "offer"

    await patient.say(appointment_id, "z węzła zero", "p-1")
    for side in (patient, physician):
        assert (await side.next("chat"))["message"]["text"] == "z węzła zero"


async def test_presence_counts_every_node_and_ends_with_the_last_tab(
    nodes: Nodes, consult: Callable[[], ConsultClient], people: People
) -> None:
    appointment_id, patient_user, physician_user = people
    tabs = [consult(), consult()]
    for node, tab in enumerate(tabs):
        await tab.connect(hub_url(nodes.clients[node]), cookie=patient_user.cookie)
    physician = consult()
    await physician.connect(hub_url(nodes.clients[1]), cookie=physician_user.cookie)
    await nodes.listening(2)
    for tab in tabs:
        assert (await tab.join(appointment_id))["ok"]
    # Nobody from the desk is connected on node 0, yet the patient there hears it was told.
    assert (await tabs[0].next("waiting"))["physician_notified"] is True

    assert (await physician.join(appointment_id))["room"]["peer_present"] is True
    # The patient's tab on the physician's node leaves; the one on node 0 is still there.
    await tabs[1].call("leave", {"appointment_id": appointment_id})
    assert (await physician.join(appointment_id))["room"]["peer_present"] is True
    assert physician.pending("peer_left") == []
    # The last tab goes: now the patient has left, and the physician is told.
    await tabs[0].close()
    assert (await physician.next("peer_left"))["role"] == "patient"
    assert (await physician.join(appointment_id))["room"]["peer_present"] is False

    # The desk closes: a patient joining now is not told that the physician knows.
    await physician.close()
    again = consult()
    await again.connect(hub_url(nodes.clients[0]), cookie=patient_user.cookie)
    assert (await again.join(appointment_id))["room"]["physician_notified"] is False
