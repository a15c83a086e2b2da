"""Static demo data for the clinic network: clinics, specialties, services, staff and medicines.

Everything here is plain, immutable Python data (frozen dataclasses in tuples) with no I/O and
no imports of other project modules; a seeder turns it into database rows. Codes are stable
keys: other records refer to clinics, specialties and services by ``code``, never by position.

Conventions the seeder and the tests rely on:

* every service of type ``examination`` has ``specialty=None`` and is performed by staff of the
  ``diagnostics`` specialty; every other service belongs to exactly one specialty;
* a :class:`WorkBlock` with ``clinic=None`` is remote and offers only telephone or online
  consultations; a block in a clinic offers only in-person visits, examinations, occupational
  medicine or rehabilitation;
* times are local Europe/Warsaw wall-clock times;
* the first entry of :data:`PHYSICIANS` is the demo physician (internal medicine, Warszawa,
  Polish and English), who works in a clinic and remotely on every weekday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

__all__ = [
    "CLINICS",
    "DOCUMENT_REGULATIONS_VERSION",
    "MEDICATIONS",
    "PHYSICIANS",
    "SERVICES",
    "SPECIALTIES",
    "TERMS_OF_SERVICE_VERSION",
    "ClinicData",
    "MedicationData",
    "PhysicianData",
    "ServiceData",
    "SpecialtyData",
    "WorkBlock",
]


@dataclass(frozen=True)
class ClinicData:
    """A clinic (medical centre) of the network."""

    code: str  # stable key, e.g. "waw-pulawska"
    name: str  # e.g. "Centrum Medyczne Puławska"
    city: str  # e.g. "Warszawa"
    address: str  # street, number, postal code, e.g. "ul. Puławska 45, 02-508 Warszawa"


@dataclass(frozen=True)
class SpecialtyData:
    """A medical specialty, with Polish and English names of the field and of its practitioner."""

    code: str  # e.g. "cardiology"
    name_pl: str  # e.g. "kardiologia"
    name_en: str  # e.g. "cardiology"
    physician_pl: str  # e.g. "kardiolog"
    physician_en: str  # e.g. "cardiologist"


@dataclass(frozen=True)
class ServiceData:
    """A bookable service: a consultation, an examination, occupational medicine or rehab."""

    code: str  # e.g. "cardiology-visit", "blood-count", "rehab-physio"
    name_pl: str
    name_en: str
    # one of: telephone_consultation, in_person_visit, online_consultation, examination,
    # occupational_medicine, rehabilitation
    type: str
    specialty: str | None  # SpecialtyData.code, or None for examinations done by staff
    duration_minutes: int
    required_access: str  # "basic" or "full"
    requires_referral: bool


@dataclass(frozen=True)
class WorkBlock:
    """A weekly recurring block of a physician's working time, in a clinic or remote."""

    weekday: int  # 0 = Monday .. 4 = Friday (5 = Saturday allowed sparingly)
    start: time  # local Europe/Warsaw time
    end: time
    clinic: str | None  # ClinicData.code; None for remote (telephone/online) blocks
    services: tuple[str, ...]  # ServiceData.code offered in this block


@dataclass(frozen=True)
class PhysicianData:
    """A physician or other member of staff (physiotherapist, diagnostician) with a schedule."""

    code: str  # stable key, e.g. "anna-kowalska"
    # "lek.", "lek. med.", "dr n. med.", "dr hab. n. med.", "mgr" (physiotherapists), "tech." etc.
    title: str
    first_name: str
    last_name: str
    sex: str  # "female" / "male"
    specialties: tuple[str, ...]
    # ISO 639-1, always includes "pl"; some also "en", "de", "uk", "ru", "es", "fr"
    languages: tuple[str, ...]
    schedule: tuple[WorkBlock, ...]


@dataclass(frozen=True)
class MedicationData:
    """A medicine commonly renewed on prescription, with a typical dosage in Polish and English."""

    code: str
    name: str  # e.g. "Metformax 500"
    substance: str  # e.g. "metformina"
    form: str  # e.g. "tabletki powlekane, 500 mg, 60 szt."
    dosage_pl: str  # e.g. "1 tabletka 2 razy dziennie po posiłku"
    dosage_en: str


TERMS_OF_SERVICE_VERSION = "2026-01"
DOCUMENT_REGULATIONS_VERSION = "2026-01"


# --------------------------------------------------------------------------------------------
# Clinics
# --------------------------------------------------------------------------------------------

CLINICS: tuple[ClinicData, ...] = (
    ClinicData(
        code="waw-pulawska",
        name="Centrum Medyczne Puławska",
        city="Warszawa",
        address="ul. Puławska 45, 02-508 Warszawa",
    ),
    ClinicData(
        code="waw-zlota",
        name="Centrum Medyczne Złota",
        city="Warszawa",
        address="ul. Złota 59, 00-120 Warszawa",
    ),
    ClinicData(
        code="waw-ursynow",
        name="Centrum Medyczne Ursynów",
        city="Warszawa",
        address="al. Komisji Edukacji Narodowej 61, 02-777 Warszawa",
    ),
    ClinicData(
        code="krk-opolska",
        name="Centrum Medyczne Kraków Opolska",
        city="Kraków",
        address="ul. Opolska 110, 31-323 Kraków",
    ),
    ClinicData(
        code="wro-legnicka",
        name="Centrum Medyczne Wrocław Legnicka",
        city="Wrocław",
        address="ul. Legnicka 48, 54-202 Wrocław",
    ),
    ClinicData(
        code="poz-grunwaldzka",
        name="Centrum Medyczne Poznań Grunwald",
        city="Poznań",
        address="ul. Grunwaldzka 104, 60-307 Poznań",
    ),
    ClinicData(
        code="gda-wrzeszcz",
        name="Centrum Medyczne Gdańsk Wrzeszcz",
        city="Gdańsk",
        address="al. Grunwaldzka 103, 80-244 Gdańsk",
    ),
    ClinicData(
        code="lod-piotrkowska",
        name="Centrum Medyczne Łódź Piotrkowska",
        city="Łódź",
        address="ul. Piotrkowska 120, 90-006 Łódź",
    ),
    ClinicData(
        code="kat-chorzowska",
        name="Centrum Medyczne Katowice",
        city="Katowice",
        address="ul. Chorzowska 50, 40-101 Katowice",
    ),
)


# --------------------------------------------------------------------------------------------
# Specialties
# --------------------------------------------------------------------------------------------

SPECIALTIES: tuple[SpecialtyData, ...] = (
    SpecialtyData(
        code="internal-medicine",
        name_pl="interna (choroby wewnętrzne)",
        name_en="internal medicine",
        physician_pl="internista",
        physician_en="internist",
    ),
    SpecialtyData(
        code="family-medicine",
        name_pl="medycyna rodzinna",
        name_en="family medicine",
        physician_pl="lekarz rodzinny",
        physician_en="family physician",
    ),
    SpecialtyData(
        code="paediatrics",
        name_pl="pediatria",
        name_en="paediatrics",
        physician_pl="pediatra",
        physician_en="paediatrician",
    ),
    SpecialtyData(
        code="cardiology",
        name_pl="kardiologia",
        name_en="cardiology",
        physician_pl="kardiolog",
        physician_en="cardiologist",
    ),
    SpecialtyData(
        code="dermatology",
        name_pl="dermatologia",
        name_en="dermatology",
        physician_pl="dermatolog",
        physician_en="dermatologist",
    ),
    SpecialtyData(
        code="ent",
        name_pl="laryngologia",
        name_en="otorhinolaryngology (ENT)",
        physician_pl="laryngolog",
        physician_en="ENT specialist",
    ),
    SpecialtyData(
        code="orthopaedics",
        name_pl="ortopedia",
        name_en="orthopaedics",
        physician_pl="ortopeda",
        physician_en="orthopaedist",
    ),
    SpecialtyData(
        code="gynaecology",
        name_pl="ginekologia",
        name_en="gynaecology",
        physician_pl="ginekolog",
        physician_en="gynaecologist",
    ),
    SpecialtyData(
        code="neurology",
        name_pl="neurologia",
        name_en="neurology",
        physician_pl="neurolog",
        physician_en="neurologist",
    ),
    SpecialtyData(
        code="ophthalmology",
        name_pl="okulistyka",
        name_en="ophthalmology",
        physician_pl="okulista",
        physician_en="ophthalmologist",
    ),
    SpecialtyData(
        code="endocrinology",
        name_pl="endokrynologia",
        name_en="endocrinology",
        physician_pl="endokrynolog",
        physician_en="endocrinologist",
    ),
    SpecialtyData(
        code="physiotherapy",
        name_pl="fizjoterapia",
        name_en="physiotherapy",
        physician_pl="fizjoterapeuta",
        physician_en="physiotherapist",
    ),
    SpecialtyData(
        code="occupational-medicine",
        name_pl="medycyna pracy",
        name_en="occupational medicine",
        physician_pl="lekarz medycyny pracy",
        physician_en="occupational health physician",
    ),
    SpecialtyData(
        code="diagnostics",
        name_pl="diagnostyka",
        name_en="diagnostics",
        physician_pl="diagnosta",
        physician_en="diagnostician",
    ),
)


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def _consultations(
    specialty: str,
    genitive_pl: str,
    instrumental_pl: str,
    physician_en: str,
    *,
    visit_minutes: int,
    phone_minutes: int,
    online: bool = True,
) -> tuple[ServiceData, ...]:
    """The in-person visit, telephone and (optionally) online consultation of one specialty.

    ``genitive_pl`` and ``instrumental_pl`` are the Polish forms of the physician noun
    ("kardiologa", "kardiologiem"); ``physician_en`` carries its article ("a cardiologist").
    """
    services = [
        ServiceData(
            code=f"{specialty}-visit",
            name_pl=f"Wizyta u {genitive_pl}",
            name_en=f"In-person visit with {physician_en}",
            type="in_person_visit",
            specialty=specialty,
            duration_minutes=visit_minutes,
            required_access="basic",
            requires_referral=False,
        ),
        ServiceData(
            code=f"{specialty}-phone",
            name_pl=f"Konsultacja telefoniczna z {instrumental_pl}",
            name_en=f"Telephone consultation with {physician_en}",
            type="telephone_consultation",
            specialty=specialty,
            duration_minutes=phone_minutes,
            required_access="basic",
            requires_referral=False,
        ),
    ]
    if online:
        services.append(
            ServiceData(
                code=f"{specialty}-online",
                name_pl=f"Konsultacja online (wideo lub czat) z {instrumental_pl}",
                name_en=f"Online consultation (video or chat) with {physician_en}",
                type="online_consultation",
                specialty=specialty,
                duration_minutes=15,
                required_access="full",
                requires_referral=False,
            )
        )
    return tuple(services)


def _examination(
    code: str,
    name_pl: str,
    name_en: str,
    duration_minutes: int,
    *,
    full_with_referral: bool = False,
) -> ServiceData:
    """An examination performed by diagnostics staff (no specialty)."""
    return ServiceData(
        code=code,
        name_pl=name_pl,
        name_en=name_en,
        type="examination",
        specialty=None,
        duration_minutes=duration_minutes,
        required_access="full" if full_with_referral else "basic",
        requires_referral=full_with_referral,
    )


def _occupational(code: str, name_pl: str, name_en: str, duration_minutes: int) -> ServiceData:
    """An occupational medicine examination (basic access, no referral)."""
    return ServiceData(
        code=code,
        name_pl=name_pl,
        name_en=name_en,
        type="occupational_medicine",
        specialty="occupational-medicine",
        duration_minutes=duration_minutes,
        required_access="basic",
        requires_referral=False,
    )


def _rehabilitation(code: str, name_pl: str, name_en: str, duration_minutes: int) -> ServiceData:
    """A rehabilitation session (full access, needs a referral)."""
    return ServiceData(
        code=code,
        name_pl=name_pl,
        name_en=name_en,
        type="rehabilitation",
        specialty="physiotherapy",
        duration_minutes=duration_minutes,
        required_access="full",
        requires_referral=True,
    )


SERVICES: tuple[ServiceData, ...] = (
    # Consultations: in-person visit (basic), telephone (basic), online video/chat (full).
    *_consultations(
        "internal-medicine",
        "internisty",
        "internistą",
        "an internist",
        visit_minutes=15,
        phone_minutes=10,
    ),
    *_consultations(
        "family-medicine",
        "lekarza rodzinnego",
        "lekarzem rodzinnym",
        "a family physician",
        visit_minutes=15,
        phone_minutes=10,
    ),
    *_consultations(
        "paediatrics",
        "pediatry",
        "pediatrą",
        "a paediatrician",
        visit_minutes=20,
        phone_minutes=10,
    ),
    *_consultations(
        "cardiology",
        "kardiologa",
        "kardiologiem",
        "a cardiologist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    *_consultations(
        "dermatology",
        "dermatologa",
        "dermatologiem",
        "a dermatologist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    *_consultations(
        "ent",
        "laryngologa",
        "laryngologiem",
        "an ENT specialist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    *_consultations(
        "orthopaedics",
        "ortopedy",
        "ortopedą",
        "an orthopaedist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    *_consultations(
        "gynaecology",
        "ginekologa",
        "ginekologiem",
        "a gynaecologist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    *_consultations(
        "neurology",
        "neurologa",
        "neurologiem",
        "a neurologist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    # An eye examination needs the patient in the room: no video consultation.
    *_consultations(
        "ophthalmology",
        "okulisty",
        "okulistą",
        "an ophthalmologist",
        visit_minutes=20,
        phone_minutes=10,
        online=False,
    ),
    *_consultations(
        "endocrinology",
        "endokrynologa",
        "endokrynologiem",
        "an endocrinologist",
        visit_minutes=20,
        phone_minutes=15,
    ),
    # Examinations performed by diagnostics staff; selected ones are available to basic accounts.
    _examination("blood-count", "Morfologia krwi z rozmazem", "Complete blood count", 10),
    _examination("lipid-panel", "Lipidogram", "Lipid panel", 10),
    _examination("glucose", "Glukoza na czczo", "Fasting blood glucose", 10),
    _examination("tsh", "TSH (tyreotropina)", "TSH (thyroid-stimulating hormone)", 10),
    _examination("urinalysis", "Badanie ogólne moczu", "Urinalysis", 10),
    _examination("ecg", "EKG spoczynkowe", "Resting ECG", 15),
    _examination("chest-xray", "RTG klatki piersiowej", "Chest X-ray", 15),
    _examination("abdominal-ultrasound", "USG jamy brzusznej", "Abdominal ultrasound", 30),
    _examination("thyroid-ultrasound", "USG tarczycy", "Thyroid ultrasound", 30),
    _examination("spirometry", "Spirometria", "Spirometry", 20),
    _examination(
        "mri-head",
        "Rezonans magnetyczny głowy",
        "MRI of the head",
        45,
        full_with_referral=True,
    ),
    _examination(
        "ct-chest",
        "Tomografia komputerowa klatki piersiowej",
        "CT scan of the chest",
        20,
        full_with_referral=True,
    ),
    # Occupational medicine.
    _occupational(
        "occupational-initial",
        "Badanie wstępne (medycyna pracy)",
        "Pre-employment examination (occupational medicine)",
        20,
    ),
    _occupational(
        "occupational-periodic",
        "Badanie okresowe (medycyna pracy)",
        "Periodic examination (occupational medicine)",
        20,
    ),
    _occupational(
        "occupational-follow-up",
        "Badanie kontrolne (medycyna pracy)",
        "Follow-up examination after sick leave (occupational medicine)",
        15,
    ),
    # Rehabilitation.
    _rehabilitation("rehab-physio", "Fizjoterapia indywidualna", "Individual physiotherapy", 45),
    _rehabilitation("rehab-kinesiotherapy", "Kinezyterapia", "Kinesiotherapy", 45),
    _rehabilitation("rehab-massage", "Masaż leczniczy", "Therapeutic massage", 30),
)


# --------------------------------------------------------------------------------------------
# Physicians and staff
# --------------------------------------------------------------------------------------------


def _block(
    weekday: int, start: str, end: str, clinic: str | None, services: tuple[str, ...]
) -> WorkBlock:
    """A work block from "HH:MM" times."""
    return WorkBlock(
        weekday=weekday,
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        clinic=clinic,
        services=services,
    )


_MON, _TUE, _WED, _THU, _FRI, _SAT = range(6)


def _visit(specialty: str) -> tuple[str, ...]:
    """The in-person service codes of a specialty."""
    return (f"{specialty}-visit",)


def _remote(specialty: str, *, online: bool = True) -> tuple[str, ...]:
    """The remote service codes of a specialty (telephone and, usually, online)."""
    if online:
        return (f"{specialty}-phone", f"{specialty}-online")
    return (f"{specialty}-phone",)


_LAB = ("blood-count", "lipid-panel", "glucose", "tsh", "urinalysis")
_IMAGING = ("chest-xray", "abdominal-ultrasound", "thyroid-ultrasound", "mri-head", "ct-chest")
_OCCUPATIONAL = ("occupational-initial", "occupational-periodic", "occupational-follow-up")
_REHAB = ("rehab-physio", "rehab-kinesiotherapy", "rehab-massage")


PHYSICIANS: tuple[PhysicianData, ...] = (
    # The demo physician: in a Warsaw clinic every weekday morning, remote every afternoon.
    PhysicianData(
        code="anna-kowalska",
        title="dr n. med.",
        first_name="Anna",
        last_name="Kowalska",
        sex="female",
        specialties=("internal-medicine",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "08:00", "12:00", "waw-pulawska", _visit("internal-medicine")),
            _block(_MON, "13:00", "16:00", None, _remote("internal-medicine")),
            _block(_TUE, "08:00", "12:00", "waw-zlota", _visit("internal-medicine")),
            _block(_TUE, "13:00", "16:00", None, _remote("internal-medicine")),
            _block(_WED, "08:00", "12:00", "waw-pulawska", _visit("internal-medicine")),
            _block(_WED, "13:00", "16:00", None, _remote("internal-medicine")),
            _block(_THU, "08:00", "12:00", "waw-zlota", _visit("internal-medicine")),
            _block(_THU, "13:00", "16:00", None, _remote("internal-medicine")),
            _block(_FRI, "08:00", "12:00", "waw-pulawska", _visit("internal-medicine")),
            _block(_FRI, "13:00", "16:00", None, _remote("internal-medicine")),
        ),
    ),
    PhysicianData(
        code="piotr-wisniewski",
        title="lek.",
        first_name="Piotr",
        last_name="Wiśniewski",
        sex="male",
        specialties=("internal-medicine",),
        languages=("pl",),
        schedule=(
            _block(_MON, "08:00", "12:00", "krk-opolska", _visit("internal-medicine")),
            _block(_WED, "12:00", "16:00", "krk-opolska", _visit("internal-medicine")),
            _block(_THU, "14:00", "17:00", None, _remote("internal-medicine")),
            _block(_FRI, "08:00", "12:00", "krk-opolska", _visit("internal-medicine")),
        ),
    ),
    PhysicianData(
        code="magdalena-zielinska",
        title="lek.",
        first_name="Magdalena",
        last_name="Zielińska",
        sex="female",
        specialties=("internal-medicine",),
        languages=("pl",),
        schedule=(
            _block(_MON, "16:00", "19:00", None, _remote("internal-medicine")),
            _block(_TUE, "08:00", "13:00", "gda-wrzeszcz", _visit("internal-medicine")),
            _block(_THU, "12:00", "16:00", "gda-wrzeszcz", _visit("internal-medicine")),
            _block(_FRI, "08:00", "11:00", None, _remote("internal-medicine")),
        ),
    ),
    PhysicianData(
        code="tomasz-lewandowski",
        title="lek.",
        first_name="Tomasz",
        last_name="Lewandowski",
        sex="male",
        specialties=("family-medicine",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "12:00", "16:00", "waw-ursynow", _visit("family-medicine")),
            _block(_TUE, "08:00", "11:00", None, _remote("family-medicine")),
            _block(_WED, "08:00", "12:00", "waw-ursynow", _visit("family-medicine")),
            _block(_THU, "15:00", "19:00", "waw-ursynow", _visit("family-medicine")),
        ),
    ),
    PhysicianData(
        code="joanna-wojcik",
        title="lek. med.",
        first_name="Joanna",
        last_name="Wójcik",
        sex="female",
        specialties=("family-medicine",),
        languages=("pl",),
        schedule=(
            _block(_MON, "08:00", "12:00", "wro-legnicka", _visit("family-medicine")),
            _block(_TUE, "12:00", "16:00", "wro-legnicka", _visit("family-medicine")),
            _block(_THU, "08:00", "12:00", "wro-legnicka", _visit("family-medicine")),
            _block(_FRI, "09:00", "12:00", None, _remote("family-medicine")),
        ),
    ),
    PhysicianData(
        code="olena-szewczenko",
        title="lek.",
        first_name="Olena",
        last_name="Szewczenko",
        sex="female",
        specialties=("family-medicine",),
        languages=("pl", "uk", "ru"),
        schedule=(
            _block(_MON, "14:00", "18:00", "lod-piotrkowska", _visit("family-medicine")),
            _block(_TUE, "16:00", "19:00", None, _remote("family-medicine")),
            _block(_WED, "08:00", "12:00", "lod-piotrkowska", _visit("family-medicine")),
            _block(_FRI, "12:00", "16:00", "lod-piotrkowska", _visit("family-medicine")),
        ),
    ),
    PhysicianData(
        code="agnieszka-kaminska",
        title="lek.",
        first_name="Agnieszka",
        last_name="Kamińska",
        sex="female",
        specialties=("paediatrics",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "08:00", "12:00", "waw-ursynow", _visit("paediatrics")),
            _block(_WED, "13:00", "17:00", "waw-ursynow", _visit("paediatrics")),
            _block(_THU, "08:00", "11:00", None, _remote("paediatrics")),
            _block(_SAT, "09:00", "13:00", "waw-pulawska", _visit("paediatrics")),
        ),
    ),
    PhysicianData(
        code="michal-dabrowski",
        title="lek.",
        first_name="Michał",
        last_name="Dąbrowski",
        sex="male",
        specialties=("paediatrics",),
        languages=("pl",),
        schedule=(
            _block(_TUE, "08:00", "12:00", "kat-chorzowska", _visit("paediatrics")),
            _block(_WED, "15:00", "18:00", None, _remote("paediatrics")),
            _block(_THU, "12:00", "16:00", "kat-chorzowska", _visit("paediatrics")),
            _block(_FRI, "08:00", "12:00", "krk-opolska", _visit("paediatrics")),
        ),
    ),
    PhysicianData(
        code="andrzej-mazur",
        title="dr n. med.",
        first_name="Andrzej",
        last_name="Mazur",
        sex="male",
        specialties=("cardiology",),
        languages=("pl", "en", "de"),
        schedule=(
            _block(_MON, "14:00", "18:00", "waw-pulawska", _visit("cardiology")),
            _block(_TUE, "17:00", "20:00", None, _remote("cardiology")),
            _block(_WED, "08:00", "12:00", "waw-pulawska", _visit("cardiology")),
            _block(_THU, "08:00", "12:00", "waw-zlota", _visit("cardiology")),
        ),
    ),
    PhysicianData(
        code="ewa-krawczyk",
        title="dr hab. n. med.",
        first_name="Ewa",
        last_name="Krawczyk",
        sex="female",
        specialties=("cardiology",),
        languages=("pl", "en"),
        schedule=(
            _block(_TUE, "09:00", "13:00", "krk-opolska", _visit("cardiology")),
            _block(_THU, "13:00", "17:00", "kat-chorzowska", _visit("cardiology")),
            _block(_FRI, "08:00", "11:00", None, _remote("cardiology")),
        ),
    ),
    PhysicianData(
        code="karolina-piotrowska",
        title="lek.",
        first_name="Karolina",
        last_name="Piotrowska",
        sex="female",
        specialties=("dermatology",),
        languages=("pl", "en", "fr"),
        schedule=(
            _block(_MON, "08:00", "12:00", "waw-zlota", _visit("dermatology")),
            _block(_WED, "14:00", "18:00", "waw-zlota", _visit("dermatology")),
            _block(_FRI, "12:00", "15:00", None, _remote("dermatology")),
        ),
    ),
    PhysicianData(
        code="marcin-grabowski",
        title="lek.",
        first_name="Marcin",
        last_name="Grabowski",
        sex="male",
        specialties=("ent",),
        languages=("pl",),
        schedule=(
            _block(_MON, "13:00", "17:00", "wro-legnicka", _visit("ent")),
            _block(_TUE, "16:00", "19:00", None, _remote("ent")),
            _block(_WED, "08:00", "12:00", "wro-legnicka", _visit("ent")),
            _block(_THU, "09:00", "13:00", "poz-grunwaldzka", _visit("ent")),
        ),
    ),
    PhysicianData(
        code="krzysztof-nowakowski",
        title="lek. med.",
        first_name="Krzysztof",
        last_name="Nowakowski",
        sex="male",
        specialties=("orthopaedics",),
        languages=("pl", "de"),
        schedule=(
            _block(_TUE, "08:00", "12:00", "poz-grunwaldzka", _visit("orthopaedics")),
            _block(_WED, "15:00", "18:00", None, _remote("orthopaedics")),
            _block(_THU, "14:00", "18:00", "poz-grunwaldzka", _visit("orthopaedics")),
            _block(_FRI, "09:00", "13:00", "poz-grunwaldzka", _visit("orthopaedics")),
        ),
    ),
    PhysicianData(
        code="monika-jankowska",
        title="lek.",
        first_name="Monika",
        last_name="Jankowska",
        sex="female",
        specialties=("gynaecology",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "13:00", "17:00", "waw-zlota", _visit("gynaecology")),
            _block(_WED, "08:00", "12:00", "waw-ursynow", _visit("gynaecology")),
            _block(_THU, "17:00", "20:00", None, _remote("gynaecology")),
            _block(_FRI, "08:00", "12:00", "waw-zlota", _visit("gynaecology")),
        ),
    ),
    PhysicianData(
        code="jakub-kwiatkowski",
        title="dr n. med.",
        first_name="Jakub",
        last_name="Kwiatkowski",
        sex="male",
        specialties=("neurology",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "09:00", "13:00", "gda-wrzeszcz", _visit("neurology")),
            _block(_WED, "12:00", "16:00", "gda-wrzeszcz", _visit("neurology")),
            _block(_THU, "08:00", "11:00", None, _remote("neurology")),
        ),
    ),
    PhysicianData(
        code="aleksandra-kaczmarek",
        title="lek.",
        first_name="Aleksandra",
        last_name="Kaczmarek",
        sex="female",
        specialties=("ophthalmology",),
        languages=("pl",),
        schedule=(
            _block(_TUE, "08:00", "12:00", "lod-piotrkowska", _visit("ophthalmology")),
            _block(_THU, "12:00", "16:00", "lod-piotrkowska", _visit("ophthalmology")),
            _block(_FRI, "08:00", "11:00", None, _remote("ophthalmology", online=False)),
        ),
    ),
    PhysicianData(
        code="malgorzata-szymanska",
        title="dr n. med.",
        first_name="Małgorzata",
        last_name="Szymańska",
        sex="female",
        specialties=("endocrinology",),
        languages=("pl", "en", "es"),
        schedule=(
            _block(_MON, "12:00", "16:00", "krk-opolska", _visit("endocrinology")),
            _block(_TUE, "15:00", "18:00", None, _remote("endocrinology")),
            _block(_WED, "08:00", "12:00", "krk-opolska", _visit("endocrinology")),
            _block(_THU, "08:00", "11:00", None, _remote("endocrinology")),
        ),
    ),
    PhysicianData(
        code="bartosz-wrobel",
        title="mgr",
        first_name="Bartosz",
        last_name="Wróbel",
        sex="male",
        specialties=("physiotherapy",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "08:00", "13:00", "waw-pulawska", _REHAB),
            _block(_TUE, "12:00", "17:00", "waw-pulawska", _REHAB),
            _block(_WED, "08:00", "13:00", "waw-pulawska", _REHAB),
            _block(_THU, "12:00", "17:00", "waw-pulawska", _REHAB),
            _block(_FRI, "08:00", "12:00", "waw-pulawska", _REHAB),
        ),
    ),
    PhysicianData(
        code="natalia-zajac",
        title="mgr",
        first_name="Natalia",
        last_name="Zając",
        sex="female",
        specialties=("physiotherapy",),
        languages=("pl",),
        schedule=(
            _block(_MON, "12:00", "17:00", "krk-opolska", _REHAB),
            _block(_WED, "12:00", "17:00", "krk-opolska", _REHAB),
            _block(_FRI, "08:00", "13:00", "krk-opolska", _REHAB),
        ),
    ),
    PhysicianData(
        code="grzegorz-baran",
        title="lek.",
        first_name="Grzegorz",
        last_name="Baran",
        sex="male",
        specialties=("occupational-medicine",),
        languages=("pl",),
        schedule=(
            _block(_MON, "07:30", "11:30", "waw-zlota", _OCCUPATIONAL),
            _block(_TUE, "07:30", "11:30", "waw-zlota", _OCCUPATIONAL),
            _block(_WED, "08:00", "12:00", "lod-piotrkowska", _OCCUPATIONAL),
            _block(_THU, "07:30", "11:30", "waw-zlota", _OCCUPATIONAL),
            _block(_FRI, "12:00", "15:00", "waw-zlota", _OCCUPATIONAL),
        ),
    ),
    # Diagnostics staff: laboratory, ECG, spirometry and imaging.
    PhysicianData(
        code="ewelina-michalska",
        title="mgr",
        first_name="Ewelina",
        last_name="Michalska",
        sex="female",
        specialties=("diagnostics",),
        languages=("pl",),
        schedule=(
            _block(_MON, "07:00", "11:00", "waw-pulawska", (*_LAB, "ecg", "spirometry")),
            _block(_TUE, "07:00", "11:00", "waw-zlota", (*_LAB, "ecg", "spirometry")),
            _block(_WED, "07:00", "11:00", "waw-pulawska", (*_LAB, "ecg", "spirometry")),
            _block(_THU, "07:00", "11:00", "waw-zlota", (*_LAB, "ecg", "spirometry")),
            _block(_FRI, "07:00", "11:00", "waw-pulawska", (*_LAB, "ecg", "spirometry")),
        ),
    ),
    PhysicianData(
        code="robert-adamczyk",
        title="lek.",
        first_name="Robert",
        last_name="Adamczyk",
        sex="male",
        specialties=("diagnostics",),
        languages=("pl", "en"),
        schedule=(
            _block(_MON, "08:00", "13:00", "waw-ursynow", _IMAGING),
            _block(_TUE, "13:00", "18:00", "waw-ursynow", _IMAGING),
            _block(_WED, "08:00", "13:00", "waw-ursynow", _IMAGING),
            _block(_THU, "13:00", "18:00", "waw-ursynow", _IMAGING),
        ),
    ),
    PhysicianData(
        code="dorota-kubiak",
        title="tech.",
        first_name="Dorota",
        last_name="Kubiak",
        sex="female",
        specialties=("diagnostics",),
        languages=("pl",),
        schedule=(
            _block(_MON, "07:00", "11:00", "krk-opolska", (*_LAB, "ecg", "chest-xray")),
            _block(_TUE, "07:00", "11:00", "kat-chorzowska", (*_LAB, "ecg", "chest-xray")),
            _block(_WED, "07:00", "11:00", "krk-opolska", (*_LAB, "ecg", "chest-xray")),
            _block(_THU, "07:00", "11:00", "kat-chorzowska", (*_LAB, "ecg", "chest-xray")),
            _block(_FRI, "07:00", "11:00", "krk-opolska", (*_LAB, "ecg", "chest-xray")),
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Medications
# --------------------------------------------------------------------------------------------

MEDICATIONS: tuple[MedicationData, ...] = (
    MedicationData(
        code="metformax-500",
        name="Metformax 500",
        substance="metformina",
        form="tabletki powlekane, 500 mg, 60 szt.",
        dosage_pl="1 tabletka 2 razy dziennie w trakcie lub po posiłku",
        dosage_en="1 tablet twice daily with or after a meal",
    ),
    MedicationData(
        code="glucophage-xr-1000",
        name="Glucophage XR 1000",
        substance="metformina",
        form="tabletki o przedłużonym uwalnianiu, 1000 mg, 60 szt.",
        dosage_pl="1 tabletka raz dziennie wieczorem, podczas kolacji",
        dosage_en="1 tablet once daily in the evening, with supper",
    ),
    MedicationData(
        code="bisocard-5",
        name="Bisocard 5",
        substance="bisoprolol",
        form="tabletki powlekane, 5 mg, 30 szt.",
        dosage_pl="1 tabletka raz dziennie rano",
        dosage_en="1 tablet once daily in the morning",
    ),
    MedicationData(
        code="concor-10",
        name="Concor 10",
        substance="bisoprolol",
        form="tabletki powlekane, 10 mg, 30 szt.",
        dosage_pl="1 tabletka raz dziennie rano, przed śniadaniem lub w trakcie",
        dosage_en="1 tablet once daily in the morning, before or with breakfast",
    ),
    MedicationData(
        code="polpril-5",
        name="Polpril 5",
        substance="ramipryl",
        form="kapsułki twarde, 5 mg, 28 szt.",
        dosage_pl="1 kapsułka raz dziennie rano",
        dosage_en="1 capsule once daily in the morning",
    ),
    MedicationData(
        code="amlozek-5",
        name="Amlozek 5",
        substance="amlodypina",
        form="tabletki, 5 mg, 30 szt.",
        dosage_pl="1 tabletka raz dziennie o stałej porze",
        dosage_en="1 tablet once daily at the same time of day",
    ),
    MedicationData(
        code="lorista-50",
        name="Lorista 50",
        substance="losartan potasowy",
        form="tabletki powlekane, 50 mg, 28 szt.",
        dosage_pl="1 tabletka raz dziennie",
        dosage_en="1 tablet once daily",
    ),
    MedicationData(
        code="tertensif-sr",
        name="Tertensif SR",
        substance="indapamid",
        form="tabletki o przedłużonym uwalnianiu, 1,5 mg, 30 szt.",
        dosage_pl="1 tabletka raz dziennie rano, połknąć w całości",
        dosage_en="1 tablet once daily in the morning, swallowed whole",
    ),
    MedicationData(
        code="atoris-20",
        name="Atoris 20",
        substance="atorwastatyna",
        form="tabletki powlekane, 20 mg, 30 szt.",
        dosage_pl="1 tabletka raz dziennie wieczorem",
        dosage_en="1 tablet once daily in the evening",
    ),
    MedicationData(
        code="acard-75",
        name="Acard 75",
        substance="kwas acetylosalicylowy",
        form="tabletki dojelitowe, 75 mg, 60 szt.",
        dosage_pl="1 tabletka raz dziennie po posiłku",
        dosage_en="1 tablet once daily after a meal",
    ),
    MedicationData(
        code="euthyrox-n-50",
        name="Euthyrox N 50",
        substance="lewotyroksyna sodowa",
        form="tabletki, 50 µg, 100 szt.",
        dosage_pl="1 tabletka raz dziennie rano na czczo, 30 minut przed śniadaniem",
        dosage_en="1 tablet once daily in the morning on an empty stomach, 30 min before breakfast",
    ),
    MedicationData(
        code="letrox-75",
        name="Letrox 75",
        substance="lewotyroksyna sodowa",
        form="tabletki, 75 µg, 50 szt.",
        dosage_pl="1 tabletka raz dziennie rano na czczo, 30 minut przed śniadaniem",
        dosage_en="1 tablet once daily in the morning on an empty stomach, 30 min before breakfast",
    ),
    MedicationData(
        code="controloc-20",
        name="Controloc 20",
        substance="pantoprazol",
        form="tabletki dojelitowe, 20 mg, 28 szt.",
        dosage_pl="1 tabletka raz dziennie rano, przed śniadaniem",
        dosage_en="1 tablet once daily in the morning, before breakfast",
    ),
    MedicationData(
        code="xyzal-5",
        name="Xyzal",
        substance="lewocetyryzyna",
        form="tabletki powlekane, 5 mg, 28 szt.",
        dosage_pl="1 tabletka raz dziennie, najlepiej wieczorem",
        dosage_en="1 tablet once daily, preferably in the evening",
    ),
)
