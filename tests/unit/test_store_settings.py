"""The one validator of store settings, shared by `create-store` and the admin Stores page."""

from __future__ import annotations

import pytest

from store.models import CheckinForm
from store.store_settings import (
    FIELDS,
    SendWindow,
    StoreSettings,
    StoreSettingsError,
    as_text,
    check_store_settings,
)

NEW = {"name": "North Rx", "phone": "(212) 555-0100", "timezone": "America/Chicago"}
SID = "MG" + "0123456789abcdef" * 2


def errors_of(typed: dict[str, str | None], current: StoreSettings | None = None) -> dict[str, str]:
    with pytest.raises(StoreSettingsError) as error:
        check_store_settings(typed, current)
    return error.value.errors


def test_a_new_store_gets_the_defaults() -> None:
    settings = check_store_settings(NEW)
    assert settings == StoreSettings(
        name="North Rx",
        phone="+12125550100",
        timezone="America/Chicago",
        from_number=None,
        messaging_service_sid=None,
        lead_days=7,
        send_window=SendWindow(540, 1140),
        reminder_delay_hours=24,
        unreachable_days=3,
        checkin_form=CheckinForm.QUICK,
        hours=None,
        pickup_days=5,
        daily_fill_limit=40,
        enrollment_target=100,
        review_imports=False,
    )


def test_every_error_is_reported_at_once_per_field() -> None:
    typed = {
        "name": "",
        "phone": "12",
        "timezone": "Mars/Base",
        "from_number": "call us",
        "messaging_service_sid": "XX1",
        "lead_days": "8",
        "send_window": "09:75-19:00",
        "reminder_delay_hours": "0",
        "unreachable_days": "-1",
    }
    assert errors_of(typed) == {
        "name": "required",
        "phone": "not a valid phone number",
        "timezone": "unknown timezone; use a name like America/Chicago",
        "from_number": "not a valid phone number",
        "messaging_service_sid": "must be MG followed by 32 letters and digits, as Twilio shows it",
        "lead_days": "must be a whole number from 3 to 7",
        "send_window": "not a time of day (hours 00 to 23, minutes 00 to 59)",
        "reminder_delay_hours": "must be a whole number from 1 to 72",
        "unreachable_days": "must be a whole number from 0 to 7",
    }


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("09:75-19:00", "not a time of day"),
        ("25:00-26:00", "not a time of day"),
        ("07:00-19:00", "must lie within 08:00-20:00"),
        ("09:00-20:01", "must lie within 08:00-20:00"),
        ("19:00-09:00", "must start before it ends"),
        ("9am-7pm", "expected HH:MM-HH:MM"),
    ],
)
def test_a_bad_send_window_is_refused_not_rounded(window: str, message: str) -> None:
    assert message in errors_of({**NEW, "send_window": window})["send_window"]


def test_unreachable_days_may_not_exceed_the_lead_days_kept_or_typed() -> None:
    assert (
        "must not exceed the lead days (3)"
        in errors_of({**NEW, "lead_days": "3", "unreachable_days": "5"})["unreachable_days"]
    )
    current = check_store_settings({**NEW, "lead_days": "4", "unreachable_days": "2"})
    assert "(4)" in errors_of({"unreachable_days": "5"}, current)["unreachable_days"]
    assert check_store_settings({"unreachable_days": "4"}, current).unreachable_days == 4


def test_settings_not_given_keep_their_value_and_blank_optional_ones_clear() -> None:
    current = check_store_settings({**NEW, "from_number": "+12025550100", "lead_days": "5"})
    kept = check_store_settings({"name": "Renamed"}, current)
    assert (kept.name, kept.from_number, kept.lead_days) == ("Renamed", "+12025550100", 5)
    assert check_store_settings({"from_number": " "}, current).from_number is None
    assert errors_of({"timezone": ""}, current) == {"timezone": "required"}


def test_the_page_text_reads_back_as_the_same_settings() -> None:
    settings = check_store_settings(
        {**NEW, "from_number": "+12025550100", "messaging_service_sid": SID}
    )
    text = as_text(settings)
    assert text["send_window"] == "09:00-19:00" and text["phone"] == "(212) 555-0100"
    assert check_store_settings(text) == settings
    assert set(text) == {field.name for field in FIELDS}


def test_it_reads_the_form_the_opening_hours_and_the_fill_day_settings() -> None:
    settings = check_store_settings(
        {
            **NEW,
            "checkin_form": "Full",
            "hours": "Mon-Fri 09:00-19:00,  Sat 10:00-14:00",
            "pickup_days": "7",
            "review_imports": "yes",
        }
    )
    assert settings.checkin_form is CheckinForm.FULL
    assert settings.hours == "Mon-Fri 09:00-19:00, Sat 10:00-14:00"
    assert (settings.pickup_days, settings.review_imports) == (7, True)


def test_it_refuses_bad_hours_and_forms_with_the_reason() -> None:
    errors = errors_of({**NEW, "checkin_form": "long", "hours": "Mon-Fri 9-5", "pickup_days": "0"})
    assert errors["checkin_form"] == "must be quick or full"
    assert "Mon-Fri 09:00-19:00" in errors["hours"]
    assert "1 to 30" in errors["pickup_days"]
    assert "opens before it closes" in errors_of({**NEW, "hours": "Sat 14:00-10:00"})["hours"]
