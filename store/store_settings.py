"""A store's settings, parsed and checked in one place for `create-store` and the admin page.

Each setting is a `Field`: its name (the CLI option is the name with dashes, the form field
the name itself), a label and its rule in words for the page, and a parser from the typed
text. `check_store_settings` reads every field and reports every error at once, per field,
so the page can show each next to its box and the CLI can list them all.

To add a setting (a check-in form, opening hours, pickup days...): a `Store` column, an
attribute of `StoreSettings` with its default in `_defaults`, one `Field` in FIELDS, and a
`create-store` option. The admin page renders whatever FIELDS holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from store.hours import parse_hours
from store.models import CheckinForm, Store
from store.staff import get_store
from store.validate import display_phone, is_timezone, normalize_phone

# SPEC 7: outreach never before 08:00 or after 20:00 local time, whatever a store asks for.
EARLIEST_MINUTE = 8 * 60
LATEST_MINUTE = 20 * 60
LEAD_DAYS = (3, 7)
REMINDER_DELAY_HOURS = (1, 72)


@dataclass(frozen=True)
class SendWindow:
    """Local hours outreach may be sent, in minutes after midnight."""

    start_minute: int
    end_minute: int

    def __str__(self) -> str:
        return f"{_clock(self.start_minute)}-{_clock(self.end_minute)}"


@dataclass(frozen=True)
class StoreSettings:
    """Every setting of a store an operator or admin may change, validated."""

    name: str
    phone: str  # E.164
    timezone: str
    from_number: str | None  # E.164; None: the default sender
    messaging_service_sid: str | None
    lead_days: int
    send_window: SendWindow
    reminder_delay_hours: int
    unreachable_days: int
    checkin_form: CheckinForm
    hours: str | None  # as typed, checked by store/hours.py
    pickup_days: int
    daily_fill_limit: int
    enrollment_target: int
    review_imports: bool


class StoreSettingsError(ValueError):
    """Some settings are wrong; `errors` maps each field's name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


Parser = Callable[[str, str], Any]  # (typed text, the store's phone region) -> value


@dataclass(frozen=True)
class Field:
    """One setting: how it is named, explained and read from text."""

    name: str
    label: str
    rule: str  # the rule in words, under the box on the page and in `--help`
    parse: Parser  # raises ValueError with a message for the user
    optional: bool = False  # blank means "none" (else blank is refused)
    numeric: bool = False  # a whole number: the page asks for a numeric keyboard
    metavar: str = "TEXT"  # how `--help` shows the value


def _text(max_len: int) -> Parser:
    def parse(text: str, _region: str) -> str:
        if len(text) > max_len:
            raise ValueError(f"must be at most {max_len} characters")
        return text

    return parse


def _phone(text: str, region: str) -> str:
    e164 = normalize_phone(text, region) if len(text) <= 40 else None
    if e164 is None:
        raise ValueError("not a valid phone number")
    return e164


def _timezone(text: str, _region: str) -> str:
    if not is_timezone(text):
        raise ValueError("unknown timezone; use a name like America/Chicago")
    return text


def _messaging_service_sid(text: str, _region: str) -> str:
    if not re.fullmatch(r"MG[0-9a-fA-F]{32}", text):
        raise ValueError("must be MG followed by 32 letters and digits, as Twilio shows it")
    return text


def _whole(low: int, high: int) -> Parser:
    def parse(text: str, _region: str) -> int:
        if not re.fullmatch(r"\d{1,3}", text) or not low <= int(text) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return int(text)

    return parse


_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _send_window(text: str, _region: str) -> SendWindow:
    match = _WINDOW.fullmatch(text)
    if match is None:
        raise ValueError("expected HH:MM-HH:MM, e.g. 09:00-19:00")
    start_hour, start_min, end_hour, end_min = (int(part) for part in match.groups())
    if start_hour > 23 or end_hour > 23 or start_min > 59 or end_min > 59:
        raise ValueError("not a time of day (hours 00 to 23, minutes 00 to 59)")
    start, end = start_hour * 60 + start_min, end_hour * 60 + end_min
    if start >= end:
        raise ValueError("must start before it ends")
    if start < EARLIEST_MINUTE or end > LATEST_MINUTE:
        raise ValueError("must lie within 08:00-20:00")
    return SendWindow(start, end)


def _form(text: str, _region: str) -> CheckinForm:
    try:
        return CheckinForm(text.lower())
    except ValueError:
        raise ValueError("must be quick or full") from None


def _hours(text: str, _region: str) -> str:
    if len(text) > 200:
        raise ValueError("must be at most 200 characters")
    parse_hours(text)  # raises with what is wrong
    return " ".join(text.split())


def _yes_no(text: str, _region: str) -> bool:
    value = text.lower()
    if value in ("yes", "y", "true", "1", "on"):
        return True
    if value in ("no", "n", "false", "0", "off"):
        return False
    raise ValueError("must be yes or no")


FIELDS: tuple[Field, ...] = (
    Field("name", "Name", "As patients know the pharmacy; it starts every text.", _text(120)),
    Field("phone", "Callback number", "The number patients call back.", _phone),
    Field("timezone", "Timezone", "IANA name, e.g. America/Chicago.", _timezone),
    Field(
        "from_number",
        "Sends from (number)",
        "The Twilio number texts come from; blank: the default sender.",
        _phone,
        optional=True,
        metavar="E164",
    ),
    Field(
        "messaging_service_sid",
        "Messaging Service",
        "Twilio Messaging Service SID (MG...); blank: none.",
        _messaging_service_sid,
        optional=True,
    ),
    Field(
        "lead_days",
        "Lead days",
        "Days before the anchor date the check-in starts (3 to 7).",
        _whole(*LEAD_DAYS),
        numeric=True,
    ),
    Field(
        "send_window",
        "Send window",
        "Local hours, HH:MM-HH:MM within 08:00-20:00.",
        _send_window,
        metavar="HH:MM-HH:MM",
    ),
    Field(
        "reminder_delay_hours",
        "Reminder after (hours)",
        "Hours without a reply before the reminder (1 to 72).",
        _whole(*REMINDER_DELAY_HOURS),
        numeric=True,
    ),
    Field(
        "unreachable_days",
        "Unreachable after",
        "Days before the anchor date an unanswered check-in goes to staff (0 to the lead days).",
        _whole(0, LEAD_DAYS[1]),
        numeric=True,
    ),
    Field(
        "checkin_form",
        "Check-in form",
        "quick: one question for everything (a patient with nothing new replies once); full:"
        " one question per topic.",
        _form,
        metavar="quick|full",
    ),
    Field(
        "hours",
        "Opening hours",
        'e.g. "Mon-Fri 09:00-19:00, Sat 10:00-14:00"; callers who press 0 are put through then'
        " and leave a message otherwise. Blank: always a message.",
        _hours,
        optional=True,
        metavar="HOURS",
    ),
    Field(
        "pickup_days",
        "Pickup days",
        "Days a ready fill waits before a reminder, then a not-picked-up item (1 to 30).",
        _whole(1, 30),
        numeric=True,
    ),
    Field(
        "daily_fill_limit",
        "Fills a day",
        "Fill days busier than this are marked on the workload view (1 to 999).",
        _whole(1, 999),
        numeric=True,
    ),
    Field(
        "enrollment_target",
        "Enrollment target",
        "Patients enrolled the program report measures against (1 to 999).",
        _whole(1, 999),
        numeric=True,
    ),
    Field(
        "review_imports",
        "Review new imports",
        "yes: newly imported patients wait on the roster until staff review them; no: they"
        " are contacted at the next pass.",
        _yes_no,
        metavar="yes|no",
    ),
)
FIELD_NAMES = tuple(field.name for field in FIELDS)
assert set(FIELD_NAMES) == {f.name for f in fields(StoreSettings)}


def _defaults() -> dict[str, Any]:
    """The values of a new store for the settings that have one: the columns' defaults."""
    column = Store.__table__.c

    def default(name: str) -> Any:
        return column[name].default.arg

    return {
        "from_number": None,
        "messaging_service_sid": None,
        "lead_days": default("lead_days"),
        "send_window": SendWindow(default("window_start_minute"), default("window_end_minute")),
        "reminder_delay_hours": default("reminder_delay_hours"),
        "unreachable_days": default("unreachable_days"),
        "checkin_form": default("checkin_form"),
        "hours": None,
        "pickup_days": default("pickup_days"),
        "daily_fill_limit": default("daily_fill_limit"),
        "enrollment_target": default("enrollment_target"),
        "review_imports": default("review_imports"),
    }


def check_store_settings(
    typed: Mapping[str, str | None], current: StoreSettings | None = None, *, region: str = "US"
) -> StoreSettings:
    """Parse the typed settings; raise StoreSettingsError with every error at once.

    A setting missing from `typed` (or None) keeps its `current` value, or for a new store
    its default; a blank one is cleared when optional and refused when not.
    """
    base = {f.name: getattr(current, f.name) for f in fields(StoreSettings)} if current else {}
    base = {**_defaults(), **base}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        text = typed.get(field.name)
        if text is None:
            if field.name in base:
                values[field.name] = base[field.name]
            else:
                errors[field.name] = "required"
            continue
        text = text.strip()
        if not text:
            if field.optional:
                values[field.name] = None
            else:
                errors[field.name] = "required"
            continue
        try:
            values[field.name] = field.parse(text, region)
        except ValueError as error:
            errors[field.name] = str(error)
    lead, unreachable = values.get("lead_days"), values.get("unreachable_days")
    if lead is not None and unreachable is not None and unreachable > lead:
        errors["unreachable_days"] = (
            f"must not exceed the lead days ({lead}): the check-in would go to staff "
            "before it starts"
        )
    if errors:
        raise StoreSettingsError({name: errors[name] for name in FIELD_NAMES if name in errors})
    return StoreSettings(**values)


def settings_of(store: Store) -> StoreSettings:
    """The settings a stored store has now."""
    return StoreSettings(
        name=store.name,
        phone=store.phone,
        timezone=store.timezone,
        from_number=store.from_number,
        messaging_service_sid=store.messaging_service_sid,
        lead_days=store.lead_days,
        send_window=SendWindow(store.window_start_minute, store.window_end_minute),
        reminder_delay_hours=store.reminder_delay_hours,
        unreachable_days=store.unreachable_days,
        checkin_form=store.checkin_form,
        hours=store.hours,
        pickup_days=store.pickup_days,
        daily_fill_limit=store.daily_fill_limit,
        enrollment_target=store.enrollment_target,
        review_imports=store.review_imports,
    )


def as_text(settings: StoreSettings) -> dict[str, str]:
    """The settings as an admin would type them (phones in national format)."""
    values: dict[str, str] = {}
    for field in FIELDS:
        value = getattr(settings, field.name)
        if value is None:
            values[field.name] = ""
        elif field.parse is _phone:
            values[field.name] = display_phone(value)
        elif isinstance(value, bool):
            values[field.name] = "yes" if value else "no"
        elif isinstance(value, CheckinForm):
            values[field.name] = value.value
        else:
            values[field.name] = str(value)
    return values


def apply_store_settings(store: Store, settings: StoreSettings) -> None:
    """Write validated settings onto the row."""
    store.name = settings.name
    store.phone = settings.phone
    store.timezone = settings.timezone
    store.from_number = settings.from_number
    store.messaging_service_sid = settings.messaging_service_sid
    store.lead_days = settings.lead_days
    store.window_start_minute = settings.send_window.start_minute
    store.window_end_minute = settings.send_window.end_minute
    store.reminder_delay_hours = settings.reminder_delay_hours
    store.unreachable_days = settings.unreachable_days
    store.checkin_form = settings.checkin_form
    store.hours = settings.hours
    store.pickup_days = settings.pickup_days
    store.daily_fill_limit = settings.daily_fill_limit
    store.enrollment_target = settings.enrollment_target
    store.review_imports = settings.review_imports


def save_store(session: Session, code: str, settings: StoreSettings) -> tuple[Store, bool]:
    """Create the store `code` with these settings, or update it; tell whether it was created."""
    store = get_store(session, code)
    created = store is None
    if store is None:
        store = Store(code=code)
        session.add(store)
    apply_store_settings(store, settings)
    session.flush()
    return store, created


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
