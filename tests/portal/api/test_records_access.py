"""Who may do what with a medical record: one explicit matrix, run through the real app.

The records are Jan's (demo.patient) and his daughter Zofia's. For Zofia, two visits with
demo.physician are booked, the clock moved to the second, the first completed; Zofia also has a
prescription from demo.physician. Each column of :data:`MATRIX_TABLE` acts on:

- ``owner``: demo.patient on his own record (his visit 5 days ago, his Metformax 500);
- ``guardian``: demo.patient on Zofia's record;
- everyone else (``other_pt`` another full patient, ``visit_dr`` demo.physician, ``other_dr``
  another physician, ``reception``, ``anonymous``): Zofia's record (its list by
  ``patient_id``, her prescription, her completed visit, her started visit, an open question
  and a pending order of hers).

Every cell asserts the exact status; every 404 answered to a logged-in user (a record that
exists but is not theirs) must leave exactly one audit event with outcome "denied" naming it,
and every 403 ``role_forbidden`` one naming the refused operation.
Each role runs in a fresh database, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse

from hub.settings import Settings
from portal.clock import ManualClock
from portal.models import AuditEvent
from tests.conftest import Api, User
from tests.portal.api.test_records import (
    ChildVisits,
    audit_events,
    blood_count,
    call,
    child_prescription,
    child_visits,
    items,
    ok,
    physician_login,
    prescription,
    rehab_referral,
    seeded_visits,
)

MATRIX_TABLE = """
operation                     owner  guardian  other_pt  visit_dr  other_dr reception anonymous
listResults                     200       200       404       403       403       403       401
listReferrals                   200       200       404       403       403       403       401
listInstructions                200       200       404       403       403       403       401
listPrescriptions               200       200       404       403       403       403       401
orderPrescription               201       201       404       403       403       403       401
askDoctor                       201       201       404       403       403       403       401
answerQuestion                  403       403       403       200       404       403       401
reviewPrescriptionOrder         403       403       403       200       404       403       401
createResult                    403       403       403       201       404       403       401
createInstruction               403       403       403       201       404       403       401
createReferral                  403       403       403       201       404       403       401
completeAppointment             403       403       403       200       404       403       401
getPhysicianAppointment         403       403       403       200       404       403       401
"""


def _parse(table: str) -> tuple[tuple[str, ...], dict[str, dict[str, int]]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    roles = tuple(header[1:])
    matrix = {}
    for operation, *statuses in rows:
        assert len(statuses) == len(roles), operation
        matrix[operation] = dict(zip(roles, map(int, statuses), strict=True))
    return roles, matrix


ROLES, MATRIX = _parse(MATRIX_TABLE)
DENIED_AS = {
    # The problem code of each refusal of an existing record.
    "listResults": "patient_not_found",
    "listReferrals": "patient_not_found",
    "listInstructions": "patient_not_found",
    "listPrescriptions": "patient_not_found",
    "orderPrescription": "prescription_not_found",
    "askDoctor": "appointment_not_found",
    "answerQuestion": "question_not_found",
    "reviewPrescriptionOrder": "order_not_found",
    "createResult": "appointment_not_found",
    "createInstruction": "appointment_not_found",
    "createReferral": "appointment_not_found",
    "completeAppointment": "appointment_not_found",
    "getPhysicianAppointment": "appointment_not_found",
}
OTHER_CODES = {401: "authentication_required", 403: "role_forbidden"}


@dataclass(frozen=True)
class Target:
    """One request, and the record a refusal of it must name in the audit log."""

    method: str
    path: str
    body: dict[str, Any] | None
    params: dict[str, str]
    record: tuple[str, str, str]
    """(object_type, object_id, patient_id)."""


@dataclass
class World:
    """The records every cell acts on."""

    api: Api
    clock: ManualClock
    child: ChildVisits
    jan_id: str
    jan_visit: str
    jan_prescription: str
    child_prescription: str

    async def open_question(self) -> str:
        """Zofia's open question about her completed visit (asked now unless one is open)."""
        guardian, child_id = self.child.guardian, self.child.child_id
        for question in await items(self.api, guardian, "/questions", patient_id=child_id):
            if question["status"] == "open":
                return str(question["id"])
        body = {"appointment_id": self.child.attended["id"], "text": "Czy może wrócić do szkoły?"}
        return str(
            (await ok(await call(self.api, guardian, "POST", "/questions", body), 201))["id"]
        )

    async def pending_order(self) -> str:
        """Zofia's pending prescription order (placed now unless one is pending)."""
        guardian, child_id = self.child.guardian, self.child.child_id
        history = await ok(
            await call(self.api, guardian, "GET", "/prescriptions", patient_id=child_id)
        )
        for order in history["orders"]:
            if order["status"] == "pending":
                return str(order["id"])
        body = {"prescription_id": self.child_prescription}
        response = await call(self.api, guardian, "POST", "/prescriptions/orders", body)
        return str((await ok(response, 201))["id"])

    async def target(self, operation: str, role: str) -> Target:
        """What ``role`` asks for in the cell (``operation``, ``role``)."""
        own = role == "owner"
        patient = self.jan_id if own else self.child.child_id
        attended, started = self.child.attended["id"], self.child.started["id"]
        visit = self.jan_visit if own else attended
        lists = {
            "listResults": "/results",
            "listReferrals": "/referrals",
            "listInstructions": "/instructions",
            "listPrescriptions": "/prescriptions",
        }
        if operation in lists:
            return Target(
                "GET",
                lists[operation],
                None,
                {"patient_id": patient},
                ("Patient", patient, patient),
            )
        if operation == "orderPrescription":
            prescription_id = self.jan_prescription if own else self.child_prescription
            return Target(
                "POST",
                "/prescriptions/orders",
                {"prescription_id": prescription_id},
                {},
                ("MedicationRequest", prescription_id, patient),
            )
        if operation == "askDoctor":
            return Target(
                "POST",
                "/questions",
                {"appointment_id": visit, "text": "Jak długo brać lek?"},
                {},
                ("Appointment", visit, patient),
            )
        child_id = self.child.child_id
        if operation == "answerQuestion":
            question = await self.open_question()
            return Target(
                "POST",
                f"/physician/questions/{question}/answer",
                {"answer": "Tak, od poniedziałku."},
                {},
                ("Question", question, child_id),
            )
        if operation == "reviewPrescriptionOrder":
            order = await self.pending_order()
            return Target(
                "POST",
                f"/physician/prescription-orders/{order}/review",
                {"decision": "issue"},
                {},
                ("PrescriptionOrder", order, child_id),
            )
        writes = {
            "createResult": ("results", blood_count()),
            "createInstruction": ("instructions", {"text": "Syrop 3 razy dziennie."}),
            "createReferral": ("referrals", rehab_referral(self.clock)),
        }
        if operation in writes:
            kind, body = writes[operation]
            return Target(
                "POST",
                f"/physician/appointments/{attended}/{kind}",
                body,
                {},
                ("Appointment", attended, child_id),
            )
        if operation == "completeAppointment":
            return Target(
                "POST",
                f"/physician/appointments/{started}/complete",
                None,
                {},
                ("Appointment", started, child_id),
            )
        assert operation == "getPhysicianAppointment", operation
        return Target(
            "GET",
            f"/physician/appointments/{attended}",
            None,
            {},
            ("Appointment", attended, child_id),
        )


async def build_world(api: Api, clock: ManualClock, settings: Settings) -> World:
    child = await child_visits(api, clock)
    await ok(
        await call(
            api,
            child.physician,
            "POST",
            f"/physician/appointments/{child.attended['id']}/results",
            blood_count(test_name="Morfologia"),
        ),
        201,
    )
    jan = child.guardian
    recent, _ = await seeded_visits(api, jan)
    return World(
        api=api,
        clock=clock,
        child=child,
        jan_id=jan.patient_id,
        jan_visit=recent["id"],
        jan_prescription=(await prescription(api, jan, "Metformax 500"))["id"],
        child_prescription=await child_prescription(settings, child.child_id, child.attended["id"]),
    )


async def user_for(role: str, world: World, settings: Settings) -> User | None:
    """The logged-in user of a column (None: anonymous)."""
    api = world.api
    if role in ("owner", "guardian"):
        return world.child.guardian
    if role == "other_pt":
        return await api.full_patient()
    if role == "visit_dr":
        return world.child.physician
    if role == "other_dr":
        return await physician_login(api, settings)
    if role == "reception":
        return await api.login("demo.reception")
    assert role == "anonymous", role
    return None


async def denied_events(settings: Settings, user: User) -> list[tuple[str, str | None, str]]:
    events = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(user.account["id"]),
        AuditEvent.outcome == "denied",
    )
    return sorted((e.object_type, e.object_id, str(e.patient_id)) for e in events)


async def status_and_code(response: ClientResponse) -> tuple[int, str | None]:
    if response.status >= 400:
        assert response.content_type == "application/problem+json", await response.text()
        return response.status, (await response.json(content_type=None))["code"]
    return response.status, None


def test_matrix_covers_every_role_and_operation() -> None:
    assert ROLES == (
        "owner",
        "guardian",
        "other_pt",
        "visit_dr",
        "other_dr",
        "reception",
        "anonymous",
    )
    assert set(MATRIX) == set(DENIED_AS)
    assert len(MATRIX) == 13


@pytest.mark.parametrize("role", ROLES)
async def test_access_matrix(api: Api, clock: ManualClock, settings: Settings, role: str) -> None:
    world = await build_world(api, clock, settings)
    user = await user_for(role, world, settings)
    for operation, row in MATRIX.items():
        expected = row[role]
        target = await world.target(operation, role)
        before = await denied_events(settings, user) if user else []
        response = await call(api, user, target.method, target.path, target.body, **target.params)
        status, code = await status_and_code(response)
        cell = f"{operation} as {role}"
        wanted_code = DENIED_AS[operation] if expected == 404 else OTHER_CODES.get(expected)
        assert (status, code) == (expected, wanted_code), (cell, await response.text())
        if user is None:
            continue
        after = await denied_events(settings, user)
        for event in before:
            after.remove(event)
        if expected == 404:
            assert after == [target.record], cell
        elif code == "role_forbidden":
            # Refused before any record was touched: the operation is what the log names.
            assert after == [("Operation", operation, "None")], cell
        else:
            assert after == [], cell


async def test_allowed_cells_reach_the_records(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    """What the 2xx cells return is the record they aimed at, not something else."""
    world = await build_world(api, clock, settings)
    guardian, physician, child_id = (
        world.child.guardian,
        world.child.physician,
        world.child.child_id,
    )
    (result,) = await items(api, guardian, "/results", patient_id=child_id)
    assert (result["test_name"], result["appointment_id"]) == (
        "Morfologia",
        world.child.attended["id"],
    )
    own = await items(api, guardian, "/results", patient_id=world.jan_id)
    assert [r["test_name"] for r in own] == ["Morfologia krwi z rozmazem"]
    detail = await ok(
        await call(api, physician, "GET", f"/physician/appointments/{world.child.attended['id']}")
    )
    assert (detail["patient"]["id"], detail["patient"]["guardian_id"]) == (child_id, world.jan_id)
    order_id = await world.pending_order()
    reviewed = await ok(
        await call(
            api,
            physician,
            "POST",
            f"/physician/prescription-orders/{order_id}/review",
            {"decision": "issue"},
        )
    )
    assert reviewed["patient_id"] == child_id
    assert reviewed["prescription"]["medication_name"] == "Nurofen dla dzieci Forte"
    prescriptions = await ok(
        await call(api, guardian, "GET", "/prescriptions", patient_id=child_id)
    )
    assert [p["id"] for p in prescriptions["prescriptions"]] == [
        reviewed["prescription"]["id"],
        world.child_prescription,
    ]
    completed = await ok(
        await call(
            api, physician, "POST", f"/physician/appointments/{world.child.started['id']}/complete"
        )
    )
    assert (completed["status"], completed["patient"]["id"]) == ("completed", child_id)
