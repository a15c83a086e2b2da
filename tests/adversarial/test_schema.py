"""The API against its own OpenAPI document (issue 12): Schemathesis as three demo users.

The real hub serves on a loopback port from a thread of its own (Schemathesis speaks
``requests``, which blocks, so the hub cannot share the test's event loop). Its database is a
fresh copy of the seeded demo data, and a short prelude gives every path parameter a real
object to point at: a booked visit, a document, a prescription order, an open question, a
patient. Then every operation of ``/api/v1/openapi.json`` gets a bounded number of generated
requests, valid and invalid ones, as each user; every response must be no 5xx and match the
document (status, content type, headers, body schema), valid data must not be refused as
invalid and invalid data must not be accepted.
"""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.app import create_app
from hub.settings import Settings
from portal.api import PORTAL_KEY
from portal.api.framework import OPERATIONS_KEY
from portal.api.openapi import build_openapi
from portal.clock import ManualClock
from portal.passwords import Passwords
from portal.seed import book_demo_consultation
from tests.conftest import DEMO_PASSWORD, Api, registration_form

API = "/api/v1"
ROLES = ("demo.patient", "demo.physician", "demo.reception")
DOMAIN_RULES = {
    "registerAccount": "a PESEL with its check digit, agreeing with the birth date and sex; "
    "a real phone number; a free login; a password not on the common list",
    "addDependent": "a PESEL with its check digit, agreeing with the birth date and sex; "
    "a child under 18",
    "changePassword": "the current password must be the account's",
    "resetPassword": "the token must be one the hub e-mailed, unused and unexpired",
    "requestFullAccess": "the Terms accepted must be the current version",
    "acceptDocumentRegulations": "the regulations accepted must be the current version",
    "createReferral": "valid_until must be in the future",
    "createPrescription": "valid_until must be in the future",
    "uploadDocument": "the file's content must really be JPEG, PNG or PDF (415)",
    "uploadResultAttachment": "the file's content must really be JPEG, PNG or PDF (415)",
    "shareConsultationDocument": "the file's content must really be JPEG, PNG or PDF (415)",
    "searchSlots": "time_to later than time_from, date_to not before date_from (two parameters)",
    "listPhysicianAppointments": "date_to not before date_from, 31 days at most (two parameters)",
    "listAuditEvents": "before must name an event of this patient's trail",
    "reviewPrescriptionOrder": "a rejection needs its reason (a rule between two fields)",
    "createResult": "attachment_document_id must name this visit's attachment (a field error)",
    "demo.reception/bookAppointment": "reception must name the patient (patient_id)",
    "demo.reception/listAppointments": "reception must name the patient (patient_id)",
}
"""Operations (``operationId``, or ``login/operationId`` for one user) whose rules go beyond
what JSON Schema can say: for them a schema-valid request may still be refused with 422 or 415
(``positive_data_acceptance`` is off). Every other check stays:
the 422 must be documented and match the Problem schema, and invalid data must be refused."""
EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 1}
"""Generated requests per operation, user and backend. Each backend has its own seed, so the
two runs send different requests: 8 per operation and user in all, enough to reach each branch
of validation, few enough for about 50 s of CPU (invalid ones cost the most to generate)."""
SESSION_ENDING = frozenset({"logout", "changePassword"})
"""Operations that end the caller's session: logout, and changePassword after 5 wrong current
passwords (portal.throttle). Each of their examples logs in afresh."""
ORDER = {
    "logout": -1,
    "changePassword": -1,
    "deleteDocument": 1,
    "cancelAppointment": 1,
    "rescheduleAppointment": 1,
    "completeAppointment": 1,
}
REACHED = {
    "demo.patient": {
        "getMe",
        "getAppointment",
        "getConsultation",
        "bookAppointment",
        "cancelAppointment",
        "uploadDocument",
        "listDocuments",
        "downloadDocument",
        "logout",
    },
    "demo.physician": {
        "getPhysicianAppointment",
        "listAppointmentDocuments",
        "downloadDocument",
        "listOpenQuestions",
        "answerQuestion",
        "listPrescriptionOrders",
        "reviewPrescriptionOrder",
    },
    "demo.reception": {
        "getAppointment",
        "cancelAppointment",
        "searchPatients",
        "listAuditEvents",
        "grantFullAccess",
    },
}
"""Operations that must have succeeded at least once for each user: the sign that generated
requests reached the handlers' real paths."""
BEARER = ("postgresql", "demo.patient")
"""Where the patient speaks with a bearer token from createAccessToken instead of the cookie."""
SEEDS = {"sqlite": 20261207, "postgresql": 12072026}


class LiveHub:
    """The hub app served on 127.0.0.1 (a free port) by a thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="live-hub", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveHub:
        self._thread.start()
        if not self._ready.wait(30):
            raise AssertionError("the hub did not start within 30 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def run(self, coroutine: Any) -> Any:
        """Run ``coroutine`` on the hub's loop (a direct call into its services)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()


@dataclass
class Caller:
    """One logged-in demo user: a session cookie and its CSRF token, or a bearer token, and
    the ids it can reach."""

    login: str
    cookie: str
    csrf: str
    account: dict[str, Any]
    ids: dict[str, list[str]] = field(default_factory=dict)
    bearer: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        if self.bearer is not None:
            return {"Authorization": f"Bearer {self.bearer}"}
        return {"Cookie": f"mp_session={self.cookie}", "X-CSRF-Token": self.csrf}


def log_in(http: requests.Session, base: str, login: str) -> Caller:
    response = http.post(
        f"{base}{API}/auth/login", json={"login": login, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Caller(login, response.cookies["mp_session"], body["csrf_token"], body["account"])


def _json(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


def is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def png() -> bytes:
    """A small real PNG: uploads are judged by their decoded content."""
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def prelude(http: requests.Session, hub: LiveHub) -> dict[str, Caller]:
    """Objects for the path parameters to point at, made as the demo users would make them."""
    base = hub.url
    patient = log_in(http, base, "demo.patient")
    physician = log_in(http, base, "demo.physician")
    reception = log_in(http, base, "demo.reception")

    def get(user: Caller, path: str, **params: Any) -> Any:
        return _json(http.get(f"{base}{API}{path}", params=params, headers=user.headers))

    def post(user: Caller, path: str, status: int = 200, **kwargs: Any) -> Any:
        return _json(http.post(f"{base}{API}{path}", headers=user.headers, **kwargs), status)

    visit = hub.run(book_demo_consultation(hub.app[PORTAL_KEY], starts_in=timedelta(hours=3)))
    post(patient, "/me/document-regulations", json={})
    document = post(
        patient,
        "/documents",
        201,
        data={"description": "Wyniki badań", "appointment_id": str(visit.id)},
        files={"file": ("scan.png", png())},
    )
    completed = [a["id"] for a in get(patient, "/appointments", period="past")["items"]]
    post(patient, "/questions", 201, json={"appointment_id": completed[0], "text": "Czy mogę?"})
    prescriptions = get(patient, "/prescriptions")["prescriptions"]
    post(
        patient,
        "/prescriptions/orders",
        201,
        json={"prescription_id": prescriptions[0]["id"]},
    )
    appointments = [a["id"] for a in get(patient, "/appointments", period="upcoming")["items"]]
    slots = [s["id"] for s in get(patient, "/slots", limit=20)["items"]]
    patient.ids = {
        "appointment_id": appointments + completed,
        "slot_id": slots,
        "prescription_id": [p["id"] for p in prescriptions],
        "document_id": [document["id"]],
        "patient_id": [d["id"] for d in get(patient, "/me/dependents")["items"]],
    }
    desk = get(physician, "/physician/appointments")["items"]
    physician.ids = {
        "appointment_id": [str(visit.id), *completed, *(row["appointment"]["id"] for row in desk)],
        "order_id": [o["id"] for o in get(physician, "/physician/prescription-orders")["items"]],
        "question_id": [q["id"] for q in get(physician, "/physician/questions")["items"]],
        "document_id": [document["id"]],
    }
    basic = registration_form()
    post(reception, "/accounts", 201, json=basic)
    patients = [
        *get(reception, "/reception/patients", q="Nowi")["items"],
        *get(reception, "/reception/patients", q=basic["last_name"])["items"],
    ]
    reception.ids = {
        "appointment_id": appointments,
        "slot_id": slots,
        "patient_id": [p["patient"]["id"] for p in patients],
        "account_id": [p["account_id"] for p in patients if p.get("account_id")],
    }
    return {"demo.patient": patient, "demo.physician": physician, "demo.reception": reception}


@pytest.fixture
def hub(settings: Settings, clock: ManualClock) -> Iterator[LiveHub]:
    # Cheap hashing: every logout example logs in afresh; the hashes are not under test here.
    passwords = Passwords(memory_cost=64, time_cost=1)
    with LiveHub(create_app(settings, clock=clock, passwords=passwords)) as live:
        yield live


def exercise(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    caller: Caller,
    http: requests.Session,
    base: str,
    seed: int,
    answered: dict[str, set[int]],
) -> None:
    """Send ``EXAMPLES[mode]`` generated requests to ``operation`` and check each response.

    Valid requests name the caller's real objects, in the path and in the body, so that they
    reach the handlers' real paths (which ``REACHED`` then requires, whatever the seed
    draws); invalid ones half the time, and the other half keep the random ids, for the 404.
    """
    positive = mode is GenerationMode.POSITIVE
    operation_id = operation.definition.raw["operationId"]
    free = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    known = [caller.ids.get(name, []) for name in names]
    strategy = free
    if names and all(known):
        pinned = st.tuples(*(st.sampled_from(values) for values in known)).flatmap(
            lambda chosen: operation.as_strategy(
                generation_mode=mode, path_parameters=dict(zip(names, chosen, strict=True))
            )
        )
        strategy = pinned if positive else st.one_of(pinned, free)
    domain_rules = {operation_id, f"{caller.login}/{operation_id}"} & DOMAIN_RULES.keys()
    excluded = [positive_data_acceptance] if domain_rules else []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, data=st.data())
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        if isinstance(case.body, dict):
            # Ids in the body (slot_id, prescription_id, ...) too. Only a valid UUID is
            # replaced, by another, so an invalid body stays invalid.
            for name, value in list(case.body.items()):
                real = caller.ids.get(name)
                if real and is_uuid(value) and (positive or data.draw(st.booleans())):
                    case.body[name] = data.draw(st.sampled_from(real))
        headers = caller.headers
        if caller.bearer is not None and case.cookies:
            # One credential per request, as a client sends: beside a valid token the hub
            # rightly ignores a made-up session cookie, which ignored_auth takes for a bypass.
            case.cookies.pop("mp_session", None)
        if operation_id in SESSION_ENDING:
            # These end the session they are sent with (a token's too): each example brings a
            # session of its own.
            headers = log_in(http, base, caller.login).headers
        response = case.call_and_validate(
            base_url=base, session=http, headers=headers, excluded_checks=excluded
        )
        answered.setdefault(operation_id, set()).add(response.status_code)

    run()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_to_the_document(hub: LiveHub, backend: str, role: str) -> None:
    """As ``role``: no 5xx, and every response is what ``/api/v1/openapi.json`` promises."""
    http = requests.Session()
    # It keeps no cookies: each request carries its user's credentials, and nothing else.
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    caller = prelude(http, hub)[role]
    if (backend, role) == BEARER:
        # The assistant's way in (the patient's delegated token): no cookie, no CSRF token.
        token = _json(http.post(f"{hub.url}{API}/auth/token", headers=caller.headers))
        caller.bearer = token["access_token"]
    schema = schemathesis.openapi.from_url(f"{hub.url}{API}/openapi.json")
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    # What ends sessions first: its examples log in afresh, before login's generated failures
    # count against this address; what destroys the objects others point at goes last.
    operations.sort(key=lambda op: ORDER.get(op.definition.raw["operationId"], 0))
    for operation in operations:
        modes = list(EXAMPLES)
        if not (operation.body or operation.query or operation.path_parameters):
            # Nothing of the request can be made invalid (its one header is free text).
            modes.remove(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                exercise(operation, mode, caller, http, hub.url, SEEDS[backend], answered)
            except (AssertionError, FailureGroup) as error:
                # Collected, so that one run names every operation that broke.
                failures.append(f"{operation.label} [{mode.value}]: {error}")
    assert not failures, "\n\n".join(failures)
    # The prelude's ids took the requests past the 404 of an unknown object.
    succeeded = {name for name, statuses in answered.items() if min(statuses) < 300}
    assert REACHED[role] <= succeeded, REACHED[role] - succeeded


def test_what_the_framework_answers_is_documented(tmp_path: Path) -> None:
    """The statuses the framework gives around every handler are in the document, with the
    headers they carry, whether or not a generated request happened to meet them."""
    settings = Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/unused.sqlite3")
    document = build_openapi(create_app(settings)[OPERATIONS_KEY], "test", "0")
    checked = 0
    for path_item in document["paths"].values():
        for method, operation in path_item.items():
            responses = operation["responses"]
            expected = {"500", "503"}
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                expected |= {"400", "408", "413", "415", "422"}
            if method in ("post", "put", "patch", "delete"):
                expected.add("403")
            if operation["security"] != [{}]:
                expected.add("401")
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
            assert expected <= set(responses), (operation["operationId"], expected)
            assert responses["503"]["headers"]["Retry-After"]["required"] is True
            checked += 1
    assert checked == len(create_app(settings)[OPERATIONS_KEY])


async def test_text_with_u0000_is_a_field_error_on_both_backends(api: Api) -> None:
    """Found by this suite: a NUL in requestPasswordReset's login reached PostgreSQL (the
    throttle key) and failed as a 500. Every request model now refuses U+0000 in text."""
    response = await api.client.post("/api/v1/auth/password-reset", json={"login": "a\u0000b"})
    assert response.status == 422, await response.text()
    body = await response.json(content_type=None)
    assert body["code"] == "invalid_input"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("login", "invalid_value")]
    response = await api.client.get("/api/v1/slots", params={"city": "Wars\u0000zawa"})
    assert response.status == 422, await response.text()
    body = await response.json(content_type=None)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("city", "invalid_value")]
