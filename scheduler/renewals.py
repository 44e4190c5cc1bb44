"""The scheduler's renewal step (SPEC 13): raise `renewal_needed` items early.

A maintenance medicine with no refills left whose fill is within 14 days (planning/renewals.py)
gets one item per medicine and anchor date, so staff can fax or phone the prescriber before the
fill day. Runs every pass, after the anchors are rolled (the item belongs to the current
anchor), and contacts nobody: it only queues work for staff. `store.renewals.raise_renewal`
makes it safe for two schedulers at once and for a pass repeated after a crash.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from planning.renewals import renewal_due
from planning.sync import Medication
from scheduler import policy
from store import renewals

if TYPE_CHECKING:
    from scheduler.jobs import PassReport, SessionFactory

log = logging.getLogger(__name__)

BATCH_SIZE = 500


def raise_renewals(
    sessions: SessionFactory, now: dt.datetime, report: PassReport, batch: int = BATCH_SIZE
) -> None:
    """Raise the renewal items due as of `now`, one short transaction per item."""
    after = 0
    while True:
        with sessions() as session:
            page = renewals.list_candidates(session, after=after, limit=batch)
        for candidate in page:
            today = policy.local_day(now, policy.zone_of(candidate.zone, candidate.zone))
            medication = Medication(
                name="",
                days_supply=candidate.days_supply,
                last_fill_date=candidate.last_fill_date,
                refills_remaining=0,
                quantity=candidate.quantity,
                daily_dose=candidate.daily_dose,
            )
            fill_by = renewal_due(medication, candidate.anchor_date, today)
            if fill_by is None:
                continue
            with sessions() as session:
                try:
                    raised = renewals.raise_renewal(
                        session, candidate.medicine_id, candidate.anchor_date, fill_by
                    )
                    session.commit()
                except Exception:
                    session.rollback()
                    report.errors += 1
                    log.exception("scheduler: renewal of medicine %s failed", candidate.medicine_id)
                    continue
            report.renewals += raised is not None
        if len(page) < batch:
            return
        after = page[-1].medicine_id
