"""REST operations beside the consultation room: its state and summary, sharing a document
during the call, and the physician's waiting room. The room itself is ``/consult``
(``docs/consult-protocol.md``); these schemas are also what that namespace sends.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from portal.access import Principal
from portal.consultations import Waiting
from portal.i18n import Language
from portal.models import Appointment, Consultation, ConsultationMessage, Role
from portal.services import Portal

from .documents import UPLOAD_BODY, DocumentOut, file_chunks, multipart_upload, part_file_name
from .framework import Router
from .schemas import ZONE, AppointmentOut

router = Router("consultations")


class MessageOut(BaseModel):
    """One chat message of a consultation room."""

    id: uuid.UUID
    appointment_id: uuid.UUID
    seq: int = Field(description="Numbers the room's messages from 1.")
    sender: Literal["patient", "physician"]
    sender_name: str = Field(description="The patient's or the physician's name.")
    text: str
    client_msg_id: str
    at: datetime

    @classmethod
    def of(cls, message: ConsultationMessage, appointment: Appointment) -> MessageOut:
        physician = message.sender == "physician"
        return cls(
            id=message.id,
            appointment_id=appointment.id,
            seq=message.seq,
            sender="physician" if physician else "patient",
            sender_name=physician_name(appointment) if physician else patient_name(appointment),
            text=message.text,
            client_msg_id=message.client_msg_id,
            at=message.created_at,
        )


class ConsultationOut(BaseModel):
    """A consultation room as its members see it outside the call."""

    appointment: AppointmentOut
    role: Literal["patient", "physician"]
    state: Literal["scheduled", "open", "admitted", "ended"] = Field(
        description="`scheduled`: nobody has joined yet; `open`: joined, not yet admitted."
    )
    opens_at: datetime
    transport: Literal["direct", "relay"]
    waiting_since: datetime | None
    admitted_at: datetime | None
    ended_at: datetime | None
    summary: dict[str, Any] | None = Field(
        description="Stored when the physician ends it: opened_at, started_at, ended_at, "
        "transport, participants (who joined and left when), transcript, documents."
    )


class WaitingOut(BaseModel):
    """A patient waiting to be admitted to one of the physician's rooms."""

    appointment_id: uuid.UUID
    patient: dict[str, str]
    service: str
    start_at: datetime
    waiting_since: datetime
    waited_seconds: int

    @classmethod
    def of(cls, waiting: Waiting, language: Language, now: datetime) -> WaitingOut:
        appointment = waiting.appointment
        return cls(
            appointment_id=appointment.id,
            patient={"name": patient_name(appointment)},
            service=AppointmentOut.of(appointment, language).service.name,
            start_at=appointment.start_at.astimezone(ZONE),
            waiting_since=waiting.since,
            waited_seconds=max(0, int((now - waiting.since).total_seconds())),
        )


class WaitingList(BaseModel):
    """The physician's waiting room, longest-waiting first."""

    items: list[WaitingOut]


def patient_name(appointment: Appointment) -> str:
    """How the room names the patient."""
    return f"{appointment.patient.first_name} {appointment.patient.last_name}"


def physician_name(appointment: Appointment) -> str:
    """How the room names the physician."""
    practitioner = appointment.practitioner
    return f"{practitioner.title} {practitioner.first_name} {practitioner.last_name}".strip()


def room_state(
    consultation: Consultation | None,
) -> Literal["scheduled", "open", "admitted", "ended"]:
    """The room's state word; ``scheduled`` before anybody joined."""
    if consultation is None:
        return "scheduled"
    return consultation.state.value


@router.operation(
    "GET",
    "/consultations/{appointment_id}",
    "getConsultation",
    summary="A consultation room's state for its members; after it ended, its summary.",
    problems=(401, 403, 404, 409),
)
async def get_consultation(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, language: Language
) -> ConsultationOut:
    member, consultation = await portal.consultations.get(principal, appointment_id)
    return ConsultationOut(
        appointment=AppointmentOut.of(member.appointment, language),
        role=member.role,
        state=room_state(consultation),
        opens_at=portal.consultations.opens_at(member.appointment).astimezone(ZONE),
        transport="relay" if consultation and consultation.transport == "relay" else "direct",
        waiting_since=consultation.waiting_since if consultation else None,
        admitted_at=consultation.admitted_at if consultation else None,
        ended_at=consultation.ended_at if consultation else None,
        summary=consultation.summary if consultation else None,
    )


@router.operation(
    "POST",
    "/consultations/{appointment_id}/documents",
    "shareConsultationDocument",
    summary="Share a file (JPEG, PNG or PDF, at most 8 MB) in an open consultation room; "
    "it is stored on the appointment and announced to both members at once.",
    status=201,
    problems=(400, 401, 403, 404, 409, 413, 415, 422),
    raw_body=UPLOAD_BODY,
)
async def share_consultation_document(
    request: web.Request, portal: Portal, principal: Principal, appointment_id: uuid.UUID
) -> DocumentOut:
    fields, file_part = await multipart_upload(request)
    async with contextlib.aclosing(file_chunks(file_part)) as chunks:
        shared = await portal.consultations.share_document(
            principal,
            appointment_id,
            chunks,
            file_name=part_file_name(file_part),
            description=fields.get("description", ""),
        )
    return DocumentOut.of(shared.document)


@router.operation(
    "GET",
    "/physician/waiting-room",
    "listWaitingRoom",
    summary="Patients waiting to be admitted to the physician's consultation rooms.",
    roles=(Role.PHYSICIAN,),
    problems=(401, 403),
)
async def list_waiting_room(
    portal: Portal, principal: Principal, language: Language
) -> WaitingList:
    now = portal.clock.now()
    waiting = await portal.consultations.waiting_room(principal)
    return WaitingList(items=[WaitingOut.of(w, language, now) for w in waiting])
