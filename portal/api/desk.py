"""REST operations of the physician's desk and the reception desk."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from portal.access import Principal
from portal.i18n import Language
from portal.models import Role
from portal.services import Portal

from .framework import Router
from .record_schemas import (
    AuditEventList,
    AuditEventOut,
    AuditEventQuery,
    DeskQuery,
    DeskRowList,
    DeskRowOut,
    PatientMatch,
    PatientMatchList,
    PatientSearchQuery,
    VisitDetailOut,
)
from .schemas import AppointmentOut

router = Router("desk")


@router.operation(
    "GET",
    "/physician/appointments",
    "listPhysicianAppointments",
    summary="The physician's appointments for a day (default today) or a date range.",
    roles=(Role.PHYSICIAN,),
    problems=(401, 403, 422),
)
async def list_physician_appointments(
    portal: Portal, principal: Principal, query: DeskQuery, language: Language
) -> DeskRowList:
    first = query.date or query.date_from
    last = query.date or query.date_to
    rows = await portal.desk.schedule(principal, first, last)
    return DeskRowList(items=[DeskRowOut.of(row, language) for row in rows])


@router.operation(
    "GET",
    "/physician/appointments/{appointment_id}",
    "getPhysicianAppointment",
    summary="One of the physician's appointments with documents, orders and open questions.",
    roles=(Role.PHYSICIAN,),
    problems=(401, 403, 404),
)
async def get_physician_appointment(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, language: Language
) -> VisitDetailOut:
    detail = await portal.desk.visit(principal, appointment_id)
    today = portal.clock.now().astimezone(ZoneInfo(portal.config.timezone)).date()
    return VisitDetailOut.of(detail, language, today)


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/complete",
    "completeAppointment",
    summary="Mark the visit attended: opens 'Ask your doctor' and writing records for it.",
    roles=(Role.PHYSICIAN,),
    problems=(401, 403, 404, 409),
)
async def complete_appointment(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, language: Language
) -> AppointmentOut:
    return AppointmentOut.of(await portal.desk.complete(principal, appointment_id), language)


@router.operation(
    "GET",
    "/reception/patients",
    "searchPatients",
    summary="Find patients by PESEL, login, e-mail or the beginning of a last name.",
    roles=(Role.RECEPTION,),
    problems=(401, 403, 422, 429),
)
async def search_patients(
    portal: Portal, principal: Principal, query: PatientSearchQuery
) -> PatientMatchList:
    found = await portal.desk.find_patients(principal, query.q)
    return PatientMatchList(items=[PatientMatch.of(p, a) for p, a in found])


@router.operation(
    "GET",
    "/reception/patients/{patient_id}/audit-events",
    "listAuditEvents",
    summary="Who read or changed the patient's data, when, and whether it was allowed; "
    "newest first, a page at a time (follow next_before).",
    roles=(Role.RECEPTION,),
    problems=(401, 403, 404, 422),
)
async def list_audit_events(
    portal: Portal, principal: Principal, patient_id: uuid.UUID, query: AuditEventQuery
) -> AuditEventList:
    page = await portal.desk.audit_trail(
        principal, patient_id, before=query.before, limit=query.limit
    )
    return AuditEventList(
        items=[AuditEventOut.of(e) for e in page.events], next_before=page.next_before
    )


class SafetyAnswerOut(BaseModel):
    """A safety answer in a widget conversation: 112 (``emergency``) or the crisis lines."""

    conversation_id: uuid.UUID
    at: datetime
    patient_id: uuid.UUID | None = Field(description="None for an anonymous visitor.")
    patient_name: str | None
    kind: str = Field(description="emergency or crisis")
    categories: list[str] = Field(description="What the rules matched, e.g. cardiac, suicide.")
    source: str = Field(description="rules (the safety check) or model (the classifier alone)")


class SafetyAnswerList(BaseModel):
    """Safety answers, newest first."""

    items: list[SafetyAnswerOut]


@router.operation(
    "GET",
    "/reception/safety-answers",
    "listSafetyAnswers",
    summary="The newest emergency and crisis answers of the assistant, for reception to follow up.",
    roles=(Role.RECEPTION,),
    problems=(401, 403),
)
async def list_safety_answers(portal: Portal, principal: Principal) -> SafetyAnswerList:
    found = await portal.conversations.safety_answers(principal)
    zone = ZoneInfo(portal.config.timezone)
    return SafetyAnswerList(
        items=[
            SafetyAnswerOut(
                conversation_id=a.conversation_id,
                at=a.at.astimezone(zone),
                patient_id=a.patient_id,
                patient_name=a.patient_name,
                kind=a.kind,
                categories=a.categories,
                source=a.source,
            )
            for a in found
        ]
    )
