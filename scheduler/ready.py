"""Ready fills (SPEC 13): the "your refills are ready" notice, one pickup reminder, then a
`not_picked_up` item.

Staff mark a fill ready on the fill-day list (bot/fills.py); this step of the pass tells the
patient. It is the one place that knows the window and the caps, so a fill marked ready at
07:00 or at 21:00 is told when the window opens, and a patient who got a check-in text today
hears on the next local day (a ready notice is pharmacy-initiated outreach: it counts).

1. **Ready notice.** A ready fill whose notice is not sent: inside the window and the caps,
   claim `ready_notice_at` (conditional UPDATE) and send it (`outreach.send_notice`, purpose
   `ready`), a text or, for voice patients, a call that says it. No medicine is named. The
   claim is in the commit that records the text, so two schedulers or a restart never send a
   second one; marking the fill ready again later sends nothing more.
2. **Pickup reminder.** A pickup fill still ready `pickup_days` (store setting, default 5)
   after it was marked ready gets one reminder (`pickup_reminder`), window and caps again.
3. **Not picked up.** Still ready `pickup_days` after that (twice `pickup_days` after ready,
   10 days by default: inside the 14 days insurers give before a claim must be reversed), a
   `not_picked_up` item asks staff to return it to stock; once per fill.

A patient no longer contactable (opted out, consent withdrawn) gets nothing: the claim is kept
so the fill moves on to the next step without a text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

import dialogs
from bot import outreach
from bot.transports.base import Outcome
from dialogs import texts
from scheduler import policy
from store import fills, patients, queue, welcomes
from store.fills import ReadyFill
from store.models import Channel, Delivery, Language, Patient, Purpose, QueueKind
from store.validate import display_phone

if TYPE_CHECKING:
    from scheduler.jobs import Outbox, PassReport, SessionFactory

log = logging.getLogger(__name__)

BATCH_SIZE = 200
CAPS_LOOKBACK = dt.timedelta(days=8)
DAY = dt.timedelta(days=1)


def work_ready_fills(
    sessions: SessionFactory,
    now: dt.datetime,
    outbox: Outbox,
    report: PassReport,
    batch: int = BATCH_SIZE,
) -> None:
    """Take each ready fill to its next step, one transaction each."""
    after = 0
    while True:
        with sessions() as session:
            due = fills.list_ready_fills(session, after=after, limit=batch)
        for fill in due:
            with sessions() as session:
                try:
                    _step(session, fill, now, outbox, report)
                except Exception:
                    session.rollback()
                    report.errors += 1
                    log.exception("scheduler: ready fill %s failed", fill.fill_id)
        if len(due) < batch:
            return
        after = due[-1].fill_id


def _step(
    session: Session, fill: ReadyFill, now: dt.datetime, outbox: Outbox, report: PassReport
) -> None:
    if fill.ready_at is None:
        return
    waited = now - fill.ready_at
    pickup = fill.delivery is Delivery.PICKUP
    if fill.ready_notice_at is None:
        key = "ready_pickup" if pickup else "ready_delivery"
        sent = _notify(session, fill, Purpose.READY, key, fills.claim_ready_notice, now, outbox)
        report.ready_notices += sent is Outcome.SENT
        report.not_sent += sent is not None and sent is not Outcome.SENT
    elif not pickup:
        return  # a delivery fill ends delivered: no pickup reminder, no return to stock
    elif fill.pickup_reminded_at is None:
        if waited >= fill.pickup_days * DAY:
            sent = _notify(
                session,
                fill,
                Purpose.PICKUP_REMINDER,
                "pickup_reminder",
                fills.claim_pickup_reminder,
                now,
                outbox,
            )
            report.pickup_reminders += sent is Outcome.SENT
            report.not_sent += sent is not None and sent is not Outcome.SENT
    elif waited >= 2 * fill.pickup_days * DAY and fills.claim_not_picked_up(
        session, fill.fill_id, now
    ):
        patient = patients.get_patient(session, fill.patient_id)
        assert patient is not None
        days = waited.days
        item_id = queue.add_item(
            session,
            kind=QueueKind.NOT_PICKED_UP,
            store_id=fill.store_id,
            patient=patient,
            checkin=None,
            text=f"Ready {days} days and not picked up (reminder sent): return it to stock.",
            reason=f"the store's pickup days are {fill.pickup_days}",
        )
        fills.link_item(session, item_id, fill.fill_id, fill.anchor_date, fill.checkin_id, now)
        session.commit()
        report.not_picked_up += 1


def _notify(
    session: Session,
    fill: ReadyFill,
    purpose: Purpose,
    key: str,
    claim: Callable[[Session, int, dt.datetime], bool],
    now: dt.datetime,
    outbox: Outbox,
) -> Outcome | None:
    """Send one notice about the fill if the window and caps allow it now; None when not."""
    zone = policy.zone_of(fill.zone, fill.zone)
    window = policy.Window(fill.window_start_minute, fill.window_end_minute)
    if policy.next_send_time(now, zone, window) != now:
        return None  # outside the window: a pass after it opens sends it
    patient = patients.get_patient(session, fill.patient_id, lock=True)
    if patient is None:
        session.rollback()
        return None
    recent = welcomes.recent_outreach(session, patient.id, now - CAPS_LOOKBACK)
    if policy.earliest_allowed(now, zone, window, recent) != now:
        session.rollback()  # over the caps today: a later pass tries again
        return None
    if not claim(session, fill.fill_id, now):
        session.rollback()
        return None
    channel = patient.channel
    left = policy.window_left(now, zone, window)
    sent = outreach.send_notice(
        session,
        patient.id,
        purpose,
        notice_text(patient, key, channel),
        now,
        transport=outbox.transport,
        urls=outbox.urls,
        defaults=outbox.defaults,
        channel=channel,
        checkin_id=fill.checkin_id,
        validity_seconds=int(left.total_seconds()) if left and channel is Channel.SMS else None,
    )
    if sent.result is None:
        session.commit()  # not contactable: keep the claim, send nothing, move on
        return None
    log.info("scheduler: %s of fill %s by %s: %s", purpose, fill.fill_id, channel, sent.outcome)
    return sent.outcome


def notice_text(patient: Patient, key: str, channel: Channel) -> str:
    """A ready notice or pickup reminder in the patient's language, PHI-free."""
    store = patient.store
    anchor = patient.enrollment.anchor_date if patient.enrollment else dt.date.today()
    context = dialogs.Context(
        pharmacy_name=store.name,
        pharmacy_phone=display_phone(store.phone),
        patient_first_name=patient.first_name,
        pickup_date=anchor,
        channel="voice" if channel is Channel.VOICE else "sms",
        language="es" if patient.language is Language.ES else "en",
    )
    return texts.render(key, context)
