"""The fill day in the JSON API (SPEC 5.3, 13): `GET /api/fills?date=`, and the state changes
`POST /api/fills/<id>/state` (a fill that has its row) and `POST /api/fills/state` (any row of
the list, by `enrollment_id` and `date`: a row nobody has acted on yet has `"id": null`).

Thin doors to bot/fills.py, the rules the pages use: a bad field is a 400 naming it, a move
the fill's state does not allow a 409, another store's fill a 404. The answer to a change is
the row as the list now shows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import g, request

from bot import fills
from bot.access import Staff, api_error, token_required
from bot.api import bp
from bot.enrollment import staff_today
from bot.extensions import db_session
from bot.inputs import FIRST_DATE, LAST_DATE
from bot.items import Refusal, Result
from store import fills as fill_store
from store.audit import record_audit
from store.models import Enrollment, FillState, utcnow
from store.validate import MAX_INTEGER

_STATUS = {Refusal.FORBIDDEN: 403, Refusal.CONFLICT: 409, Refusal.INVALID: 400}


def _me() -> Staff:
    staff: Staff = g.staff
    return staff


def _date(raw: Any, *, default: dt.date | None = None) -> dt.date | None:
    """A YYYY-MM-DD date in the range the pages accept; None when it is not one."""
    if raw in (None, "") and default is not None:
        return default
    try:
        day = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DATE <= day <= LAST_DATE else None


@bp.get("/fills")
@token_required
def list_fills() -> Any:
    """The fill-day list of `?date=` (default: today in the caller's first store)."""
    session = db_session()
    today = staff_today(session, _me().store_ids, utcnow())
    day = _date(request.args.get("date"), default=today)
    if day is None:
        return api_error(400, f"date must be YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}")
    listing = fills.fill_day(session, _me().store_ids, day)
    record_audit(
        session, "api_list_fills", actor="api", user_id=_me().id, detail={"date": day.isoformat()}
    )
    session.commit()
    return {"date": day.isoformat(), "items": [row.to_json() for row in listing.rows]}


def _body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _note(body: dict[str, Any]) -> tuple[str | None, bool]:
    note = body.get("note")
    return (note, True) if note is None or isinstance(note, str) else (None, False)


@bp.post("/fills/<int:fill_id>/state")
@token_required
def fill_state(fill_id: int) -> Any:
    """Move a fill: `{"state": "prepared" | "ready" | "picked_up" | "delivered" | "on_hold" |
    "to_prepare", "note": "..."}` (a note is required for on_hold)."""
    session = db_session()
    fill = (
        fill_store.get_fill(session, _me().store_ids, fill_id) if fill_id <= MAX_INTEGER else None
    )
    if fill is None:
        return api_error(404, "no such fill")
    body = _body()
    if body is None:
        return api_error(400, 'send a JSON object: {"state": "...", "note": "..."}')
    enrollment = fill_store.get_enrollment(session, _me().store_ids, fill.enrollment_id)
    assert enrollment is not None  # the fill is in the caller's stores, so is its patient
    return _change(enrollment, fill.anchor_date, body)


@bp.post("/fills/state")
@token_required
def row_state() -> Any:
    """Move the fill of a row by `{"enrollment_id": N, "date": "YYYY-MM-DD", "state": ...,
    "note": ...}`; the fill's row is made on this first action."""
    body = _body()
    if body is None:
        return api_error(400, 'send a JSON object: {"enrollment_id", "date", "state", "note"}')
    enrollment_id = body.get("enrollment_id")
    if (
        not isinstance(enrollment_id, int)
        or isinstance(enrollment_id, bool)
        or not 1 <= enrollment_id <= MAX_INTEGER
    ):
        return api_error(400, "enrollment_id must be a whole number (the row's enrollment_id)")
    day = _date(body.get("date"))
    if day is None:
        return api_error(400, f"date must be YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}")
    enrollment = fill_store.get_enrollment(db_session(), _me().store_ids, enrollment_id)
    if enrollment is None:
        return api_error(404, "no such enrollment")
    return _change(enrollment, day, body)


def _change(enrollment: Enrollment, day: dt.date, body: dict[str, Any]) -> Any:
    state = body.get("state")
    if not isinstance(state, str):
        return api_error(400, "state must be one of " + ", ".join(s.value for s in FillState))
    note, ok = _note(body)
    if not ok:
        return api_error(400, "note must be a string")
    session = db_session()
    result: Result = fills.change_state(
        session, _me(), enrollment, day, state, note, utcnow(), actor="api"
    )
    if result.refusal is not None:
        return api_error(_STATUS[result.refusal], result.message)
    session.commit()
    row = fills.fill_row(session, _me().store_ids, enrollment.id, day)
    assert row is not None  # it was on the list, and a state change keeps it there
    return row.to_json()
