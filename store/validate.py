"""Small value checks shared by the importer, the CLI and the configuration."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers


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
