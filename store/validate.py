"""Small value checks shared by the importer, the CLI, the configuration and the web app."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

# The largest value an INTEGER column holds on PostgreSQL: every id and counter here is one.
# SQLite would take up to 2**63 - 1; one bound for both keeps them answering alike.
MAX_INTEGER = 2**31 - 1


def whole_number(raw: str, low: int, high: int) -> int:
    """Return `raw` as an int in [low, high]; ValueError unless it is plain ASCII digits (with
    a leading minus when `low` is negative) in that range.

    Stricter than int(), which also reads spaces, "+", "_" and non-ASCII digits ("١٢"), and
    than str.isdigit(), which says yes to "²" that int() then refuses.
    """
    digits = raw[1:] if raw.startswith("-") and low < 0 else raw
    # A length check first: int() of a long enough string is slow (and refused past 4300).
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
        raise ValueError("not a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise ValueError(f"not between {low} and {high}")
    return value


def normalize_phone(raw: str, region: str = "US") -> str | None:
    """Return `raw` as E.164, reading national formats in `region`, or None when invalid."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def display_phone(e164: str) -> str:
    """Format an E.164 number the way a patient in its country would write it."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def is_timezone(name: str) -> bool:
    """Tell whether `name` is an IANA timezone this machine knows."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
