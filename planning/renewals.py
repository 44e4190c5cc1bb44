"""When a medicine with no refills left needs a renewal request (SPEC 13), as pure dates.

A maintenance medicine is filled with the others on the anchor date, or earlier when its
supply runs out first (the sync plan's short fill on the due date). So it must be authorized
by the earlier of the two: `fill_by`. The request goes to the prescriber once that date is
within RENEWAL_LEAD_DAYS of today, early enough for a fax to come back before the fill.
"""

from __future__ import annotations

import datetime as dt

from planning.sync import Medication, next_due_date

RENEWAL_LEAD_DAYS = 14


def fill_by(medication: Medication, anchor: dt.date) -> dt.date:
    """The date the medicine is next dispensed: its due date if before the anchor, else the
    anchor (an unknown due date: the anchor)."""
    due = next_due_date(medication)
    return min(due, anchor) if due is not None else anchor


def renewal_due(medication: Medication, anchor: dt.date, today: dt.date) -> dt.date | None:
    """`fill_by` when a renewal request is due today (a maintenance medicine with no refills
    left, to fill within RENEWAL_LEAD_DAYS or overdue); otherwise None."""
    if medication.med_type != "maintenance" or medication.refills_remaining != 0:
        return None
    day = fill_by(medication, anchor)
    return day if day <= today + dt.timedelta(days=RENEWAL_LEAD_DAYS) else None
