"""Cancelling, rescheduling and ordering a prescription through the actions, on the real hub."""

from __future__ import annotations

from datetime import datetime

from conftest import FormDriver, Hub

from actions.booking import ActionAskConfirmed, ActionAskPreferredDate, ActionAskSlotChoice
from actions.cancel import ActionAskAppointmentChoice, ValidateCancelForm, ValidateRescheduleForm
from actions.dates import ZONE, format_day
from actions.prescriptions import ActionAskPrescriptionChoice, ValidatePrescriptionForm
from actions.texts import PROBLEMS

ASK = {
    "appointment_choice": ActionAskAppointmentChoice(),
    "preferred_date": ActionAskPreferredDate(),
    "slot_choice": ActionAskSlotChoice(),
    "confirmed": ActionAskConfirmed(),
    "prescription_choice": ActionAskPrescriptionChoice(),
}


def upcoming(hub: Hub, token: str) -> list[dict]:
    return [a for a in hub.appointments(token) if a["status"] == "booked"]


async def test_reschedule_then_cancel_the_seeded_visit(hub: Hub, patient_token: str) -> None:
    visits = upcoming(hub, patient_token)
    assert visits, "the demo patient has an upcoming visit"

    move = FormDriver(
        "reschedule_form", ValidateRescheduleForm(), ASK, language="en", token=patient_token
    )
    await move.say("I need to move my internist visit", "reschedule_appointment")
    if move.requested == "appointment_choice":
        first = move.slots["offered_appointments"][0]["id"]
        await move.say(move.payloads()[0], candidates={"appointment_choice": first})
    visit_id = move.slots["appointment_choice"]
    assert move.requested == "preferred_date"
    assert "When should the visit" in move.text()
    await move.say("next week in the afternoon")
    assert move.requested == "slot_choice", move.text()
    new_slot = move.slots["offered_slots"]["items"][0]["id"]
    await move.say("the first one")
    assert move.slots["slot_choice"] == new_slot
    assert "Move the visit" in move.text()
    await move.say("yes", "affirm", candidates={"confirmed": True})
    assert move.slots["outcome"] == "rescheduled", move.text()
    after = {a["id"]: a for a in hub.appointments(patient_token)}
    assert after[visit_id]["status"] == "rescheduled" or after[visit_id]["status"] == "cancelled"
    moved = [a for a in after.values() if a.get("rescheduled_from_id") == visit_id]
    assert len(moved) == 1
    assert moved[0]["source"] == "assistant"

    cancel = FormDriver("cancel_form", ValidateCancelForm(), ASK, token=patient_token)
    await cancel.say("odwołaj wizytę u internisty", "cancel_appointment")
    if cancel.requested == "appointment_choice":
        await cancel.say("1")
    assert cancel.requested == "confirmed"
    assert "Odwołać wizytę" in cancel.text()
    target = cancel.slots["appointment_choice"]
    await cancel.say("tak", "affirm", candidates={"confirmed": True})
    assert cancel.slots["outcome"] == "cancelled"
    assert "Wizyta odwołana" in cancel.text()
    statuses = {a["id"]: a["status"] for a in hub.appointments(patient_token)}
    assert statuses[target] == "cancelled"


async def test_no_means_nothing_is_cancelled(hub: Hub, basic_token: str) -> None:
    cancel = FormDriver("cancel_form", ValidateCancelForm(), ASK, token=basic_token)
    await cancel.say("odwołaj wizytę", "cancel_appointment")
    assert cancel.slots["outcome"] == "none"
    assert "Nie masz żadnych nadchodzących wizyt" in cancel.text()


async def test_order_a_prescription_from_the_history(hub: Hub, patient_token: str) -> None:
    order = FormDriver("prescription_form", ValidatePrescriptionForm(), ASK, token=patient_token)
    await order.say("zamów receptę", "order_prescription")
    assert order.requested == "prescription_choice"
    titles = [b["title"] for m in order.said for b in m.get("buttons") or []]
    assert any("Euthyrox" in t for t in titles)
    await order.say("Euthyrox")
    assert order.requested == "confirmed"
    assert "Euthyrox N 50" in order.text()
    await order.say("tak", "affirm", candidates={"confirmed": True})
    assert order.slots["outcome"] == "ordered"
    assert "/prescriptions.html" in order.text()
    history = hub.call("GET", "/prescriptions", None, {"Authorization": f"Bearer {patient_token}"})
    pending = [o for o in history["orders"] if o["status"] == "pending"]
    assert [o["medication_name"] for o in pending] == ["Euthyrox N 50"]

    again = FormDriver("prescription_form", ValidatePrescriptionForm(), ASK, token=patient_token)
    # The earlier form's list stays in the tracker (action_finish_form does not clear it).
    again.slots["offered_prescriptions"] = order.slots["offered_prescriptions"]
    await again.say("recepta na Euthyrox", "order_prescription")
    # Already waiting for the physician: said so (with the day), not ordered again.
    titles = [b["title"] for m in again.said for b in m.get("buttons") or []]
    assert not any("Euthyrox" in t for t in titles)
    assert again.slots["outcome"] == "pending"
    day = datetime.fromisoformat(pending[0]["created_at"]).astimezone(ZONE).date()
    since = f"{day.day} {format_day(day, 'pl').split()[-1]}"
    assert again.text().startswith(f"Zamówienie na Euthyrox N 50 już czeka na lekarza (od {since})")

    # Named at the question, in English: the same answer, not a second order.
    named = FormDriver(
        "prescription_form", ValidatePrescriptionForm(), ASK, language="en", token=patient_token
    )
    await named.say("renew my prescription", "order_prescription")
    assert named.requested == "prescription_choice"
    await named.say("euthyrox please")
    assert named.slots["outcome"] == "pending"
    assert "already waiting for the physician (since" in named.text()
    history = hub.call("GET", "/prescriptions", None, {"Authorization": f"Bearer {patient_token}"})
    assert len([o for o in history["orders"] if o["status"] == "pending"]) == 1


async def test_records_of_a_basic_account_need_full_access(hub: Hub, basic_token: str) -> None:
    order = FormDriver(
        "prescription_form", ValidatePrescriptionForm(), ASK, language="en", token=basic_token
    )
    await order.say("renew my prescription", "order_prescription")
    assert order.slots["outcome"] == "refused"
    assert order.text() in (
        PROBLEMS["full_access_required_records"]["en"],
        PROBLEMS["full_access_required"]["en"],
    )
