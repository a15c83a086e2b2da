"""Every string of the pages and the widget exists in Polish and in English (no browser)."""

from __future__ import annotations

import re
from pathlib import Path

from portal.models import AppointmentStatus, BookingSource, ServiceType

WEB = Path(__file__).resolve().parents[2] / "web_widget"
SECTION = re.compile(r"^  (pl|en): \{\n(.*?)^  \},", re.MULTILINE | re.DOTALL)
ENTRY = re.compile(r'^\s+"([^"]+)": "((?:[^"\\]|\\.)*)",$', re.MULTILINE)
USED = re.compile(r"""\bt\(\s*"([a-z0-9_.]+)"|"([a-z_]+\.[a-z0-9_]+)"\s*[,\]]""")


def tables() -> dict[str, dict[str, str]]:
    source = (WEB / "i18n.js").read_text(encoding="utf-8")
    found = {lang: dict(ENTRY.findall(body)) for lang, body in SECTION.findall(source)}
    assert set(found) == {"pl", "en"}
    return found


def test_polish_and_english_have_the_same_keys() -> None:
    found = tables()
    assert len(found["pl"]) > 250
    assert sorted(set(found["pl"]) ^ set(found["en"])) == []
    same = [k for k in found["pl"] if found["pl"][k] == found["en"][k] and len(found["pl"][k]) > 12]
    assert same == [], "untranslated strings"


def test_every_key_used_in_the_scripts_is_defined() -> None:
    keys = set(tables()["pl"])
    scripts = [WEB / "app.js", WEB / "widget.js", *sorted((WEB / "pages").glob("*.js"))]
    missing = set()
    for script in scripts:
        for literal, listed in USED.findall(script.read_text(encoding="utf-8")):
            key = literal or listed
            if key.endswith((".html", ".js", ".", "_")):
                continue  # a file name, or the prefix of a key built at run time
            if key not in keys:
                missing.add(f"{script.name}: {key}")
    assert sorted(missing) == []


def test_every_value_of_the_enums_shown_has_a_label() -> None:
    keys = set(tables()["en"])
    wanted = (
        [f"service_type.{v.value}" for v in ServiceType]
        + [f"status.{v.value}" for v in AppointmentStatus]
        + [f"source.{v.value}" for v in BookingSource]
    )
    assert [k for k in wanted if k not in keys] == []
