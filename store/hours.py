"""A store's opening hours, as staff write them: "Mon-Fri 09:00-19:00, Sat 10:00-14:00".

Parsed in one place for the store settings (which refuse what does not parse) and for the
voice dialog ("press 0" rings the store while it is open, and takes a message otherwise).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<open>\d{1,2}):(?P<open_min>\d{2})\s*-\s*(?P<close>\d{1,2}):(?P<close_min>\d{2})"
)


@dataclass(frozen=True)
class OpeningHours:
    """Open intervals per weekday (0 Monday), in minutes after local midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, moment: dt.datetime, timezone: str) -> bool:
        """Tell whether the store is open at the aware `moment`, in its own timezone."""
        local = moment.astimezone(ZoneInfo(timezone))
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.weekday()])


def parse_hours(text: str) -> OpeningHours:
    """Read "Mon-Fri 09:00-19:00, Sat 10:00-14:00"; raise ValueError saying what is wrong."""
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    parts = [p.strip() for p in text.lower().split(",") if p.strip()]
    if not parts:
        raise ValueError('write the days and hours, e.g. "Mon-Fri 09:00-19:00, Sat 10:00-14:00"')
    for part in parts:
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(f'"{part}" is not like "Mon-Fri 09:00-19:00"')
        first, last = match["first"], match["last"] or match["first"]
        if first not in DAYS or last not in DAYS:
            raise ValueError(f'"{part}": days are Mon, Tue, Wed, Thu, Fri, Sat, Sun')
        start = int(match["open"]) * 60 + int(match["open_min"])
        end = int(match["close"]) * 60 + int(match["close_min"])
        if int(match["open_min"]) > 59 or int(match["close_min"]) > 59 or end > 24 * 60:
            raise ValueError(f'"{part}": not a time of day')
        if start >= end:
            raise ValueError(f'"{part}": opens before it closes')
        span = range(DAYS.index(first), DAYS.index(last) + 1)
        if not span:
            raise ValueError(f'"{part}": the first day comes before the last')
        for day in span:
            days[day].append((start, end))
    return OpeningHours(tuple(tuple(sorted(d)) for d in days))


def is_open(hours: str | None, moment: dt.datetime, timezone: str) -> bool:
    """Tell whether a store with these hours is open now; unknown or unreadable hours: no."""
    if not hours:
        return False
    try:
        return parse_hours(hours).is_open(moment, timezone)
    except ValueError:
        return False
