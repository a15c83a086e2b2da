"""Who may do what to one family's appointments: the whole matrix, cell by cell.

The family is demo.patient (full access) and his child. The objects are the child's upcoming
appointment with demo.physician (``PHYSICIANS[0]``), booked by the guardian through the portal,
and, for the "owner" row, demo.patient's own upcoming visit with the same physician. Each cell
runs on a fresh copy of the seeded database, on SQLite and on PostgreSQL, and asserts the exact
status and problem code, then that a refused change changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import select

from hub.settings import Settings
from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.models import AccessLevel, Account, Practitioner, Role
from tests.conftest import DEMO_PASSWORD, Api, User, role_refusals

OPERATIONS = (
    "getAppointment",
    "cancelAppointment",
    "rescheduleAppointment",
    "listAppointments",  # with patient_id of the target patient (the child)
    "listDependents",  # the caller's own
    "bookAppointment",  # with patient_id of the target patient (the child)
)

OK = (200, None)
NEW = (201, None)
ANON = (401, "authentication_required")
ROLE = (403, "role_forbidden")
NO_APPT = (404, "appointment_not_found")
NO_PAT = (404, "patient_not_found")

# The "owner" row acts on the owner's own appointment and patient id, every other row on the
# child's. Columns follow OPERATIONS.
MATRIX: dict[str, tuple[tuple[int, str | None], ...]] = {
    #                   get       cancel    reschedule  list child  dependents  book child
    "owner":           (OK,       OK,       OK,         OK,         OK,         NEW),
    "guardian":        (OK,       OK,       OK,         OK,         OK,         NEW),
    "other_patient":   (NO_APPT,  NO_APPT,  NO_APPT,    NO_PAT,     OK,         NO_PAT),
    "physician":       (OK,       ROLE,     ROLE,       ROLE,       ROLE,       ROLE),
    "other_physician": (NO_APPT,  ROLE,     ROLE,       ROLE,       ROLE,       ROLE),
    "reception":       (OK,       OK,       OK,         OK,         ROLE,       NEW),
    "anonymous":       (ANON,     ANON,     ANON,       ANON,       ANON,       ANON),
}  # fmt: skip

CELLS = [
    pytest.param(role, operation, expected, id=f"{role}-{operation}")
    for role, row in MATRIX.items()
    for operation, expected in zip(OPERATIONS, row, strict=True)
]


@dataclass
class Family:
    """demo.patient, his child, and the objects the matrix acts on."""

    guardian: User
    child_id: str
    own_appointment: str
    child_appointment: str
    spare_slot: str
    """A free slot of the same service and physician, for rescheduling and booking."""
    physician_id: str


async def body_of(response: ClientResponse) -> Any:
    if response.content_type == "application/problem+json":
        return await response.json(content_type=None)
    return await response.json()


async def setup_family(api: Api) -> Family:
    guardian = await api.login("demo.patient")
    response = await api.client.get("/api/v1/me/dependents", headers=guardian.headers)
    (child,) = (await response.json())["items"]
    response = await api.client.get(
        "/api/v1/appointments", params={"period": "upcoming"}, headers=guardian.headers
    )
    (own,) = (await response.json())["items"]
    assert own["service"]["code"] == "internal-medicine-visit"
    slots = await api.free_slots(
        service="internal-medicine-visit", physician_id=own["physician"]["id"]
    )
    response = await api.book(guardian, slots[0]["id"], patient_id=child["id"])
    assert response.status == 201, await response.text()
    booked = await response.json()
    return Family(
        guardian, child["id"], own["id"], booked["id"], slots[1]["id"], own["physician"]["id"]
    )


async def actor(api: Api, settings: Settings, role: str, family: Family) -> User | None:
    """The logged-in user playing ``role`` (None: anonymous)."""
    if role in ("owner", "guardian"):
        return family.guardian
    if role == "other_patient":
        return await api.register()
    if role == "physician":
        return await api.login("demo.physician")
    if role == "reception":
        return await api.login("demo.reception")
    if role == "other_physician":
        return await second_physician(api, settings)
    assert role == "anonymous"
    return None


async def second_physician(api: Api, settings: Settings) -> User:
    """A login for ``PHYSICIANS[1]`` (the seed makes one only for the demo physician)."""
    code = PHYSICIANS[1].code
    db = Database(settings.database_url)
    try:
        async with db.write() as session:
            template = await session.scalar(
                select(Account).where(Account.login_key == "demo.physician")
            )
            practitioner_id = await session.scalar(
                select(Practitioner.id).where(Practitioner.code == code)
            )
            assert template is not None and practitioner_id is not None
            session.add(
                Account(
                    login=f"dr.{code}",
                    login_key=f"dr.{code}",
                    password_hash=template.password_hash,
                    role=Role.PHYSICIAN,
                    access_level=AccessLevel.FULL,
                    practitioner_id=practitioner_id,
                    created_at=template.created_at,
                    password_changed_at=template.password_changed_at,
                )
            )
    finally:
        await db.close()
    return await api.login(f"dr.{code}", DEMO_PASSWORD)


async def perform(
    api: Api, operation: str, user: User | None, family: Family, role: str
) -> ClientResponse:
    headers = user.headers if user else {}
    appointment = family.own_appointment if role == "owner" else family.child_appointment
    patient_id = family.guardian.patient_id if role == "owner" else family.child_id
    base = f"/api/v1/appointments/{appointment}"
    if operation == "getAppointment":
        return await api.client.get(base, headers=headers)
    if operation == "cancelAppointment":
        return await api.client.post(f"{base}/cancel", json={}, headers=headers)
    if operation == "rescheduleAppointment":
        return await api.client.post(
            f"{base}/reschedule", json={"slot_id": family.spare_slot}, headers=headers
        )
    if operation == "listAppointments":
        return await api.client.get(
            "/api/v1/appointments", params={"patient_id": patient_id}, headers=headers
        )
    if operation == "listDependents":
        return await api.client.get("/api/v1/me/dependents", headers=headers)
    assert operation == "bookAppointment"
    return await api.client.post(
        "/api/v1/appointments",
        json={"slot_id": family.spare_slot, "patient_id": patient_id},
        headers=headers,
    )


@pytest.mark.parametrize(("role", "operation", "expected"), CELLS)
async def test_access_matrix(
    api: Api,
    settings: Settings,
    role: str,
    operation: str,
    expected: tuple[int, str | None],
) -> None:
    family = await setup_family(api)
    user = await actor(api, settings, role, family)
    response = await perform(api, operation, user, family, role)
    body = await body_of(response)
    status, code = expected
    assert response.status == status, body
    if code is not None:
        assert response.content_type == "application/problem+json"
        assert body["code"] == code
    else:
        assert response.content_type == "application/json"
    if user is not None:
        refusals = await role_refusals_of(settings, user.account["id"])
        assert refusals == ([operation] if expected == ROLE else [])
    await check_effect(api, operation, family, role, allowed=code is None, body=body)


async def role_refusals_of(settings: Settings, account_id: str) -> list[str | None]:
    """The operations refused to this account's role, as the audit log recorded them."""
    db = Database(settings.database_url)
    try:
        return [operation for operation, _ in await role_refusals(db, account_id)]
    finally:
        await db.close()


async def check_effect(
    api: Api, operation: str, family: Family, role: str, *, allowed: bool, body: Any
) -> None:
    """What an allowed call did, and that a refused one changed nothing."""
    appointment = family.own_appointment if role == "owner" else family.child_appointment
    patient_id = family.guardian.patient_id if role == "owner" else family.child_id
    if operation == "getAppointment" and allowed:
        assert (body["id"], body["patient"]["id"]) == (appointment, patient_id)
    elif operation == "cancelAppointment" and allowed:
        assert (body["id"], body["status"]) == (appointment, "cancelled")
    elif operation == "rescheduleAppointment" and allowed:
        assert (body["rescheduled_from_id"], body["status"]) == (appointment, "booked")
    elif operation == "listAppointments" and allowed:
        assert appointment in {item["id"] for item in body["items"]}
        assert {item["patient"]["id"] for item in body["items"]} == {patient_id}
    elif operation == "listDependents" and allowed:
        children = {item["id"] for item in body["items"]}
        assert (family.child_id in children) is (role in ("owner", "guardian"))
    elif operation == "bookAppointment" and allowed:
        assert body["patient"]["id"] == patient_id
        assert body["source"] == ("reception" if role == "reception" else "portal")

    response = await api.client.get(
        f"/api/v1/appointments/{appointment}", headers=family.guardian.headers
    )
    moved_away = allowed and operation in ("cancelAppointment", "rescheduleAppointment")
    assert (await response.json())["status"] == ("cancelled" if moved_away else "booked")
    free = await api.free_slots(service="internal-medicine-visit", physician_id=family.physician_id)
    spare_taken = allowed and operation in ("rescheduleAppointment", "bookAppointment")
    assert (family.spare_slot not in {slot["id"] for slot in free}) is spare_taken
