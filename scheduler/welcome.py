"""The welcome text after accepted consent (SPEC 14): once, inside the window and the caps.

Program name, the pickup day (the anchor date), how often we write, HELP and STOP: CTIA's
opt-in confirmation. It asks nothing and starts no check-in (`bot.outreach.send_notice`,
purpose `welcome`); Spanish speakers get it in Spanish, voice-only patients as a call.

Decisions:

* **It counts against the caps.** It is pharmacy-initiated outreach (`OUTREACH_PURPOSES`),
  and a patient must not get a welcome and a refill question on the same day. Welcomes go
  out before the pass works its check-ins, so a patient due both hears the welcome first and
  the check-in's first text waits for the next local day (there are still days before the
  anchor: check-ins start `lead_days` ahead).
* **Only inside the window, no stored schedule.** A patient outside their window, or over
  the caps, is simply looked at again by the next pass; the welcome has no deadline.
* **Once.** `welcomed_at` is claimed with a conditional UPDATE before the text is recorded,
  in the same commit, so two schedulers or a restart never send a second one; a send that
  fails is not retried (SPEC 9: never blindly retried).
* **Who.** `store.roster.welcome_due` (accepted consent, not welcomed, reviewed) and the
  roster status `enrolled` on the patient's local today (consent in effect, not opted out,
  not paused, not disenrolled), read again with the patient's row locked.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import dialogs
from bot import outreach
from bot.transports.base import Outcome
from dialogs import texts
from scheduler import policy
from store import patients, roster, welcomes
from store.models import Channel, ConsentState, Language, Patient, Purpose
from store.validate import display_phone

if TYPE_CHECKING:
    from scheduler.jobs import Outbox, PassReport, SessionFactory

log = logging.getLogger(__name__)

BATCH_SIZE = 200
CAPS_LOOKBACK = dt.timedelta(days=8)


def send_welcomes(
    sessions: SessionFactory,
    now: dt.datetime,
    outbox: Outbox,
    report: PassReport,
    batch: int = BATCH_SIZE,
) -> None:
    """Welcome every patient who is due one and whose send window is open now.

    1. Page through the due patients by id (`welcomes.list_due_welcomes`).
    2. Skip, without another query, those whose local window is closed.
    3. For the others, one transaction each: lock the patient, check again, check the caps,
       claim `welcomed_at`, send (`welcome_patient`).
    """
    after = 0
    while True:
        with sessions() as session:
            due = welcomes.list_due_welcomes(session, after=after, limit=batch)
        for candidate in due:
            zone = policy.zone_of(candidate.zone, candidate.zone)
            window = policy.Window(candidate.window_start_minute, candidate.window_end_minute)
            if policy.next_send_time(now, zone, window) != now:
                continue
            with sessions() as session:
                try:
                    sent = welcome_patient(session, candidate.patient_id, now, outbox, zone, window)
                except Exception:
                    session.rollback()
                    report.errors += 1
                    log.exception("scheduler: welcome of patient %s failed", candidate.patient_id)
                    continue
            report.welcomes += sent is Outcome.SENT
            report.not_sent += sent is not None and sent is not Outcome.SENT
        if len(due) < batch:
            return
        after = due[-1].patient_id


def welcome_patient(
    session: Session,
    patient_id: int,
    now: dt.datetime,
    outbox: Outbox,
    zone: ZoneInfo,
    window: policy.Window,
) -> Outcome | None:
    """Send one patient's welcome if it is still due and allowed now; None when not sent."""
    patient = patients.get_patient(session, patient_id, lock=True)
    if patient is None or not _still_due(session, patient, policy.local_day(now, zone)):
        session.rollback()
        return None
    recent = welcomes.recent_outreach(session, patient.id, now - CAPS_LOOKBACK)
    if policy.earliest_allowed(now, zone, window, recent) != now:
        session.rollback()  # over the caps today: a later pass tries again
        return None
    if not welcomes.claim_welcome(session, patient.id, now):
        session.rollback()
        return None
    channel = patient.channel
    left = policy.window_left(now, zone, window)
    sent = outreach.send_notice(
        session,
        patient.id,
        Purpose.WELCOME,
        welcome_text(patient, channel),
        now,
        transport=outbox.transport,
        urls=outbox.urls,
        defaults=outbox.defaults,
        channel=channel,
        validity_seconds=int(left.total_seconds()) if left and channel is Channel.SMS else None,
    )
    if sent.result is None:
        session.rollback()  # no longer contactable: nothing was recorded, nor the claim
        return None
    log.info("scheduler: welcome of patient %s by %s: %s", patient.id, channel, sent.outcome)
    return sent.outcome


def _still_due(session: Session, patient: Patient, today: dt.date) -> bool:
    """The row as locked: still due a welcome, and enrolled (contacted) on local `today`."""
    return (
        patient.consent_state is ConsentState.ACCEPTED
        and patient.welcomed_at is None
        and not patient.needs_review
        and patient.enrollment is not None
        and roster.status_of(session, patient.id, today) is roster.RosterStatus.ENROLLED
    )


def welcome_text(patient: Patient, channel: Channel) -> str:
    """The welcome in the patient's language: by SMS one segment, or the words of the call."""
    store = patient.store
    assert patient.enrollment is not None
    context = dialogs.Context(
        pharmacy_name=store.name,
        pharmacy_phone=display_phone(store.phone),
        patient_first_name=patient.first_name,
        pickup_date=patient.enrollment.anchor_date,
        channel="voice" if channel is Channel.VOICE else "sms",
        language="es" if patient.language is Language.ES else "en",
    )
    return texts.render("welcome", context)
