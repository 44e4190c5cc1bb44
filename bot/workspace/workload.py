"""The workload page (SPEC 13): fills per day for the next four weeks, per store, with the
days over the store's daily fill limit (Stores page, `daily_fill_limit`) said in words."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import render_template

from bot.access import login_required, staff_member
from bot.extensions import db_session
from bot.inputs import date_arg
from bot.workspace import _audit, bp
from store import workload, workspace
from store.models import utcnow

WORKLOAD_DAYS = 28


@bp.get("/workload")
@login_required
def workload_page() -> str:
    """Patients and maintenance medicines to fill on each of the next 28 days, per store."""
    session = db_session()
    stores = workspace.list_stores(session, staff_member().store_ids)
    now = utcnow()
    today = now.astimezone(ZoneInfo(stores[0].timezone) if stores else dt.UTC).date()
    start = date_arg("from", default=today)
    end = start + dt.timedelta(days=WORKLOAD_DAYS - 1)
    loads = workload.fills_per_day(session, [s.id for s in stores], start, end)
    _audit("view_workload", detail={"from": start.isoformat()})
    session.commit()
    return render_template(
        "workspace/workload.html",
        stores=[(store, loads[store.id]) for store in stores],
        start=start,
        end=end,
        earlier=start - dt.timedelta(days=WORKLOAD_DAYS),
        later=end + dt.timedelta(days=1),
    )
