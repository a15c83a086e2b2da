"""Tests for :mod:`portal.pesel`."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.errors import FieldError, InvalidInput
from portal.pesel import PeselInfo, Sex, make_pesel, parse_pesel, validate_pesel

WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)

birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=date(2299, 12, 31))
sexes: st.SearchStrategy[Sex] = st.sampled_from(["female", "male"])
serials = st.integers(min_value=0, max_value=999)


def with_check_digit(first_ten: str) -> str:
    """Complete ten digits with their check digit, computed independently of the module."""
    total = sum(w * int(d) for w, d in zip(WEIGHTS, first_ten, strict=True))
    return first_ten + str((10 - total % 10) % 10)


def error_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> FieldError:
    """The single field error an InvalidInput carries."""
    assert len(excinfo.value.errors) == 1
    return excinfo.value.errors[0]


@pytest.mark.parametrize(
    ("pesel", "birth_date", "sex"),
    [
        ("44051401359", date(1944, 5, 14), "male"),
        # The textbook example: month 07 is the 1900s, so this is 1902, not 2002.
        ("02070803628", date(1902, 7, 8), "female"),
        ("02270803624", date(2002, 7, 8), "female"),
        (with_check_digit("9992310000"), date(1899, 12, 31), "female"),
        (with_check_digit("0041010001"), date(2100, 1, 1), "male"),
        (with_check_digit("9972310000"), date(2299, 12, 31), "female"),
        (with_check_digit("0022290001"), date(2000, 2, 29), "male"),
    ],
)
def test_known_numbers(pesel: str, birth_date: date, sex: Sex) -> None:
    assert parse_pesel(pesel) == PeselInfo(birth_date=birth_date, sex=sex)
    assert validate_pesel(f" {pesel}\n", birth_date, sex) == pesel


@given(birth_date=birth_dates, sex=sexes, serial=serials)
def test_made_numbers_parse_back(birth_date: date, sex: Sex, serial: int) -> None:
    pesel = make_pesel(birth_date, sex, serial)
    assert len(pesel) == 11
    assert pesel == with_check_digit(pesel[:10])
    assert pesel[6:9] == f"{serial:03d}"
    assert parse_pesel(pesel) == PeselInfo(birth_date=birth_date, sex=sex)
    assert validate_pesel(pesel, birth_date, sex) == pesel


@given(birth_date=birth_dates, sex=sexes, serial=serials)
def test_every_single_digit_change_is_caught(birth_date: date, sex: str, serial: int) -> None:
    pesel = make_pesel(birth_date, sex, serial)
    for position in range(11):
        for digit in "0123456789":
            if digit == pesel[position]:
                continue
            changed = pesel[:position] + digit + pesel[position + 1 :]
            with pytest.raises(InvalidInput) as excinfo:
                parse_pesel(changed)
            # Every weight is coprime with 10, so the check digit alone catches the change.
            assert error_of(excinfo) == FieldError("pesel", "pesel_checksum")


def decode(pesel: str) -> PeselInfo | None:
    """An independent reading of a well-formed PESEL: the century is the month div 20."""
    century = (1900, 2000, 2100, 2200, 1800)[int(pesel[2:4]) // 20]
    try:
        born = date(century + int(pesel[:2]), int(pesel[2:4]) % 20, int(pesel[4:6]))
    except ValueError:
        return None
    return PeselInfo(birth_date=born, sex="male" if int(pesel[9]) % 2 else "female")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_any_number_with_a_right_check_digit_decodes_as_the_rules_say(first_ten: str) -> None:
    pesel = with_check_digit(first_ten)
    expected = decode(pesel)
    if expected is None:
        with pytest.raises(InvalidInput) as excinfo:
            parse_pesel(pesel)
        assert error_of(excinfo) == FieldError("pesel", "pesel_date_invalid")
    else:
        assert parse_pesel(pesel) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "4405140135",
        "440514013590",
        "4405140135a",
        "44051401359 1",
        "44 051401359",
        "+4405140135",
        "٤٤05140135٩",  # Arabic-Indic digits are digits to str.isdigit(), not to a PESEL
        "４4051401359",  # a full-width digit
    ],
)
def test_format(value: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_pesel(value)
    assert error_of(excinfo) == FieldError("pesel", "pesel_format")


def test_checksum() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_pesel("44051401358")
    assert error_of(excinfo) == FieldError("pesel", "pesel_checksum")


@pytest.mark.parametrize(
    "first_ten",
    [
        "4400140135",  # month 00
        "4413140135",  # month 13 is no century
        "4493140135",  # month 93 is no century
        "4405000135",  # day 0
        "4405320135",  # May 32nd
        "0102290135",  # 1901 is not a leap year
        "0042290135",  # 2100 is not a leap year
        "0082290135",  # 1800 is not a leap year
        "4404310135",  # April 31st
    ],
)
def test_date_invalid(first_ten: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_pesel(with_check_digit(first_ten))
    assert error_of(excinfo) == FieldError("pesel", "pesel_date_invalid")


def test_validate_birth_date_mismatch_uses_the_field_name() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_pesel("44051401359", date(1944, 5, 15), "male", field="dependents.0.pesel")
    assert error_of(excinfo) == FieldError("dependents.0.pesel", "pesel_birth_date_mismatch")


def test_validate_same_day_other_century_is_a_mismatch() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_pesel("02070803628", date(2002, 7, 8), "female")
    assert error_of(excinfo) == FieldError("pesel", "pesel_birth_date_mismatch")


@pytest.mark.parametrize("sex", ["female", "other", ""])
def test_validate_sex_mismatch(sex: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_pesel("44051401359", date(1944, 5, 14), sex, field="child_pesel")
    assert error_of(excinfo) == FieldError("child_pesel", "pesel_sex_mismatch")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("4405140135", "pesel_format"),
        ("44051401358", "pesel_checksum"),
        (with_check_digit("4413140135"), "pesel_date_invalid"),
    ],
)
def test_validate_reports_parse_errors_on_its_field(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        validate_pesel(value, date(1944, 5, 14), "male", field="guardian_pesel")
    assert error_of(excinfo) == FieldError("guardian_pesel", code)


def test_make_pesel_varies_the_sex_digit_with_the_serial() -> None:
    born = date(1990, 1, 1)
    assert {make_pesel(born, "female", serial)[9] for serial in range(5)} == set("02468")
    assert {make_pesel(born, "male", serial)[9] for serial in range(5)} == set("13579")


@pytest.mark.parametrize(
    ("birth_date", "sex", "serial"),
    [
        (date(1799, 12, 31), "female", 0),
        (date(2300, 1, 1), "female", 0),
        (date(1990, 1, 1), "other", 0),
        (date(1990, 1, 1), "male", -1),
        (date(1990, 1, 1), "male", 1000),
    ],
)
def test_make_pesel_refuses_what_a_pesel_cannot_encode(
    birth_date: date, sex: str, serial: int
) -> None:
    with pytest.raises(ValueError, match=r"PESEL|serial"):
        make_pesel(birth_date, sex, serial)
