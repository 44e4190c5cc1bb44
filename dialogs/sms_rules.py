"""SMS size rules: GSM-7 versus UCS-2, segment counting, and fitting a template into one segment.

Twilio bills and delivers a text in segments: one segment holds 160 GSM-7 characters, or 70 when
any character is outside GSM-7 (then the whole text goes as UCS-2). Longer texts are split into
153 / 67 character parts (reference/twilio.md 3.8).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Final

# GSM 03.38 basic character set (the escape code itself excluded).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (escape + character).
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")
GSM7: Final = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67

# Look-alikes that would silently switch a whole text to UCS-2.
_LOOKALIKES: Final = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
}

# Names are shortened in these steps until the text fits; the last one is the floor.
PHARMACY_LIMITS: Final = (32, 28, 24, 20, 16, 12)


def is_gsm7(text: str) -> bool:
    """Return True if every character of `text` can be sent as GSM-7."""
    return GSM7.issuperset(text)


def sms_units(text: str) -> int:
    """Return the room `text` takes in a segment: GSM-7 septets, or UCS-2 code units."""
    if is_gsm7(text):
        return len(text) + sum(map(GSM7_EXTENSION.__contains__, text))
    return len(text.encode("utf-16-le")) // 2  # an emoji is two UCS-2 units


def single_segment_limit(text: str) -> int:
    """Return how many units one segment holds for `text`: 160 in GSM-7, else 70."""
    return GSM7_SINGLE if is_gsm7(text) else UCS2_SINGLE


def outside_gsm7(text: str) -> list[str]:
    """Return the distinct characters of `text` that force UCS-2, in order of appearance."""
    return list(dict.fromkeys(char for char in text if char not in GSM7))


def segment_count(text: str) -> int:
    """Return how many SMS segments `text` takes (0 for an empty text)."""
    if not text:
        return 0
    units, single = sms_units(text), single_segment_limit(text)
    part = GSM7_PART if single == GSM7_SINGLE else UCS2_PART
    return 1 if units <= single else math.ceil(units / part)


def fits_one_segment(text: str) -> bool:
    """Return True if `text` goes as a single SMS segment."""
    return segment_count(text) <= 1


def to_gsm7(text: str) -> str:
    """Fold `text` to GSM-7: straighten quotes, drop accents GSM-7 lacks, drop the rest.

    Used on names we substitute into texts, so that "Farmacia Díaz" does not turn a whole message
    into UCS-2 and cut its room from 160 characters to 70.
    """
    if is_gsm7(text):
        return " ".join(text.split())
    out: list[str] = []
    for char in text:
        char = _LOOKALIKES.get(char, char)
        if is_gsm7(char):
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in base if not unicodedata.combining(c))
        out.append(base if base and is_gsm7(base) else "")
    return " ".join("".join(out).split())


def shorten(name: str, limit: int) -> str:
    """Cut `name` to at most `limit` characters, at a word boundary when one is near."""
    if len(name) <= limit:
        return name
    cut = name[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.-&'([{|/")
