"""scheduler.policy and enrollment (SPEC 14): a pause and a pending review hold outreach."""

from __future__ import annotations

import datetime as dt

from scheduler import policy
from scheduler.policy import Action, Channel
from tests.unit.test_policy import ANCHOR, facts, ny, sent


def test_a_paused_enrollment_waits_for_the_window_of_the_day_the_pause_ends() -> None:
    decision = policy.decide(facts(ny(2026, 12, 7, 10, 0), paused_until=dt.date(2026, 12, 9)))
    assert (decision.action, decision.at, decision.reason) == (
        Action.WAIT,
        ny(2026, 12, 9, 9, 0),
        "paused",
    )


def test_outreach_resumes_on_the_day_the_pause_ends() -> None:
    decision = policy.decide(facts(ny(2026, 12, 9, 10, 0), paused_until=dt.date(2026, 12, 9)))
    assert decision.action is Action.SEND


def test_a_pause_holds_the_unreachable_item_too() -> None:
    first = sent(Channel.SMS, ny(2026, 12, 7, 9, 0))
    now = ny(2026, 12, 12, 10, 0)  # past anchor - 3 days
    paused = facts(now, attempts=(first,), paused_until=dt.date(2026, 12, 20))
    assert policy.decide(paused).action is Action.WAIT
    assert policy.decide(paused).at == policy.expires_at(ANCHOR, paused.zone)
    assert policy.decide(facts(now, attempts=(first,))).action is Action.UNREACHABLE


def test_a_patient_waiting_for_review_is_looked_at_again_the_next_day() -> None:
    decision = policy.decide(facts(ny(2026, 12, 7, 10, 0), awaiting_review=True))
    assert (decision.action, decision.at) == (Action.WAIT, ny(2026, 12, 8, 9, 0))


def test_no_check_in_is_due_while_paused() -> None:
    today = dt.date(2026, 12, 8)
    assert policy.checkin_due(today, ANCHOR, 7)
    assert not policy.checkin_due(today, ANCHOR, 7, paused_until=dt.date(2026, 12, 10))
    assert policy.checkin_due(today, ANCHOR, 7, paused_until=today)
