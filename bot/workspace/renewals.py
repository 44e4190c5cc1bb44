"""Renewal requests to prescribers (SPEC 13): the list, the printed sheet, sent and answered.

Thin views: store/renewals.py reads the caller's open renewal items (one query), bot/renewals.py
records what staff did (and audits it), the views render and commit.

* `/renewals`: the open `renewal_needed` items, one block per store and prescriber, each with
  its sheet to print and a "sent by fax / phone" button.
* `/renewals/print?prescriber=<NPI, or the name when there is none>`: one sheet per store for
  that prescriber, laid out for paper (bot/static/renewals.css hides the rest when printing).
* `/items/<id>/renewal/sent` and `/items/<id>/renewal/answer`: the same from the item page.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from bot import renewals
from bot.access import login_required, staff_member
from bot.extensions import db_session
from bot.items import Refusal
from bot.workspace import _audit, _item_or_404, bp
from bot.workspace.forms import EmptyForm
from store import renewals as store_renewals
from store.models import utcnow

MAX_PRESCRIBER_KEY = 120


@bp.get("/renewals")
@login_required
def renewals_page() -> str:
    """Open renewal requests, grouped by store and prescriber."""
    session = db_session()
    rows = store_renewals.open_renewals(session, staff_member().store_ids)
    _audit("view_renewals", detail={"items": len(rows)})
    session.commit()
    return render_template(
        "workspace/renewals.html",
        sheets=store_renewals.sheets(rows),
        form=EmptyForm(),
        via=renewals.SENT_VIA,
    )


def _prescriber_arg(values: dict[str, str] | None = None) -> str:
    raw = (values if values is not None else request.args).get("prescriber", "")
    key = raw.strip()
    if not key or len(key) > MAX_PRESCRIBER_KEY:
        raise BadRequest("Name the prescriber: ?prescriber= their NPI, or their name.")
    return key


def _rows_for(key: str) -> list[store_renewals.RenewalRow]:
    rows = store_renewals.open_renewals(db_session(), staff_member().store_ids)
    return [row for row in rows if row.prescriber_key == key]


@bp.get("/renewals/print")
@login_required
def renewal_sheet() -> str:
    """The request to one prescriber, to fax or read on the phone: one page per store."""
    key = _prescriber_arg()
    rows = _rows_for(key)
    if not rows:
        abort(404)
    session = db_session()
    for row in rows:
        _audit(
            "print_renewal",
            store_id=row.store_id,
            patient_id=row.patient_id,
            target=f"item:{row.item_id}",
        )
    session.commit()
    return render_template(
        "workspace/renewal_sheet.html",
        sheets=store_renewals.sheets(rows),
        today=dt.date.today(),
    )


@bp.post("/renewals/sent")
@login_required
def renewals_sent() -> Response:
    """Record that the sheet of one prescriber went out (every open item on it)."""
    back = url_for("workspace.renewals_page")
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    key = _prescriber_arg(request.form)
    rows = _rows_for(key)
    if not rows:
        abort(404)
    session = db_session()
    result = renewals.mark_sent(
        session, staff_member(), rows, request.form.get("via"), utcnow(), actor="user"
    )
    if result.refusal is Refusal.INVALID:
        raise BadRequest(result.message)
    session.commit()
    flash(result.message, "ok" if result.ok else "error")
    return redirect(back)


@bp.post("/items/<int:item_id>/renewal/sent")
@login_required
def renewal_sent(item_id: int) -> Response:
    """Record that this item's request went to the prescriber."""
    _item_or_404(item_id)
    back = url_for("workspace.item_page", item_id=item_id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    session = db_session()
    row = store_renewals.renewal_of(session, staff_member().store_ids, item_id)
    if row is None:
        abort(404)
    result = renewals.mark_sent(
        session, staff_member(), [row], request.form.get("via"), utcnow(), actor="user"
    )
    if result.refusal is Refusal.INVALID:
        raise BadRequest(result.message)
    session.commit()
    flash(result.message, "ok" if result.ok else "error")
    return redirect(back)


@bp.post("/items/<int:item_id>/renewal/answer")
@login_required
def renewal_answer(item_id: int) -> Response:
    """Record the prescriber's answer: resolves the item, sets the medicine's refills."""
    item = _item_or_404(item_id)
    back = url_for("workspace.item_page", item_id=item_id)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    session = db_session()
    result = renewals.record_answer(
        session,
        staff_member(),
        item,
        utcnow(),
        answer=request.form.get("answer"),
        refills=request.form.get("refills"),
        note=request.form.get("note"),
        actor="user",
    )
    if result.refusal is Refusal.FORBIDDEN:
        abort(403)
    if result.refusal is Refusal.INVALID:
        raise BadRequest(result.message)
    if result.ok:
        session.commit()
    flash(result.message, "ok" if result.ok else "error")
    return redirect(url_for("workspace.renewals_page") if result.ok else back)
