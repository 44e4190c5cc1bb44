"""The roster and enrollment in the JSON API (SPEC 5.3, 14): `GET /api/patients`,
`POST /api/patients/<patient_id>/consent` and `/enrollment`.

Thin doors to store/roster.py (the status of each patient, defined once) and bot/enrollment.py
(the same rules as the pages): a bad field is a 400 naming it, a request the patient's state
does not allow a 409, another store's patient a 404.
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from bot import enrollment
from bot.access import Staff, api_error, token_required
from bot.api import bp
from bot.extensions import db_session
from store import roster, workspace
from store.audit import record_audit
from store.models import Patient, utcnow
from store.validate import MAX_INTEGER, whole_number

MAX_PER_PAGE = 500


def _me() -> Staff:
    staff: Staff = g.staff
    return staff


def roster_row_json(row: roster.RosterRow) -> dict[str, Any]:
    return {
        "patient_id": row.external_id,
        "name": row.full_name,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "birth_date": row.birth_date.isoformat() if row.birth_date else None,
        "phone": row.phone,
        "store": row.store_code,
        "status": row.status.value,
        "new_from_import": row.needs_review,
        "anchor_date": row.anchor_date.isoformat() if row.anchor_date else None,
        "consent_state": row.consent_state.value if row.consent_state else None,
    }


def patient_json(patient: Patient, status: roster.RosterStatus) -> dict[str, Any]:
    enrolled = patient.enrollment
    return {
        "patient_id": patient.external_id,
        "name": patient.full_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "phone": patient.phone,
        "store": patient.store.code,
        "status": status.value,
        "new_from_import": patient.needs_review,
        "channel": patient.channel.value,
        "language": patient.language.value,
        "phi_ok": patient.phi_ok,
        "consent_state": patient.consent_state.value if patient.consent_state else None,
        "consent_method": patient.consent_method.value if patient.consent_method else None,
        "consent_date": patient.consent_date.isoformat() if patient.consent_date else None,
        "welcomed_at": patient.welcomed_at.isoformat() if patient.welcomed_at else None,
        "anchor_date": enrolled.anchor_date.isoformat() if enrolled else None,
        "checkin_form": enrolled.checkin_form.value if enrolled and enrolled.checkin_form else None,
        "paused_until": enrolled.paused_until.isoformat()
        if enrolled and enrolled.paused_until
        else None,
        "disenroll_reason": enrolled.disenroll_reason if enrolled else None,
    }


@bp.get("/patients")
@token_required
def list_patients() -> Any:
    """The roster: `?q=` (name, PMS id, phone in any format, birth date), `?status=`,
    `?new_from_import=1`; by name, `?after=<next_after>` for the next page."""
    status_arg = request.args.get("status", "")
    if status_arg and status_arg not in roster.RosterStatus._value2member_map_:
        statuses = ", ".join(s.value for s in roster.RosterStatus)
        return api_error(400, f"status must be one of {statuses}")
    try:
        after = (
            whole_number(request.args["after"], 1, MAX_INTEGER) if "after" in request.args else None
        )
        per_page = whole_number(request.args.get("per_page", "100"), 1, MAX_PER_PAGE)
    except ValueError:
        return api_error(400, f"after must be a patient cursor; per_page from 1 to {MAX_PER_PAGE}")
    session = db_session()
    me = _me()
    page = roster.search(
        session,
        me.store_ids,
        enrollment.staff_today(session, me.store_ids, utcnow()),
        query=request.args.get("q", ""),
        status=roster.RosterStatus(status_arg) if status_arg else None,
        new_from_import=request.args.get("new_from_import") in ("1", "true", "yes"),
        after=after,
        per_page=per_page,
    )
    if page is None:
        return api_error(400, "after must be the next_after of an earlier answer")
    record_audit(
        session,
        "api_list_patients",
        actor="api",
        user_id=me.id,
        detail={"q": bool(request.args.get("q")), "status": status_arg, "count": len(page.rows)},
    )
    session.commit()
    return {
        "items": [roster_row_json(row) for row in page.rows],
        "total": page.total,
        "next_after": page.next_after,
    }


def _patient(patient_id: str) -> Patient | Any:
    """The caller's patient with this PMS id (`?store=CODE` when ids repeat), or an error."""
    found = workspace.find_patients(db_session(), _me().store_ids, patient_id)
    store_code = request.args.get("store")
    if store_code:
        found = [p for p in found if p.store.code == store_code]
    if not found:
        return api_error(404, "no such patient")
    if len(found) > 1:
        return api_error(400, "this patient id exists in several of your stores; add ?store=CODE")
    return found[0]


def _body() -> dict[str, object] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _answer(patient: Patient, **extra: Any) -> dict[str, Any]:
    session = db_session()
    session.refresh(patient)
    status = roster.status_of(session, patient.id, enrollment.local_today(patient, utcnow()))
    return {**patient_json(patient, status), **extra}


@bp.post("/patients/<patient_id>/consent")
@token_required
def record_consent(patient_id: str) -> Any:
    """`{"state": "accepted" | "declined", "method": "verbal" | "written" | "electronic"}`."""
    patient = _patient(patient_id)
    if not isinstance(patient, Patient):
        return patient
    body = _body()
    if body is None:
        return api_error(400, "the body must be a JSON object")
    try:
        state, method = enrollment.parse_consent(body)
        enrollment.record_consent(
            db_session(), enrollment.Actor(_me().id, "api"), patient, state, method, utcnow()
        )
    except enrollment.Invalid as invalid:
        return api_error(400, str(invalid))
    except enrollment.Refused as refused:
        return api_error(409, str(refused))
    db_session().commit()
    return _answer(patient)


@bp.post("/patients/<patient_id>/enrollment")
@token_required
def change_enrollment(patient_id: str) -> Any:
    """Any subset of `{"anchor_date", "channel", "language", "phi_ok", "checkin_form",
    "paused_until", "disenroll_reason"}`; `null` clears a pause, the form (the store's) or a
    disenrollment (enrolled again)."""
    patient = _patient(patient_id)
    if not isinstance(patient, Patient):
        return patient
    body = _body()
    if body is None:
        return api_error(400, "the body must be a JSON object")
    if not body:
        return api_error(400, f"give at least one of {', '.join(enrollment.CHANGE_FIELDS)}")
    now = utcnow()
    try:
        changes = enrollment.parse_changes(body, enrollment.local_today(patient, now))
        changed = enrollment.change_enrollment(
            db_session(), enrollment.Actor(_me().id, "api"), patient, changes, now
        )
    except enrollment.Invalid as invalid:
        return api_error(400, str(invalid))
    except enrollment.Refused as refused:
        return api_error(409, str(refused))
    db_session().commit()
    return _answer(patient, changed=changed)
