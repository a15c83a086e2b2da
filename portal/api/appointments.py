"""REST operations of appointments: book, cancel, reschedule, list."""

from __future__ import annotations

import uuid

from aiohttp import web

from portal.access import Principal
from portal.booking import BookingRequest
from portal.i18n import Language
from portal.models import Role
from portal.services import Portal

from .framework import Router, json_response
from .schemas import (
    AppointmentList,
    AppointmentOut,
    AppointmentsQuery,
    BookAppointmentBody,
    CancelAppointmentBody,
    RescheduleAppointmentBody,
)

router = Router("appointments")
BOOKERS = (Role.PATIENT, Role.RECEPTION)


@router.operation(
    "POST",
    "/appointments",
    "bookAppointment",
    summary="Book a free slot (201; 200 when an idempotency key repeats a booking).",
    status=201,
    roles=BOOKERS,
    problems=(401, 403, 404, 409, 422),
    response=AppointmentOut,
)
async def book_appointment(
    portal: Portal, principal: Principal, body: BookAppointmentBody, language: Language
) -> web.Response:
    result = await portal.booking.book(
        principal,
        BookingRequest(
            slot_id=body.slot_id,
            patient_id=body.patient_id,
            idempotency_key=body.idempotency_key,
            allow_overlap=body.allow_overlap,
        ),
    )
    out = AppointmentOut.of(result.appointment, language)
    return json_response(out, 201 if result.created else 200)


@router.operation(
    "GET",
    "/appointments",
    "listAppointments",
    summary="The patient's and their children's appointments, with status history.",
    roles=BOOKERS,
    problems=(401, 403, 404, 422),
)
async def list_appointments(
    portal: Portal, principal: Principal, query: AppointmentsQuery, language: Language
) -> AppointmentList:
    found = await portal.booking.list_for_patient(principal, query.patient_id, query.period)
    return AppointmentList(items=[AppointmentOut.of(a, language) for a in found])


@router.operation(
    "GET",
    "/appointments/{appointment_id}",
    "getAppointment",
    summary="One appointment (its patient or guardian, its physician, reception).",
    problems=(401, 404),
)
async def get_appointment(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, language: Language
) -> AppointmentOut:
    return AppointmentOut.of(await portal.booking.get(principal, appointment_id), language)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/cancel",
    "cancelAppointment",
    summary="Cancel an upcoming appointment; its slot becomes free.",
    roles=BOOKERS,
    problems=(401, 403, 404, 409, 422),
)
async def cancel_appointment(
    portal: Portal,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: CancelAppointmentBody,
    language: Language,
) -> AppointmentOut:
    appointment = await portal.booking.cancel(principal, appointment_id, reason=body.reason)
    return AppointmentOut.of(appointment, language)


@router.operation(
    "POST",
    "/appointments/{appointment_id}/reschedule",
    "rescheduleAppointment",
    summary="Move an appointment to another slot of the same service, atomically.",
    roles=BOOKERS,
    problems=(401, 403, 404, 409, 422),
)
async def reschedule_appointment(
    portal: Portal,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: RescheduleAppointmentBody,
    language: Language,
) -> AppointmentOut:
    appointment = await portal.booking.reschedule(
        principal, appointment_id, body.slot_id, allow_overlap=body.allow_overlap
    )
    return AppointmentOut.of(appointment, language)
