"""Writes of enrollment changes (bot/enrollment.py): the cycle's check-in following a new
anchor date, check-ins cancelled or looked at again, medicine types, follow-ups.

Functions only add, query and flush; the use case's caller commits. Check-in status writes
stay in store/checkins.py (`close_open_checkins`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.models import (
    OPEN_CHECKIN_STATUSES,
    Channel,
    Checkin,
    CheckinStatus,
    Enrollment,
    FollowUp,
    QueueItem,
    Service,
)


def cycle_checkin(session: Session, enrollment: Enrollment) -> Checkin | None:
    """The check-in of the enrollment's current anchor date, if the scheduler made it."""
    return session.scalars(
        select(Checkin).where(
            Checkin.enrollment_id == enrollment.id,
            Checkin.anchor_date == enrollment.anchor_date,
        )
    ).first()


def started(checkin: Checkin) -> bool:
    """The patient has been contacted for this check-in (or it is over): it must be kept, so
    the patient is never asked twice for one cycle."""
    return checkin.attempts > 0 or checkin.status not in OPEN_CHECKIN_STATUSES


def move_anchor(session: Session, enrollment: Enrollment, new: dt.date, now: dt.datetime) -> str:
    """Set a new anchor date; the cycle's check-in follows it or is cancelled, never doubled.

    * No check-in for the cycle yet: nothing to move; the scheduler makes it when it is due.
    * A check-in that has started (a text or call went out, or it is answered) follows the
      new date, with its open queue items, and is looked at again at once (its reminders and
      deadlines count from the new date): no second first text.
    * One that has not started is deleted; the scheduler makes the new date's check-in when
      it is due (at once when it already is).
    Return what happened to the check-in ("none", "moved", "cancelled").
    """
    current = cycle_checkin(session, enrollment)
    enrollment.anchor_date = new
    if current is None:
        return "none"
    taken = session.scalars(
        select(Checkin.id).where(Checkin.enrollment_id == enrollment.id, Checkin.anchor_date == new)
    ).first()
    if started(current) and taken is None:
        current.anchor_date = new
        if current.status in OPEN_CHECKIN_STATUSES:
            current.next_attempt_at = now
        current.updated_at = now
        session.execute(
            update(QueueItem)
            .where(QueueItem.checkin_id == current.id, QueueItem.status.in_(("open", "claimed")))
            .values(anchor_date=new)
            .execution_options(synchronize_session=False)
        )
        enrollment.checkin_anchor_date = new
        return "moved"
    if not started(current):
        session.delete(current)
    # The new date already has its check-in (the anchor moved back to it) or gets one when
    # due; a started check-in for the old date keeps its date (it is that cycle's record).
    enrollment.checkin_anchor_date = new if taken is not None else None
    return "cancelled"


def cancel_unstarted_checkins(session: Session, patient_id: int) -> int:
    """Delete the patient's check-ins that never contacted them (a disenrollment)."""
    result = session.execute(
        delete(Checkin)
        .where(
            Checkin.patient_id == patient_id,
            Checkin.status == CheckinStatus.SCHEDULED,
            Checkin.attempts == 0,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def look_again_now(session: Session, patient_id: int, now: dt.datetime) -> None:
    """Make the patient's open check-ins due now: what held them (a pause, a review) ended."""
    session.execute(
        update(Checkin)
        .where(Checkin.patient_id == patient_id, Checkin.status.in_(OPEN_CHECKIN_STATUSES))
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def follow_unstarted_channel(session: Session, patient_id: int, channel: Channel) -> None:
    """A new channel: check-ins that have not contacted the patient yet use it."""
    session.execute(
        update(Checkin)
        .where(
            Checkin.patient_id == patient_id,
            Checkin.status == CheckinStatus.SCHEDULED,
            Checkin.attempts == 0,
        )
        .values(channel=channel)
        .execution_options(synchronize_session=False)
    )


def add_follow_ups(
    session: Session,
    *,
    store_id: int,
    patient_id: int,
    services: Iterable[Service],
    note: str | None,
    by_id: int | None,
    now: dt.datetime,
) -> list[FollowUp]:
    """Record services offered at enrollment as follow-ups for staff."""
    added = [
        FollowUp(
            store_id=store_id,
            patient_id=patient_id,
            service=service,
            note=note,
            created_by_id=by_id,
            created_at=now,
        )
        for service in services
    ]
    session.add_all(added)
    session.flush()
    return added


def open_follow_ups(session: Session, patient_id: int) -> Sequence[FollowUp]:
    """The patient's follow-ups not marked done, oldest first."""
    return session.scalars(
        select(FollowUp)
        .where(FollowUp.patient_id == patient_id, FollowUp.done_at.is_(None))
        .order_by(FollowUp.created_at, FollowUp.id)
    ).all()


def finish_follow_up(
    session: Session, patient_id: int, follow_up_id: int, by_id: int, now: dt.datetime
) -> bool:
    """Mark one of the patient's follow-ups done (once); tell whether this call did."""
    result = session.execute(
        update(FollowUp)
        .where(
            FollowUp.id == follow_up_id,
            FollowUp.patient_id == patient_id,
            FollowUp.done_at.is_(None),
        )
        .values(done_at=now, done_by_id=by_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0)) == 1
