"""The scheduler pass: create due check-ins, then make the attempts the policy says are due.

`run_pass` is the only job. It is safe to run twice, from two processes at once, or again
after a crash: check-ins are unique per (enrollment, anchor date), each due row is claimed with
a conditional UPDATE before it is touched, and every send is recorded (and committed) by
bot.outreach before it is made, which the policy then counts as made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Outcome, Transport
from dialogs import TOPIC_NAMES
from scheduler import batch as batches
from scheduler import policy, ready, renewals, welcome
from store import checkins, queue
from store.models import (
    OPEN_CHECKIN_STATUSES,
    Checkin,
    CheckinStatus,
    Patient,
    Purpose,
    QueueKind,
)

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]

BATCH_SIZE = 200
# Long enough to make every send of one batch (pacing included), short enough that the rows
# of a crashed scheduler come back soon. Measured on the pass's own clock.
CLAIM_FOR = dt.timedelta(minutes=10)
# A pass beats this often (wall clock); a pass silent for STALE_AFTER was killed, and its
# claims are free at once for a restarted scheduler, while a live sibling's are not.
BEAT_EVERY = 5.0
STALE_AFTER = dt.timedelta(seconds=30)
# Local "today" is never earlier than the date at UTC-12 nor later than at UTC+14.
EARLIEST_OFFSET = dt.timedelta(hours=-12)
LATEST_OFFSET = dt.timedelta(hours=14)
MAX_LEAD_DAYS = 7
CAPS_LOOKBACK = dt.timedelta(days=8)
MAX_LOOKS_PER_PASS = 3  # a check-in may be due again at once (a refused text -> the call)


@dataclass
class PassReport:
    """What one pass did (counts only: no names, numbers or texts)."""

    rolled: int = 0
    created: int = 0
    looked_at: int = 0
    texts: int = 0
    calls: int = 0
    not_sent: int = 0  # sends Twilio refused or that failed (recorded, not retried)
    waiting: int = 0
    unreachable: int = 0
    incomplete: int = 0
    expired: int = 0
    opted_out: int = 0
    welcomes: int = 0  # welcome texts (or calls) after accepted consent (scheduler/welcome.py)
    renewals: int = 0  # renewal_needed items raised (scheduler/renewals.py)
    ready_notices: int = 0  # "your refills are ready" (scheduler/ready.py)
    pickup_reminders: int = 0
    not_picked_up: int = 0
    claimed_elsewhere: int = 0
    errors: int = 0

    def add(self, other: PassReport) -> None:
        """Add the counts of `other` to these."""
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def summary(self) -> str:
        """Return one line per non-zero count, e.g. 'texts sent: 3'."""
        labels = {
            "rolled": "anchors rolled to the next cycle",
            "created": "check-ins created",
            "looked_at": "due check-ins looked at",
            "texts": "texts sent",
            "calls": "calls placed",
            "not_sent": "sends refused or failed",
            "waiting": "check-ins waiting (window, caps, reply time)",
            "unreachable": "unreachable items raised",
            "incomplete": "incomplete items raised (answered in part, then silent)",
            "expired": "check-ins expired",
            "opted_out": "check-ins closed: patient opted out",
            "welcomes": "welcomes sent",
            "renewals": "renewal requests queued (no refills left)",
            "ready_notices": "ready notices sent",
            "pickup_reminders": "pickup reminders sent",
            "not_picked_up": "not-picked-up items raised",
            "claimed_elsewhere": "check-ins claimed by another scheduler",
            "errors": "errors (see log)",
        }
        lines = [f"{labels[f.name]}: {getattr(self, f.name)}" for f in dataclasses.fields(self)]
        shown = [line for line in lines if not line.endswith(": 0")]
        return "\n".join(shown) if shown else "nothing to do"


@dataclass(frozen=True)
class Outbox:
    """How to send: the transport, our callback URLs and the default sender."""

    transport: Transport
    urls: outreach.Urls
    defaults: outreach.Defaults


def run_pass(
    sessions: SessionFactory,
    now: dt.datetime,
    *,
    transport: Transport,
    urls: outreach.Urls,
    defaults: outreach.Defaults,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
) -> PassReport:
    """Run one scheduler pass as of `now` (aware UTC), handling `workers` check-ins at a time.

    1. Roll enrollments whose anchor date has passed to their next anchor.
    2. Create the check-ins that are due (local today within lead days of the anchor).
       Queue renewal requests for medicines with no refills left (scheduler/renewals.py).
    3. Stream the due check-ins in batches: claim each, decide (scheduler.policy), act.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(dt.UTC)
    report = PassReport()
    roll_anchors(sessions, now, report, batch_size)
    create_due_checkins(sessions, now, report, batch_size)
    renewals.raise_renewals(sessions, now, report)  # after the roll: items of current anchors
    outbox = Outbox(transport, urls, defaults)
    with _beating(sessions) as pass_id, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        welcome.send_welcomes(sessions, now, outbox, report, batch_size)  # before the check-ins
        work_due_checkins(sessions, now, outbox, report, batch_size, pool, pass_id, workers)
        ready.work_ready_fills(sessions, now, outbox, report, batch_size)  # staff marked ready
    log.info("scheduler pass at %s: %s", now.isoformat(), report.summary().replace("\n", "; "))
    return report


def _process_alive(pid: int) -> bool:
    """Whether a process of this machine exists (a signal 0 is a question, not a signal)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def _beating(sessions: SessionFactory) -> Iterator[int]:
    """Register the pass and keep it beating from a thread until it ends (or is killed)."""
    host = socket.gethostname()
    with sessions() as session, session.begin():
        checkins.forget_dead_passes(session, host, _process_alive)
    with sessions() as session:
        # A connection of its own holds the pass's lock while it runs (PostgreSQL).
        held = session.get_bind().engine.connect()
    pass_id, locked = checkins.begin_pass(held, host, os.getpid(), _wall())
    if not locked:
        log.warning("scheduler: pass %s could not take its lock; its heartbeat stands in", pass_id)
    stop = threading.Event()

    def keep_beating() -> None:
        while not stop.wait(BEAT_EVERY):
            try:
                with sessions() as session, session.begin():
                    checkins.beat(session, pass_id, _wall())
            except Exception:  # a missed beat only makes the claims free sooner
                log.warning("scheduler: a heartbeat failed", exc_info=True)

    beater = threading.Thread(target=keep_beating, name="scheduler-heartbeat", daemon=True)
    beater.start()
    try:
        yield pass_id
    finally:
        stop.set()
        beater.join(BEAT_EVERY + 1)
        with sessions() as session, session.begin():
            checkins.end_pass(session, pass_id, _wall(), _wall() - STALE_AFTER)
        try:
            checkins.release_pass_lock(held, pass_id)
        finally:
            held.close()


def roll_anchors(
    sessions: SessionFactory, now: dt.datetime, report: PassReport, batch: int
) -> None:
    """Move every passed anchor date forward by whole cycles until it is not in the past.

    Only anchors that have passed everywhere on Earth are read, so no zone is rolled early;
    a zone east of UTC-12 is rolled up to a day late, which only matters a cycle later.
    """
    before = (now + EARLIEST_OFFSET).date()
    while True:
        with sessions() as session, session.begin():
            rows = checkins.list_past_anchors(session, before, batch)
            moves = []
            for row in rows:
                today = policy.local_day(now, policy.zone_of(row.zone, row.zone))
                moves.append(
                    (
                        row.enrollment_id,
                        row.anchor_date,
                        policy.rolled_anchor(row.anchor_date, row.cycle_days, today),
                    )
                )
            checkins.move_anchors(session, moves)
        report.rolled += len(moves)
        if len(rows) < batch:
            return


def create_due_checkins(
    sessions: SessionFactory, now: dt.datetime, report: PassReport, batch: int
) -> None:
    """Create one check-in per enrollment whose local today is within lead days of its anchor.

    Late enrollees (anchor already closer than lead days) get theirs at once.
    """
    first = (now + EARLIEST_OFFSET).date()
    last = (now + LATEST_OFFSET).date() + dt.timedelta(days=MAX_LEAD_DAYS)
    after: tuple[dt.date, int] | None = None
    while True:
        with sessions() as session, session.begin():
            page = checkins.list_checkin_candidates(session, first, last, after=after, limit=batch)
            due = [
                c
                for c in page
                if policy.checkin_due(
                    policy.local_day(now, policy.zone_of(c.zone, c.zone)),
                    c.anchor_date,
                    c.lead_days,
                    c.paused_until,
                )
            ]
            report.created += checkins.create_checkins(session, due, now)
        if len(page) < batch:
            return
        after = (page[-1].anchor_date, page[-1].enrollment_id)


def work_due_checkins(
    sessions: SessionFactory,
    now: dt.datetime,
    outbox: Outbox,
    report: PassReport,
    batch: int,
    pool: Executor,
    pass_id: int | None = None,
    workers: int = 1,
) -> None:
    """Claim and handle due check-ins, a batch at a time, until none is left.

    Each batch is handled by scheduler.batch: its patients locked and its histories read in
    one statement each, its texts recorded in one commit (`decide_batch`), then handed over
    and sent by the pool's threads (`deliver_batch`). A batch is delivered on a thread of its
    own while the next one is claimed and decided; the next delivery waits for it. A
    check-in of a phone already handled in the batch (a household, or a second check-in of
    one patient) is left for the next batch.
    """
    looks: Counter[int] = Counter()
    until = now + CLAIM_FOR
    delivering: Future[PassReport] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scheduler-deliver") as deliverer:
        while True:
            with sessions() as session, session.begin():
                stale = _wall() - STALE_AFTER
                ids = checkins.list_due_checkin_ids(session, now, batch, stale)
                fresh = [i for i in ids if looks[i] < MAX_LOOKS_PER_PASS]
                mine = checkins.claim_checkins(
                    session, fresh, now, until, pass_id=pass_id, stale_before=stale
                )
            report.claimed_elsewhere += len(fresh) - len(mine)
            if not mine:
                if delivering is None:
                    return
                # The batch being delivered may make some of its check-ins due again at once.
                report.add(delivering.result())
                delivering = None
                continue
            for checkin_id in mine:
                looks[checkin_id] += 1
            decided = batches.decide_batch(sessions, mine, now, outbox)
            report.add(decided.report)
            for checkin_id in decided.deferred:
                looks[checkin_id] -= 1  # not looked at: another check-in of its phone went first
            if delivering is not None:
                report.add(delivering.result())
            delivering = deliverer.submit(
                batches.deliver_batch, sessions, decided, now, outbox, pool, workers
            )


def handle_checkin(
    sessions: SessionFactory, checkin_id: int, now: dt.datetime, outbox: Outbox
) -> PassReport:
    """Decide and act on one claimed check-in; an error leaves the claim to expire."""
    report = PassReport(looked_at=1)
    with sessions() as session:
        try:
            _handle(session, checkin_id, now, outbox, report)
            session.commit()
        except Exception:
            session.rollback()
            report.errors += 1
            log.exception(
                "scheduler: check-in %s failed; retried when its claim expires", checkin_id
            )
    return report


def _handle(
    session: Session, checkin_id: int, now: dt.datetime, outbox: Outbox, report: PassReport
) -> None:
    # One statement: the check-in, its store, and its patient, locked. One decision per patient
    # at a time: another scheduler working a second check-in of the same patient waits here
    # and then sees this one's recorded send in its caps (read below, after the lock).
    checkin = checkins.lock_checkin(session, checkin_id)
    if checkin is None:
        return
    if checkin.status not in OPEN_CHECKIN_STATUSES:
        checkins.release_checkin(session, checkin, now, next_attempt_at=None)
        return
    patient = checkin.patient
    facts = gather_facts(session, checkin, patient, now)
    decision = policy.decide(facts)
    log.debug("check-in %s: %s (%s)", checkin_id, decision.action.value, decision.reason)
    if decision.action is policy.Action.SEND:
        sent = _send(session, checkin, decision, now, outbox, report)
        if sent is None:
            # Not sent: bot.outreach found the patient no longer contactable. Decide again on
            # what is in the database now.
            session.refresh(checkin)
            decision = policy.decide(gather_facts(session, checkin, patient, now))
        else:
            attempt, reached, error = sent
            # Nothing else changed since the facts were read (the row is claimed, the patient
            # locked until the attempt was recorded): add the attempt instead of reading again.
            decision = policy.decide(
                dataclasses.replace(
                    facts,
                    attempts=(*facts.attempts, attempt),
                    recent_outreach=(*facts.recent_outreach, now)
                    if reached
                    else facts.recent_outreach,
                )
            )
            # The row itself is read again only when it may have changed (Twilio's error code:
            # 21610 closes the check-in) or when the decision would write its status.
            must_reread = error or decision.action not in (policy.Action.SEND, policy.Action.WAIT)
            if must_reread and _closed_meanwhile(session, checkin, now):
                return
        if decision.action is policy.Action.SEND:
            # Due again at once (a refused text moves on to the call): this pass looks again.
            checkins.release_checkin(session, checkin, now, next_attempt_at=now)
            return
    else:
        report.waiting += decision.action is policy.Action.WAIT
    _settle(session, checkin, patient, decision, now, report)


def _closed_meanwhile(session: Session, checkin: Checkin, now: dt.datetime) -> bool:
    """Read the check-in again; if it is closed now, release it and say so."""
    session.refresh(checkin)
    if checkin.status in OPEN_CHECKIN_STATUSES:
        return False
    checkins.release_checkin(session, checkin, now, next_attempt_at=None)
    return True


def _send(
    session: Session,
    checkin: Checkin,
    decision: policy.Decision,
    now: dt.datetime,
    outbox: Outbox,
    report: PassReport,
) -> tuple[policy.Attempt, bool, bool] | None:
    """Make the attempt through bot.outreach (which records it first).

    Return None when nothing was sent (the patient is no longer contactable), else the
    attempt, whether it may have reached the patient (it then counts against the caps), and
    whether Twilio answered with an error code (which may have changed the check-in). The
    attempt is the row bot.outreach recorded: Twilio's answer is stored as it is noted here.
    """
    assert decision.step is not None and decision.channel is not None
    if decision.channel is policy.Channel.SMS:
        done = outreach.send_checkin_sms(
            session,
            checkin,
            Purpose(decision.step.value),
            now,
            transport=outbox.transport,
            urls=outbox.urls,
            defaults=outbox.defaults,
            validity_seconds=decision.validity_seconds,
        )
        report.texts += done.outcome is Outcome.SENT
    else:
        done = outreach.place_checkin_call(
            session,
            checkin,
            now,
            transport=outbox.transport,
            urls=outbox.urls,
            defaults=outbox.defaults,
            purpose=Purpose(decision.step.value),
        )
        report.calls += done.outcome is Outcome.SENT
    report.not_sent += done.outcome is not Outcome.SENT
    log.info(
        "scheduler: check-in %s %s by %s: %s",
        checkin.id,
        decision.step.value,
        decision.channel,
        done.outcome.value,
    )
    sent = done.result
    if sent is None:
        return None
    refused = checkins.was_refused(sent.status, sent.sid)
    attempt = policy.Attempt(decision.channel, now, sent.status, sent.error_code)
    return attempt, not refused, sent.error_code is not None


def _settle(
    session: Session,
    checkin: Checkin,
    patient: Patient,
    decision: policy.Decision,
    now: dt.datetime,
    report: PassReport,
) -> None:
    """Apply a decision that sends nothing: wait, give up, expire or close."""
    look = settle(session, checkin, patient, decision, now, report)
    checkins.release_checkin(
        session, checkin, now, next_attempt_at=look.next_attempt_at, status=look.status
    )


def settle(
    session: Session,
    checkin: Checkin,
    patient: Patient,
    decision: policy.Decision,
    now: dt.datetime,
    report: PassReport,
) -> checkins.NextLook:
    """Raise what a decision that sends nothing raises (an unreachable or incomplete item) and
    return what the check-in's row becomes (the caller writes it, with the claim dropped)."""
    action = decision.action
    if action is policy.Action.WAIT:
        # Never "due again now": a decision to wait always moves the look forward.
        at = max(decision.at or now, now + dt.timedelta(seconds=1))
        return checkins.NextLook(checkin.id, at)
    if action is policy.Action.UNREACHABLE:
        if not queue.has_item(session, checkin.id, QueueKind.UNREACHABLE):
            queue.add_item(
                session,
                kind=QueueKind.UNREACHABLE,
                store_id=checkin.store_id,
                patient=patient,
                checkin=checkin,
                text=f"No answer to {checkin.attempts} attempt(s) before the fill; please call.",
            )
            report.unreachable += 1
        return checkins.NextLook(checkin.id, None, CheckinStatus.UNREACHABLE)
    if action is policy.Action.INCOMPLETE:
        if not queue.has_item(session, checkin.id, QueueKind.INCOMPLETE):
            queue.add_item(
                session,
                kind=QueueKind.INCOMPLETE,
                store_id=checkin.store_id,
                patient=patient,
                checkin=checkin,
                text=unanswered_text(checkin.topics or {}),
            )
            report.incomplete += 1
        return checkins.NextLook(checkin.id, None, CheckinStatus.INCOMPLETE)
    if action is policy.Action.EXPIRE:
        report.expired += 1
        return checkins.NextLook(checkin.id, None, CheckinStatus.EXPIRED)
    if action is policy.Action.OPT_OUT:
        report.opted_out += 1
        return checkins.NextLook(checkin.id, None, CheckinStatus.OPTED_OUT)
    return checkins.NextLook(checkin.id, None)


def unanswered_text(topics: dict[str, str]) -> str:
    """The incomplete item's words: what the patient left unanswered (SPEC 5.6)."""
    left = [
        name
        for topic, name in TOPIC_NAMES.items()
        if topics.get(topic) != "none" and topics.get(topic) != "reported"
    ]
    listed = ", ".join(left) if left else "the last question"
    return f"Stopped answering part way; not answered: {listed}. Please call before the fill."


def gather_facts(
    session: Session, checkin: Checkin, patient: Patient, now: dt.datetime
) -> policy.Facts:
    """Read what the policy needs about one check-in and its patient."""
    history = checkins.read_history(
        session,
        checkin.id,
        patient.id,
        now - CAPS_LOOKBACK,
        busy_since=busy_since(checkin, now),
    )
    return facts_of(checkin, patient, history, now)


def busy_since(checkin: Checkin, now: dt.datetime) -> dt.datetime:
    """Since when another patient's outreach on a shared phone makes this check-in wait."""
    return now - dt.timedelta(hours=checkin.store.reminder_delay_hours)


def facts_of(
    checkin: Checkin, patient: Patient, history: checkins.History, now: dt.datetime
) -> policy.Facts:
    """The policy's facts about one check-in, from its row (read with the patient locked) and
    its history (read after the lock)."""
    store = checkin.store
    made = history.made
    # The latest attempt's time is on the check-in too, written with the pass's clock in the
    # same commit as the attempt; it is right even when a crash kept the stamp below from
    # being applied.
    times = {m.id: m.created_at for m in made}
    if made and checkin.last_outreach_at is not None:
        times[made[-1].id] = checkin.last_outreach_at
    recent = history.recent
    # Answered in part: the dialog recorded a topic summary (the patient replied to it), and
    # the check-in is still open. A reply that answered nothing of the dialog (someone else
    # picking up the phone) does not stop the attempts.
    closed = checkin.status not in OPEN_CHECKIN_STATUSES
    in_part = not closed and checkin.topics is not None
    return policy.Facts(
        now=now,
        zone=policy.zone_of(patient.timezone, store.timezone),
        window=policy.Window(store.window_start_minute, store.window_end_minute),
        channel=policy.Channel(checkin.channel.value),
        anchor_date=checkin.anchor_date,
        reminder_delay=dt.timedelta(hours=store.reminder_delay_hours),
        unreachable_days=store.unreachable_days,
        consent_date=patient.consent_date,
        opted_out=patient.opted_out,
        attempts=tuple(
            policy.Attempt(policy.Channel(m.channel.value), times[m.id], m.status, m.error_code)
            for m in made
        ),
        answered=closed,
        staff_owns=history.staff_owns,
        recent_outreach=tuple(times.get(message_id, at) for message_id, at in recent),
        answered_in_part=in_part,
        last_reply_at=history.last_reply_at,
        reminded_since_reply=history.attempted_since_reply,
        paused_until=checkin.enrollment.paused_until,
        phone_busy=history.phone_busy,
        awaiting_review=patient.needs_review,
    )
