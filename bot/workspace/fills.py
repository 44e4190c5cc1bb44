"""The fill-day pages (SPEC 13): the list, its pick-list print view and CSV, and the forms
that change a fill's state or delivery. The rules are bot/fills.py's; these views read the
form, call it, audit the view, commit and redirect back to the day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response as FlaskResponse
from flask import abort, flash, get_template_attribute, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from bot import fills
from bot.access import login_required, staff_member
from bot.enrollment import staff_today
from bot.extensions import db_session
from bot.inputs import date_arg, parse_number
from bot.workspace import _audit, bp
from bot.workspace.forms import EmptyForm
from store import fills as fill_store
from store.models import CheckinStatus, Enrollment, FillState, utcnow
from store.roster import RosterStatus

# Looked up per row rather than worked out in the template (a call per row costs more there).
_CHECKIN_LABELS = {status: status.value.replace("_", " ") for status in CheckinStatus}
_ROSTER_LABELS = {status: status.value.replace("_", " ") for status in RosterStatus}


def _day() -> dt.date:
    """The `?date=` asked for, else today in the staff member's (first) store."""
    return date_arg("date", default=staff_today(db_session(), staff_member().store_ids, utcnow()))


@bp.get("/fills")
@login_required
def fills_page() -> str:
    """The fill-day list of one anchor date, blockers first."""
    day = _day()
    session = db_session()
    listing = fills.fill_day(session, staff_member().store_ids, day)
    _audit("view_fills", detail={"date": day.isoformat()})
    session.commit()
    return render_template(
        "workspace/fills.html",
        listing=listing,
        day=day,
        previous=day - dt.timedelta(days=1),
        following=day + dt.timedelta(days=1),
        form=EmptyForm(),
        blocker_labels=fills.BLOCKER_LABELS,
        roster_labels=_ROSTER_LABELS,
        parts=_parts(listing),
        preparable=sum(row.bulk_preparable for row in listing.rows),
    )


def _parts(listing: fills.FillDay) -> dict[str, dict[Any, Markup]]:
    """The list's repeated parts (workspace/fill_parts.html), each rendered once for the page:
    per medicine line, fill state, blocker, check-in status and (state, delivery) form body.
    A big day has 6,000 medicine lines but a few hundred distinct ones (the read model shares
    equal rows), and 2,000 rows share a dozen form bodies."""

    def macro(name: str) -> Any:
        return get_template_attribute("workspace/fill_parts.html", name)

    line, state_tag, blocker_tag, status_tag, actions = map(
        macro, ("medicine_line", "state_tag", "blocker_tag", "status_tag", "actions")
    )
    delivery_url = url_for("workspace.fill_delivery")
    return {
        "medicines": {
            m: line(m, fills.ACTION_LABELS)
            for m in {m for row in listing.rows for m in row.medicines}
        },
        "states": {s: state_tag(s, label) for s, label in fills.STATE_LABELS.items()},
        "blockers": {b: blocker_tag(b, label) for b, label in fills.BLOCKER_LABELS.items()},
        "statuses": {s: status_tag(s, label) for s, label in _CHECKIN_LABELS.items()},
        "actions": {
            key: actions(*key, moves, fills.MOVE_LABELS, fills.NOTE_MAX_LENGTH, delivery_url)
            for key, moves in fills.MOVES.items()
        },
    }


@bp.get("/fills/print")
@login_required
def fills_print() -> str:
    """The pick list: one sheet of paper, what to fill per patient."""
    day = _day()
    session = db_session()
    listing = fills.fill_day(session, staff_member().store_ids, day)
    _audit("print_fills", detail={"date": day.isoformat()})
    session.commit()
    return render_template(
        "workspace/fills_print.html",
        listing=listing,
        day=day,
        state_labels=fills.STATE_LABELS,
        action_labels=fills.ACTION_LABELS,
        blocker_labels=fills.BLOCKER_LABELS,
    )


@bp.get("/fills.csv")
@login_required
def fills_csv() -> FlaskResponse:
    """The day's decisions as CSV (the same file as `flask export-fills`)."""
    day = _day()
    session = db_session()
    listing = fills.fill_day(session, staff_member().store_ids, day)
    _audit("export_fills", detail={"date": day.isoformat()})
    session.commit()
    return FlaskResponse(
        fills.export_csv(listing),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="fills-{day.isoformat()}.csv"'},
    )


def _form_day() -> dt.date:
    try:
        return dt.date.fromisoformat(request.form.get("date", ""))
    except ValueError:
        raise BadRequest("date must be a date, YYYY-MM-DD.") from None


def _form_enrollment() -> Enrollment:
    enrollment_id = parse_number(
        request.form.get("enrollment_id", ""), "enrollment_id", low=1, high=2**31 - 1
    )
    found = fill_store.get_enrollment(db_session(), staff_member().store_ids, enrollment_id)
    if found is None:
        abort(404)
    return found


def _back(day: dt.date, enrollment_id: int | None = None) -> Response:
    anchor = f"#row-{enrollment_id}" if enrollment_id else ""
    return redirect(url_for("workspace.fills_page", date=day.isoformat()) + anchor)


@bp.post("/fills/state")
@login_required
def fill_state() -> Response:
    """Move one row's fill to another state (on hold needs a note)."""
    day = _form_day()
    enrollment = _form_enrollment()
    if not EmptyForm().validate_on_submit():
        flash("The form had expired; try again.", "error")
        return _back(day, enrollment.id)
    session = db_session()
    result = fills.change_state(
        session,
        staff_member(),
        enrollment,
        day,
        request.form.get("state", ""),
        request.form.get("note"),
        utcnow(),
        actor="user",
    )
    if result.ok:
        session.commit()
    elif request.form.get("state", "") not in FillState._value2member_map_:
        raise BadRequest(result.message)
    flash(f"{enrollment.patient.full_name}: {result.message}", "ok" if result.ok else "error")
    return _back(day, enrollment.id)


@bp.post("/fills/prepare-confirmed")
@login_required
def fills_prepare_confirmed() -> Response:
    """Mark prepared every confirmed row with nothing blocking."""
    day = _form_day()
    if not EmptyForm().validate_on_submit():
        flash("The form had expired; try again.", "error")
        return _back(day)
    session = db_session()
    moved = fills.prepare_confirmed(session, staff_member(), day, utcnow(), actor="user")
    session.commit()
    flash(f"Marked {moved} confirmed fill{'s' * (moved != 1)} prepared.", "ok")
    return _back(day)


@bp.post("/fills/delivery")
@login_required
def fill_delivery() -> Response:
    """Set pickup or delivery for a row's patient (and their fills not yet collected)."""
    day = _form_day()
    enrollment = _form_enrollment()
    if not EmptyForm().validate_on_submit():
        flash("The form had expired; try again.", "error")
        return _back(day, enrollment.id)
    session = db_session()
    result = fills.set_delivery(
        session,
        staff_member(),
        enrollment,
        day,
        request.form.get("delivery", ""),
        utcnow(),
        actor="user",
    )
    if not result.ok:
        raise BadRequest(result.message)
    session.commit()
    flash(f"{enrollment.patient.full_name}: {result.message}", "ok")
    return _back(day, enrollment.id)
