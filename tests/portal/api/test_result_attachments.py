"""A physician attaches a lab report to a result; the patient downloads it."""

from __future__ import annotations

from typing import Any

from hub.settings import Settings
from portal.clock import ManualClock
from tests.conftest import Api
from tests.portal.api.test_documents import assert_nothing_stored, form, one_page, pdf, png
from tests.portal.api.test_records import (
    attended_visit,
    denials,
    ok,
    physician_login,
    problem,
    read,
    upcoming_visit,
    write,
)


def attachment_path(appointment_id: str) -> str:
    return f"/api/v1/physician/appointments/{appointment_id}/result-attachments"


async def test_lab_report_attached_to_a_result_reaches_the_patient(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    patient, physician, visit = await attended_visit(api, clock)
    report = pdf()
    response = await api.client.post(
        attachment_path(visit["id"]),
        data=form(report, description="Raport z laboratorium", file_name="raport.pdf"),
        headers=physician.headers,
    )
    document: dict[str, Any] = await ok(response, 201)
    assert document["content_type"] == "application/pdf"
    body = {"test_name": "Lipidogram", "attachment_document_id": document["id"]}
    result = await ok(await write(api, physician, visit["id"], "results", body), 201)
    assert result["attachment_document_id"] == document["id"]

    (seen,) = (await read(api, patient, "/results"))["items"]
    assert seen["attachment_document_id"] == document["id"]
    download = await api.client.get(
        f"/api/v1/documents/{document['id']}/content", headers=patient.headers
    )
    assert download.status == 200
    downloaded = await download.read()
    assert len(downloaded) == document["size"]
    with one_page(downloaded):
        pass
    # It is the physician's file: the patient cannot delete it, nor does it take a place.
    response = await api.client.delete(
        f"/api/v1/documents/{document['id']}", headers=patient.headers
    )
    assert response.status in (403, 404)


async def test_attachments_follow_the_record_rules(
    api: Api, clock: ManualClock, settings: Settings
) -> None:
    patient = await api.login("demo.patient")
    physician = await api.login("demo.physician")
    booked = await upcoming_visit(api, patient)
    response = await api.client.post(
        attachment_path(booked["id"]), data=form(png()), headers=physician.headers
    )
    await problem(response, 409, "appointment_not_completed")
    await assert_nothing_stored(settings)

    patient, physician, visit = await attended_visit(api, clock)
    response = await api.client.post(
        attachment_path(visit["id"]), data=form(png()), headers=patient.headers
    )
    await problem(response, 403, "role_forbidden")
    other = await physician_login(api, settings)
    response = await api.client.post(
        attachment_path(visit["id"]), data=form(png()), headers=other.headers
    )
    await problem(response, 404, "appointment_not_found")
    assert ("DocumentReference", None, patient.patient_id) in await denials(settings, other)
    await assert_nothing_stored(settings)

    # A result may only link a result attachment of the same visit.
    body = {"test_name": "TSH", "attachment_document_id": visit["id"]}
    response = await write(api, physician, visit["id"], "results", body)
    body_json = await problem(response, 422, "invalid_input")
    assert body_json["errors"][0]["field"] == "attachment_document_id"
