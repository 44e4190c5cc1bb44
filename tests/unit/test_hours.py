"""Opening hours as staff write them (store/hours.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from store.hours import is_open, parse_hours

HOURS = "Mon-Fri 09:00-19:00, Sat 10:00-14:00"
NY = "America/New_York"


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (dt.datetime(2026, 12, 7, 9, 0), True),  # a Monday at opening
        (dt.datetime(2026, 12, 7, 18, 59), True),
        (dt.datetime(2026, 12, 7, 19, 0), False),  # closing time: closed
        (dt.datetime(2026, 12, 12, 11, 0), True),  # Saturday
        (dt.datetime(2026, 12, 12, 15, 0), False),
        (dt.datetime(2026, 12, 13, 11, 0), False),  # Sunday
    ],
)
def test_it_knows_when_the_store_is_open_in_its_own_timezone(
    local: dt.datetime, open_: bool
) -> None:
    moment = local.replace(tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # New York in December
    assert is_open(HOURS, moment.astimezone(dt.UTC), NY) is open_


def test_unknown_or_unreadable_hours_mean_closed() -> None:
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    assert is_open(None, now, NY) is False
    assert is_open("whenever", now, NY) is False


@pytest.mark.parametrize(
    "bad", ["", "Mon-Fri", "Mon-Fri 9-5", "Xyz 09:00-10:00", "Fri-Mon 09:00-10:00"]
)
def test_it_refuses_what_it_cannot_read(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(bad)
