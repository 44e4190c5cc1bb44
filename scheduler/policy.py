"""The outreach policy (SPEC 7), pure: send windows, contact caps and which attempt is due.

Nothing here reads a clock, a database or the network: the caller gathers the facts about one
check-in (`Facts`) and gets back one `Decision`. Every time is an aware UTC datetime; a
patient's zone is only used to find their local day and their send window.

The attempt sequence:

* SMS patients: first text -> reminder text after `reminder_delay_hours` -> an IVR call 24 h
  later. A text refused as an invalid number (landline, bad number) skips to the call.
* Voice patients: first call -> reminder call after `reminder_delay_hours`.
* Either way: no answer by `anchor - unreachable_days` (and at least `reminder_delay_hours`
  after the first attempt, so a late enrollee gets a chance to answer) raises an `unreachable`
  item once; a call to an invalid number raises it at once.

An attempt that was recorded but whose outcome is unknown (status "pending" or "unknown": a
crash or a timeout between recording and sending) counts as made and is never repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

# The one mapping of Twilio error codes (a pure module: no I/O, like this one).
from bot.transports.errors import is_invalid_number

UTC = dt.UTC
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
CALL_DELAY = dt.timedelta(hours=24)  # SPEC 2.6: the call comes 24 h after the reminder
MIN_WINDOW_LEFT = dt.timedelta(minutes=5)  # don't start a send the window is about to close on
MAX_PER_WEEK = 3
PHONE_BUSY_RETRY = dt.timedelta(hours=1)  # a shared phone: look again after the other's turn


class Channel(StrEnum):
    SMS = "sms"
    VOICE = "voice"


class Step(StrEnum):
    """The attempt to make: it names the Message purpose it is recorded with."""

    FIRST = "first"
    REMINDER = "reminder"
    CALL = "call"


@dataclass(frozen=True)
class Window:
    """A send window in minutes after local midnight, e.g. 540-1140 for 09:00 to 19:00."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < self.end_minute <= 24 * 60:
            raise ValueError(f"bad send window {self.start_minute}-{self.end_minute}")

    def opens(self, day: dt.date, zone: ZoneInfo) -> dt.datetime:
        """Return when the window opens on local `day`, in UTC."""
        return _local(day, self.start_minute, zone)

    def closes(self, day: dt.date, zone: ZoneInfo) -> dt.datetime:
        """Return when the window closes on local `day`, in UTC."""
        return _local(day, self.end_minute, zone)


def _local(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    # Wall-clock arithmetic in the zone, then to UTC: 09:00 stays 09:00 across a DST change.
    # (US changes happen at 02:00, never inside an 08:00-20:00 window.)
    if minute == 24 * 60:
        return local_midnight(day + DAY, zone)
    hour, rest = divmod(minute, 60)
    return dt.datetime.combine(day, dt.time(hour, rest), tzinfo=zone).astimezone(UTC)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Return the start of local `day` in UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(UTC)


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """Return the local date of an aware `moment`."""
    return moment.astimezone(zone).date()


def window_left(now: dt.datetime, zone: ZoneInfo, window: Window) -> dt.timedelta | None:
    """Return how long the window stays open from `now`, or None when it is closed."""
    day = local_day(now, zone)
    if window.opens(day, zone) <= now < window.closes(day, zone):
        return window.closes(day, zone) - now
    return None


def next_send_time(now: dt.datetime, zone: ZoneInfo, window: Window) -> dt.datetime:
    """Return `now` if a send may start now, else the next opening of the window."""
    left = window_left(now, zone, window)
    if left is not None and left >= MIN_WINDOW_LEFT:
        return now
    day = local_day(now, zone)
    opens = window.opens(day, zone)
    return opens if now < opens else window.opens(day + DAY, zone)


def cap_free_at(now: dt.datetime, zone: ZoneInfo, sent: Iterable[dt.datetime]) -> dt.datetime:
    """Return the first moment from `now` at which the caps allow one more outreach.

    Caps (SPEC 7): one per local day, and at most three in any rolling 7 days, counting the
    pharmacy-initiated outreach in `sent` (all channels, all check-ins of the patient).
    """
    times = sorted(sent)
    candidate = now
    for _ in range(8):  # each rule only moves the candidate forward; a few rounds settle it
        moved = candidate
        today = local_day(moved, zone)
        if any(local_day(t, zone) == today for t in times if t <= moved):
            moved = local_midnight(today + DAY, zone)
        recent = [t for t in times if moved - WEEK < t <= moved]
        if len(recent) >= MAX_PER_WEEK:
            # The third most recent must fall out of the 7 days before this one is allowed.
            moved = max(moved, recent[-MAX_PER_WEEK] + WEEK)
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


def earliest_allowed(
    now: dt.datetime, zone: ZoneInfo, window: Window, sent: Sequence[dt.datetime]
) -> dt.datetime:
    """Return the first moment from `now` inside the window and within the caps."""
    candidate = now
    for _ in range(8):
        moved = next_send_time(cap_free_at(candidate, zone, sent), zone, window)
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


@dataclass(frozen=True)
class Attempt:
    """One outreach already recorded for this check-in (oldest first)."""

    channel: Channel
    at: dt.datetime
    status: str  # "pending"/"unknown" count as made: never repeated
    error_code: int | None = None

    @property
    def invalid_number(self) -> bool:
        """Tell whether Twilio said this number cannot take the attempt's channel."""
        return is_invalid_number(self.error_code)


@dataclass(frozen=True)
class Facts:
    """Everything the policy needs to know about one open check-in, as of `now`."""

    now: dt.datetime
    zone: ZoneInfo
    window: Window
    channel: Channel
    anchor_date: dt.date
    reminder_delay: dt.timedelta
    unreachable_days: int
    consent_date: dt.date | None
    opted_out: bool
    attempts: tuple[Attempt, ...]
    answered: bool  # the dialog is over: the check-in's status moved on (closed)
    staff_owns: bool  # a person has claimed a queue item of this check-in
    recent_outreach: tuple[dt.datetime, ...]  # the patient's, any check-in, last 7+ days
    # The patient answered part of the check-in and it is still open (SPEC 6): one reminder to
    # finish after `reminder_delay`, then an incomplete item at the unreachable deadline.
    answered_in_part: bool = False
    last_reply_at: dt.datetime | None = None
    reminded_since_reply: bool = False
    paused_until: dt.date | None = None  # staff paused the enrollment (a hospital stay)
    awaiting_review: bool = False  # new from an import: staff have not reviewed them yet
    # Another patient on the same phone is in the middle of their check-in: this one waits.
    phone_busy: bool = False


class Action(StrEnum):
    SEND = "send"  # make `step` on `channel` now
    WAIT = "wait"  # look again at `at`
    UNREACHABLE = "unreachable"  # raise the unreachable item; automation stops
    INCOMPLETE = "incomplete"  # answered in part, then silent: raise the incomplete item
    EXPIRE = "expire"  # the anchor date passed while the check-in was open
    OPT_OUT = "opt_out"  # the patient opted out: close the check-in
    DONE = "done"  # nothing more to do


@dataclass(frozen=True)
class Decision:
    action: Action
    at: dt.datetime | None = None  # WAIT: when to look again
    step: Step | None = None
    channel: Channel | None = None
    validity_seconds: int | None = None  # SEND by SMS: seconds left in today's window
    reason: str = ""


def expires_at(anchor: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Return when an open check-in expires: local midnight after its anchor date."""
    return local_midnight(anchor + DAY, zone)


def unreachable_at(facts: Facts) -> dt.datetime | None:
    """Return when 'no answer' becomes an unreachable item, or None before any attempt."""
    if not facts.attempts:
        return None
    deadline = local_midnight(
        facts.anchor_date - dt.timedelta(days=facts.unreachable_days), facts.zone
    )
    return max(deadline, facts.attempts[0].at + facts.reminder_delay)


def consented(consent_date: dt.date | None, today: dt.date) -> bool:
    """Tell whether outreach consent is recorded and in effect on local `today`."""
    return consent_date is not None and consent_date <= today


def paused(paused_until: dt.date | None, today: dt.date) -> bool:
    """Tell whether an enrollment is paused on local `today`: nothing is sent before
    `paused_until`, outreach resumes on that day (store.roster says the same)."""
    return paused_until is not None and today < paused_until


def next_step(facts: Facts) -> tuple[Step, Channel, dt.datetime] | None:
    """Return the next attempt, its channel and the earliest time it is due; None if all made."""
    attempts = facts.attempts
    texts = [a for a in attempts if a.channel is Channel.SMS]
    calls = [a for a in attempts if a.channel is Channel.VOICE]
    last = attempts[-1].at if attempts else facts.now
    if facts.channel is Channel.VOICE:
        if not calls:
            return Step.FIRST, Channel.VOICE, facts.now
        if len(calls) == 1:
            return Step.REMINDER, Channel.VOICE, last + facts.reminder_delay
        return None
    if calls:
        return None
    text_refused = any(a.invalid_number for a in texts)
    if not texts:
        return Step.FIRST, Channel.SMS, facts.now
    if text_refused:
        # A landline or bad number for SMS: go straight to the call (consent covers calls).
        return Step.CALL, Channel.VOICE, last
    if len(texts) == 1:
        return Step.REMINDER, Channel.SMS, last + facts.reminder_delay
    return Step.CALL, Channel.VOICE, last + CALL_DELAY


def decide(facts: Facts) -> Decision:
    """Decide what to do with one open check-in now."""
    now, zone = facts.now, facts.zone
    expiry = expires_at(facts.anchor_date, zone)
    today = local_day(now, zone)
    if now >= expiry:
        return Decision(Action.EXPIRE, reason="anchor date passed")
    if facts.opted_out:
        return Decision(Action.OPT_OUT, reason="patient opted out")
    if facts.answered:
        return Decision(Action.WAIT, at=expiry, reason="answered")
    held = _held(facts, today, expiry)
    if held is not None:
        return held
    if facts.answered_in_part:
        return _finish(facts, expiry)
    if any(a.channel is Channel.VOICE and a.invalid_number for a in facts.attempts):
        return Decision(Action.UNREACHABLE, reason="invalid number for calls")
    give_up = unreachable_at(facts)
    if give_up is not None and now >= give_up:
        return Decision(Action.UNREACHABLE, reason="no answer")
    upcoming = next_step(facts)
    if upcoming is None:
        return _wait(give_up or expiry, expiry, "all attempts made")
    step, channel, due = upcoming
    if now < due:
        return _wait(min(due, give_up or due), expiry, f"{step.value} not due yet")
    allowed = earliest_allowed(now, zone, facts.window, facts.recent_outreach)
    if allowed > now:
        return _wait(min(allowed, give_up or allowed), expiry, "outside window or over caps")
    left = window_left(now, zone, facts.window)
    assert left is not None  # earliest_allowed(now) == now means the window is open
    validity = int(left.total_seconds()) if channel is Channel.SMS else None
    return Decision(
        Action.SEND, step=step, channel=channel, validity_seconds=validity, reason=step.value
    )


def _held(facts: Facts, today: dt.date, expiry: dt.datetime) -> Decision | None:
    """Wait while nothing may be sent to this patient: staff own the check-in, no consent in
    effect, a pause, or a new patient staff have not reviewed; None when outreach may go on."""
    zone, window = facts.zone, facts.window
    if facts.staff_owns:
        # Automation pauses while a person owns the check-in; look again tomorrow.
        return _wait(window.opens(today + DAY, zone), expiry, "staff owns an item")
    if not consented(facts.consent_date, today):
        start = facts.consent_date if facts.consent_date and facts.consent_date > today else None
        return _wait(window.opens(start or today + DAY, zone), expiry, "no consent")
    if facts.paused_until is not None and paused(facts.paused_until, today):
        return _wait(window.opens(facts.paused_until, zone), expiry, "paused")
    if facts.awaiting_review:
        # Staff approving the patient brings the look forward (checkins.look_again).
        return _wait(window.opens(today + DAY, zone), expiry, "waiting for staff review")
    if facts.phone_busy:
        return _wait(facts.now + PHONE_BUSY_RETRY, expiry, "another check-in on this phone")
    return None


def incomplete_at(facts: Facts) -> dt.datetime:
    """When a check-in answered in part becomes incomplete: the unreachable deadline, but never
    sooner than the reminder delay after the last reply (a late answer gets its chance)."""
    deadline = local_midnight(
        facts.anchor_date - dt.timedelta(days=facts.unreachable_days), facts.zone
    )
    last = facts.last_reply_at or facts.now
    return max(deadline, last + facts.reminder_delay)


def _finish(facts: Facts, expiry: dt.datetime) -> Decision:
    """The patient answered part of the check-in: one reminder to finish, then incomplete."""
    now, zone = facts.now, facts.zone
    give_up = incomplete_at(facts)
    if now >= give_up:
        return Decision(Action.INCOMPLETE, reason="answered in part, then silent")
    if facts.reminded_since_reply:
        return _wait(give_up, expiry, "reminded to finish")
    due = (facts.last_reply_at or now) + facts.reminder_delay
    if now < due:
        return _wait(min(due, give_up), expiry, "reminder to finish not due yet")
    allowed = earliest_allowed(now, zone, facts.window, facts.recent_outreach)
    if allowed > now:
        return _wait(min(allowed, give_up), expiry, "outside window or over caps")
    left = window_left(now, zone, facts.window)
    assert left is not None
    sms = facts.channel is Channel.SMS
    return Decision(
        Action.SEND,
        step=Step.REMINDER,
        channel=facts.channel,
        validity_seconds=int(left.total_seconds()) if sms else None,
        reason="reminder to finish",
    )


def _wait(at: dt.datetime, expiry: dt.datetime, reason: str) -> Decision:
    return Decision(Action.WAIT, at=min(at, expiry), reason=reason)


def checkin_due(
    today: dt.date, anchor: dt.date, lead_days: int, paused_until: dt.date | None = None
) -> bool:
    """Tell whether a check-in for `anchor` should exist on local `today` (late enrollees too);
    a paused enrollment gets its check-in when the pause ends, if the anchor is still ahead."""
    due = anchor - dt.timedelta(days=lead_days) <= today <= anchor
    return due and not paused(paused_until, today)


def rolled_anchor(anchor: dt.date, cycle_days: int, today: dt.date) -> dt.date:
    """Return the first anchor of the cycle on or after local `today` (anchor if not past)."""
    if anchor >= today:
        return anchor
    cycles = -(-(today - anchor).days // cycle_days)  # ceiling division
    return anchor + dt.timedelta(days=cycles * cycle_days)


def zone_of(patient_zone: str | None, store_zone: str) -> ZoneInfo:
    """Return the patient's zone, else the store's."""
    return ZoneInfo(patient_zone or store_zone)
