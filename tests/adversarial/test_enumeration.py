"""No account or PESEL enumeration by message, status, headers or time (issue 12).

That a person is a patient here is medical data (GDPR art. 9), so the answers to registration,
addDependent, login and reset requests are compared byte for byte between a login, PESEL or
e-mail that exists and one that does not (ids aside). Time is not measured (that would be
flaky): the tests see instead that every path pays the same argon2 price (counters on the
``Passwords`` object) and that the answer does not wait for the mail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import uuid
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import ClientResponse
from sqlalchemy import func, select

from hub.settings import Settings
from portal.clock import ManualClock
from portal.models import Account, AuditEvent, Patient
from portal.pesel import make_pesel
from tests.conftest import Api, registration_form

LOGIN = "/api/v1/auth/login"
ACCOUNTS = "/api/v1/accounts"
DEPENDENTS = "/api/v1/me/dependents"
RESET = "/api/v1/auth/password-reset"
DEMO_PATIENT_PESEL = make_pesel(date(1985, 3, 14), "male", 417)
DEMO_CHILD_PESEL = make_pesel(date(2017, 9, 2), "female", 128)
VARYING_HEADERS = {"Date", "Content-Length"}
"""Headers that differ between any two answers (the clock; a body echoing other input)."""


def headers_of(response: ClientResponse) -> list[tuple[str, str]]:
    """The response headers that must not tell two outcomes apart, in order."""
    return [(k, v) for k, v in response.headers.items() if k not in VARYING_HEADERS]


def outbox(settings: Settings) -> dict[Path, EmailMessage]:
    """The messages in the hub's outbox folder."""
    return {
        path: cast(
            EmailMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        )
        for path in (settings.var_dir / "outbox").glob("*.eml")
    }


class Mail:
    """What the hub mailed during a block of a test (waiting for work done after answers)."""

    def __init__(self, api: Api, settings: Settings) -> None:
        self.api, self.settings = api, settings
        self.before: set[Path] = set()

    async def __aenter__(self) -> Mail:
        await self.api.settle()
        self.before = set(outbox(self.settings))
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def sent(self) -> list[tuple[str, str, str]]:
        """(To, Subject, body) of each message mailed since the block began, by recipient."""
        await self.api.settle()
        new = [m for path, m in outbox(self.settings).items() if path not in self.before]
        self.before = set(outbox(self.settings))
        found = []
        for message in new:
            part = message.get_body(("plain",))
            assert part is not None
            found.append((str(message["To"]), str(message["Subject"]), str(part.get_content())))
        return sorted(found)


# -- login ----------------------------------------------------------------------------------------


async def test_unknown_login_answers_like_a_wrong_password_and_pays_the_same_hash(
    api: Api,
) -> None:
    passwords = api.portal.passwords
    answers = []
    dummy = []
    for name in ("demo.patient", f"nobody.{uuid.uuid4().hex[:6]}"):
        before = passwords.dummy_verifications
        response = await api.client.post(LOGIN, json={"login": name, "password": "wrong one"})
        dummy.append(passwords.dummy_verifications - before)
        answers.append((response.status, headers_of(response), await response.read()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401
    # The unknown login was verified against the dummy argon2 hash, the known one against its
    # own: both cost one verification with the same parameters.
    assert dummy == [0, 1]


# -- registration ---------------------------------------------------------------------------------


def shape(body: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The registration answer with ids blanked, after checking it echoes ``form``."""
    patient = dict(body["patient"])
    assert body["login"] == form["login"].strip()
    assert body["email"].lower() == form["email"].lower()
    assert (patient["pesel"], patient["birth_date"]) == (form["pesel"], form["birth_date"])
    uuid.UUID(body["id"])
    uuid.UUID(patient["id"])
    patient.update(id="<id>", pesel="<pesel>", birth_date="<date>", sex="<sex>")
    patient.update(first_name="<name>", last_name="<name>")
    return dict(
        body,
        id="<id>",
        login="<login>",
        email="<email>",
        display_name="<name>",
        patient=patient,
    )


async def test_registration_with_a_taken_pesel_login_or_email_answers_as_a_fresh_one(
    api: Api, settings: Settings
) -> None:
    born = date(1985, 3, 14)  # demo.patient's birthday: only the PESEL serials differ
    serials = iter(random.sample(range(500, 1000), 3))

    def adult(**overrides: str) -> dict[str, Any]:
        pesel = make_pesel(born, "male", next(serials)) if "pesel" not in overrides else None
        return registration_form(
            sex="male", birth_date="14-03-1985", **({"pesel": pesel} if pesel else {}), **overrides
        )

    forms = {
        "fresh": adult(),
        "pesel": adult(pesel=DEMO_PATIENT_PESEL),
        "child": registration_form(sex="female", birth_date="02-09-2017", pesel=DEMO_CHILD_PESEL),
        "login": adult(login="Demo.Patient"),
        "email": adult(email="demo.patient@example.com"),
    }
    passwords = api.portal.passwords
    answers: dict[str, tuple[int, list[tuple[str, str]], dict[str, Any]]] = {}
    mailed: dict[str, list[tuple[str, str, str]]] = {}
    async with Mail(api, settings) as mail:
        for case, form in forms.items():
            hashes = passwords.hashes
            response = await api.client.post(ACCOUNTS, json=form)
            assert passwords.hashes == hashes + 1, case  # every path pays for one hash
            body = await response.json()
            answers[case] = (response.status, headers_of(response), shape(body, form))
            mailed[case] = await mail.sent()
    assert {case: answer[0] for case, answer in answers.items()} == dict.fromkeys(forms, 201)
    first = answers["fresh"]
    for case, answer in answers.items():
        assert answer == first, case

    # What was stored: the fresh form and the one whose e-mail is shared; nothing else.
    async with api.portal.db.read() as session:
        logins = set(
            await session.scalars(
                select(Account.login).where(
                    Account.login_key.in_([f["login"].lower() for f in forms.values()])
                )
            )
        )
        pesels = list(
            await session.scalars(
                select(Patient.pesel).where(Patient.pesel.in_([f["pesel"] for f in forms.values()]))
            )
        )
    assert logins == {forms["fresh"]["login"], forms["email"]["login"], "demo.patient"}
    assert sorted(pesels) == sorted(
        [forms[c]["pesel"] for c in ("fresh", "email")] + [DEMO_PATIENT_PESEL, DEMO_CHILD_PESEL]
    )

    # The truth went by mail, to the address given; the owner heard someone tried.
    subject = "Rejestracja w Portalu Pacjenta"
    for case in ("fresh", "email"):
        [(to, got, text)] = mailed[case]
        assert (to, got) == (forms[case]["email"], subject)
        assert "jest gotowe" in text
    owner_notice = "Próba rejestracji Twoimi danymi / A registration with your details"
    for case in ("pesel", "child", "login"):
        to_caller, to_owner = sorted(mailed[case], key=lambda m: m[0] != forms[case]["email"])
        assert to_caller[:2] == (forms[case]["email"], subject)  # the same subject as a welcome
        assert "nie mogliśmy założyć konta" in to_caller[2]
        assert to_owner[:2] == ("demo.patient@example.com", owner_notice)
        # The owner learns nothing about who tried.
        assert forms[case]["email"] not in to_owner[2]
        assert forms[case]["first_name"] not in to_owner[2]

    # The made-up account opens nothing.
    for case in ("pesel", "login"):
        response = await api.client.post(
            LOGIN, json={"login": forms[case]["login"], "password": forms[case]["password"]}
        )
        assert response.status == 401


async def test_twin_registrations_at_once_make_one_account_and_look_alike(api: Api) -> None:
    twin = registration_form()
    forms = [dict(twin, login=f"{twin['login']}.{i}") for i in range(3)]
    burst = await asyncio.gather(*(api.client.post(ACCOUNTS, json=form) for form in forms))
    assert [response.status for response in burst] == [201, 201, 201]
    async with api.portal.db.read() as session:
        stored = await session.scalar(
            select(func.count(Patient.id)).where(Patient.pesel == twin["pesel"])
        )
    assert stored == 1
    await api.settle()


# -- addDependent ---------------------------------------------------------------------------------


def child(born: date, pesel: str, first_name: str = "Ala") -> dict[str, str]:
    return {
        "first_name": first_name,
        "last_name": "Nowicka",
        "birth_date": born.strftime("%d-%m-%Y"),
        "sex": "female",
        "pesel": pesel,
    }


async def test_a_child_whose_pesel_is_someones_is_answered_as_a_fresh_one(
    api: Api, settings: Settings, clock: ManualClock
) -> None:
    stranger = await api.register()
    zofia_born = date(2017, 9, 2)  # demo.patient's daughter: not the stranger's child
    fresh = child(zofia_born, make_pesel(zofia_born, "female", 777))
    someones = child(zofia_born, DEMO_CHILD_PESEL)
    answers = []
    async with Mail(api, settings) as mail:
        for form in (fresh, someones):
            response = await api.client.post(DEPENDENTS, json=form, headers=stranger.headers)
            body = await response.json()
            assert body["pesel"] == form["pesel"]
            assert body["guardian_id"] == stranger.patient_id
            uuid.UUID(body["id"])
            answers.append((response.status, headers_of(response), dict(body, id="", pesel="")))
        sent = await mail.sent()
    assert answers[0] == answers[1]
    assert answers[0][0] == 201

    # Only the fresh child was added; the refusal is audited and the guardian told by mail.
    response = await api.client.get(DEPENDENTS, headers=stranger.headers)
    assert [c["pesel"] for c in (await response.json())["items"]] == [fresh["pesel"]]
    async with api.portal.db.read() as session:
        zofia = await session.scalar(select(Patient).where(Patient.pesel == DEMO_CHILD_PESEL))
        assert zofia is not None and zofia.guardian_id != uuid.UUID(stranger.patient_id)
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_account_id == uuid.UUID(stranger.account["id"]),
                    AuditEvent.action == "add_dependent",
                )
            )
        )
    assert [(e.outcome, e.patient_id, e.detail) for e in events] == [
        ("denied", zofia.id, {"reason": "pesel_has_a_record"})
    ]
    [(to, subject, text)] = sent
    assert (to, subject) == (stranger.account["email"], "Dodanie dziecka Ala do konta")
    assert "Przyjdź do recepcji" in text


async def test_the_guardians_own_child_again_is_their_own_business(api: Api) -> None:
    user = await api.login("demo.patient")
    response = await api.client.post(
        DEPENDENTS, json=child(date(2017, 9, 2), DEMO_CHILD_PESEL), headers=user.headers
    )
    assert response.status == 422
    assert (await response.json(content_type=None))["errors"][0]["code"] == "pesel_taken"


# -- password reset requests ----------------------------------------------------------------------


async def test_reset_answers_alike_and_never_waits_for_the_mail(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A mail server that does not answer until told to: the answer must not wait for it.
    gate = asyncio.Event()
    sent: list[str] = []
    mailer = api.portal.accounts.mailer
    real_send = mailer.send

    async def slow_send(to: str, subject: str, body: str) -> None:
        await gate.wait()
        sent.append(to)
        await real_send(to, subject, body)

    monkeypatch.setattr(mailer, "send", slow_send)
    answers = []
    for name in ("demo.patient", "DEMO.PATIENT@example.com", "nobody.here", "no@example.com"):
        response = await asyncio.wait_for(api.client.post(RESET, json={"login": name}), 10)
        answers.append((response.status, headers_of(response), await response.read()))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 202
    assert sent == []  # every answer came back while the mail server still hung
    gate.set()
    await api.settle()
    assert sent == ["demo.patient@example.com", "demo.patient@example.com"]
