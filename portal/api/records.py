"""REST operations of medical records: the patient's reading and asking, the physician's writing."""

from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

from portal.access import Principal
from portal.i18n import Language
from portal.models import Role
from portal.records import NewPrescription, NewReferral, NewResult, ResultValue
from portal.services import Portal

from .framework import Router
from .record_schemas import (
    AnswerQuestionBody,
    AskDoctorBody,
    CreateInstructionBody,
    CreatePrescriptionBody,
    CreateReferralBody,
    CreateResultBody,
    InstructionList,
    InstructionOut,
    OrderPrescriptionBody,
    PatientQuery,
    PrescriptionOrderList,
    PrescriptionOrderOut,
    PrescriptionOut,
    PrescriptionsOut,
    QuestionList,
    QuestionOut,
    ReferralList,
    ReferralOut,
    ResultList,
    ResultOut,
    ReviewPrescriptionOrderBody,
)

router = Router("records")
PATIENT = (Role.PATIENT,)
PHYSICIAN = (Role.PHYSICIAN,)
READ_PROBLEMS = (401, 403, 404, 422)
WRITE_PROBLEMS = (401, 403, 404, 409, 422)


def _today(portal: Portal) -> date:
    return portal.clock.now().astimezone(ZoneInfo(portal.config.timezone)).date()


# -- the patient ------------------------------------------------------------------------------


@router.operation(
    "GET",
    "/referrals",
    "listReferrals",
    summary="The patient's (and children's) e-referrals.",
    roles=PATIENT,
    problems=READ_PROBLEMS,
)
async def list_referrals(
    portal: Portal, principal: Principal, query: PatientQuery, language: Language
) -> ReferralList:
    found = await portal.records.list_referrals(principal, query.patient_id)
    today = _today(portal)
    return ReferralList(items=[ReferralOut.of(r, language, today) for r in found])


@router.operation(
    "GET",
    "/results",
    "listResults",
    summary="Released examination results with the physician's comment.",
    roles=PATIENT,
    problems=READ_PROBLEMS,
)
async def list_results(portal: Portal, principal: Principal, query: PatientQuery) -> ResultList:
    found = await portal.records.list_results(principal, query.patient_id)
    return ResultList(items=[ResultOut.of(r) for r in found])


@router.operation(
    "GET",
    "/instructions",
    "listInstructions",
    summary="The physicians' instructions after visits.",
    roles=PATIENT,
    problems=READ_PROBLEMS,
)
async def list_instructions(
    portal: Portal, principal: Principal, query: PatientQuery
) -> InstructionList:
    found = await portal.records.list_instructions(principal, query.patient_id)
    return InstructionList(items=[InstructionOut.of(i) for i in found])


@router.operation(
    "GET",
    "/prescriptions",
    "listPrescriptions",
    summary="Issued e-prescriptions (the history to renew from) and renewal orders.",
    roles=PATIENT,
    problems=READ_PROBLEMS,
)
async def list_prescriptions(
    portal: Portal, principal: Principal, query: PatientQuery
) -> PrescriptionsOut:
    history = await portal.records.list_prescriptions(principal, query.patient_id)
    today = _today(portal)
    return PrescriptionsOut(
        prescriptions=[PrescriptionOut.of(p, today) for p in history.prescriptions],
        orders=[PrescriptionOrderOut.of(o, today) for o in history.orders],
    )


@router.operation(
    "POST",
    "/prescriptions/orders",
    "orderPrescription",
    summary="Ask for a renewal of a medication from the prescription history.",
    status=201,
    roles=PATIENT,
    problems=WRITE_PROBLEMS,
)
async def order_prescription(
    portal: Portal, principal: Principal, body: OrderPrescriptionBody
) -> PrescriptionOrderOut:
    order = await portal.records.order_prescription(principal, body.prescription_id, body.note)
    return PrescriptionOrderOut.of(order, _today(portal))


@router.operation(
    "POST",
    "/questions",
    "askDoctor",
    summary="Ask the physician of an attended visit (within 14 days, one open at a time).",
    status=201,
    roles=PATIENT,
    problems=WRITE_PROBLEMS,
)
async def ask_doctor(portal: Portal, principal: Principal, body: AskDoctorBody) -> QuestionOut:
    question = await portal.records.ask_doctor(principal, body.appointment_id, body.text)
    return QuestionOut.of(question)


@router.operation(
    "GET",
    "/questions",
    "listQuestions",
    summary="Questions to doctors and their answers.",
    roles=PATIENT,
    problems=READ_PROBLEMS,
)
async def list_questions(portal: Portal, principal: Principal, query: PatientQuery) -> QuestionList:
    found = await portal.records.list_questions(principal, query.patient_id)
    return QuestionList(items=[QuestionOut.of(q) for q in found])


# -- the physician ----------------------------------------------------------------------------


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/results",
    "createResult",
    summary="Record an examination result (with a comment) for an attended visit.",
    status=201,
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def create_result(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, body: CreateResultBody
) -> ResultOut:
    result = await portal.records.create_result(
        principal,
        NewResult(
            appointment_id=appointment_id,
            test_name=body.test_name,
            values=[ResultValue(**value.model_dump()) for value in body.values],
            performed_at=body.performed_at,
            physician_comment=body.physician_comment,
            release=body.release,
            attachment_document_id=body.attachment_document_id,
        ),
    )
    return ResultOut.of(result)


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/instructions",
    "createInstruction",
    summary="Write instructions for the patient after an attended visit.",
    status=201,
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def create_instruction(
    portal: Portal, principal: Principal, appointment_id: uuid.UUID, body: CreateInstructionBody
) -> InstructionOut:
    instruction = await portal.records.create_instruction(principal, appointment_id, body.text)
    return InstructionOut.of(instruction)


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/referrals",
    "createReferral",
    summary="Write an e-referral at an attended visit.",
    status=201,
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def create_referral(
    portal: Portal,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: CreateReferralBody,
    language: Language,
) -> ReferralOut:
    referral = await portal.records.create_referral(
        principal,
        NewReferral(appointment_id=appointment_id, **body.model_dump()),
    )
    return ReferralOut.of(referral, language, _today(portal))


@router.operation(
    "POST",
    "/physician/appointments/{appointment_id}/prescriptions",
    "createPrescription",
    summary="Issue an e-prescription at an attended visit (key and access code).",
    status=201,
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def create_prescription(
    portal: Portal,
    principal: Principal,
    appointment_id: uuid.UUID,
    body: CreatePrescriptionBody,
) -> PrescriptionOut:
    prescription = await portal.records.create_prescription(
        principal, NewPrescription(appointment_id=appointment_id, **body.model_dump())
    )
    return PrescriptionOut.of(prescription, _today(portal))


@router.operation(
    "GET",
    "/physician/prescription-orders",
    "listPrescriptionOrders",
    summary="Prescription orders waiting for the physician's review.",
    roles=PHYSICIAN,
    problems=(401, 403),
)
async def list_prescription_orders(portal: Portal, principal: Principal) -> PrescriptionOrderList:
    orders = await portal.records.pending_orders(principal)
    today = _today(portal)
    return PrescriptionOrderList(items=[PrescriptionOrderOut.of(o, today) for o in orders])


@router.operation(
    "POST",
    "/physician/prescription-orders/{order_id}/review",
    "reviewPrescriptionOrder",
    summary="Issue the renewal (key and access code) or reject it with a reason.",
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def review_prescription_order(
    portal: Portal, principal: Principal, order_id: uuid.UUID, body: ReviewPrescriptionOrderBody
) -> PrescriptionOrderOut:
    order = await portal.records.review_prescription_order(
        principal,
        order_id,
        issue=body.decision == "issue",
        reason=body.reason,
        dosage=body.dosage,
    )
    return PrescriptionOrderOut.of(order, _today(portal))


@router.operation(
    "GET",
    "/physician/questions",
    "listOpenQuestions",
    summary="Questions waiting for the physician's answer.",
    roles=PHYSICIAN,
    problems=(401, 403),
)
async def list_open_questions(portal: Portal, principal: Principal) -> QuestionList:
    return QuestionList(
        items=[QuestionOut.of(q) for q in await portal.records.open_questions(principal)]
    )


@router.operation(
    "POST",
    "/physician/questions/{question_id}/answer",
    "answerQuestion",
    summary="Answer a patient's question about a visit.",
    roles=PHYSICIAN,
    problems=WRITE_PROBLEMS,
)
async def answer_question(
    portal: Portal, principal: Principal, question_id: uuid.UUID, body: AnswerQuestionBody
) -> QuestionOut:
    return QuestionOut.of(await portal.records.answer_question(principal, question_id, body.answer))
