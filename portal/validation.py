"""Validators for the registration and account forms.

Each function checks one value and returns it normalised, or raises
:class:`~portal.errors.InvalidInput` with a single :class:`~portal.errors.FieldError` whose code
has a text in :mod:`portal.i18n`. The field name is a parameter so that the same rule serves,
for instance, ``password`` and ``new_password``. The PESEL has its own module,
:mod:`portal.pesel`.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING, Final

import email_validator
import phonenumbers

from portal.errors import InvalidInput

PASSWORD_MIN_LENGTH: Final = 12
PASSWORD_MAX_LENGTH: Final = 128
NAME_MAX_LENGTH: Final = 100

_LOGIN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
# Digits and the separators people type; a leading "+" for the country code. Checked before
# phonenumbers, which would otherwise read letters as keypad digits and accept "ext. 12".
_PHONE_CHARACTERS: Final = re.compile(r"\+?[0-9 ()./-]+")
_FORM_DATE: Final = re.compile(r"([0-9]{2})-([0-9]{2})-([0-9]{4})")
# Apostrophe: ASCII and the typographic one that phone keyboards substitute.
_NAME_PUNCTUATION: Final = frozenset(" '’-.")
_PASSWORD_SUFFIX: Final = string.digits + string.punctuation + string.whitespace
_COMMON_PASSWORDS_FILE: Final = "common-passwords.txt"

if TYPE_CHECKING:
    COMMON_PASSWORDS: frozenset[str]
    """The shipped list of common passwords, lower case; read on first access."""


def normalise_email(value: str, field: str = "email") -> str:
    """Return the normalised email address (domain lower-cased, Unicode NFC); ``email_invalid``.

    Only the syntax is checked: no DNS lookup (that would be I/O, and slow, in a form check).
    """
    try:
        validated = email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidInput.single(field, "email_invalid") from exc
    return validated.normalized


def normalise_phone(value: str, field: str = "phone") -> str:
    """Return the phone number in E.164 (``+48600100200``); ``phone_invalid``.

    Numbers without a country code are Polish; others need ``+CC`` or ``00CC``.
    """
    text = value.strip()
    if not _PHONE_CHARACTERS.fullmatch(text):
        raise InvalidInput.single(field, "phone_invalid")
    try:
        number = phonenumbers.parse(text, "PL")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput.single(field, "phone_invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput.single(field, "phone_invalid")
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def normalise_login(value: str, field: str = "login") -> str:
    """Return the stripped login, case preserved; ``login_invalid``.

    3-64 ASCII letters, digits, dots, hyphens and underscores, starting with a letter or a
    digit. Uniqueness (case-insensitive) is the account service's business.
    """
    login = value.strip()
    if not _LOGIN.fullmatch(login):
        raise InvalidInput.single(field, "login_invalid")
    return login


def check_password(password: str, *, login: str | None = None, field: str = "password") -> None:
    """Refuse a weak password, following NIST SP 800-63B section 5.1.1.2.

    Length first (``password_too_short`` / ``password_too_long``, counted in characters), then
    the shipped list of common passwords (``password_common``, case-insensitive, also after
    dropping trailing digits and punctuation so that ``Password2024!`` counts as
    ``password``), then the login (``password_contains_login``, when it has 3 or more
    characters). No composition rules: SP 800-63B advises against them.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput.single(field, "password_too_short", min_length=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput.single(field, "password_too_long", max_length=PASSWORD_MAX_LENGTH)
    folded = password.casefold()
    common = common_passwords()
    if folded in common or folded.rstrip(_PASSWORD_SUFFIX) in common:
        raise InvalidInput.single(field, "password_common")
    if login is not None:
        folded_login = login.strip().casefold()
        if len(folded_login) >= 3 and folded_login in folded:
            raise InvalidInput.single(field, "password_contains_login")


def normalise_name(value: str, field: str) -> str:
    """Return a first or last name with whitespace stripped and collapsed, in Unicode NFC.

    1-100 characters: letters of any script (``Łukasz``), spaces, apostrophes, hyphens and dots
    (``Zofia-Maria``, ``O'Neill``), with at least one letter. Codes ``field_required``,
    ``too_long`` (``max_length``) and ``name_invalid``.
    """
    # NFC first: a decomposed "ó" is "o" plus a combining mark, which is not a letter.
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if not name:
        raise InvalidInput.single(field, "field_required")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput.single(field, "too_long", max_length=NAME_MAX_LENGTH)
    if not any(char.isalpha() for char in name) or not all(
        char.isalpha() or char in _NAME_PUNCTUATION for char in name
    ):
        raise InvalidInput.single(field, "name_invalid")
    return name


def parse_form_date(value: str, field: str = "birth_date") -> date:
    """Parse the form's ``DD-MM-YYYY`` date; ``date_format`` when malformed or nonexistent."""
    match = _FORM_DATE.fullmatch(value.strip())
    if match is None:
        raise InvalidInput.single(field, "date_format")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput.single(field, "date_format") from exc


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case, read once on first use."""
    text = (resources.files("portal") / "data" / _COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


if not TYPE_CHECKING:

    def __getattr__(name: str) -> frozenset[str]:
        """Serve ``COMMON_PASSWORDS`` lazily: no file is read when the module is imported."""
        if name == "COMMON_PASSWORDS":
            return common_passwords()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
