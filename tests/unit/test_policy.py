"""scheduler.policy: send windows across DST, caps, and the attempt sequence (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from scheduler import policy
from scheduler.policy import Action, Attempt, Channel, Decision, Facts, Step, Window

NY = ZoneInfo("America/New_York")
PHX = ZoneInfo("America/Phoenix")
WINDOW = Window(9 * 60, 19 * 60)
ANCHOR = dt.date(2026, 12, 14)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def ny(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY).astimezone(dt.UTC)


def facts(now: dt.datetime, **overrides: object) -> Facts:
    values: dict[str, object] = {
        "now": now,
        "zone": NY,
        "window": WINDOW,
        "channel": Channel.SMS,
        "anchor_date": ANCHOR,
        "reminder_delay": dt.timedelta(hours=24),
        "unreachable_days": 3,
        "consent_date": dt.date(2026, 1, 1),
        "opted_out": False,
        "attempts": (),
        "answered": False,
        "staff_owns": False,
        "recent_outreach": (),
    }
    values.update(overrides)
    return Facts(**values)  # type: ignore[arg-type]


def sent(channel: Channel, at: dt.datetime, status: str = "queued", code: int | None = None):  # type: ignore[no-untyped-def]
    return Attempt(channel, at, status, code)


def with_attempts(now: dt.datetime, *attempts: Attempt, **overrides: object) -> Facts:
    return facts(now, attempts=attempts, recent_outreach=tuple(a.at for a in attempts), **overrides)


# --- windows --------------------------------------------------------------------------------


def test_it_opens_the_window_at_local_nine_on_both_sides_of_a_dst_change() -> None:
    assert WINDOW.opens(dt.date(2027, 3, 13), NY) == utc(2027, 3, 13, 14, 0)  # EST
    assert WINDOW.opens(dt.date(2027, 3, 14), NY) == utc(2027, 3, 14, 13, 0)  # EDT from today
    assert WINDOW.opens(dt.date(2026, 11, 1), NY) == utc(2026, 11, 1, 14, 0)  # EST from today
    assert WINDOW.opens(dt.date(2027, 3, 14), PHX) == utc(2027, 3, 14, 16, 0)  # no DST


def test_it_waits_for_the_window_and_skips_its_last_five_minutes() -> None:
    assert policy.next_send_time(ny(2026, 12, 7, 8, 0), NY, WINDOW) == ny(2026, 12, 7, 9, 0)
    assert policy.next_send_time(ny(2026, 12, 7, 12, 0), NY, WINDOW) == ny(2026, 12, 7, 12, 0)
    assert policy.next_send_time(ny(2026, 12, 7, 18, 56), NY, WINDOW) == ny(2026, 12, 8, 9, 0)
    assert policy.next_send_time(ny(2026, 12, 7, 19, 0), NY, WINDOW) == ny(2026, 12, 8, 9, 0)


def test_it_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Window(600, 540)


# --- caps -----------------------------------------------------------------------------------


def test_it_allows_one_outreach_per_local_day_not_per_utc_day() -> None:
    # 22:00 in New York is 03:00 UTC the next day: still the same local day.
    evening = ny(2026, 12, 7, 18, 0)
    assert policy.cap_free_at(ny(2026, 12, 7, 22, 0), NY, [evening]) == ny(2026, 12, 8, 0, 0)
    assert policy.cap_free_at(ny(2026, 12, 8, 9, 0), NY, [evening]) == ny(2026, 12, 8, 9, 0)


def test_it_allows_three_outreach_in_any_rolling_seven_days() -> None:
    times = [ny(2026, 12, 1, 10, 0), ny(2026, 12, 3, 10, 0), ny(2026, 12, 5, 10, 0)]
    assert policy.cap_free_at(ny(2026, 12, 6, 10, 0), NY, times) == ny(2026, 12, 8, 10, 0)
    assert policy.cap_free_at(ny(2026, 12, 6, 10, 0), NY, times[1:]) == ny(2026, 12, 6, 10, 0)


def test_it_finds_the_first_time_inside_the_window_and_within_the_caps() -> None:
    times = [ny(2026, 12, 1, 18, 30), ny(2026, 12, 3, 18, 30), ny(2026, 12, 5, 18, 30)]
    # The caps free up at 18:30 on 12-08, with 30 minutes of window left: allowed then.
    assert policy.earliest_allowed(ny(2026, 12, 6, 9, 0), NY, WINDOW, times) == ny(
        2026, 12, 8, 18, 30
    )
    late = [ny(2026, 12, 1, 18, 58), ny(2026, 12, 3, 10, 0), ny(2026, 12, 5, 10, 0)]
    assert policy.earliest_allowed(ny(2026, 12, 6, 9, 0), NY, WINDOW, late) == ny(2026, 12, 9, 9, 0)


# --- the attempt sequence -------------------------------------------------------------------


def test_it_sends_the_first_text_inside_the_window_with_the_time_left_as_validity() -> None:
    decision = policy.decide(facts(ny(2026, 12, 7, 18, 0)))
    assert decision == Decision(
        Action.SEND,
        step=Step.FIRST,
        channel=Channel.SMS,
        validity_seconds=3600,
        reason="first",
    )


def test_it_waits_for_the_window_before_the_first_text() -> None:
    decision = policy.decide(facts(ny(2026, 12, 7, 6, 0)))
    assert (decision.action, decision.at) == (Action.WAIT, ny(2026, 12, 7, 9, 0))


def test_it_sends_the_reminder_after_the_delay_then_the_call_a_day_later() -> None:
    first = sent(Channel.SMS, ny(2026, 12, 7, 9, 1))
    waiting = policy.decide(with_attempts(ny(2026, 12, 7, 15, 0), first))
    assert (waiting.action, waiting.at) == (Action.WAIT, ny(2026, 12, 8, 9, 1))
    reminder = policy.decide(with_attempts(ny(2026, 12, 8, 9, 1), first))
    assert (reminder.action, reminder.step, reminder.channel) == (
        Action.SEND,
        Step.REMINDER,
        Channel.SMS,
    )
    second = sent(Channel.SMS, ny(2026, 12, 8, 9, 1))
    call = policy.decide(with_attempts(ny(2026, 12, 9, 9, 1), first, second))
    assert (call.action, call.step, call.channel, call.validity_seconds) == (
        Action.SEND,
        Step.CALL,
        Channel.VOICE,
        None,
    )


def test_it_raises_unreachable_at_anchor_minus_three_days_after_all_attempts() -> None:
    attempts = (
        sent(Channel.SMS, ny(2026, 12, 7, 9, 1)),
        sent(Channel.SMS, ny(2026, 12, 8, 9, 1)),
        sent(Channel.VOICE, ny(2026, 12, 9, 9, 1)),
    )
    waiting = policy.decide(with_attempts(ny(2026, 12, 10, 12, 0), *attempts))
    assert (waiting.action, waiting.at) == (Action.WAIT, ny(2026, 12, 11, 0, 0))
    assert policy.decide(with_attempts(ny(2026, 12, 11, 0, 0), *attempts)).action is (
        Action.UNREACHABLE
    )


def test_it_gives_a_late_enrollee_a_day_to_answer_before_unreachable() -> None:
    first = sent(Channel.SMS, ny(2026, 12, 12, 10, 0))  # anchor - 2 days
    waiting = policy.decide(with_attempts(ny(2026, 12, 12, 12, 0), first))
    assert (waiting.action, waiting.at) == (Action.WAIT, ny(2026, 12, 13, 10, 0))
    assert policy.decide(with_attempts(ny(2026, 12, 13, 10, 0), first)).action is (
        Action.UNREACHABLE
    )


def test_it_calls_voice_patients_twice_and_never_texts_them() -> None:
    first = policy.decide(facts(ny(2026, 12, 7, 10, 0), channel=Channel.VOICE))
    assert (first.step, first.channel) == (Step.FIRST, Channel.VOICE)
    call = sent(Channel.VOICE, ny(2026, 12, 7, 10, 0))
    again = policy.decide(with_attempts(ny(2026, 12, 8, 10, 0), call, channel=Channel.VOICE))
    assert (again.step, again.channel) == (Step.REMINDER, Channel.VOICE)
    calls = (call, sent(Channel.VOICE, ny(2026, 12, 8, 10, 0)))
    done = policy.decide(with_attempts(ny(2026, 12, 9, 10, 0), *calls, channel=Channel.VOICE))
    assert (done.action, done.at) == (Action.WAIT, ny(2026, 12, 11, 0, 0))


def test_it_moves_on_to_the_call_after_a_text_to_an_invalid_number() -> None:
    refused = sent(Channel.SMS, ny(2026, 12, 7, 10, 0), "failed", 21614)
    # A refusal never reached the patient, so it is not in the caps.
    decision = policy.decide(facts(ny(2026, 12, 7, 10, 0), attempts=(refused,)))
    assert (decision.action, decision.step, decision.channel) == (
        Action.SEND,
        Step.CALL,
        Channel.VOICE,
    )


def test_it_gives_up_at_once_after_a_call_to_an_invalid_number() -> None:
    refused = sent(Channel.VOICE, ny(2026, 12, 7, 10, 0), "failed", 21211)
    decision = policy.decide(facts(ny(2026, 12, 7, 11, 0), attempts=(refused,)))
    assert decision.action is Action.UNREACHABLE


@pytest.mark.parametrize("status", ["pending", "unknown"])
def test_it_never_repeats_an_attempt_whose_outcome_is_unknown(status: str) -> None:
    crashed = sent(Channel.SMS, ny(2026, 12, 7, 10, 0), status)
    decision = policy.decide(with_attempts(ny(2026, 12, 7, 10, 5), crashed))
    assert (decision.action, decision.at) == (Action.WAIT, ny(2026, 12, 8, 10, 0))


def test_it_stops_following_up_once_the_patient_answers() -> None:
    first = sent(Channel.SMS, ny(2026, 12, 7, 10, 0))
    decision = policy.decide(with_attempts(ny(2026, 12, 8, 10, 0), first, answered=True))
    assert (decision.action, decision.at) == (Action.WAIT, ny(2026, 12, 15, 0, 0))


def test_it_pauses_while_staff_own_the_checkin() -> None:
    first = sent(Channel.SMS, ny(2026, 12, 7, 10, 0))
    decision = policy.decide(with_attempts(ny(2026, 12, 8, 10, 0), first, staff_owns=True))
    assert (decision.action, decision.at) == (Action.WAIT, ny(2026, 12, 9, 9, 0))


def test_it_contacts_nobody_without_consent_in_effect() -> None:
    none = policy.decide(facts(ny(2026, 12, 7, 10, 0), consent_date=None))
    assert (none.action, none.at) == (Action.WAIT, ny(2026, 12, 8, 9, 0))
    later = policy.decide(facts(ny(2026, 12, 7, 10, 0), consent_date=dt.date(2026, 12, 10)))
    assert (later.action, later.at) == (Action.WAIT, ny(2026, 12, 10, 9, 0))


def test_it_closes_the_checkin_of_an_opted_out_patient() -> None:
    assert policy.decide(facts(ny(2026, 12, 7, 10, 0), opted_out=True)).action is Action.OPT_OUT


def test_it_expires_an_open_checkin_at_local_midnight_after_the_anchor() -> None:
    before = facts(ny(2026, 12, 14, 23, 59), answered=True)
    assert policy.decide(before).action is Action.WAIT
    assert policy.decide(replace(before, now=ny(2026, 12, 15, 0, 0))).action is Action.EXPIRE


# --- creation and rollover ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (dt.date(2026, 12, 6), False),
        (dt.date(2026, 12, 7), True),  # anchor - 7
        (dt.date(2026, 12, 12), True),  # a late enrollee still gets one
        (dt.date(2026, 12, 14), True),  # the anchor date itself
        (dt.date(2026, 12, 15), False),
    ],
)
def test_it_says_when_a_checkin_is_due(today: dt.date, due: bool) -> None:
    assert policy.checkin_due(today, ANCHOR, 7) is due


def test_it_rolls_an_anchor_by_whole_cycles_until_it_is_not_past() -> None:
    assert policy.rolled_anchor(ANCHOR, 30, dt.date(2026, 12, 14)) == ANCHOR
    assert policy.rolled_anchor(ANCHOR, 30, dt.date(2026, 12, 15)) == dt.date(2027, 1, 13)
    assert policy.rolled_anchor(ANCHOR, 30, dt.date(2027, 3, 1)) == dt.date(2027, 3, 14)


# --- answered in part (SPEC 6) and paused enrollments ----------------------------------------


def in_part(now: dt.datetime, **overrides: object) -> Facts:
    first = sent(Channel.SMS, ny(2026, 12, 7, 9, 0))
    values: dict[str, object] = {
        "attempts": (first,),
        "recent_outreach": (first.at,),
        "answered_in_part": True,
        "last_reply_at": ny(2026, 12, 7, 10, 0),
        **overrides,
    }
    return facts(now, **values)


def test_it_reminds_a_patient_who_answered_in_part_once_a_delay_after_the_reply() -> None:
    waiting = policy.decide(in_part(ny(2026, 12, 8, 9, 30)))
    assert waiting.action is Action.WAIT and waiting.at == ny(2026, 12, 8, 10, 0)
    reminder = policy.decide(in_part(ny(2026, 12, 8, 10, 0)))
    assert (reminder.action, reminder.step, reminder.channel) == (
        Action.SEND,
        Step.REMINDER,
        Channel.SMS,
    )
    # Once: after it, only the deadline.
    done = policy.decide(in_part(ny(2026, 12, 9, 10, 0), reminded_since_reply=True))
    assert done.action is Action.WAIT and done.at == ny(2026, 12, 11, 0, 0)


def test_it_keeps_the_caps_and_the_window_for_the_reminder_to_finish() -> None:
    late = policy.decide(in_part(ny(2026, 12, 8, 19, 30)))
    assert late.action is Action.WAIT and late.at == ny(2026, 12, 9, 9, 0)
    capped = in_part(ny(2026, 12, 8, 12, 0), recent_outreach=(ny(2026, 12, 8, 9, 0),))
    assert policy.decide(capped).at == ny(2026, 12, 9, 9, 0)  # one a local day


def test_it_raises_incomplete_at_the_deadline_but_not_before_a_delay_after_a_late_reply() -> None:
    assert policy.decide(in_part(ny(2026, 12, 11, 0, 0))).action is Action.INCOMPLETE
    late_reply = in_part(ny(2026, 12, 11, 1, 0), last_reply_at=ny(2026, 12, 10, 20, 0))
    decision = policy.decide(late_reply)
    assert decision.action is Action.WAIT and decision.at == ny(2026, 12, 11, 20, 0)


def test_it_never_finishes_for_staff_who_own_the_checkin() -> None:
    owned = policy.decide(in_part(ny(2026, 12, 8, 10, 0), staff_owns=True))
    assert owned.action is Action.WAIT


def test_it_sends_nothing_while_the_enrollment_is_paused() -> None:
    paused = policy.decide(facts(ny(2026, 12, 7, 10, 0), paused_until=dt.date(2026, 12, 9)))
    assert paused.action is Action.WAIT and paused.at == ny(2026, 12, 9, 9, 0)  # resumes that day
    assert (
        policy.decide(facts(ny(2026, 12, 10, 10, 0), paused_until=dt.date(2026, 12, 9))).action
        is Action.SEND
    )
