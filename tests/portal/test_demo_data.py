"""Consistency checks of the static demo data in :mod:`portal.demo_data`."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from portal import demo_data
from portal.demo_data import (
    CLINICS,
    DOCUMENT_REGULATIONS_VERSION,
    MEDICATIONS,
    PHYSICIANS,
    SERVICES,
    SPECIALTIES,
    TERMS_OF_SERVICE_VERSION,
    PhysicianData,
    WorkBlock,
)

SERVICE_TYPES = {
    "telephone_consultation",
    "in_person_visit",
    "online_consultation",
    "examination",
    "occupational_medicine",
    "rehabilitation",
}
REMOTE_TYPES = {"telephone_consultation", "online_consultation"}
CLINIC_TYPES = SERVICE_TYPES - REMOTE_TYPES
TITLES = {
    "lek.",
    "lek. med.",
    "dr n. med.",
    "dr hab. n. med.",
    "prof. dr hab. n. med.",
    "mgr",
    "tech.",
}
CITY_POSTAL_PREFIXES = {
    "Warszawa": range(0, 5),
    "Kraków": range(30, 33),
    "Wrocław": range(50, 55),
    "Poznań": range(60, 62),
    "Gdańsk": range(80, 81),
    "Łódź": range(90, 95),
    "Katowice": range(40, 41),
}
REQUIRED_SPECIALTIES = {
    "internal-medicine",
    "family-medicine",
    "paediatrics",
    "cardiology",
    "dermatology",
    "ent",
    "orthopaedics",
    "gynaecology",
    "neurology",
    "ophthalmology",
    "endocrinology",
    "physiotherapy",
    "occupational-medicine",
    "diagnostics",
}
REQUIRED_EXAMINATIONS = {
    "blood-count",
    "lipid-panel",
    "glucose",
    "tsh",
    "urinalysis",
    "ecg",
    "chest-xray",
    "abdominal-ultrasound",
    "thyroid-ultrasound",
    "spirometry",
}

CLINIC_BY_CODE = {c.code: c for c in CLINICS}
SPECIALTY_BY_CODE = {s.code: s for s in SPECIALTIES}
SERVICE_BY_CODE = {s.code: s for s in SERVICES}


def _hours(block: WorkBlock) -> float:
    day = datetime(2026, 1, 5)
    delta = datetime.combine(day, block.end) - datetime.combine(day, block.start)
    return delta.total_seconds() / 3600


def _cities(physician: PhysicianData) -> set[str]:
    return {CLINIC_BY_CODE[b.clinic].city for b in physician.schedule if b.clinic is not None}


# ---------------------------------------------------------------------------------- general


def test_versions() -> None:
    assert TERMS_OF_SERVICE_VERSION == "2026-01"
    assert DOCUMENT_REGULATIONS_VERSION == "2026-01"


@pytest.mark.parametrize(
    "collection",
    [
        pytest.param(CLINICS, id="clinics"),
        pytest.param(SPECIALTIES, id="specialties"),
        pytest.param(SERVICES, id="services"),
        pytest.param(PHYSICIANS, id="physicians"),
        pytest.param(MEDICATIONS, id="medications"),
    ],
)
def test_collections_are_tuples_of_frozen_dataclasses_with_unique_codes(
    collection: tuple[object, ...],
) -> None:
    assert isinstance(collection, tuple)
    assert collection
    codes: list[str] = [getattr(item, "code") for item in collection]  # noqa: B009
    duplicates = [code for code, n in Counter(codes).items() if n > 1]
    assert not duplicates
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code
    item = collection[0]
    assert dataclasses.is_dataclass(item)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(item, "code", "changed")  # noqa: B010


def test_string_fields_are_filled_and_trimmed() -> None:
    for item in (*CLINICS, *SPECIALTIES, *SERVICES, *PHYSICIANS, *MEDICATIONS):
        for name, value in vars(item).items():
            if isinstance(value, str):
                assert value, (item, name)
                assert value == value.strip(), (item, name)


def test_module_is_pure_standard_library() -> None:
    source = Path(demo_data.__file__).read_text(encoding="utf-8")
    imports = re.findall(r"^(?:from|import) +([\w.]+)", source, flags=re.MULTILINE)
    assert set(imports) <= {"__future__", "dataclasses", "datetime"}


# ---------------------------------------------------------------------------------- clinics


def test_clinic_cities() -> None:
    cities = Counter(c.city for c in CLINICS)
    assert 6 <= len(cities) <= 7
    assert 2 <= cities["Warszawa"] <= 3
    assert set(cities) <= set(CITY_POSTAL_PREFIXES)


@pytest.mark.parametrize("clinic", CLINICS, ids=lambda c: c.code)
def test_clinic_address_has_postal_code_of_its_city(clinic: demo_data.ClinicData) -> None:
    match = re.fullmatch(
        r"(ul\.|al\.|pl\.|os\.) .+ \d+[A-Za-z]?, (\d{2})-\d{3} (.+)", clinic.address
    )
    assert match, clinic.address
    assert match.group(3) == clinic.city
    assert int(match.group(2)) in CITY_POSTAL_PREFIXES[clinic.city]


# ------------------------------------------------------------------------------ specialties


def test_required_specialties_present() -> None:
    assert set(SPECIALTY_BY_CODE) >= REQUIRED_SPECIALTIES
    diagnostics = SPECIALTY_BY_CODE["diagnostics"]
    assert (diagnostics.name_pl, diagnostics.name_en) == ("diagnostyka", "diagnostics")
    assert (diagnostics.physician_pl, diagnostics.physician_en) == ("diagnosta", "diagnostician")


# --------------------------------------------------------------------------------- services


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.code)
def test_service_fields_valid(service: demo_data.ServiceData) -> None:
    assert service.type in SERVICE_TYPES
    assert service.required_access in {"basic", "full"}
    assert 5 <= service.duration_minutes <= 90
    if service.type == "examination":
        assert service.specialty is None
    else:
        assert service.specialty in SPECIALTY_BY_CODE
        assert service.specialty != "diagnostics"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.code)
def test_service_access_rules(service: demo_data.ServiceData) -> None:
    match service.type:
        case "telephone_consultation":
            assert service.required_access == "basic"
            assert 10 <= service.duration_minutes <= 15
        case "in_person_visit":
            assert service.required_access == "basic"
            assert 15 <= service.duration_minutes <= 20
        case "online_consultation":
            assert service.required_access == "full"
        case "occupational_medicine":
            assert service.required_access == "basic"
            assert service.specialty == "occupational-medicine"
        case "rehabilitation":
            assert service.required_access == "full"
            assert service.requires_referral
            assert service.specialty == "physiotherapy"
        case "examination":
            # Full-only examinations (MRI, CT) also need a referral; basic ones do not.
            assert service.requires_referral == (service.required_access == "full")


def test_examinations() -> None:
    examinations = {s.code: s for s in SERVICES if s.type == "examination"}
    assert set(examinations) >= REQUIRED_EXAMINATIONS
    full_only = [s for s in examinations.values() if s.required_access == "full"]
    assert 2 <= len(full_only) <= 3
    assert len(full_only) < len(examinations) / 2
    assert examinations["blood-count"].duration_minutes == 10
    assert examinations["abdominal-ultrasound"].duration_minutes == 30


def test_most_specialties_have_visit_phone_and_online() -> None:
    by_specialty: dict[str, set[str]] = {}
    for service in SERVICES:
        if service.specialty is not None:
            by_specialty.setdefault(service.specialty, set()).add(service.type)
    full_set = {"in_person_visit", "telephone_consultation", "online_consultation"}
    with_all = [code for code, types in by_specialty.items() if types >= full_set]
    assert {"internal-medicine", "family-medicine"} <= set(with_all)
    consulting = REQUIRED_SPECIALTIES - {"physiotherapy", "occupational-medicine", "diagnostics"}
    assert len(with_all) > len(consulting) / 2
    assert {"occupational_medicine"} == by_specialty["occupational-medicine"]
    assert {"rehabilitation"} == by_specialty["physiotherapy"]
    occupational = {s.code for s in SERVICES if s.type == "occupational_medicine"}
    rehabilitation = {s.code for s in SERVICES if s.type == "rehabilitation"}
    assert len(occupational) >= 3
    assert len(rehabilitation) >= 3


# ------------------------------------------------------------------------------- physicians


@pytest.mark.parametrize("physician", PHYSICIANS, ids=lambda p: p.code)
def test_physician_fields_valid(physician: PhysicianData) -> None:
    assert physician.title in TITLES
    assert physician.sex in {"female", "male"}
    assert physician.specialties
    assert len(set(physician.specialties)) == len(physician.specialties)
    assert set(physician.specialties) <= set(SPECIALTY_BY_CODE)
    assert "pl" in physician.languages
    assert len(set(physician.languages)) == len(physician.languages)
    for language in physician.languages:
        assert re.fullmatch(r"[a-z]{2}", language), language
    if "physiotherapy" in physician.specialties:
        assert physician.title == "mgr"


@pytest.mark.parametrize("physician", PHYSICIANS, ids=lambda p: p.code)
def test_physician_schedule_valid(physician: PhysicianData) -> None:
    allowed_specialties = set(physician.specialties)
    if physician is not PHYSICIANS[0]:
        assert 3 <= len(physician.schedule) <= 5
    assert 1 <= len(_cities(physician)) <= 2
    for block in physician.schedule:
        assert 0 <= block.weekday <= 5
        assert block.start < block.end
        assert 3 <= _hours(block) <= 5, block
        assert block.services
        assert len(set(block.services)) == len(block.services)
        if block.clinic is not None:
            assert block.clinic in CLINIC_BY_CODE
        for code in block.services:
            service = SERVICE_BY_CODE[code]
            if block.clinic is None:
                assert service.type in REMOTE_TYPES, (block, code)
            else:
                assert service.type in CLINIC_TYPES, (block, code)
            if service.specialty is None:
                assert "diagnostics" in allowed_specialties, code
            else:
                assert service.specialty in allowed_specialties, code


@pytest.mark.parametrize("physician", PHYSICIANS, ids=lambda p: p.code)
def test_physician_blocks_do_not_overlap(physician: PhysicianData) -> None:
    blocks = sorted(physician.schedule, key=lambda b: (b.weekday, b.start))
    for earlier, later in pairwise(blocks):
        if earlier.weekday == later.weekday:
            assert earlier.end <= later.start, (earlier, later)


def test_saturday_blocks_are_sparing() -> None:
    saturdays = [b for p in PHYSICIANS for b in p.schedule if b.weekday == 5]
    assert len(saturdays) <= 3


def test_every_service_is_scheduled() -> None:
    scheduled = {code for p in PHYSICIANS for b in p.schedule for code in b.services}
    assert set(SERVICE_BY_CODE) - scheduled == set()
    assert scheduled <= set(SERVICE_BY_CODE)


def test_every_specialty_has_a_physician() -> None:
    counts = Counter(code for p in PHYSICIANS for code in p.specialties)
    assert set(counts) == set(SPECIALTY_BY_CODE)
    assert 2 <= counts["internal-medicine"] <= 3
    assert 2 <= counts["family-medicine"] <= 3
    assert counts["occupational-medicine"] == 1


def test_staff_counts() -> None:
    diagnostics = [p for p in PHYSICIANS if "diagnostics" in p.specialties]
    clinicians = [p for p in PHYSICIANS if "diagnostics" not in p.specialties]
    assert 2 <= len(diagnostics) <= 3
    assert len(set().union(*(_cities(p) for p in diagnostics))) >= 2
    assert 18 <= len(clinicians) <= 22
    speaking_en = [p for p in PHYSICIANS if "en" in p.languages]
    other_languages = {lang for p in PHYSICIANS for lang in p.languages} - {"pl", "en"}
    assert len(speaking_en) >= 3
    assert len(other_languages) >= 2


def test_first_physician_is_the_demo_physician() -> None:
    demo = PHYSICIANS[0]
    assert "internal-medicine" in demo.specialties
    assert {"pl", "en"} <= set(demo.languages)
    assert _cities(demo) == {"Warszawa"}
    for weekday in range(5):
        blocks = [b for b in demo.schedule if b.weekday == weekday]
        in_clinic = [b for b in blocks if b.clinic is not None]
        remote = [b for b in blocks if b.clinic is None]
        clinic_types = {SERVICE_BY_CODE[c].type for b in in_clinic for c in b.services}
        remote_types = {SERVICE_BY_CODE[c].type for b in remote for c in b.services}
        assert "in_person_visit" in clinic_types, weekday
        assert remote_types == REMOTE_TYPES, weekday


# ------------------------------------------------------------------------------ medications


def test_medications() -> None:
    assert 12 <= len(MEDICATIONS) <= 15
    assert len({m.name for m in MEDICATIONS}) == len(MEDICATIONS)
    for medication in MEDICATIONS:
        assert re.search(r"\d", medication.form), medication
        assert medication.form.endswith("szt."), medication
        assert medication.dosage_pl != medication.dosage_en
