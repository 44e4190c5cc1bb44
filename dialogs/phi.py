"""Which of a patient's medicines a text names (SPEC 8: no medicine name in a text unless the
patient's `phi_ok` is recorded). Used to warn staff before their own words reach the patient.

A medicine is known by the words of its name before the strength ("Metformin 500 mg" is
"metformin"), without dose forms, matched case- and accent-insensitively at the start of a
word of the text, so that the Spanish "metformina" names metformin too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

# Words of a pharmacy system's medicine name that say how it is taken, not what it is.
DOSE_FORM_WORDS: Final = frozenset(
    {
        "tablet",
        "tablets",
        "capsule",
        "capsules",
        "oral",
        "solution",
        "suspension",
        "cream",
        "ointment",
        "inhaler",
        "injection",
        "extended",
        "release",
        "delayed",
        "chewable",
        "patch",
        "drops",
        "spray",
        "syrup",
        "liquid",
    }
)
MIN_WORD = 4  # shorter words ("hfa", "er", "d3") are abbreviations, not names
_WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """Lowercase `text` and drop its accents (the rule the live warning mirrors)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def medicine_words(names: Iterable[str]) -> list[str]:
    """The words that name each medicine, folded, each once."""
    words: list[str] = []
    for name in names:
        before_strength = re.split(r"\d", name, maxsplit=1)[0]
        for word in _WORD.findall(fold(before_strength)):
            if len(word) >= MIN_WORD and word not in DOSE_FORM_WORDS:
                words.append(word)
    return list(dict.fromkeys(words))


def named_medicines(text: str, names: Iterable[str]) -> list[str]:
    """The medicine words of `names` that `text` mentions, in the order of `names`."""
    text_words = _WORD.findall(fold(text))
    return [w for w in medicine_words(names) if any(t.startswith(w) for t in text_words)]
