"""One batch of claimed check-ins: lock, read, decide, record, send, record (SPEC 7, issue 16).

The guarantees of the one-check-in-at-a-time pass, kept per batch:

1. **Lock, then read.** One statement locks the batch's patients in patient id order
   (`checkins.lock_batch`); one statement then reads every check-in's history (attempts, the
   patient's recent outreach for the caps, replies, staff claims, a shared phone's other
   check-ins). So the caps and replies are read after the lock, and two schedulers holding
   check-ins of one patient decide one after the other.
2. **At most one check-in per phone a round.** A second check-in of the same phone (a second
   check-in of one patient, or a household: SPEC 14, one at a time) is released untouched and
   handled by the next round, which then sees the first one's attempt.
3. **Decide in pure Python** (scheduler.policy), then **record every attempt of the batch in
   one commit**: the texts (status `outbox`: recorded, not handed to Twilio yet), their
   conversations and the check-ins' attempt counts, and every look that sends nothing.
4. **Hand over, then send.** The texts go out in waves of as many as the pool has threads:
   one conditional UPDATE per wave turns `outbox` into `pending` unless the patient wrote,
   opted out or the check-in closed since the lock (those are marked not sent: a reply
   arriving mid-pass stops the follow-up), it is committed, and the wave is sent at once,
   concurrently (the transport's pacing still spaces each sender's texts). The next wave's
   hand-over is committed while a wave is on the network, so its round trips cost no time
   (they had been 60% of the main thread's wall time at 1,000,000 enrollments on
   PostgreSQL); a reply committed after that, while the wave before is sent, no longer stops
   the text. A crash after a hand-over commit never sends those texts again (pending counts
   as made; at most two waves are pending and unsent); a crash before it leaves them in the
   outbox, and the next pass, which takes a dead pass's claims at once, sends them as
   recorded if the policy still says so.
5. **Record the outcomes in one commit**: Twilio's answers in one statement, what an error
   code means (an opt-out, an invalid number) per message, and the next looks in one
   statement.

Calls (an IVR follow-up, voice patients) are placed one check-in at a time after the batch's
texts (`jobs.handle_checkin`): they are paced at one a second per account anyway.

Steps 1-3 are `decide_batch`, steps 4-5 and the calls `deliver_batch`. The pass
(`jobs.work_due_checkins`) delivers a batch on a thread of its own while it claims and decides
the next one, so the database round trips of the one overlap the sends of the other; it waits
for a batch's delivery before it starts the next one's, so at most one batch is being
delivered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.outreach.sending import act_on_outcome, prepare_checkin_sms
from bot.outreach.turn import apply_step, open_turn
from bot.transports.base import Outcome, Sender, SendResult, sender_for_store
from scheduler import jobs, policy
from store import checkins, conversations, messages
from store.models import (
    OPEN_CHECKIN_STATUSES,
    Channel,
    Checkin,
    Language,
    Purpose,
)
from store.turns import TurnCheckin, TurnConversation, TurnPatient, TurnStore

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class Text:
    """A text of the batch: recorded (or found in the outbox), to be handed over and sent."""

    checkin_id: int
    patient_id: int
    message_id: int
    to: str
    body: str
    sender: Sender
    validity_seconds: int | None
    facts: policy.Facts
    step: policy.Step
    result: SendResult | None = None


@dataclass
class _Record:
    """What the record commit writes for the texts of the batch."""

    rows: list[dict[str, object]] = dataclasses.field(default_factory=list)
    texts: list[Text] = dataclasses.field(default_factory=list)  # one per row: id once inserted
    recorded: list[Text] = dataclasses.field(default_factory=list)  # recorded one at a time
    resumed: list[Text] = dataclasses.field(default_factory=list)  # found in the outbox
    looks: list[checkins.NextLook] = dataclasses.field(default_factory=list)
    calls: list[int] = dataclasses.field(default_factory=list)
    voided: list[int] = dataclasses.field(default_factory=list)  # outbox texts not to send
    new_conversations: list[tuple[int, int | None, str, Channel, dict[str, object]]] = (
        dataclasses.field(default_factory=list)
    )
    saves: list[tuple[int, int, dict[str, object], Channel]] = dataclasses.field(
        default_factory=list
    )
    attempts: list[tuple[int, dt.datetime]] = dataclasses.field(default_factory=list)


@dataclass
class Decided:
    """A batch after its first transaction: what to send and call, and what it did so far."""

    report: jobs.PassReport
    texts: list[Text]
    calls: list[int]
    deferred: list[int]  # another check-in of the same phone went first: the next round's


def decide_batch(
    sessions: jobs.SessionFactory,
    checkin_ids: Sequence[int],
    now: dt.datetime,
    outbox: jobs.Outbox,
) -> Decided:
    """Lock, read, decide and record one batch of check-ins claimed by this pass (one
    transaction); an error leaves the claims to expire."""
    report = jobs.PassReport()
    with sessions() as session:
        try:
            with session.begin():
                texts, calls, deferred = _decide_and_record(
                    session, checkin_ids, now, outbox, report
                )
        except Exception:
            report.errors += len(checkin_ids)
            log.exception(
                "scheduler: a batch of %d check-ins failed; retried when its claims expire",
                len(checkin_ids),
            )
            return Decided(report, [], [], [])
    return Decided(report, texts, calls, deferred)


def deliver_batch(
    sessions: jobs.SessionFactory,
    decided: Decided,
    now: dt.datetime,
    outbox: jobs.Outbox,
    pool: Executor,
    workers: int = 1,
) -> jobs.PassReport:
    """Hand over and send a decided batch's texts, record Twilio's answers, then place its
    calls; return what that did."""
    report = jobs.PassReport()
    texts = decided.texts
    sent = _send(sessions, texts, outbox, pool, max(1, workers))
    if texts:
        with sessions() as session:
            try:
                with session.begin():
                    _record_outcomes(session, texts, sent, now, report)
            except Exception:
                report.errors += len(texts)
                log.exception("scheduler: recording Twilio's answers for a batch failed")
    for checkin_id in decided.calls:
        report.add(jobs.handle_checkin(sessions, checkin_id, now, outbox))
    return report


def _decide_and_record(
    session: Session,
    checkin_ids: Sequence[int],
    now: dt.datetime,
    outbox: jobs.Outbox,
    report: jobs.PassReport,
) -> tuple[list[Text], list[int], list[int]]:
    """The batch's first transaction: lock, read, decide, record. Return the texts to send,
    the check-ins to call and those left for the next round."""
    locked = checkins.lock_batch(session, checkin_ids)
    phones: set[tuple[int, str]] = set()
    chosen: list[tuple[Checkin, bool]] = []
    looks: list[checkins.NextLook] = []
    deferred: list[int] = []
    for checkin, shared in locked:
        phone = (checkin.store_id, checkin.patient.phone)
        if phone in phones:
            deferred.append(checkin.id)
            looks.append(checkins.NextLook(checkin.id, checkin.next_attempt_at))
            continue
        phones.add(phone)
        chosen.append((checkin, shared))
    histories = checkins.read_histories(
        session,
        [c.id for c, _ in chosen],
        now - jobs.CAPS_LOOKBACK,
        {c.id: jobs.busy_since(c, now) for c, _ in chosen},
    )
    started = conversations.for_checkins(
        session, [c.id for c, _ in chosen if c.status in OPEN_CHECKIN_STATUSES]
    )
    record = _Record(looks=looks)
    for checkin, shared in chosen:
        report.looked_at += 1
        if checkin.status not in OPEN_CHECKIN_STATUSES:
            record.looks.append(checkins.NextLook(checkin.id, None))
            continue
        history = histories[checkin.id]
        conversation = started.get(checkin.id)
        _decide_one(session, record, checkin, shared, history, conversation, now, outbox, report)
    if record.voided:
        checkins.void_outbox(session, record.voided)
    ids = messages.record_checkin_messages(session, record.rows, now)
    for text in record.texts:
        text.message_id = ids[text.checkin_id]
    conversations.create_many(session, record.new_conversations)
    conversations.save_states(session, record.saves)
    checkins.note_attempts(session, record.attempts)
    checkins.release_checkins(session, record.looks, now)
    return record.resumed + record.texts + record.recorded, record.calls, deferred


def _decide_one(
    session: Session,
    record: _Record,
    checkin: Checkin,
    shared: bool,
    history: checkins.History,
    conversation: TurnConversation | None,
    now: dt.datetime,
    outbox: jobs.Outbox,
    report: jobs.PassReport,
) -> None:
    """Decide on one open check-in of the batch and add what it needs to the record."""
    made = history.made
    held = made[-1] if made and made[-1].status == checkins.OUTBOX else None
    if held is not None:
        # Recorded by a pass that died before handing it over: decide as if it was not made,
        # and send it as recorded if that same attempt is still due now.
        history = dataclasses.replace(
            history, made=made[:-1], recent=[r for r in history.recent if r[0] != held.id]
        )
    facts = jobs.facts_of(checkin, checkin.patient, history, now)
    decision = policy.decide(facts)
    log.debug("check-in %s: %s (%s)", checkin.id, decision.action.value, decision.reason)
    sends = decision.action is policy.Action.SEND
    patient = checkin.patient
    if held is not None:
        step = decision.step
        if sends and step is not None and held.body is not None and _same(held, decision):
            sender = sender_for_store(checkin.store, outbox.defaults.sender)
            record.resumed.append(
                Text(
                    checkin.id,
                    checkin.patient_id,
                    held.id,
                    checkin.patient.phone,
                    held.body,
                    sender,
                    decision.validity_seconds,
                    facts,
                    step,
                )
            )
            return
        if decision.action is policy.Action.WAIT:
            # Still in the outbox: sent when it is allowed.
            record.looks.append(
                jobs.settle(session, checkin, checkin.patient, decision, now, report)
            )
            return
        record.voided.append(held.id)
    if not sends:
        report.waiting += decision.action is policy.Action.WAIT
        record.looks.append(jobs.settle(session, checkin, patient, decision, now, report))
    elif decision.channel is not policy.Channel.SMS:
        record.calls.append(checkin.id)  # stays claimed: called after the batch's texts
    else:
        _prepare(session, record, checkin, shared, conversation, decision, facts, now, outbox)


def _same(held: checkins.OutreachRow, decision: policy.Decision) -> bool:
    """Whether a text left in the outbox is the attempt the policy says is due now."""
    assert decision.step is not None
    return (
        decision.channel is policy.Channel.SMS
        and held.channel is Channel.SMS
        and held.purpose == Purpose(decision.step.value)
    )


def _prepare(
    session: Session,
    record: _Record,
    checkin: Checkin,
    shared: bool,
    conversation: TurnConversation | None,
    decision: policy.Decision,
    facts: policy.Facts,
    now: dt.datetime,
    outbox: jobs.Outbox,
) -> None:
    """Render one check-in's text and add its rows to the batch's record."""
    assert decision.step is not None
    patient = checkin.patient
    turn = open_turn(
        TurnStore.of(checkin.store),
        TurnPatient.of(patient, shared_phone=shared),
        TurnCheckin.of(checkin),
        conversation,
        Channel.SMS,
    )
    purpose = Purpose(decision.step.value)
    text = prepare_checkin_sms(
        turn, conversation, purpose, now, outbox.defaults, status=checkins.OUTBOX
    )
    result = text.result
    pending = Text(
        checkin.id,
        patient.id,
        0,
        patient.phone,
        text.body,
        text.sender,
        decision.validity_seconds,
        facts,
        decision.step,
    )
    plain = (
        not result.findings
        and not result.opted_out
        and not result.opted_in
        and result.delivery is None
        and Language(result.language) == patient.language
        and result.outcome == "in_progress"
        and not result.state.done
        and not result.state.data.get("replied")
    )
    if not plain:
        # A step that does more than ask (a reminder to finish, a change of language...):
        # bot.outreach's own writes, in this transaction.
        pending.message_id = messages.record(session, now=now, **text.message)
        checkins.note_attempt(checkin, now)
        turn.checkin = TurnCheckin.of(checkin)
        apply_step(session, turn, result, None, now, via="sms")
        record.recorded.append(pending)
        return
    state = result.state.to_json()
    if conversation is None:
        record.new_conversations.append(
            (patient.id, checkin.id, turn.dialog.name, Channel.SMS, state)
        )
    else:
        record.saves.append((conversation.id, conversation.version, state, Channel.SMS))
    record.attempts.append((checkin.id, now))
    record.rows.append(text.message)
    record.texts.append(pending)


def _send(
    sessions: jobs.SessionFactory,
    texts: list[Text],
    outbox: jobs.Outbox,
    pool: Executor,
    wave: int,
) -> list[Text]:
    """Hand the texts over and send them, `wave` at a time; return those sent."""
    sent: list[Text] = []
    transport, urls = outbox.transport, outbox.urls
    texts = sorted(texts, key=lambda t: (t.patient_id, t.checkin_id))

    def send(text: Text) -> Text:
        text.result = transport.send_sms(
            to=text.to,
            body=text.body,
            sender=text.sender,
            status_callback=urls.sms_status,
            validity_period=text.validity_seconds,
        )
        return text

    def hand_over(session: Session, part: list[Text]) -> list[Text]:
        try:
            with session.begin():
                handed = set(checkins.hand_over(session, [t.message_id for t in part]))
        except Exception:
            log.exception("scheduler: handing over %d texts failed; the next pass does", len(part))
            return []
        return [t for t in part if t.message_id in handed]

    waves = [texts[start : start + wave] for start in range(0, len(texts), wave)]
    with sessions() as session:  # one connection for the batch's hand-overs
        ready = hand_over(session, waves[0]) if waves else []
        for following in waves[1:]:
            on_the_network = [pool.submit(send, text) for text in ready]
            # The next wave is handed over while this one is sent: at most two waves are
            # pending and unsent when the process dies.
            ready = hand_over(session, following)
            sent.extend(future.result() for future in on_the_network)
    sent.extend(pool.map(send, ready))  # the last wave
    return sent


def _record_outcomes(
    session: Session,
    texts: list[Text],
    sent: list[Text],
    now: dt.datetime,
    report: jobs.PassReport,
) -> None:
    """The batch's last transaction: Twilio's answers, what their error codes mean, and the
    next look of every check-in that had a text (those not sent are looked at again now)."""
    messages.set_send_results(
        session,
        [
            (t.message_id, t.result.sid, t.result.status, t.result.error_code)
            for t in sent
            if t.result is not None
        ],
    )
    looks: list[checkins.NextLook] = []
    answered = {t.checkin_id for t in sent}
    for text in texts:
        if text.checkin_id not in answered or text.result is None:
            looks.append(checkins.NextLook(text.checkin_id, now))  # not sent: decide again
            continue
        result = text.result
        report.texts += result.outcome is Outcome.SENT
        report.not_sent += result.outcome is not Outcome.SENT
        log.info(
            "scheduler: check-in %s %s by sms: %s",
            text.checkin_id,
            text.step.value,
            result.outcome.value,
        )
        act_on_outcome(
            session, text.message_id, text.patient_id, text.checkin_id, Channel.SMS, result, now
        )
        if result.error_code is not None:
            # The code may have closed the check-in (21610) or moved it on to the call: the
            # next round reads it again and decides.
            looks.append(checkins.NextLook(text.checkin_id, now))
            continue
        facts = text.facts
        attempt = policy.Attempt(policy.Channel.SMS, now, result.status, None)
        reached = not checkins.was_refused(result.status, result.sid)
        after = policy.decide(
            dataclasses.replace(
                facts,
                attempts=(*facts.attempts, attempt),
                recent_outreach=(*facts.recent_outreach, now) if reached else facts.recent_outreach,
            )
        )
        if after.action is policy.Action.WAIT:
            at = max(after.at or now, now + dt.timedelta(seconds=1))
            looks.append(checkins.NextLook(text.checkin_id, at))
        else:
            looks.append(checkins.NextLook(text.checkin_id, now))  # due again at once
    checkins.release_checkins(session, looks, now)
