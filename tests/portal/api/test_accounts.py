"""Accounts over HTTP: registration, the profile, full access, dependents, and the API's edges.

Every test runs against the real app on SQLite and on PostgreSQL with the seeded demo data
(``demo.patient`` born 14-03-1985 with the child Zofia born 02-09-2017, ``demo.physician``,
``demo.reception``). Registrations hash a password with real argon2, so tests make few of them.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.settings import Settings
from portal.clock import ManualClock
from portal.db import Database
from portal.demo_data import PHYSICIANS
from portal.models import Consent, ConsentKind
from portal.pesel import make_pesel
from tests.conftest import Api, registration_form

ZONE = ZoneInfo("Europe/Warsaw")
ACCOUNTS = "/api/v1/accounts"
DEMO_PATIENT_PESEL = make_pesel(date(1985, 3, 14), "male", 417)
DEMO_CHILD_PESEL = make_pesel(date(2017, 9, 2), "female", 128)
TERMS_VERSION = "2026-01"
# For what never reaches the database (the OpenAPI document, routing, body parsing): one run.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
# openapi.py caches the document in the app's state after start-up; aiohttp warns, and the
# suite turns warnings into errors. test_openapi_is_served_without_warnings keeps that visible.
OPENAPI_STATE_WARNING = (
    "ignore:Changing state of started or joined application is deprecated:DeprecationWarning"
)


async def problem(response: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of ``response``, after checking its status and code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"].endswith(":" + code)
    return body


def field_errors(body: dict[str, Any]) -> set[tuple[str, str]]:
    """The (field, code) pairs of a 422 problem."""
    return {(error["field"], error["code"]) for error in body["errors"]}


def messages(body: dict[str, Any]) -> dict[str, str]:
    """Each wrong field's message."""
    return {error["field"]: error["message"] for error in body["errors"]}


def local_today(clock: ManualClock) -> date:
    """The clinics' calendar day, as the domain computes ages."""
    return clock.now().astimezone(ZONE).date()


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def form_date(day: date) -> str:
    """A date as the forms take it."""
    return day.strftime("%d-%m-%Y")


# -- registerAccount ----------------------------------------------------------------------------


async def test_register_creates_basic_patient_account(api: Api) -> None:
    form = registration_form(phone="600 100 200", birth_date="05-01-1990", sex="female")
    form["pesel"] = make_pesel(date(1990, 1, 5), "female", 321)
    response = await api.client.post(ACCOUNTS, json=form)
    assert response.status == 201, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["role"] == "patient"
    assert body["access_level"] == "basic"
    assert body["full_access_at"] is None
    assert body["full_access_source"] is None
    assert body["login"] == form["login"]
    assert body["email"] == form["email"]
    assert body["phone"] == "+48600100200"
    patient = body["patient"]
    assert patient["birth_date"] == "05-01-1990"
    assert patient["pesel"] == form["pesel"]
    assert patient["sex"] == "female"
    assert patient["guardian_id"] is None
    assert body["display_name"] == f"{form['first_name']} {form['last_name']}"
    assert "password" not in json.dumps(body).lower()

    login = await api.login(form["login"], form["password"])
    assert login.account["id"] == body["id"]


def _field_failures() -> list[tuple[str, dict[str, Any], str, str]]:
    """(case, form, field, code): forms that are valid but for one field."""
    cases: list[tuple[str, dict[str, Any], str, str]] = []

    def case(name: str, field: str, code: str, **overrides: Any) -> None:
        cases.append((name, registration_form(**overrides), field, code))

    born = date(1984, 6, 30)
    valid = make_pesel(born, "female", 77)
    wrong_check_digit = valid[:10] + str((int(valid[10]) + 1) % 10)
    same = {"birth_date": form_date(born), "sex": "female"}
    case("PESEL check digit", "pesel", "pesel_checksum", pesel=wrong_check_digit, **same)
    case("PESEL of 10 digits", "pesel", "pesel_format", pesel=valid[:10], **same)
    case(
        "PESEL of another birth date",
        "pesel",
        "pesel_birth_date_mismatch",
        pesel=make_pesel(born + timedelta(days=1), "female", 77),
        **same,
    )
    case(
        "PESEL of the other sex",
        "pesel",
        "pesel_sex_mismatch",
        pesel=make_pesel(born, "male", 77),
        **same,
    )
    case("email without domain", "email", "email_invalid", email="jan.kowalski@")
    case("email without @", "email", "email_invalid", email="jan.kowalski.example.com")
    case("phone too short", "phone", "phone_invalid", phone="600 100")
    case("phone in letters", "phone", "phone_invalid", phone="six hundred")
    case("password of 11", "password", "password_too_short", password="Zielona łąk")
    case(
        "password of 129", "password", "password_too_long", password="Zielona łąka " * 9 + "x" * 12
    )
    case("common password", "password", "password_common", password="password1234")
    case("common password, other case", "password", "password_common", password="Password1234!")
    case(
        "password with the login",
        "password",
        "password_contains_login",
        login="marta.zielinska",
        password="wiosna Marta.Zielinska 7",
    )
    case("ISO birth date", "birth_date", "date_format", birth_date="1985-03-14")
    case("30 February", "birth_date", "date_format", birth_date="30-02-1985")
    case("birth date in the future", "birth_date", "date_in_future", birth_date="01-01-2999")
    case("sex in Polish", "sex", "sex_invalid", sex="kobieta")
    case("login of one letter", "login", "login_invalid", login="j")
    case("login with a space", "login", "login_invalid", login="jan kowalski")
    case("first name with digits", "first_name", "name_invalid", first_name="R2D2")
    case("blank last name", "last_name", "field_required", last_name="   ")
    return cases


FIELD_FAILURES = _field_failures()


async def test_register_names_each_wrong_field(api: Api) -> None:
    wrong: list[str] = []
    for name, form, field, code in FIELD_FAILURES:
        response = await api.client.post(ACCOUNTS, json=form)
        body = await problem(response, 422, "invalid_input")
        assert body["title"] == "Popraw zaznaczone pola."
        if field_errors(body) != {(field, code)}:
            wrong.append(f"{name}: expected {field}/{code}, got {body['errors']}")
            continue
        message = body["errors"][0]["message"]
        if not message or message == code:
            wrong.append(f"{name}: untranslated message {message!r}")
    assert not wrong, "\n".join(wrong)


async def test_register_reports_every_wrong_field_at_once_in_polish(api: Api) -> None:
    form = registration_form(email="nie-email", phone="123", password="krótkie")
    form["pesel"] = form["pesel"][:10] + str((int(form["pesel"][10]) + 1) % 10)
    response = await api.client.post(ACCOUNTS, json=form)
    body = await problem(response, 422, "invalid_input")
    assert response.headers["Content-Language"] == "pl"
    assert field_errors(body) == {
        ("email", "email_invalid"),
        ("phone", "phone_invalid"),
        ("pesel", "pesel_checksum"),
        ("password", "password_too_short"),
    }
    assert messages(body) == {
        "email": "Podaj poprawny adres e-mail.",
        "phone": "Podaj poprawny numer telefonu (polski lub z kodem kraju, np. +48 600 100 200).",
        "pesel": "PESEL ma błędną cyfrę kontrolną.",
        "password": "Hasło musi mieć co najmniej 12 znaków.",
    }
    assert "adres e-mail: Podaj poprawny adres e-mail." in body["detail"]


@pytest.mark.parametrize("accept", ["en", "en-GB,en;q=0.9,pl;q=0.5"])
async def test_register_speaks_english_when_asked(api: Api, accept: str) -> None:
    form = registration_form(email="not-an-email", password="short")
    response = await api.client.post(ACCOUNTS, json=form, headers={"Accept-Language": accept})
    body = await problem(response, 422, "invalid_input")
    assert response.headers["Content-Language"] == "en"
    assert body["title"] == "Please correct the highlighted fields."
    assert messages(body) == {
        "email": "Enter a valid email address.",
        "password": "The password must have at least 12 characters.",
    }
    assert "email address: Enter a valid email address." in body["detail"]


async def test_register_refuses_missing_unknown_and_mistyped_fields(api: Api) -> None:
    form = registration_form()
    del form["phone"], form["birth_date"]
    form["nickname"] = "Kasia"
    form["pesel"] = int(form["pesel"])
    response = await api.client.post(ACCOUNTS, json=form)
    body = await problem(response, 422, "invalid_input")
    assert field_errors(body) == {
        ("phone", "field_required"),
        ("birth_date", "field_required"),
        ("nickname", "unknown_field"),
        ("pesel", "invalid_type"),
    }
    assert messages(body)["phone"] == "To pole jest wymagane."
    assert messages(body)["nickname"] == "Nieznane pole."


async def test_login_is_taken_whatever_its_case(api: Api) -> None:
    first = registration_form(login="Jan.Kowalski")
    response = await api.client.post(ACCOUNTS, json=first)
    assert response.status == 201, await response.text()
    assert (await response.json())["login"] == "Jan.Kowalski"

    # A taken login is answered as success would be (tests/adversarial/test_enumeration.py);
    # no second account is made, so its password opens nothing.
    for login in ("jan.kowalski", " JAN.KOWALSKI "):
        form = registration_form(login=login)
        response = await api.client.post(ACCOUNTS, json=form)
        assert response.status == 201, await response.text()
        assert (await response.json())["login"] == login.strip()
        refused = await api.client.post(
            "/api/v1/auth/login", json={"login": login, "password": form["password"]}
        )
        await problem(refused, 401, "invalid_credentials")

    # Logging in does not care about the case either; the account keeps the one it chose.
    user = await api.login("jan.KOWALSKI", first["password"])
    assert user.account["login"] == "Jan.Kowalski"


async def test_pesel_of_a_patient_or_a_dependent_makes_no_second_account(api: Api) -> None:
    adult = registration_form(birth_date="14-03-1985", sex="male", pesel=DEMO_PATIENT_PESEL)
    child = registration_form(birth_date="02-09-2017", sex="female", pesel=DEMO_CHILD_PESEL)
    for form in (adult, child, dict(adult, login="Demo.Patient")):
        response = await api.client.post(ACCOUNTS, json=form)
        assert response.status == 201, await response.text()
        assert (await response.json())["patient"]["pesel"] == form["pesel"]
        refused = await api.client.post(
            "/api/v1/auth/login", json={"login": form["login"], "password": form["password"]}
        )
        await problem(refused, 401, "invalid_credentials")


# -- getMe ------------------------------------------------------------------------------------


async def test_get_me_for_each_demo_role(api: Api) -> None:
    expected = {
        "demo.patient": ("patient", True, False),
        "demo.physician": ("physician", False, True),
        "demo.reception": ("reception", False, False),
    }
    seen: dict[str, dict[str, Any]] = {}
    for login, (role, is_patient, is_physician) in expected.items():
        user = await api.login(login)
        response = await api.client.get("/api/v1/me", headers=user.headers)
        assert response.status == 200, await response.text()
        me = await response.json()
        assert me["login"] == login
        assert me["role"] == role
        assert me["access_level"] == "full"
        assert (me["patient"] is not None) is is_patient
        assert (me["practitioner_id"] is not None) is is_physician
        seen[me["id"]] = me
    assert len(seen) == 3

    by_login = {me["login"]: me for me in seen.values()}
    assert by_login["demo.patient"]["display_name"] == "Jan Nowicki"
    assert by_login["demo.patient"]["patient"]["birth_date"] == "14-03-1985"
    doctor = PHYSICIANS[0]
    assert by_login["demo.physician"]["display_name"] == (
        f"{doctor.title} {doctor.first_name} {doctor.last_name}"
    )
    assert by_login["demo.reception"]["display_name"] == "demo.reception"
    response = await api.client.get("/api/v1/me")
    await problem(response, 401, "authentication_required")


# -- full access --------------------------------------------------------------------------------


async def consents_of(settings: Settings, account_id: str) -> list[Consent]:
    """The consent rows of an account, read straight from the database."""
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            rows = await session.scalars(
                select(Consent)
                .where(Consent.account_id == uuid.UUID(account_id))
                .order_by(Consent.accepted_at)
            )
            return list(rows)
    finally:
        await db.close()


async def test_request_full_access_online(api: Api, settings: Settings, clock: ManualClock) -> None:
    user = await api.register()
    assert user.account["access_level"] == "basic"
    full_access = "/api/v1/me/full-access"

    response = await api.client.post(
        full_access, json={"accept_terms": False}, headers=user.headers
    )
    body = await problem(response, 422, "invalid_input")
    assert field_errors(body) == {("accept_terms", "terms_not_accepted")}

    response = await api.client.post(
        full_access, json={"accept_terms": True, "terms_version": "2025-01"}, headers=user.headers
    )
    body = await problem(response, 422, "invalid_input")
    assert field_errors(body) == {("terms_version", "terms_version_outdated")}
    assert TERMS_VERSION in messages(body)["terms_version"]
    assert await consents_of(settings, user.account["id"]) == []

    me = await (await api.client.get("/api/v1/me", headers=user.headers)).json()
    assert me["access_level"] == "basic"

    clock.advance(timedelta(minutes=3))
    response = await api.client.post(
        full_access,
        json={"accept_terms": True, "terms_version": TERMS_VERSION},
        headers=user.headers,
    )
    assert response.status == 200, await response.text()
    account = await response.json()
    assert account["access_level"] == "full"
    assert account["full_access_source"] == "online"
    assert datetime.fromisoformat(account["full_access_at"]) == clock.now()

    me = await (await api.client.get("/api/v1/me", headers=user.headers)).json()
    assert me["access_level"] == "full"
    assert me["full_access_source"] == "online"
    [consent] = await consents_of(settings, user.account["id"])
    assert consent.kind is ConsentKind.TERMS_OF_SERVICE
    assert consent.version == TERMS_VERSION
    assert consent.accepted_at == clock.now()
    assert consent.source == "online"
    assert consent.recorded_by_account_id is None


async def test_only_patients_request_full_access(api: Api) -> None:
    physician = await api.login("demo.physician")
    response = await api.client.post(
        "/api/v1/me/full-access", json={"accept_terms": True}, headers=physician.headers
    )
    await problem(response, 403, "role_forbidden")


async def test_reception_grants_full_access(api: Api, settings: Settings) -> None:
    patient = await api.register()
    reception = await api.login("demo.reception")
    physician = await api.login("demo.physician")
    demo_patient = await api.login("demo.patient")

    def grant(account_id: str) -> str:
        return f"/api/v1/reception/accounts/{account_id}/full-access"

    for caller in (patient, physician, demo_patient):
        response = await api.client.post(grant(patient.account["id"]), headers=caller.headers)
        await problem(response, 403, "role_forbidden")
    for not_a_patient in (physician.account["id"], str(uuid.uuid4()), "not-a-uuid"):
        response = await api.client.post(grant(not_a_patient), headers=reception.headers)
        await problem(response, 404, "not_found")
    me = await (await api.client.get("/api/v1/me", headers=patient.headers)).json()
    assert me["access_level"] == "basic"

    response = await api.client.post(grant(patient.account["id"]), headers=reception.headers)
    assert response.status == 200, await response.text()
    account = await response.json()
    assert account["id"] == patient.account["id"]
    assert account["access_level"] == "full"
    assert account["full_access_source"] == "reception"

    me = await (await api.client.get("/api/v1/me", headers=patient.headers)).json()
    assert me["access_level"] == "full"
    assert me["full_access_source"] == "reception"
    [consent] = await consents_of(settings, patient.account["id"])
    assert consent.source == "reception"
    assert consent.recorded_by_account_id == uuid.UUID(reception.account["id"])


# -- dependents ---------------------------------------------------------------------------------


def child_form(
    birth: date, sex: str = "female", serial: int = 500, **overrides: Any
) -> dict[str, Any]:
    """An addDependent body with a PESEL matching the birth date and sex."""
    form = {
        "first_name": "Ala" if sex == "female" else "Staś",
        "last_name": "Nowicka" if sex == "female" else "Nowicki",
        "birth_date": form_date(birth),
        "sex": sex,
        "pesel": make_pesel(birth, sex, serial),
    }
    form.update(overrides)
    return form


async def test_add_and_list_dependents(api: Api, clock: ManualClock) -> None:
    user = await api.login("demo.patient")
    today = local_today(clock)
    dependents = "/api/v1/me/dependents"

    response = await api.client.get(dependents, headers=user.headers)
    assert response.status == 200
    assert [c["first_name"] for c in (await response.json())["items"]] == ["Zofia"]

    # Turns 18 tomorrow: still a minor today.
    almost_adult = years_before(today, 18) + timedelta(days=1)
    young = years_before(today, 5)
    for form in (child_form(young, "male", 11), child_form(almost_adult, "female", 12)):
        response = await api.client.post(dependents, json=form, headers=user.headers)
        assert response.status == 201, await response.text()
        child = await response.json()
        assert child["pesel"] == form["pesel"]
        assert child["birth_date"] == form["birth_date"]
        assert child["guardian_id"] == user.patient_id

    response = await api.client.get(dependents, headers=user.headers)
    listed = [(c["first_name"], c["birth_date"]) for c in (await response.json())["items"]]
    assert listed == [
        ("Ala", form_date(almost_adult)),
        ("Zofia", "02-09-2017"),
        ("Staś", form_date(young)),
    ]


async def test_dependent_must_be_a_minor_with_a_matching_pesel(
    api: Api, clock: ManualClock
) -> None:
    user = await api.login("demo.patient")
    today = local_today(clock)
    eighteen_today = years_before(today, 18)
    born = years_before(today, 7)
    refusals = [
        (child_form(eighteen_today), "birth_date", "dependent_not_minor"),
        (child_form(years_before(today, 40)), "birth_date", "dependent_not_minor"),
        (
            child_form(born, pesel=make_pesel(born - timedelta(days=1), "female", 9)),
            "pesel",
            "pesel_birth_date_mismatch",
        ),
        (child_form(born, pesel=make_pesel(born, "male", 9)), "pesel", "pesel_sex_mismatch"),
        (
            child_form(date(2017, 9, 2), pesel=DEMO_CHILD_PESEL),
            "pesel",
            "pesel_taken",
        ),
        (child_form(born, birth_date=born.isoformat()), "birth_date", "date_format"),
    ]
    for form, field, code in refusals:
        response = await api.client.post("/api/v1/me/dependents", json=form, headers=user.headers)
        body = await problem(response, 422, "invalid_input")
        assert field_errors(body) == {(field, code)}, form
    response = await api.client.get("/api/v1/me/dependents", headers=user.headers)
    assert len((await response.json())["items"]) == 1


async def test_staff_have_no_dependents(api: Api, clock: ManualClock) -> None:
    form = child_form(years_before(local_today(clock), 3))
    for login in ("demo.physician", "demo.reception"):
        user = await api.login(login)
        response = await api.client.post("/api/v1/me/dependents", json=form, headers=user.headers)
        await problem(response, 403, "role_forbidden")
        response = await api.client.get("/api/v1/me/dependents", headers=user.headers)
        await problem(response, 403, "role_forbidden")


# -- the API's edges: OpenAPI, routing errors, malformed bodies ---------------------------------

FIXED_OPERATIONS = {
    "registerAccount",
    "login",
    "logout",
    "getMe",
    "requestFullAccess",
    "listDependents",
    "addDependent",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The target of a local JSON reference (RFC 6901 pointer), or KeyError."""
    assert ref.startswith("#/"), ref
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def refs_in(node: Any) -> list[str]:
    """Every ``$ref`` value inside ``node``."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs_in(value)]
    return []


def unresolved(document: dict[str, Any], node: Any) -> set[str]:
    """References reachable from ``node`` that do not resolve, following schemas transitively."""
    missing: set[str] = set()
    seen: set[str] = set()
    pending = refs_in(node)
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        try:
            pending.extend(refs_in(resolve(document, ref)))
        except KeyError:
            missing.add(ref)
    return missing


async def openapi(client: TestClient[Any, Any]) -> dict[str, Any]:
    """The served OpenAPI document."""
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200, await response.text()
    document: dict[str, Any] = await response.json()
    return document


@SQLITE_ONLY
@pytest.mark.filterwarnings(OPENAPI_STATE_WARNING)
async def test_openapi_document_describes_the_accounts_api(client: TestClient[Any, Any]) -> None:
    document = await openapi(client)
    assert document["openapi"] == "3.1.0"
    operations = [
        operation
        for path_item in document["paths"].values()
        for method, operation in path_item.items()
        if method in HTTP_METHODS
    ]
    ids = [operation.get("operationId") for operation in operations]
    assert all(ids), [op["summary"] for op in operations if not op.get("operationId")]
    assert len(ids) == len(set(ids))
    assert set(ids) >= FIXED_OPERATIONS | {
        "createAccessToken",
        "requestPasswordReset",
        "resetPassword",
        "changePassword",
        "grantFullAccess",
    }

    problem_ref = "#/components/schemas/Problem"
    assert resolve(document, problem_ref)["properties"]["code"]["type"] == "string"
    for operation in operations:
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": problem_ref}}
                }, (operation["operationId"], status)

    accounts = [operation for operation in operations if operation["tags"] == ["accounts"]]
    assert {operation["operationId"] for operation in accounts} >= FIXED_OPERATIONS
    assert unresolved(document, accounts) == set()
    register = document["paths"]["/api/v1/accounts"]["post"]
    body = resolve(
        document, register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(body["required"]) == {
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "sex",
        "pesel",
        "login",
        "password",
    }
    assert set(register["responses"]) >= {"201", "422"}


@SQLITE_ONLY
@pytest.mark.filterwarnings(OPENAPI_STATE_WARNING)
async def test_every_openapi_reference_resolves(client: TestClient[Any, Any]) -> None:
    document = await openapi(client)
    assert unresolved(document, document["paths"]) == set()


@SQLITE_ONLY
async def test_openapi_is_served_without_warnings(client: TestClient[Any, Any]) -> None:
    await openapi(client)


@SQLITE_ONLY
async def test_wrong_method_is_a_problem(client: TestClient[Any, Any]) -> None:
    for method, path in (("DELETE", "/api/v1/me"), ("PUT", "/api/v1/auth/login")):
        response = await client.request(method, path, headers={"Accept-Language": "en"})
        body = await problem(response, 405, "method_not_allowed")
        assert body["title"] == "This method is not supported here."
        assert body["instance"] == path


@SQLITE_ONLY
async def test_wrong_method_names_the_allowed_ones(client: TestClient[Any, Any]) -> None:
    response = await client.delete("/api/v1/me")
    assert response.status == 405
    assert response.headers.get("Allow") == "GET"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/no-such-thing", 404),
        ("POST", "/api/v1/no-such-thing", 404),
        ("GET", "/api/v1/auth/login", 405),
    ],
)
async def test_routing_errors_under_the_api_are_problems(
    client: TestClient[Any, Any], method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    await problem(response, status, "not_found" if status == 404 else "method_not_allowed")


@SQLITE_ONLY
async def test_malformed_json_is_a_problem(client: TestClient[Any, Any]) -> None:
    headers = {"Content-Type": "application/json"}
    for raw in (b'{"login": "demo.patient",', b"\xff\xfe", b"{'login': 1}"):
        response = await client.post("/api/v1/auth/login", data=raw, headers=headers)
        body = await problem(response, 400, "invalid_json")
        assert body["title"] == "Treść żądania nie jest poprawnym JSON-em."
    response = await client.post(ACCOUNTS, data=b"[]", headers=headers)
    body = await problem(response, 422, "invalid_input")
    assert field_errors(body) == {("body", "invalid_type")}
