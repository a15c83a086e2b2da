"""Two hub nodes sharing ``/consult`` through Redis: a patient on one and the physician on the
other still wait, get admitted, signal and chat (the rooms are Socket.IO rooms, fanned out by
``AsyncRedisManager``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.conftest import Api, Nodes
from tests.rtc.conftest import ConsultClient, hub_url


async def test_a_consultation_across_two_nodes(
    nodes: Nodes,
    consult: Callable[[], ConsultClient],
    book: Callable[..., Awaitable[str]],
    api: Api,
) -> None:
    appointment_id = await book()
    patient_user = await api.login("demo.patient")
    physician_user = await api.login("demo.physician")
    physician = consult()
    await physician.connect(hub_url(nodes.clients[1]), cookie=physician_user.cookie)
    await physician.next("queue")
    patient = consult()
    await patient.connect(hub_url(nodes.clients[0]), cookie=patient_user.cookie)
    await nodes.listening(2)  # both nodes listen on the channel before we rely on it

    assert (await patient.join(appointment_id))["room"]["state"] == "waiting"
    queue = await physician.next("queue")
    assert [i["appointment_id"] for i in queue["items"]] == [appointment_id]

    assert (await physician.join(appointment_id))["ok"]
    assert (await physician.call("admit", {"appointment_id": appointment_id}))["ok"]
    assert (await patient.next("admitted"))["appointment_id"] == appointment_id
    assert (await physician.next("peer_joined"))["role"] == "patient"

    offer = {"appointment_id": appointment_id, "description": {"type": "offer", "sdp": "v=0\r\n"}}
    assert (await physician.call("signal", offer))["ok"]
    assert (await patient.next("signal"))["description"]["type"] == "offer"

    await patient.say(appointment_id, "z węzła zero", "p-1")
    for side in (patient, physician):
        assert (await side.next("chat"))["message"]["text"] == "z węzła zero"
