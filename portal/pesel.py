"""PESEL, the Polish national identification number.

A PESEL is 11 digits ``YYMMDDZZZXQ``: the date of birth (the century folded into the month),
a three-digit serial ``ZZZ``, a sex digit ``X`` (odd for male, even for female) and a check
digit ``Q``. The structure is set by art. 15 of the Act of 24 September 2010 on population
records (ustawa o ewidencji ludności); the century offsets and the weights are those the
Ministry of Digital Affairs publishes for the number.

The weights 1-3-7-9 are all coprime with 10, so any single wrong digit changes the weighted sum
modulo 10 and is always caught by the check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from portal.errors import InvalidInput

Sex = Literal["female", "male"]

_WEIGHTS: Final[tuple[int, ...]] = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
_FORMAT: Final[re.Pattern[str]] = re.compile(r"[0-9]{11}")

# The century is encoded by adding an offset to the month: (first year, month offset).
_CENTURIES: Final[tuple[tuple[int, int], ...]] = (
    (1800, 80),
    (1900, 0),
    (2000, 20),
    (2100, 40),
    (2200, 60),
)
MIN_BIRTH_DATE: Final[date] = date(1800, 1, 1)
MAX_BIRTH_DATE: Final[date] = date(2299, 12, 31)


@dataclass(frozen=True)
class PeselInfo:
    """What a valid PESEL says about its holder."""

    birth_date: date
    """The date of birth encoded in the first six digits."""
    sex: Sex
    """``male`` when the tenth digit is odd, ``female`` when it is even."""


def _check_digit(first_ten: str) -> int:
    """The check digit for the first ten digits of a PESEL."""
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, first_ten, strict=True))
    return (10 - total % 10) % 10


def parse_pesel(value: str) -> PeselInfo:
    """Check a PESEL and decode its date of birth and sex.

    Raises :class:`~portal.errors.InvalidInput` on the ``pesel`` field with the code
    ``pesel_format``, ``pesel_checksum`` or ``pesel_date_invalid``.
    """
    return _parse(value, "pesel")[1]


def validate_pesel(value: str, birth_date: date, sex: str, field: str = "pesel") -> str:
    """Check a PESEL against the date of birth and sex given with it; return its 11 digits.

    Every refusal is an :class:`~portal.errors.InvalidInput` on ``field`` (a dependent's form
    passes its own field name): the codes of :func:`parse_pesel`, then
    ``pesel_birth_date_mismatch`` or ``pesel_sex_mismatch``.
    """
    digits, info = _parse(value, field)
    if info.birth_date != birth_date:
        raise InvalidInput.single(field, "pesel_birth_date_mismatch")
    if info.sex != sex:
        raise InvalidInput.single(field, "pesel_sex_mismatch")
    return digits


def make_pesel(birth_date: date, sex: str, serial: int) -> str:
    """Build a valid PESEL for the demo seed and the tests.

    ``serial`` (0..999) becomes digits 7-9; the sex digit is derived from it so that different
    serials also vary the tenth digit. Raises :class:`ValueError` for a date outside
    1800-2299, an unknown sex or a serial out of range: these are programming errors, not
    user input.
    """
    if not MIN_BIRTH_DATE <= birth_date <= MAX_BIRTH_DATE:
        raise ValueError(f"a PESEL cannot encode the year {birth_date.year}")
    if sex not in ("female", "male"):
        raise ValueError(f"a PESEL encodes the sex female or male, not {sex!r}")
    if not 0 <= serial <= 999:
        raise ValueError(f"the serial must be within 0..999, not {serial}")
    offset = next(off for start, off in _CENTURIES if start <= birth_date.year < start + 100)
    sex_digit = (serial % 5) * 2 + (1 if sex == "male" else 0)
    first_ten = (
        f"{birth_date.year % 100:02d}{birth_date.month + offset:02d}{birth_date.day:02d}"
        f"{serial:03d}{sex_digit}"
    )
    return f"{first_ten}{_check_digit(first_ten)}"


def _parse(value: str, field: str) -> tuple[str, PeselInfo]:
    """The normalised digits and the decoded information, or an error on ``field``."""
    digits = value.strip()
    # fullmatch on [0-9] rather than str.isdigit(): that would admit non-ASCII digits.
    if not _FORMAT.fullmatch(digits):
        raise InvalidInput.single(field, "pesel_format")
    if _check_digit(digits[:10]) != int(digits[10]):
        raise InvalidInput.single(field, "pesel_checksum")
    birth_date = _birth_date(int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
    if birth_date is None:
        raise InvalidInput.single(field, "pesel_date_invalid")
    sex: Sex = "male" if int(digits[9]) % 2 else "female"
    return digits, PeselInfo(birth_date=birth_date, sex=sex)


def _birth_date(year_in_century: int, encoded_month: int, day: int) -> date | None:
    """Decode the date of birth, or ``None`` when the month or the day does not exist."""
    for start, offset in _CENTURIES:
        month = encoded_month - offset
        if 1 <= month <= 12:
            try:
                return date(start + year_in_century, month, day)
            except ValueError:
                return None
    return None
