"""The JSON API (SPEC 5.3): the queue, claims and resolutions, transcripts, check-ins.

Bearer tokens (`create-api-token`), the same store isolation and roles as the pages, and the
same audit log. Errors are `{"error": "..."}`; another store's data answers 404.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, g, request

from bot import items
from bot.access import Staff, api_error, token_required
from bot.extensions import db_session
from bot.inputs import MAX_PAGE, number_arg
from bot.summary import topic_summary
from store import workspace
from store.audit import record_audit
from store.models import Checkin, Message, QueueItem, QueueKind, QueueStatus, utcnow

bp = Blueprint("api", __name__, url_prefix="/api")
# Messages per answer of the transcript route; older ones with ?before=<id of the oldest>.
TRANSCRIPT_PAGE_SIZE = 500


def init_app(app: Flask) -> None:
    from bot import fills_api, openapi, patients_api  # noqa: F401  (their routes join bp)

    app.register_blueprint(bp)  # errors under /api/ are JSON: bot/errors.py


def _me() -> Staff:
    staff: Staff = g.staff
    return staff


def _audit(action: str, **kwargs: Any) -> None:
    record_audit(db_session(), action, actor="api", user_id=_me().id, **kwargs)


def item_json(item: QueueItem) -> dict[str, Any]:
    patient = item.patient
    return {
        "id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "priority": item.priority,
        "patient_id": patient.external_id if patient else None,
        "patient_name": patient.full_name if patient else None,
        "store": item.store.code,
        "anchor_date": item.anchor_date.isoformat() if item.anchor_date else None,
        "text": item.text,
        "recording_url": item.recording_url,
        "created_at": item.created_at.isoformat(),
        "claimed_by": item.claimed_by.email if item.claimed_by else None,
        "claimed_at": item.claimed_at.isoformat() if item.claimed_at else None,
        "resolution_note": item.resolution_note,
        "outcome": item.outcome,
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "channel": message.channel.value,
        "body": message.body,
        "recording_url": message.recording_url,
        "twilio_sid": message.twilio_sid,
        "status": message.status,
        "error_code": message.error_code,
        "created_at": message.created_at.isoformat(),
    }


def checkin_json(checkin: Checkin) -> dict[str, Any]:
    return {
        "id": checkin.id,
        "patient_id": checkin.patient.external_id,
        "patient_name": checkin.patient.full_name,
        "store": checkin.store.code,
        "anchor_date": checkin.anchor_date.isoformat(),
        "status": checkin.status.value,
        "channel": checkin.channel.value,
        "attempts": checkin.attempts,
        "topics": topic_summary(checkin.topics),
    }


@bp.get("/queue")
@token_required
def list_queue() -> Any:
    """Items visible to the caller; ?status=open|claimed|resolved&kind=KIND."""
    status_arg, kind_arg = request.args.get("status", ""), request.args.get("kind", "")
    if status_arg and status_arg not in QueueStatus._value2member_map_:
        return api_error(400, f"unknown status {status_arg!r}")
    if kind_arg and kind_arg not in QueueKind._value2member_map_:
        return api_error(400, f"unknown kind {kind_arg!r}")
    statuses = (QueueStatus(status_arg),) if status_arg else (QueueStatus.OPEN, QueueStatus.CLAIMED)
    page = number_arg("page", default=1, low=1, high=MAX_PAGE)
    session = db_session()
    listing = workspace.list_queue(
        session,
        _me().store_ids,
        statuses=statuses,
        kind=QueueKind(kind_arg) if kind_arg else None,
        page=page,
        per_page=min(max(request.args.get("per_page", 100, type=int) or 100, 1), 500),
    )
    _audit("api_list_queue", detail={"status": status_arg, "kind": kind_arg, "page": page})
    session.commit()
    return {
        "items": [item_json(item) for item in listing.items],
        "total": listing.total,
        "page": listing.page,
        "pages": listing.pages,
    }


def _item(item_id: int) -> QueueItem | None:
    return workspace.get_item(db_session(), _me().store_ids, item_id)


@bp.post("/queue/<int:item_id>/claim")
@token_required
def claim(item_id: int) -> Any:
    return _act_on_item(item_id, items.claim)


@bp.post("/queue/<int:item_id>/release")
@token_required
def release(item_id: int) -> Any:
    """Give back the caller's own claim: the item is open again."""
    return _act_on_item(item_id, items.release)


@bp.post("/queue/<int:item_id>/take-over")
@token_required
def take_over(item_id: int) -> Any:
    """Take over anyone's claim (pharmacists and admins)."""
    return _act_on_item(item_id, items.take_over)


@bp.post("/queue/<int:item_id>/resolve")
@token_required
def resolve(item_id: int) -> Any:
    """Resolve with `{"note": "...", "outcome": "..."}` (note required; outcome one of
    bot.items.OUTCOMES, "handled" when left out)."""
    body = request.get_json(silent=True)
    fields = body if isinstance(body, dict) else {}
    resolve_with = functools.partial(
        items.resolve, note=fields.get("note"), outcome=fields.get("outcome")
    )
    return _act_on_item(item_id, resolve_with)


# A refused action's answer: the caller's role (403), the item's state (409), the input (400).
_REFUSAL_STATUS = {
    items.Refusal.FORBIDDEN: 403,
    items.Refusal.CONFLICT: 409,
    items.Refusal.INVALID: 400,
}


def _act_on_item(item_id: int, act: Callable[..., items.Result]) -> Any:
    """Run a claim, release, take-over or resolution (bot/items.py); answer the item or why not."""
    item = _item(item_id)
    if item is None:
        return api_error(404, "no such item")
    session = db_session()
    result = act(session, _me(), item, utcnow(), actor="api")
    if result.refusal is not None:
        return api_error(_REFUSAL_STATUS[result.refusal], result.message)
    session.commit()
    session.refresh(item)
    return item_json(item)


@bp.get("/patients/<patient_id>/messages")
@token_required
def patient_messages(patient_id: str) -> Any:
    """The transcript of the patient with this PMS id (`?store=CODE` when ids repeat).

    The latest TRANSCRIPT_PAGE_SIZE messages, oldest first; `earlier` counts the older ones and
    `next_before` is the cursor for them (`?before=`), null when there are none.
    """
    try:
        before = workspace.message_cursor(request.args.get("before"))
    except ValueError:
        return api_error(400, "before must be the id of one of this patient's messages")
    session = db_session()
    found = workspace.find_patients(session, _me().store_ids, patient_id)
    store_code = request.args.get("store")
    if store_code:
        found = [p for p in found if p.store.code == store_code]
    if not found:
        return api_error(404, "no such patient")
    if len(found) > 1:
        return api_error(400, "this patient id exists in several of your stores; add ?store=CODE")
    patient = found[0]
    page = workspace.transcript_page(
        session, _me().store_ids, patient.id, before=before, per_page=TRANSCRIPT_PAGE_SIZE
    )
    if page is None:
        return api_error(400, "before must be the id of one of this patient's messages")
    detail = {"detail": {"before": before}} if before is not None else {}
    _audit("api_view_transcript", store_id=patient.store_id, patient_id=patient.id, **detail)
    session.commit()
    return {
        "items": [message_json(m) for m in page.messages],
        "earlier": page.earlier,
        "next_before": page.oldest_id if page.earlier else None,
    }


@bp.get("/checkins")
@token_required
def checkins() -> Any:
    """Check-ins and their status for one anchor date (?anchor_date=YYYY-MM-DD)."""
    try:
        day = dt.date.fromisoformat(request.args.get("anchor_date", ""))
    except ValueError:
        return api_error(400, "anchor_date must be YYYY-MM-DD")
    session = db_session()
    rows = workspace.list_checkins(session, _me().store_ids, day, day)
    _audit("api_list_checkins", detail={"anchor_date": day.isoformat()})
    session.commit()
    return {"items": [checkin_json(c) for c in rows]}


@bp.get("/checkins/<int:checkin_id>")
@token_required
def checkin(checkin_id: int) -> Any:
    """One check-in with its topic summary (SPEC 5.3); another store's answers 404."""
    session = db_session()
    found = workspace.get_checkin(session, _me().store_ids, checkin_id)
    if found is None:
        return api_error(404, "no such check-in")
    _audit(
        "api_view_checkin",
        store_id=found.store_id,
        patient_id=found.patient_id,
        target=f"checkin:{found.id}",
    )
    session.commit()
    return checkin_json(found)
