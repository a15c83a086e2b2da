"""Tests for :mod:`portal.validation`."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from importlib import resources
from typing import Any

import pytest

from portal import validation
from portal.errors import FieldError, InvalidInput
from portal.validation import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    check_password,
    common_passwords,
    normalise_email,
    normalise_login,
    normalise_name,
    normalise_phone,
    parse_form_date,
)


def refusal(call: Any, *args: Any, **kwargs: Any) -> FieldError:
    """Call a validator that must refuse; return its single field error."""
    with pytest.raises(InvalidInput) as excinfo:
        call(*args, **kwargs)
    assert len(excinfo.value.errors) == 1
    return excinfo.value.errors[0]


# email


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jan.kowalski@example.com", "jan.kowalski@example.com"),
        ("  Jan.Kowalski@Example.COM\n", "Jan.Kowalski@example.com"),
        ("zofia@gęśla.pl", "zofia@gęśla.pl"),
        ("a+tag@sub.example.pl", "a+tag@sub.example.pl"),
    ],
)
def test_email_normalised(value: str, expected: str) -> None:
    assert normalise_email(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "jan", "jan@", "@example.com", "jan@localhost", "jan@@example.com", "jan kowalski@x.pl"],
)
def test_email_invalid(value: str) -> None:
    assert refusal(normalise_email, value, field="contact_email") == FieldError(
        "contact_email", "email_invalid"
    )


# phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("600 100 200", "+48600100200"),
        ("600100200", "+48600100200"),
        ("600-100-200", "+48600100200"),
        ("+48 600-100-200", "+48600100200"),
        ("+48600100200", "+48600100200"),
        ("0048600100200", "+48600100200"),
        ("00 48 600 100 200", "+48600100200"),
        ("22 123 45 67", "+48221234567"),
        ("+48 (22) 123 45 67", "+48221234567"),
        ("+44 20 7946 0018", "+442079460018"),
        ("0044 20 7946 0018", "+442079460018"),
        ("+49 30 901820", "+4930901820"),
        ("+49 1512 3456789", "+4915123456789"),
    ],
)
def test_phone_normalised(value: str, expected: str) -> None:
    assert normalise_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "123",
        "600 100 20",  # one digit short
        "+48 600 100 2000",  # one digit too many
        "+999 600 100 200",  # no such country code
        "abc600100200",  # phonenumbers would read letters as keypad digits
        "600100200 ext. 5",
        "+48 600 100 200 +1",
    ],
)
def test_phone_invalid(value: str) -> None:
    assert refusal(normalise_phone, value) == FieldError("phone", "phone_invalid")


def test_phone_error_uses_the_field_name() -> None:
    assert refusal(normalise_phone, "12", field="guardian_phone").field == "guardian_phone"


# login


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jan", "jan"),
        ("  Jan.Kowalski_1-x ", "Jan.Kowalski_1-x"),
        ("7of9", "7of9"),
        ("a" * 64, "a" * 64),
    ],
)
def test_login_normalised(value: str, expected: str) -> None:
    assert normalise_login(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "ab", "a" * 65, ".jan", "_jan", "-jan", "jan kowalski", "łukasz", "jan@x", "jan\n1"],
)
def test_login_invalid(value: str) -> None:
    assert refusal(normalise_login, value) == FieldError("login", "login_invalid")


# password


def test_password_length_edges() -> None:
    assert PASSWORD_MIN_LENGTH == 12
    assert PASSWORD_MAX_LENGTH == 128
    assert refusal(check_password, "Vq7#pLm2wZr") == FieldError(
        "password", "password_too_short", {"min_length": 12}
    )
    check_password("Vq7#pLm2wZrT")
    check_password("Vq7#pLm2wZrT" * 10 + "ab3$dE9!")
    assert refusal(check_password, "Vq7#pLm2wZrT" * 10 + "ab3$dE9!x") == FieldError(
        "password", "password_too_long", {"max_length": 128}
    )


def test_password_length_counts_characters_not_bytes() -> None:
    check_password("źdźbło żółwia")
    assert refusal(check_password, "żółćżółćżół").code == "password_too_short"


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "PASSWORD1234",
        "Password2024!",
        "qwertyuiop12",
        "123456789012",
        "111111111111",
        "zaq12wsxcde3",
        "Zaq1@wsxCde3",
        "kochamciebie1",
        "Kochamciebie!!",
        "administrator",
        "Administrator2024",
        "iloveyou1234",
        "haslo123456789",
        "Polska123456",
        "Mateusz1990!!",
        "Agnieszka1234",
        "P@ssw0rd12345",
        "1q2w3e4r5t6y",
        "correct horse battery staple",
    ],
)
def test_password_common(password: str) -> None:
    assert refusal(check_password, password, field="new_password") == FieldError(
        "new_password", "password_common"
    )


@pytest.mark.parametrize(
    ("password", "login"),
    [
        ("xjankowalski-9481", "JanKowalski"),
        ("Vq7#JAN.K#pLm2w", "jan.k"),
        ("Vq7#pLm2wZrTabc", "abc"),
    ],
)
def test_password_contains_login(password: str, login: str) -> None:
    assert refusal(check_password, password, login=login) == FieldError(
        "password", "password_contains_login"
    )


@pytest.mark.parametrize("login", [None, "", "ab", "zofia"])
def test_password_may_contain_a_short_or_other_login(login: str | None) -> None:
    check_password("Vq7#pLm2wZrTab", login=login)


def test_password_length_is_checked_before_the_list() -> None:
    assert refusal(check_password, "password").code == "password_too_short"


@pytest.mark.parametrize(
    "password",
    ["Vq7#pLm2wZrT", "rower-las-kawa-77", "Mój pies ma na imię Burek"],
)
def test_password_accepted(password: str) -> None:
    check_password(password, login="jan.kowalski")


# common passwords list


def test_common_password_list_is_shipped_lower_case_and_large() -> None:
    text = resources.files("portal").joinpath("data/common-passwords.txt").read_text("utf-8")
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert all(entry and entry == entry.strip() for entry in entries)
    assert all(entry == entry.casefold() for entry in entries)
    assert len(entries) == len(set(entries)) >= 1500
    assert sum(len(entry) >= PASSWORD_MIN_LENGTH for entry in entries) >= 500
    assert common_passwords() == frozenset(entries)
    assert {"123456", "password", "zaq12wsx", "zaq1@wsx", "haslo", "misiek"} <= common_passwords()


def test_common_passwords_attribute_is_the_cached_set() -> None:
    assert validation.COMMON_PASSWORDS is common_passwords()
    with pytest.raises(AttributeError):
        _ = validation.NO_SUCH_NAME  # type: ignore[attr-defined]


def test_importing_reads_no_file() -> None:
    code = (
        "import portal.validation as v\n"
        "assert v.common_passwords.cache_info().currsize == 0, 'list read at import time'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603


# names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Łukasz", "Łukasz"),
        ("  Zofia-Maria ", "Zofia-Maria"),
        ("O'Neill", "O'Neill"),
        ("O’Neill", "O’Neill"),
        ("Jan  \t Maria", "Jan Maria"),
        ("Gżegżółka-Źdźbło", "Gżegżółka-Źdźbło"),
        ("St. John", "St. John"),
        ("Ó", "Ó"),
        ("\u0141o\u0301dz\u0301", "Łódź"),  # decomposed, as some keyboards send it
        ("Müller", "Müller"),
        ("Ωμέγα", "Ωμέγα"),
        ("x" * 100, "x" * 100),
    ],
)
def test_name_normalised(value: str, expected: str) -> None:
    assert normalise_name(value, "first_name") == expected


@pytest.mark.parametrize("value", ["Jan2", "Jan_Kowalski", "Jan@", "<b>", "'-.", "Jan/Anna"])
def test_name_invalid(value: str) -> None:
    assert refusal(normalise_name, value, "last_name") == FieldError("last_name", "name_invalid")


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_name_required(value: str) -> None:
    assert refusal(normalise_name, value, "first_name") == FieldError(
        "first_name", "field_required"
    )


def test_name_too_long() -> None:
    assert refusal(normalise_name, "x" * 101, "first_name") == FieldError(
        "first_name", "too_long", {"max_length": 100}
    )


# form dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14-05-1944", date(1944, 5, 14)),
        (" 29-02-2000 ", date(2000, 2, 29)),
        ("01-01-0001", date(1, 1, 1)),
        ("31-12-2299", date(2299, 12, 31)),
    ],
)
def test_form_date(value: str, expected: date) -> None:
    assert parse_form_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1944-05-14",
        "14.05.1944",
        "14/05/1944",
        "4-5-1944",
        "14-5-1944",
        "14-05-44",
        "14-05-19444",
        "29-02-1900",
        "31-04-2020",
        "00-01-2020",
        "01-13-2020",
        "01-01-0000",
        "١٤-٠٥-١٩٤٤",
    ],
)
def test_form_date_invalid(value: str) -> None:
    assert refusal(parse_form_date, value, field="dependent_birth_date") == FieldError(
        "dependent_birth_date", "date_format"
    )
