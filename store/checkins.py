"""Check-ins for the scheduler: creating them, finding and claiming due ones, their history.

Functions only add, query and flush; the scheduler job that calls them owns the transaction.
Every query here is written to walk an index (see docs/benchmarks.md for the plans):
enrollments by `anchor_date` through the partial index of those still waiting for their
check-in, due check-ins through `(status, next_attempt_at)`, history by check-in or patient.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from store.models import (
    CHECKIN_PURPOSES,
    OPEN_CHECKIN_STATUSES,
    OUTREACH_PURPOSES,
    Channel,
    Checkin,
    CheckinStatus,
    Direction,
    Enrollment,
    Message,
    Patient,
    Purpose,
    QueueItem,
    QueueStatus,
    SchedulerPass,
    Store,
    table_of,
)


def checkin_pending() -> ColumnElement[bool]:
    """Return models.CHECKIN_PENDING as an expression (the partial index's own predicate)."""
    return or_(
        Enrollment.checkin_anchor_date.is_(None),
        Enrollment.checkin_anchor_date != Enrollment.anchor_date,
    )


@dataclass(frozen=True)
class Candidate:
    """An enrollment that may need a check-in for its current anchor date."""

    enrollment_id: int
    patient_id: int
    store_id: int
    anchor_date: dt.date
    channel: Channel
    zone: str
    lead_days: int
    paused_until: dt.date | None = None


def list_checkin_candidates(
    session: Session,
    first: dt.date,
    last: dt.date,
    *,
    after: tuple[dt.date, int] | None = None,
    limit: int = 1000,
) -> list[Candidate]:
    """Return active enrollments anchored in [first, last] that have no check-in for it yet.

    Keyset-paged by (anchor_date, id) from `after`. The condition on `checkin_anchor_date`
    repeats the partial index's predicate word for word, so both databases use that index,
    which is ordered by (anchor_date, id): a page reads its own rows, not its whole day.
    """
    query = (
        select(
            Enrollment.id,
            Enrollment.patient_id,
            Patient.store_id,
            Enrollment.anchor_date,
            Patient.channel,
            func.coalesce(Patient.timezone, Store.timezone),
            Store.lead_days,
            Enrollment.paused_until,
        )
        .join(Patient, Patient.id == Enrollment.patient_id)
        .join(Store, Store.id == Patient.store_id)
        .where(
            checkin_pending(),
            Enrollment.anchor_date >= first,
            Enrollment.anchor_date <= last,
            Enrollment.active.is_(True),
        )
        .order_by(Enrollment.anchor_date, Enrollment.id)
        .limit(limit)
    )
    if after is not None:
        # A row comparison, which both databases read as a range of the index.
        query = query.where(tuple_(Enrollment.anchor_date, Enrollment.id) > tuple_(*after))
    return [Candidate(*row) for row in session.execute(query)]


def create_checkins(session: Session, due: Sequence[Candidate], now: dt.datetime) -> int:
    """Insert one check-in per candidate unless it exists; mark the enrollments; count new rows.

    The unique (enrollment, anchor date) constraint makes a second pass or a second scheduler
    harmless: the insert skips what exists instead of failing.
    """
    if not due:
        return 0
    rows = [
        {
            "enrollment_id": c.enrollment_id,
            "patient_id": c.patient_id,
            "store_id": c.store_id,
            "anchor_date": c.anchor_date,
            "status": CheckinStatus.SCHEDULED,
            "channel": c.channel,
            "next_attempt_at": now,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for c in due
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(Checkin)
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["enrollment_id", "anchor_date"])
        .returning(table.c.id)
    )
    # The rows as parameters of one compiled statement (SQLAlchemy's insertmanyvalues), not
    # as `.values(rows)`: that builds and keys a new statement of 2,000 values a page, 45 ms
    # of CPU against 12 for 200 check-ins on PostgreSQL.
    created = session.execute(statement, rows).all()
    session.execute(
        update(Enrollment),
        [{"id": c.enrollment_id, "checkin_anchor_date": c.anchor_date} for c in due],
    )
    return len(created)


@dataclass(frozen=True)
class PastAnchor:
    enrollment_id: int
    anchor_date: dt.date
    cycle_days: int
    zone: str


def list_past_anchors(session: Session, before: dt.date, limit: int = 1000) -> list[PastAnchor]:
    """Return active enrollments whose anchor date is before `before` (oldest first)."""
    query = (
        select(
            Enrollment.id,
            Enrollment.anchor_date,
            Enrollment.cycle_days,
            func.coalesce(Patient.timezone, Store.timezone),
        )
        .join(Patient, Patient.id == Enrollment.patient_id)
        .join(Store, Store.id == Patient.store_id)
        .where(Enrollment.anchor_date < before, Enrollment.active.is_(True))
        .order_by(Enrollment.anchor_date, Enrollment.id)
        .limit(limit)
    )
    return [PastAnchor(*row) for row in session.execute(query)]


def move_anchors(session: Session, moves: Sequence[tuple[int, dt.date, dt.date]]) -> None:
    """Set each enrollment's anchor (id, old, new) unless someone changed it meanwhile."""
    for enrollment_id, old, new in moves:
        session.execute(
            update(Enrollment)
            .where(Enrollment.id == enrollment_id, Enrollment.anchor_date == old)
            .values(anchor_date=new)
        )


def _unclaimed(now: Any, stale_before: Any) -> ColumnElement[bool]:
    """Nobody holds the check-in: never claimed, the claim ran out, or its pass stopped beating
    (a killed scheduler's claims are free at once, a live sibling's are not)."""
    live = exists().where(
        SchedulerPass.id == Checkin.claimed_by, SchedulerPass.beat_at > stale_before
    )
    return or_(Checkin.claimed_until.is_(None), Checkin.claimed_until < now, ~live)


def _due_clause(now: Any, stale_before: Any) -> list[object]:
    return [
        Checkin.status.in_(OPEN_CHECKIN_STATUSES),
        or_(Checkin.next_attempt_at <= now, Checkin.next_attempt_at.is_(None)),
        _unclaimed(now, stale_before),
    ]


def earliest_next_attempt(session: Session) -> dt.datetime | None:
    """When the open check-in due soonest is due (None when none waits for a time)."""
    query = select(func.min(Checkin.next_attempt_at)).where(
        Checkin.status.in_(OPEN_CHECKIN_STATUSES)
    )
    return session.scalar(query)


def list_due_checkin_ids(
    session: Session, now: dt.datetime, limit: int, stale_before: dt.datetime
) -> list[int]:
    """Return ids of open check-ins due by `now` and not claimed, earliest first.

    Check-ins made elsewhere without a `next_attempt_at` come first. They are a second query
    because one OR'd condition would make SQLite read every open check-in by status alone.
    On PostgreSQL the rows are locked with SKIP LOCKED until the caller commits its claims, so
    a second scheduler selecting at the same moment gets other rows instead of waiting.
    """
    unclaimed = _unclaimed(now, stale_before)
    open_ = Checkin.status.in_(OPEN_CHECKIN_STATUSES)
    queries = [
        select(Checkin.id).where(open_, Checkin.next_attempt_at.is_(None), unclaimed),
        select(Checkin.id)
        .where(open_, Checkin.next_attempt_at <= now, unclaimed)
        .order_by(Checkin.next_attempt_at),
    ]
    ids: list[int] = []
    for query in queries:
        if len(ids) >= limit:
            break
        query = query.limit(limit - len(ids))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids.extend(session.scalars(query))
    return ids


def claim_checkins(
    session: Session,
    checkin_ids: list[int],
    now: dt.datetime,
    until: dt.datetime,
    *,
    pass_id: int | None = None,
    stale_before: dt.datetime | None = None,
) -> list[int]:
    """Claim due check-ins for the pass `pass_id` until `until`; return the ids it got.

    One conditional UPDATE for the whole batch: of several racing schedulers exactly one
    changes each row (on PostgreSQL the caller's `list_due_checkin_ids` has already locked
    these rows in the same transaction, so no two claims wait on each other).
    """
    if not checkin_ids:
        return []
    statement = (
        update(Checkin)
        .where(Checkin.id.in_(checkin_ids), *_due_clause(now, stale_before or now))  # type: ignore[arg-type]
        .values(claimed_until=until, claimed_by=pass_id)
        .returning(Checkin.id)
        .execution_options(synchronize_session=False)
    )
    got = set(session.scalars(statement))
    return [checkin_id for checkin_id in checkin_ids if checkin_id in got]


def release_checkin(
    session: Session,
    checkin: Checkin,
    now: dt.datetime,
    *,
    next_attempt_at: dt.datetime | None,
    status: CheckinStatus | None = None,
) -> None:
    """Record when the check-in next needs a look (and its new status) and drop the claim."""
    checkin.next_attempt_at = next_attempt_at
    checkin.claimed_until = None
    checkin.claimed_by = None
    if status is not None and status != checkin.status:
        checkin.status = status
        checkin.completed_at = checkin.completed_at or now
    checkin.updated_at = now


def look_again(session: Session, checkin_id: int, now: dt.datetime) -> None:
    """Make an open check-in due now: what paused it (a staff claim) has ended.

    While staff own a check-in the scheduler looks at it again only the next day; this brings
    that forward, so reminders resume on the next pass. A closed check-in is left alone.
    """
    session.execute(
        update(Checkin)
        .where(
            Checkin.id == checkin_id,
            Checkin.status.in_(OPEN_CHECKIN_STATUSES),
            Checkin.next_attempt_at > now,  # None is due already
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def was_refused(status: str, twilio_sid: str | None) -> bool:
    """Tell whether Twilio refused a request outright (it never reached the patient)."""
    return status == "failed" and not twilio_sid


@dataclass(frozen=True)
class OutreachRow:
    id: int
    channel: Channel
    created_at: dt.datetime
    status: str
    error_code: int | None
    twilio_sid: str | None
    purpose: Purpose | None = None
    body: str | None = None  # read for a text recorded but never handed over (OUTBOX)

    @property
    def refused(self) -> bool:
        """Tell whether Twilio refused the request outright (it never reached the patient)."""
        return was_refused(self.status, self.twilio_sid)


# The two statements of the scheduler's per-check-in reads are built once, with parameters:
# building a statement costs more Python time than SQLite takes to run it.
_LOCK_CHECKIN = (
    select(Checkin)
    .join(Checkin.patient)
    .join(Checkin.store)
    .join(Checkin.enrollment)  # its pause, in the same statement
    .options(
        contains_eager(Checkin.patient),
        contains_eager(Checkin.store),
        contains_eager(Checkin.enrollment),
    )
    .where(Checkin.id == bindparam("checkin_id"))
    .with_for_update(of=Patient)
)


def lock_checkin(session: Session, checkin_id: int) -> Checkin | None:
    """Return the check-in with its patient, store and enrollment, in one statement; lock the
    patient.

    The patient row is locked FOR UPDATE on PostgreSQL (SQLite's BEGIN IMMEDIATE already
    serializes writers), as `patients.get_patient(lock=True)` would: one decision per patient
    at a time. The patient's columns are those after any wait for the lock.
    """
    return session.scalars(_LOCK_CHECKIN, {"checkin_id": checkin_id}).one_or_none()


@dataclass(frozen=True)
class History:
    """What the scheduler's policy needs from the messages and queue of one check-in."""

    # The check-in's pharmacy-initiated outreach (first, reminder, call), oldest first.
    made: list[OutreachRow]
    # (id, when) of the patient's outreach since `since`, any check-in or channel, except
    # requests Twilio refused outright (they never reached the patient).
    recent: list[tuple[int, dt.datetime]]
    # Whether the patient sent anything after the check-in's first outreach was recorded. Ids,
    # not clocks: the outreach row is committed before it is sent, so a reply has a larger id.
    replied: bool
    # Whether a person has claimed one of the check-in's queue items.
    staff_owns: bool
    # When the patient last wrote or spoke after the first outreach, and whether an attempt
    # (a reminder to finish) was made after that.
    last_reply_at: dt.datetime | None = None
    attempted_since_reply: bool = False
    # Another patient on the same phone is in the middle of their check-in (_batch_history_query).
    phone_busy: bool = False


def read_history(
    session: Session,
    checkin_id: int,
    patient_id: int,
    since: dt.datetime,
    busy_since: dt.datetime | None = None,
) -> History:
    """What the scheduler's policy needs of one check-in (`History`): `read_histories` for a
    batch of one, so a single check-in (a call) and a batch read by the same rules."""
    del patient_id  # the statement finds the patient from the check-in
    moment = busy_since or since
    return read_histories(session, [checkin_id], since, {checkin_id: moment})[checkin_id]


def _history_of(
    rows: Sequence[Any], checkin_id: int, staff_owns: bool, phone_busy: bool
) -> History:
    """Build one check-in's `History` from its message rows (oldest first; a row whose `id` is
    None stands for "no message")."""
    made: list[OutreachRow] = []
    recent: list[tuple[int, dt.datetime]] = []
    for row in rows:
        if row.id is None or row.direction != Direction.OUTBOUND:
            continue
        if row.purpose not in OUTREACH_PURPOSES:
            continue
        sent = OutreachRow(
            row.id,
            row.channel,
            row.created_at,
            row.status,
            row.error_code,
            row.twilio_sid,
            row.purpose,
            row.body if row.status == OUTBOX else None,
        )
        if row.checkin_id == checkin_id and row.purpose in CHECKIN_PURPOSES:
            made.append(sent)
        if row.recent and not sent.refused:
            recent.append((row.id, row.created_at))
    replies = [
        row
        for row in rows
        if made
        and row.id is not None
        and row.direction == Direction.INBOUND
        and row.id > made[0].id
    ]
    last = replies[-1] if replies else None
    return History(
        made,
        recent,
        bool(replies),
        staff_owns,
        last_reply_at=last.created_at if last else None,
        attempted_since_reply=last is not None and any(m.id > last.id for m in made),
        phone_busy=phone_busy,
    )


# --- Batches: the scheduler's per-batch statements (scheduler/batch.py) -----------------------

# A text of a batch recorded and committed but not handed to Twilio yet: a pass that dies
# before handing it over leaves it here, and the next pass sends it (or, if the patient wrote,
# opted out or the check-in closed meanwhile, marks it not sent). Handing over turns it into
# "pending" (sent or being sent, the answer not known yet), which is never sent again.
OUTBOX = "outbox"
NOT_SENT = "failed"  # with no Twilio SID: refused before it left (`was_refused`)


def _lock_batch_query() -> Executable:
    household = Patient.__table__.alias("household")
    shared = (
        select(household.c.id)
        .where(
            household.c.store_id == Patient.store_id,
            household.c.phone == Patient.phone,
            household.c.id != Patient.id,
        )
        .exists()
        .label("shared_phone")
    )
    return (
        select(Checkin, shared)
        .join(Checkin.patient)
        .join(Checkin.store)
        .join(Checkin.enrollment)
        .options(
            contains_eager(Checkin.patient),
            contains_eager(Checkin.store),
            contains_eager(Checkin.enrollment),
        )
        .where(Checkin.id.in_(bindparam("checkin_ids", expanding=True)))
        .order_by(Patient.id, Checkin.id)
        .with_for_update(of=Patient)
    )


_LOCK_BATCH = _lock_batch_query()


def lock_batch(session: Session, checkin_ids: Sequence[int]) -> list[tuple[Checkin, bool]]:
    """Return the check-ins with their patient, store and enrollment, in one statement, and
    lock their patients in patient id order (PostgreSQL: `ORDER BY ... FOR UPDATE OF
    patients`, so two schedulers locking overlapping patients never deadlock; SQLite's BEGIN
    IMMEDIATE serializes writers). With each, whether another patient of the store shares the
    phone (a household: every text then names whom it is about)."""
    if not checkin_ids:
        return []
    rows = session.execute(_LOCK_BATCH, {"checkin_ids": list(checkin_ids)}).all()
    for checkin, _ in rows:
        # The patient's enrollment is the check-in's, read in the same statement: set it so
        # that reading `patient.enrollment` costs no query.
        set_committed_value(checkin.patient, "enrollment", checkin.enrollment)
    return [(row[0], bool(row[1])) for row in rows]


def _batch_history_query() -> Executable:
    """The history statement of `read_histories`, for a list of check-ins."""
    since = bindparam("since", type_=Message.__table__.c.created_at.type)
    mine = Checkin.__table__.alias("mine")
    first_message = Message.__table__.alias("first_message")
    first = (
        select(func.min(first_message.c.id))
        .where(
            first_message.c.checkin_id == mine.c.id,
            first_message.c.direction == Direction.OUTBOUND,
            first_message.c.purpose.in_(CHECKIN_PURPOSES),
        )
        .scalar_subquery()
    )
    staff = exists().where(
        QueueItem.checkin_id == mine.c.id, QueueItem.status == QueueStatus.CLAIMED
    )
    # A shared phone (SPEC 14: one check-in at a time per number): the other patients'
    # check-ins that would make this one wait: whether one has answered in part, and the
    # latest outreach of those that have not, which the caller compares with its store's
    # reminder delay.
    me, other = Patient.__table__.alias("me"), Patient.__table__.alias("other")
    theirs = Checkin.__table__.alias("theirs")
    busy_from = me.join(
        other, and_(other.c.store_id == me.c.store_id, other.c.phone == me.c.phone)
    ).join(theirs, theirs.c.patient_id == other.c.id)
    busy_where = (
        me.c.id == mine.c.patient_id,
        other.c.id != mine.c.patient_id,
        theirs.c.status == CheckinStatus.IN_PROGRESS,
        theirs.c.id < mine.c.id,
    )
    busy_answering = (
        select(theirs.c.id)
        .select_from(busy_from)
        .where(*busy_where, theirs.c.topics.is_not(None))
        .exists()
    )
    busy_last = (
        select(func.max(theirs.c.last_outreach_at))
        .select_from(busy_from)
        .where(*busy_where)
        .scalar_subquery()
    )
    return (
        select(
            mine.c.id.label("for_checkin"),
            staff.label("staff_owns"),
            busy_answering.label("busy_answering"),
            busy_last.label("busy_last"),
            Message.id,
            Message.checkin_id,
            Message.direction,
            Message.purpose,
            Message.channel,
            Message.created_at,
            Message.status,
            Message.error_code,
            Message.twilio_sid,
            Message.body,
            (Message.created_at > since).label("recent"),
        )
        .select_from(
            mine.outerjoin(
                Message,
                and_(
                    Message.patient_id == mine.c.patient_id,
                    # A patient has few messages: read them by patient and filter. Wrapped in
                    # coalesce, the OR is no index condition; bare, PostgreSQL turned each
                    # branch into an index scan of every patient's recent messages (4 ms a
                    # check-in at 1M enrollments, docs/benchmarks.md).
                    func.coalesce(
                        or_(
                            Message.checkin_id == mine.c.id,
                            Message.created_at > since,
                            Message.id > first,
                        ),
                        false(),
                    ),
                ),
            )
        )
        .where(mine.c.id.in_(bindparam("checkin_ids", expanding=True)))
        .order_by(mine.c.id, Message.id)
    )


_BATCH_HISTORY = _batch_history_query()


def read_histories(
    session: Session,
    checkin_ids: Sequence[int],
    since: dt.datetime,
    busy_since: Mapping[int, dt.datetime],
) -> dict[int, History]:
    """`read_history` for many check-ins in one statement; call it after `lock_batch`.

    `busy_since` maps each check-in to the moment before which another patient's outreach on
    a shared phone no longer makes it wait (its store's reminder delay before now).
    """
    if not checkin_ids:
        return {}
    rows = session.execute(_BATCH_HISTORY, {"checkin_ids": list(checkin_ids), "since": since}).all()
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.for_checkin, []).append(row)
    histories = {}
    for checkin_id, mine in grouped.items():
        head = mine[0]
        busy_last = head.busy_last
        if busy_last is not None and busy_last.tzinfo is None:
            busy_last = busy_last.replace(tzinfo=dt.UTC)
        busy = bool(head.busy_answering) or (
            busy_last is not None and busy_last > busy_since[checkin_id]
        )
        histories[checkin_id] = _history_of(mine, checkin_id, bool(head.staff_owns), busy)
    return histories


def note_attempts(session: Session, attempts: Sequence[tuple[int, dt.datetime]]) -> None:
    """`note_attempt` for the check-ins (id, now) of a batch, in one statement."""
    if not attempts:
        return
    table = table_of(Checkin)
    scheduled = CheckinStatus.SCHEDULED.value
    session.execute(
        update(table)
        .where(table.c.id == bindparam("checkin"))
        .values(
            attempts=table.c.attempts + 1,
            last_outreach_at=bindparam("at"),
            updated_at=bindparam("at"),
            status=case(
                (table.c.status == scheduled, literal(CheckinStatus.IN_PROGRESS.value)),
                else_=table.c.status,
            ),
        ),
        [{"checkin": checkin_id, "at": at} for checkin_id, at in attempts],
    )


@dataclass(frozen=True)
class NextLook:
    """What `release_checkins` writes for one check-in: when it next needs a look, and its new
    status when it closes (`completed_at` is set then, unless it was set before)."""

    checkin_id: int
    next_attempt_at: dt.datetime | None
    status: CheckinStatus | None = None


def release_checkins(session: Session, looks: Sequence[NextLook], now: dt.datetime) -> None:
    """`release_checkin` for a batch, in one statement per kind (a look, or a closing)."""
    table = table_of(Checkin)
    plain = [look for look in looks if look.status is None]
    closing = [look for look in looks if look.status is not None]
    if plain:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("checkin"))
            .values(
                next_attempt_at=bindparam("next_at"),
                claimed_until=None,
                claimed_by=None,
                updated_at=now,
            ),
            [{"checkin": look.checkin_id, "next_at": look.next_attempt_at} for look in plain],
        )
    if closing:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("checkin"))
            .values(
                next_attempt_at=bindparam("next_at"),
                claimed_until=None,
                claimed_by=None,
                status=bindparam("new_status"),
                completed_at=func.coalesce(table.c.completed_at, now),
                updated_at=now,
            ),
            [
                {
                    "checkin": look.checkin_id,
                    "next_at": look.next_attempt_at,
                    "new_status": look.status,
                }
                for look in closing
            ],
        )


def _hand_over_query() -> Executable:
    """The UPDATE of `hand_over`, built once (a pass runs it once a wave)."""
    table = table_of(Message)
    later = table.alias("later")
    wrote = (
        select(later.c.id)
        .where(
            later.c.patient_id == table.c.patient_id,
            later.c.direction == Direction.INBOUND,
            later.c.id > table.c.id,
        )
        .exists()
    )
    patients = table_of(Patient)
    contactable = (
        select(patients.c.id)
        .where(patients.c.id == table.c.patient_id, patients.c.opted_out_at.is_(None))
        .exists()
    )
    checkin_table = table_of(Checkin)
    still_open = (
        select(checkin_table.c.id)
        .where(
            checkin_table.c.id == table.c.checkin_id,
            checkin_table.c.status.in_(OPEN_CHECKIN_STATUSES),
        )
        .exists()
    )
    # One statement: the texts still allowed become pending, the others not sent.
    allowed = and_(~wrote, contactable, still_open)
    return (
        update(table)
        .where(
            table.c.id.in_(bindparam("message_ids", expanding=True)),
            table.c.status == OUTBOX,
        )
        .values(status=case((allowed, literal("pending")), else_=literal(NOT_SENT)))
        .returning(table.c.id, table.c.status)
    )


_HAND_OVER = _hand_over_query()


def hand_over(session: Session, message_ids: Sequence[int]) -> list[int]:
    """Mark recorded texts as handed to Twilio (OUTBOX -> pending); return those marked.

    A text is not handed over when its patient wrote after it was recorded, has opted out, or
    its check-in is no longer open: a reply arriving between the batch's record commit and
    this hand-over stops the follow-up. Those are marked not sent in the same statement
    (`NOT_SENT`, no SID: refused, so they count against no cap). The caller commits before it
    sends: from then on a crash never sends them twice.
    """
    if not message_ids:
        return []
    rows = session.execute(_HAND_OVER, {"message_ids": list(message_ids)})
    return [message_id for message_id, status in rows if status == "pending"]


def void_outbox(session: Session, message_ids: Sequence[int]) -> None:
    """Mark recorded texts that were never handed over as not sent."""
    table = table_of(Message)
    session.execute(
        update(table)
        .where(table.c.id.in_(list(message_ids)), table.c.status == OUTBOX)
        .values(status=NOT_SENT)
    )


# --- Status: every write of a check-in's status is here ---------------------------------------


def note_attempt(checkin: Checkin, now: dt.datetime) -> None:
    """An outreach attempt was recorded: count it; a scheduled check-in is now in progress."""
    checkin.attempts += 1
    checkin.last_outreach_at = now
    if checkin.status == CheckinStatus.SCHEDULED:
        checkin.status = CheckinStatus.IN_PROGRESS


def record_dialog(
    session: Session,
    checkin_id: int,
    status: CheckinStatus | None,
    *,
    done: bool,
    topics: Mapping[str, str] | None,
    now: dt.datetime,
) -> None:
    """Record what a dialog step reached: the new status (None: unchanged), whether the
    dialog is over (no more outreach), and the topic summary once the patient has answered."""
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = status
    if done:
        values |= {"next_attempt_at": None, "completed_at": now}
    if topics is not None:
        values["topics"] = dict(topics)
    if values:
        statement = _record_dialog_statement(tuple(values))
        session.execute(statement, {"checkin": checkin_id, "now": now, **values})


@functools.cache
def _record_dialog_statement(columns: tuple[str, ...]) -> Executable:
    """The UPDATE of `record_dialog` for these columns, built once: it runs on every reply,
    and building it anew costs SQLAlchemy more than executing it (a handful of variants)."""
    table = table_of(Checkin)
    return (
        update(table)
        .where(table.c.id == bindparam("checkin"))
        .values(updated_at=bindparam("now"), **{column: bindparam(column) for column in columns})
    )


def close_open_checkins(
    session: Session, patient_id: int, status: CheckinStatus, now: dt.datetime
) -> None:
    """Close every open check-in of the patient (an opt-out): no more outreach for them."""
    table = table_of(Checkin)
    session.execute(
        update(table)
        .where(table.c.patient_id == patient_id, table.c.status.in_(OPEN_CHECKIN_STATUSES))
        .values(status=status, completed_at=now, next_attempt_at=None, updated_at=now)
    )


# --- Passes: who holds claims ----------------------------------------------------------------


def begin_pass(
    connection: Connection, host: str, pid: int, wall_now: dt.datetime
) -> tuple[int, bool]:
    """Register a running pass on `connection`, which then holds the pass's lock (PostgreSQL)
    until `release_pass_lock`; return its id and whether the lock was taken.

    The lock is taken in the transaction that inserts the row, so no sibling's
    `forget_dead_passes` ever sees the row without its lock and forgets a live pass (whose
    claims would then break their foreign key). Ids are never reused, but a test's truncate
    resets them: a lock someone else holds leaves the heartbeat alone to tell the pass is alive.
    """
    table = table_of(SchedulerPass)
    row = {"host": host[:255], "pid": pid, "started_at": wall_now, "beat_at": wall_now}
    pass_id = int(connection.execute(insert(table).values(row).returning(table.c.id)).scalar_one())
    taken = True
    if connection.dialect.name == "postgresql":
        taken = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:space, :id)"),
                {"space": PASS_LOCK_SPACE, "id": pass_id},
            ).scalar()
        )
    connection.commit()
    return pass_id, taken


def beat(session: Session, pass_id: int, wall_now: dt.datetime) -> None:
    """The pass is alive (wall clock: a pass run "as of" another time beats in real time)."""
    session.execute(
        update(SchedulerPass).where(SchedulerPass.id == pass_id).values(beat_at=wall_now)
    )


# PostgreSQL: a running pass holds the advisory lock (PASS_LOCK_SPACE, its id) on a connection
# of its own; a killed process's connection closes and the lock goes with it, on any host.
PASS_LOCK_SPACE = 71160


def release_pass_lock(connection: Connection, pass_id: int) -> None:
    """Give the lock back before the connection returns to the pool (a session-level lock
    would otherwise stay with the pooled connection)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_unlock(:space, :id)"),
            {"space": PASS_LOCK_SPACE, "id": pass_id},
        )
        connection.commit()


def forget_dead_passes(session: Session, host: str, alive: Callable[[int], bool]) -> int:
    """Forget passes that are known dead, so their claims are free now, not when they time out.

    PostgreSQL: a pass whose advisory lock nobody holds (its process and connection are gone).
    SQLite (one machine): a pass of this host whose process no longer exists.
    """
    table = table_of(SchedulerPass)
    if session.get_bind().dialect.name == "postgresql":
        # The passes first, then the locks: a pass commits its row after taking its lock, so
        # every row read here has its lock in the second read unless its process is gone. The
        # other order forgot a pass that started between the two reads.
        passes = list(session.scalars(select(table.c.id)))
        held = text(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :space"
            " AND objsubid = 2 AND granted"
        ).bindparams(space=PASS_LOCK_SPACE)
        held_ids = {int(row[0]) for row in session.execute(held)}
        dead = [i for i in passes if i not in held_ids]
    else:
        rows = session.execute(select(table.c.id, table.c.pid).where(table.c.host == host[:255]))
        dead = [row.id for row in rows if not alive(row.pid)]
    if dead:
        session.execute(delete(table).where(table.c.id.in_(dead)))
    return len(dead)


def end_pass(
    session: Session, pass_id: int, wall_now: dt.datetime, stale_before: dt.datetime
) -> None:
    """Forget a finished pass, and any other pass that stopped beating long ago."""
    session.execute(
        delete(SchedulerPass).where(
            or_(SchedulerPass.id == pass_id, SchedulerPass.beat_at < stale_before)
        )
    )
