"""Issue 12: a burst of events must not hide older ones from ``listAuditEvents``.

Before paging, reception saw only the newest 1,000 rows of a patient's trail, so a script that
probed 1,000 ids pushed the evidence of an earlier, real intrusion out of sight. Here a stranger
first reads nothing of Jan's (a denial lands in his trail), then 1,100 more events are written
in one burst (many sharing one timestamp, so ties are broken by id), and reception walks the
pages back to that first denial.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hub.settings import Settings
from portal.access import Principal
from portal.audit import DENIED, PAGE_LIMIT_MAX, AuditLog
from portal.clock import ManualClock
from portal.db import Database
from portal.models import AccessLevel, AuditEvent, Role
from tests.conftest import Api, User
from tests.portal.api.test_records import audit_events, call, field_errors, ok, problem

BURST = 1100
TRAIL = "/reception/patients/{}/audit-events"


async def burst(settings: Settings, clock: ManualClock, patient_id: str, prober: User) -> None:
    """``BURST`` denied reads of Jan's appointments by ``prober``, 100 per timestamp."""
    db = Database(settings.database_url)
    log = AuditLog(clock)
    principal = Principal(
        account_id=uuid.UUID(prober.account["id"]),
        role=Role.PATIENT,
        access_level=AccessLevel.BASIC,
        patient_id=uuid.UUID(prober.patient_id),
    )
    try:
        async with db.write() as session:
            for n in range(BURST):
                if n % 100 == 0:
                    clock.advance(timedelta(seconds=1))
                log.record(
                    session,
                    principal,
                    object_type="Appointment",
                    object_id=uuid.uuid4(),
                    action="read",
                    patient_id=uuid.UUID(patient_id),
                    outcome=DENIED,
                )
    finally:
        await db.close()


async def walk(api: Api, reception: User, patient_id: str, limit: int) -> list[list[Any]]:
    """Every page of the trail, following ``next_before`` to the end."""
    pages: list[list[Any]] = []
    before: str | None = None
    while True:
        params = {"limit": str(limit), **({"before": before} if before else {})}
        page = await ok(await call(api, reception, "GET", TRAIL.format(patient_id), **params))
        pages.append(page["items"])
        before = page["next_before"]
        if before is None:
            return pages
        assert before == page["items"][-1]["id"]
        assert len(page["items"]) == limit


async def test_the_oldest_denial_is_reached_through_the_pages(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    jan = await api.login("demo.patient")
    stranger = await api.register()
    reception = await api.login("demo.reception")
    response = await call(api, jan, "GET", "/appointments", period="upcoming")
    visit = (await ok(response))["items"][0]["id"]
    # The intrusion to be found: a stranger reads Jan's visit (404 to him, denied in the log).
    await problem(
        await call(api, stranger, "GET", f"/appointments/{visit}"), 404, "appointment_not_found"
    )
    clock.advance(timedelta(minutes=1))
    await burst(settings, clock, jan.patient_id, stranger)
    clock.advance(timedelta(minutes=1))

    pages = await walk(api, reception, jan.patient_id, PAGE_LIMIT_MAX)
    events = [event for page in pages for event in page]
    assert [len(page) for page in pages] == [500, 500, 101]
    assert len({e["id"] for e in events}) == len(events) == BURST + 1
    oldest = events[-1]
    assert (
        oldest["actor_account_id"],
        oldest["object_type"],
        oldest["object_id"],
        oldest["action"],
        oldest["outcome"],
    ) == (stranger.account["id"], "Appointment", visit, "read", "denied")
    # Newest first throughout; equal timestamps (100 per second of the burst) keep one order.
    keys = [(e["at"], e["id"]) for e in events]
    assert keys == sorted(keys, reverse=True)

    # Each page read is itself audited, naming where it started; later pages do not see them.
    reads = await audit_events(
        settings,
        AuditEvent.actor_account_id == uuid.UUID(reception.account["id"]),
        AuditEvent.object_type == "AuditEvent",
    )
    assert sorted(str((e.detail or {}).get("before")) for e in reads) == sorted(
        ["None", *(page[-1]["id"] for page in pages[:-1])]
    )
    newest = await ok(await call(api, reception, "GET", TRAIL.format(jan.patient_id), limit="3"))
    assert [e["object_type"] for e in newest["items"]] == ["AuditEvent"] * 3
    assert newest["next_before"] == newest["items"][-1]["id"]


async def test_the_page_bounds_and_cursor_are_checked(api: Api, settings: Settings) -> None:
    jan = await api.login("demo.patient")
    reception = await api.login("demo.reception")
    other = await api.register()
    trail = TRAIL.format(jan.patient_id)
    for limit in ("0", str(PAGE_LIMIT_MAX + 1), "-5", "many"):
        response = await call(api, reception, "GET", trail, limit=limit)
        assert await field_errors(response) == [("limit", "invalid_value")], limit
    # A cursor that is no event, or an event of another patient's trail, is an error, not an
    # empty page that would look like the end of the trail.
    await ok(await call(api, reception, "GET", TRAIL.format(other.patient_id)))
    (foreign,) = await audit_events(settings, AuditEvent.patient_id == uuid.UUID(other.patient_id))
    for before in (str(uuid.uuid4()), str(foreign.id)):
        response = await call(api, reception, "GET", trail, before=before)
        assert await field_errors(response) == [("before", "audit_cursor_unknown")]
    # The default page is the newest 100; the trail of an unknown patient is still 404.
    assert (await ok(await call(api, reception, "GET", trail)))["next_before"] is None
    response = await call(api, reception, "GET", TRAIL.format(uuid.uuid4()))
    await problem(response, 404, "patient_not_found")
    for user in (jan, await api.login("demo.physician")):
        await problem(await call(api, user, "GET", trail), 403, "role_forbidden")


async def test_the_openapi_document_describes_the_paging(api: Api) -> None:
    response = await api.client.get("/api/v1/openapi.json")
    document = await ok(response)
    operation = document["paths"]["/api/v1/reception/patients/{patient_id}/audit-events"]["get"]
    assert operation["operationId"] == "listAuditEvents"
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(parameters) == {"before", "limit"}
    assert not any(p.get("required") for p in parameters.values())
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, PAGE_LIMIT_MAX, 100)
    assert "422" in operation["responses"]
    listing = document["components"]["schemas"]["AuditEventList"]
    assert set(listing["properties"]) == {"items", "next_before"}
