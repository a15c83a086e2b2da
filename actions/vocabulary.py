"""Patients' words -> the hub's codes: specialties, service types, cities, examinations, children.

The NLU model extracts entities and maps the synonyms it was trained on; these functions also
read the raw text, so inflected forms it never saw ("u kardiologiem", "we Wrocławiu"), missing
diacritics and small typos still land on the codes used by ``portal/demo_data.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .dates import fold

# Folded stems (prefixes of a word) or phrases (substrings) -> specialty code.
SPECIALTY_STEMS: list[tuple[str, str]] = [
    ("medycyn pracy", "occupational-medicine"),
    ("occupational", "occupational-medicine"),
    ("chorob wewnetrzn", "internal-medicine"),
    ("internal medicine", "internal-medicine"),
    ("internist", "internal-medicine"),
    ("interni", "internal-medicine"),
    ("interny", "internal-medicine"),
    ("rodzinn", "family-medicine"),
    ("pierwszego kontakt", "family-medicine"),
    ("lekarz ogoln", "family-medicine"),
    ("family", "family-medicine"),
    ("general practitioner", "family-medicine"),
    ("gp", "family-medicine"),
    ("pediatr", "paediatrics"),
    ("paediatr", "paediatrics"),
    ("pediatric", "paediatrics"),
    ("kardiolog", "cardiology"),
    ("cardiolog", "cardiology"),
    ("heart doctor", "cardiology"),
    ("dermatolog", "dermatology"),
    ("dermatol", "dermatology"),
    ("skin doctor", "dermatology"),
    ("otolaryngolog", "ent"),
    ("laryngolog", "ent"),
    ("ent", "ent"),
    ("ear nose", "ent"),
    ("ortoped", "orthopaedics"),
    ("orthopaed", "orthopaedics"),
    ("orthoped", "orthopaedics"),
    ("ginekolog", "gynaecology"),
    ("gynaecolog", "gynaecology"),
    ("gynecolog", "gynaecology"),
    ("neurolog", "neurology"),
    ("okulist", "ophthalmology"),
    ("oftalmolog", "ophthalmology"),
    ("ophthalmolog", "ophthalmology"),
    ("ophtalmolog", "ophthalmology"),
    ("eye doctor", "ophthalmology"),
    ("endokrynolog", "endocrinology"),
    ("endocrinolog", "endocrinology"),
    ("fizjoterap", "physiotherapy"),
    ("physiotherap", "physiotherapy"),
    ("physio", "physiotherapy"),
]
SPECIALTY_CODES = sorted({code for _, code in SPECIALTY_STEMS})
# Whole words for fuzzy matching of typos ("kardilog", "dermatolg").
_SPECIALTY_WORDS: dict[str, str] = {
    "internista": "internal-medicine",
    "internist": "internal-medicine",
    "pediatra": "paediatrics",
    "paediatrician": "paediatrics",
    "pediatrician": "paediatrics",
    "kardiolog": "cardiology",
    "cardiologist": "cardiology",
    "dermatolog": "dermatology",
    "dermatologist": "dermatology",
    "laryngolog": "ent",
    "ortopeda": "orthopaedics",
    "orthopaedist": "orthopaedics",
    "ginekolog": "gynaecology",
    "gynaecologist": "gynaecology",
    "gynecologist": "gynaecology",
    "neurolog": "neurology",
    "neurologist": "neurology",
    "okulista": "ophthalmology",
    "ophthalmologist": "ophthalmology",
    "endokrynolog": "endocrinology",
    "endocrinologist": "endocrinology",
    "fizjoterapeuta": "physiotherapy",
    "physiotherapist": "physiotherapy",
}

SERVICE_TYPES = (
    "telephone_consultation",
    "in_person_visit",
    "online_consultation",
    "examination",
    "occupational_medicine",
    "rehabilitation",
)
# Checked in this order: "badanie okresowe" is occupational medicine, not an examination.
SERVICE_TYPE_STEMS: list[tuple[str, str]] = [
    ("medycyn pracy", "occupational_medicine"),
    ("okresow", "occupational_medicine"),
    ("wstepn", "occupational_medicine"),
    ("occupational", "occupational_medicine"),
    ("pre-employment", "occupational_medicine"),
    ("periodic", "occupational_medicine"),
    ("work medical", "occupational_medicine"),
    ("rehabilit", "rehabilitation"),
    ("rehab", "rehabilitation"),
    ("fizjoterap", "rehabilitation"),
    ("fizjo", "rehabilitation"),
    ("physiother", "rehabilitation"),
    ("physio", "rehabilitation"),
    ("masaz", "rehabilitation"),
    ("massage", "rehabilitation"),
    ("kinezyterap", "rehabilitation"),
    ("online", "online_consultation"),
    ("on-line", "online_consultation"),
    ("on line", "online_consultation"),
    ("wideo", "online_consultation"),
    ("video", "online_consultation"),
    ("czat", "online_consultation"),
    ("chat", "online_consultation"),
    ("e-wizyt", "online_consultation"),
    ("e-visit", "online_consultation"),
    ("przez internet", "online_consultation"),
    ("zdaln", "online_consultation"),
    ("telefon", "telephone_consultation"),
    ("teleporad", "telephone_consultation"),
    ("phone", "telephone_consultation"),
    ("telephone", "telephone_consultation"),
    ("call", "telephone_consultation"),
    ("badani", "examination"),
    ("badan", "examination"),
    ("examination", "examination"),
    ("exam", "examination"),
    ("test", "examination"),
    ("scan", "examination"),
    ("stacjonarn", "in_person_visit"),
    ("w placowce", "in_person_visit"),
    ("w przychodni", "in_person_visit"),
    ("osobisc", "in_person_visit"),
    ("na miejscu", "in_person_visit"),
    ("in person", "in_person_visit"),
    ("in-person", "in_person_visit"),
    ("face to face", "in_person_visit"),
    ("at the clinic", "in_person_visit"),
    ("office", "in_person_visit"),
]
IN_CLINIC_TYPES = frozenset(
    {"in_person_visit", "examination", "occupational_medicine", "rehabilitation"}
)
REMOTE_TYPES = frozenset({"telephone_consultation", "online_consultation"})
CONSULTATION_TYPES = frozenset({"in_person_visit", "telephone_consultation", "online_consultation"})
# Types whose specialty is implied.
IMPLIED_SPECIALTY = {
    "occupational_medicine": "occupational-medicine",
    "rehabilitation": "physiotherapy",
}

CITY_STEMS: list[tuple[str, str]] = [
    ("warszaw", "Warszawa"),
    ("warsaw", "Warszawa"),
    ("wawa", "Warszawa"),
    ("krakow", "Kraków"),
    ("cracow", "Kraków"),
    ("krakof", "Kraków"),
    ("wroclaw", "Wrocław"),
    ("wroclav", "Wrocław"),
    ("breslau", "Wrocław"),
    ("poznan", "Poznań"),
    ("gdansk", "Gdańsk"),
    ("lodz", "Łódź"),
    ("lodzi", "Łódź"),
    ("katowic", "Katowice"),
]

EXAMINATION_STEMS: list[tuple[str, str]] = [
    ("usg tarczyc", "thyroid-ultrasound"),
    ("thyroid ultrasound", "thyroid-ultrasound"),
    ("usg brzuch", "abdominal-ultrasound"),
    ("usg jamy", "abdominal-ultrasound"),
    ("abdominal", "abdominal-ultrasound"),
    ("usg", "abdominal-ultrasound"),
    ("ultrasound", "abdominal-ultrasound"),
    ("morfologi", "blood-count"),
    ("badani krwi", "blood-count"),
    ("blood test", "blood-count"),
    ("blood count", "blood-count"),
    ("cbc", "blood-count"),
    ("lipidogram", "lipid-panel"),
    ("cholesterol", "lipid-panel"),
    ("lipid", "lipid-panel"),
    ("glukoz", "glucose"),
    ("cukier", "glucose"),
    ("cukru", "glucose"),
    ("glucose", "glucose"),
    ("blood sugar", "glucose"),
    ("tsh", "tsh"),
    ("mocz", "urinalysis"),
    ("urin", "urinalysis"),
    ("ekg", "ecg"),
    ("ecg", "ecg"),
    ("ekg spoczynkow", "ecg"),
    ("rtg", "chest-xray"),
    ("rentgen", "chest-xray"),
    ("x-ray", "chest-xray"),
    ("xray", "chest-xray"),
    ("spirometr", "spirometry"),
    ("rezonans", "mri-head"),
    ("mri", "mri-head"),
    ("tomograf", "ct-chest"),
    ("ct", "ct-chest"),
]

# Polish diminutives and inflections of first names a child may be called by.
NICKNAMES: dict[str, Sequence[str]] = {
    "zofia": ("zosia", "zosi", "zosie", "zosiu", "zoska", "zosce", "zosienka", "zosienki"),
    "aleksandra": ("ola", "oli", "ole", "olu", "olka", "olenka", "olenki"),
    "aleksander": ("olek", "olka", "olkowi", "alek", "alka"),
    "katarzyna": ("kasia", "kasi", "kasie", "kasiu", "kaska"),
    "malgorzata": ("gosia", "gosi", "gosie", "malgosia", "malgosi"),
    "magdalena": ("magda", "magdy", "magdzie", "madzia", "madzi"),
    "agnieszka": ("aga", "agi", "agusia", "agusi"),
    "anna": ("ania", "ani", "anie", "aniu", "anka", "anki", "anusia"),
    "maria": ("marysia", "marysi", "marysie"),
    "julia": ("julka", "julki", "julce", "jula", "juli"),
    "jan": ("jas", "jasia", "jasiu", "jasiowi", "janek", "janka", "jankowi"),
    "jakub": ("kuba", "kuby", "kubie", "kubus", "kubusia"),
    "antoni": ("antek", "antka", "antkowi", "antosia"),
    "franciszek": ("franek", "franka", "frankowi", "franio", "frania"),
    "stanislaw": ("staszek", "staszka", "stas", "stasia"),
    "wojciech": ("wojtek", "wojtka", "wojtkowi"),
    "piotr": ("piotrek", "piotrka", "piotrus", "piotrusia"),
    "michal": ("michas", "michasia", "misiek", "miska"),
    "szymon": ("szymek", "szymka"),
    "tomasz": ("tomek", "tomka", "tomkowi"),
    "krzysztof": ("krzys", "krzysia", "krzysiek", "krzyska"),
    "mikolaj": ("mikolajek", "mikolajka"),
    "zuzanna": ("zuzia", "zuzi", "zuzie", "zuzka", "zuzki"),
    "hanna": ("hania", "hani", "hanie", "haniu", "hanka"),
    "natalia": ("natalka", "natalki", "nati"),
    "lena": ("lenka", "lenki", "lence"),
    "maja": ("majka", "majki", "mai"),
    "alicja": ("ala", "ali", "alu", "alusia"),
    "wiktoria": ("wika", "wiki", "wiktorii"),
    "oliwia": ("oliwka", "oliwki", "oliwii"),
}

# Ordinal words in their case forms (folded). Whole words only: the weekdays "czwartek" and
# "piątek" share the stems of "czwarty" and "piąty" and are never positions in a list.
_ORDINALS: tuple[tuple[str, int], ...] = (
    (r"pierwsz(?:y|a|e|ego|ej|ym|emu)|first|1st", 1),
    (r"drug(?:i|a|ie|iego|iej|im|iemu)|second|2nd", 2),
    (r"trzec(?:i|ia|ie|iego|iej|im|iemu)|third|3rd", 3),
    (r"czwart(?:y|a|e|ego|ej|ym|emu)|fourth|4th", 4),
    (r"piat(?:y|a|e|ego|ej|ym|emu)|fifth|5th", 5),
    (r"szost(?:y|a|e|ego|ej|ym|emu)|sixth|6th", 6),
)
# "po drugiej", "przed piątą", "o czwartej": a clock hour, not a position.
_CLOCK_BEFORE = r"(?<!\bpo )(?<!\bod )(?<!\bdo )(?<!\bo )(?<!\bprzed )(?<!\bokolo )"


def _words(text: str) -> list[str]:
    return re.findall(r"[\w+-]+", fold(text))


def _stem_match(text: str, stems: Iterable[tuple[str, str]]) -> str | None:
    """The code of the first stem found: each word of a stem is a word prefix; stems of up to
    three letters ("gp", "ent", "ct") must be whole words."""
    folded = " " + " ".join(_words(text)) + " "
    for stem, code in stems:
        parts = stem.split()
        if len(parts) == 1 and len(stem) <= 3:
            pattern = rf"\s{re.escape(stem)}\s"
        else:
            pattern = r"\s" + r"\w*\s+".join(re.escape(p) for p in parts)
        if re.search(pattern, folded):
            return code
    return None


def specialty_code(text: str | None) -> str | None:
    """The specialty code a phrase names ("kardiologa", "skin doctor", "dermatolg")."""
    if not text:
        return None
    if fold(text).strip() in SPECIALTY_CODES:
        return fold(text).strip()
    found = _stem_match(text, SPECIALTY_STEMS)
    if found:
        return found
    for word in _words(text):
        if len(word) < 6:
            continue
        close = difflib.get_close_matches(word, list(_SPECIALTY_WORDS), n=1, cutoff=0.8)
        if close:
            return _SPECIALTY_WORDS[close[0]]
    return None


def service_type_code(text: str | None) -> str | None:
    """The service type a phrase names ("teleporada", "wizyta stacjonarna", "video call")."""
    if not text:
        return None
    plain = fold(text).strip().replace(" ", "_")
    if plain in SERVICE_TYPES:
        return plain
    return _stem_match(text, SERVICE_TYPE_STEMS)


def city_name(text: str | None, known: Sequence[str] = ()) -> str | None:
    """The clinic city a phrase names ("we Wrocławiu" -> "Wrocław"), among ``known`` if given."""
    if not text:
        return None
    found = _stem_match(text, CITY_STEMS)
    if found is None:
        words = _words(text)
        for city in known:
            stem = fold(city)[: max(4, len(fold(city)) - 2)]
            if any(word.startswith(stem) for word in words):
                found = city
                break
    if found is None:
        return None
    if known and fold(found) not in {fold(c) for c in known}:
        return None
    return found


def examination_code(text: str | None, known: Sequence[tuple[str, str, str]] = ()) -> str | None:
    """The examination service code a phrase names; ``known`` holds (code, name_pl, name_en)."""
    if not text:
        return None
    folded = fold(text).strip()
    for code, name_pl, name_en in known:
        if folded in (code, fold(name_pl), fold(name_en)):
            return code
    found = _stem_match(text, EXAMINATION_STEMS)
    if found and (not known or found in {code for code, _, _ in known}):
        return found
    return None


def person_matches(text: str, first_name: str) -> bool:
    """Whether ``text`` names a child called ``first_name`` ("dla Zosi" -> Zofia)."""
    name = fold(first_name)
    forms = set(NICKNAMES.get(name, ())) | {name}
    stem = name[:-1] if len(name) > 4 and name[-1] in "aeiouy" else name
    return any(word in forms or (len(stem) >= 3 and word.startswith(stem)) for word in _words(text))


_DAUGHTER = re.compile(r"\b(cork\w*|corci\w*|daughter\w*|dziewczyn\w*)")
_SON = re.compile(r"\b(syn|syna|synem|synowi|synka|synek|son|sons|chlopak\w*)\b")
_CHILD = re.compile(r"\b(dzieck\w*|dzieci\w*|child|kid|kids|baby)\b")


def child_for(text: str, children: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The child a reply names: by first name (with Polish diminutives), or as "my daughter",
    "syna", "the child" when only one child fits (``children`` as listDependents returns)."""
    named = [c for c in children if person_matches(text, str(c.get("first_name", "")))]
    if len(named) == 1:
        return named[0]
    folded = fold(text)
    if _DAUGHTER.search(folded):
        fitting = [c for c in children if c.get("sex") == "female"]
    elif _SON.search(folded):
        fitting = [c for c in children if c.get("sex") == "male"]
    elif _CHILD.search(folded):
        fitting = list(children)
    else:
        return None
    return fitting[0] if len(fitting) == 1 else None


def physician_matches(text: str, last_name: str) -> bool:
    """Whether ``text`` names a physician by an inflected surname ("u dr Kowalskiej")."""
    name = fold(last_name)
    stem = name.rstrip("aeiouy") if len(name) > 4 else name
    stem = stem if len(stem) >= 4 else name
    return any(word.startswith(stem) for word in _words(text))


def ordinal(text: str) -> int | None:
    """1-based position a reply picks from a list ("2", "4.", "nr 3", "drugi", "the fourth",
    "the first one"); -1 for the last; ``None`` for anything else, weekdays included."""
    folded = " ".join(fold(text).split())
    number = re.fullmatch(
        r"(?:nr\.?|numer|number|no\.?|#|opcj[ae]|option|termin)?\s*(\d{1,2})\s*[.)]?", folded
    )
    if number:
        return int(number.group(1))
    for words, position in _ORDINALS:
        if re.search(rf"{_CLOCK_BEFORE}\b(?:{words})\b", folded):
            return position
    if re.search(r"\b(ostatni\w*|last)\b", folded):
        return -1
    return None


def clock_time(text: str) -> str | None:
    """An "HH:MM" in a reply ("ten o 10:30", "9.15"), zero-padded."""
    match = re.search(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b", text)
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"
