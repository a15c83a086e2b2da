"""Messages as patients type them, reduced to one spelling the safety rules are written for.

Lower case, no Polish diacritics ("ł" too, which Unicode does not decompose), typographic
apostrophes made plain, a letter typed three or more times in a row kept once ("pomocyyy",
"heeelp"), everything but letters, digits and apostrophes made a space, and a few spellings
patients use for the same word mapped to one ("samobujstwo", "cant", "im").
"""

from __future__ import annotations

import re
import unicodedata

_NOT_DECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss"})
_REPEATS = re.compile(r"(\w)\1{2,}")
_NOT_WORD = re.compile(r"[^\w']+")
_APOSTROPHES = re.compile(r"[`´‘’ʼ]")

# Spellings that differ from the rules' by more than diacritics: Polish "ó"/"u" and "rz"/"ż"
# confusions, English contractions without an apostrophe. Whole words only.
_SPELLINGS = {
    "samobujstwo": "samobojstwo",
    "samobujstwa": "samobojstwa",
    "samobujcze": "samobojcze",
    "samobujczych": "samobojczych",
    "samobujca": "samobojca",
    "nieprzytomy": "nieprzytomny",
    "nieprzytomma": "nieprzytomna",
    "niepszytomny": "nieprzytomny",
    "niepszytomna": "nieprzytomna",
    "oddychac": "oddychac",
    "odychac": "oddychac",
    "oddyhac": "oddychac",
    "zyc": "zyc",
    "rzyc": "zyc",
    "cant": "can't",
    "cannot": "can't",
    "dont": "don't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "didnt": "didn't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "arent": "aren't",
    "couldnt": "couldn't",
    "wouldnt": "wouldn't",
    "shouldnt": "shouldn't",
    "havent": "haven't",
    "hasnt": "hasn't",
    "thats": "that's",
    "theres": "there's",
    "wont": "won't",
    "im": "i'm",
    "ive": "i've",
    "wanna": "want to",
    "gonna": "going to",
    "breath": "breathe",
    "brething": "breathing",
    "breating": "breathing",
    "unconcious": "unconscious",
    "unconsious": "unconscious",
    "sucide": "suicide",
    "suicde": "suicide",
    "siucide": "suicide",
    "suicidial": "suicidal",
    "sucidal": "suicidal",
    "overdosed": "overdosed",
    "overdoze": "overdose",
    "overdozed": "overdosed",
    "siezure": "seizure",
    "seizue": "seizure",
    "bleding": "bleeding",
    "bleading": "bleeding",
}


_CONTRACTIONS = frozenset(
    {"he's", "she's", "it's", "that's", "there's", "what's", "who's", "let's", "where's"}
)


def fold(text: str) -> str:
    """``text`` in lower case without diacritics ("Łódź" -> "lodz")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalise(text: str) -> str:
    """The one spelling the safety rules match: folded, de-repeated, words separated by one
    space, with a space at each end so that rules can match whole words with ``" word "``."""
    folded = fold(unicodedata.normalize("NFKC", text))
    folded = _APOSTROPHES.sub("'", folded)
    folded = _REPEATS.sub(r"\1", folded)
    words = [w.strip("'") for w in _NOT_WORD.sub(" ", folded).split()]
    words = [_SPELLINGS.get(w, w) for w in words if w]
    # A possessive "grandma's pills" reads as "grandma pills"; "he's", "it's" stay.
    words = [w[:-2] if w.endswith("'s") and w not in _CONTRACTIONS else w for w in words]
    return " " + " ".join(words) + " "
