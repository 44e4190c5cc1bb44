"""The pharmacist workspace: login, queue, item, upcoming fills, patient page, admin.

Views are thin: they read the signed-in staff member's stores from bot/access.py, call
store/workspace.py (which filters every query by those stores) or a use case in bot/outreach.py,
write the audit log, and render. Another store's item looks exactly like a missing one (404).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from bot import outreach, staff_admin
from bot.access import (
    LOGIN_REFUSED,
    Staff,
    admin_required,
    authenticate,
    login_required,
    staff_member,
)
from bot.extensions import db_session, resources
from bot.planning_cli import plan_for_patient
from bot.webhooks import defaults, urls
from bot.workspace.forms import (
    OUTCOMES,
    CandidatesForm,
    EmptyForm,
    LoginForm,
    ResolveForm,
    StoreForm,
    TextPatientForm,
    UserForm,
)
from planning.candidates import find_candidates
from planning.fills import FillsFileError, group_by_patient, read_fills
from store import queue, staff, workspace
from store.audit import record_audit
from store.importer import ImportFileError, check_utf8
from store.models import (
    ApiToken,
    CheckinStatus,
    MedType,
    QueueKind,
    QueueStatus,
    Role,
    Store,
    User,
    utcnow,
)
from store.validate import display_phone, is_timezone, normalize_phone

MAX_FILLS_UPLOAD = 20 * 1024 * 1024
# Messages per page of a transcript (item and patient pages); "Earlier messages" pages back.
TRANSCRIPT_PAGE_SIZE = 50

bp = Blueprint("workspace", __name__)

KIND_LABELS = {
    QueueKind.MED_CHANGE: "Medication change",
    QueueKind.ADHERENCE: "Adherence",
    QueueKind.PRN_NEED: "As-needed request",
    QueueKind.HEALTH_CHANGE: "Hospital or new condition",
    QueueKind.CONCERN: "Question",
    QueueKind.CALLBACK_REQUEST: "Call back",
    QueueKind.NEEDS_HUMAN: "Needs a person",
    QueueKind.UNREACHABLE: "Unreachable",
    QueueKind.OPTED_OUT: "Opted out",
    QueueKind.INVALID_NUMBER: "Invalid number",
}
STATUS_FILTERS = {
    "active": (QueueStatus.OPEN, QueueStatus.CLAIMED),
    "open": (QueueStatus.OPEN,),
    "claimed": (QueueStatus.CLAIMED,),
    "resolved": (QueueStatus.RESOLVED,),
}


def init_app(app: Flask) -> None:
    """Register the pages and the template helpers they share."""
    app.register_blueprint(bp)

    @app.template_filter("sentence")
    def sentence(text: str) -> str:
        """Start with a capital and end with a full stop."""
        text = text.strip()
        if not text:
            return text
        return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "kind_label": lambda kind: KIND_LABELS.get(QueueKind(kind), str(kind)),
            "display_phone": display_phone,
            "local_time": _local_time,
            "logout_form": EmptyForm(),
        }


def _local_time(moment: dt.datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).strftime("%b %d, %I:%M %p")


def _audit(action: str, **kwargs: Any) -> None:
    record_audit(db_session(), action, actor="user", user_id=staff_member().id, **kwargs)


def _transcript_page(patient_id: int) -> workspace.TranscriptPage:
    """Return the page of the patient's transcript that `?before=<message id>` asks for.

    Without `before`, the latest page. A `before` that is not a positive integer, or not one of
    this patient's messages in the caller's stores, is a bad request: 400, nothing is shown.
    """
    try:
        before = workspace.message_cursor(request.args.get("before"))
    except ValueError:
        abort(400)
    page = workspace.transcript_page(
        db_session(),
        staff_member().store_ids,
        patient_id,
        before=before,
        per_page=TRANSCRIPT_PAGE_SIZE,
    )
    if page is None:
        abort(400)
    return page


def _paged(page: workspace.TranscriptPage) -> dict[str, object]:
    """Audit detail for a page of the transcript other than the latest."""
    return {"detail": {"before": page.before}} if page.before is not None else {}


# --- Login ------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Sign in with email and password; five failures lock the account for 15 minutes."""
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        user = authenticate(form.email.data, form.password.data, utcnow())
        record_audit(
            session,
            "login" if user else "login_failed",
            actor="user",
            user_id=user.id if user else None,
            target=form.email.data.strip().lower()[: staff.MAX_EMAIL_LENGTH],
        )
        session.commit()
        if user is not None:
            login_user(Staff.of(user))
            return redirect(_safe_next(request.args.get("next")))
        flash(LOGIN_REFUSED, "error")
    return render_template("workspace/login.html", form=form)


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site, else to the queue.

    Browsers read `//host`, `/\\host` and `/<tab>/host` (they drop tabs and newlines) as
    another site, so a target must start with one slash and a path, with no backslash and
    nothing unprintable anywhere.
    """
    home = url_for("workspace.queue_page")
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    if "\\" in target or not target.isprintable():
        return home
    parts = urlsplit(target)
    return home if parts.scheme or parts.netloc else target


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Sign out, ending every session of this login (other browsers and devices too)."""
    if EmptyForm().validate_on_submit():
        session = db_session()
        user = session.get(User, staff_member().id)
        if user is not None:
            staff.end_sessions(session, user)
        _audit("logout")
        session.commit()
        logout_user()
    return redirect(url_for("workspace.login"))


# --- Queue and items --------------------------------------------------------------------------


@bp.get("/")
@login_required
def home() -> Response:
    return redirect(url_for("workspace.queue_page"))


@bp.get("/queue")
@login_required
def queue_page() -> str:
    """The queue: soonest fill first, then priority; filters by kind and status; counts."""
    me = staff_member()
    status = request.args.get("status", "active")
    kind_arg = request.args.get("kind", "")
    kind = QueueKind(kind_arg) if kind_arg in QueueKind._value2member_map_ else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    session = db_session()
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["active"])
    counts = workspace.count_by_kind(session, me.store_ids)
    # The counts are of active items; when the list shows those too, its total is one of them.
    counted = statuses == STATUS_FILTERS["active"]
    listing = workspace.list_queue(
        session,
        me.store_ids,
        statuses=statuses,
        kind=kind,
        page=page,
        total=(counts.get(kind, 0) if kind else sum(counts.values())) if counted else None,
    )
    _audit("view_queue", detail={"status": status, "kind": kind_arg, "page": page})
    session.commit()
    return render_template(
        "workspace/queue.html",
        listing=listing,
        counts=counts,
        total_active=sum(counts.values()),
        kinds=list(QueueKind),
        status=status,
        kind=kind_arg,
    )


def _item_or_404(item_id: int) -> Any:
    item = workspace.get_item(db_session(), staff_member().store_ids, item_id)
    if item is None:
        abort(404)
    return item


@bp.get("/items/<int:item_id>")
@login_required
def item_page(item_id: int) -> str:
    """An item with a page of the patient's transcript, medicines and other open items."""
    session = db_session()
    item = _item_or_404(item_id)
    patient = item.patient
    transcript = _transcript_page(patient.id) if patient else None
    history = transcript.messages if transcript else []
    others = workspace.open_items_of(session, patient.id, except_id=item.id) if patient else []
    _audit(
        "view_item",
        store_id=item.store_id,
        patient_id=item.patient_id,
        target=f"item:{item.id}",
        **(_paged(transcript) if transcript else {}),
    )
    session.commit()
    return render_template(
        "workspace/item.html",
        item=item,
        patient=patient,
        history=history,
        transcript=transcript,
        # The item's own message may be on another page; its words are in the header anyway.
        item_message_elsewhere=item.message_id is not None
        and all(m.id != item.message_id for m in history),
        others=others,
        maintenance=[m for m in patient.medicines if m.med_type is MedType.MAINTENANCE]
        if patient
        else [],
        prn=[m for m in patient.medicines if m.med_type is MedType.PRN] if patient else [],
        claim_form=EmptyForm(),
        resolve_form=ResolveForm(),
        text_form=TextPatientForm(),
        may_resolve=staff_member().may_resolve(item.kind),
        outcomes=dict(OUTCOMES),
    )


@bp.post("/items/<int:item_id>/claim")
@login_required
def claim(item_id: int) -> Response:
    item = _item_or_404(item_id)
    if EmptyForm().validate_on_submit():
        session = db_session()
        if queue.claim(session, item.id, staff_member().id, utcnow()):
            _audit(
                "claim_item",
                store_id=item.store_id,
                patient_id=item.patient_id,
                target=f"item:{item.id}",
            )
            flash("Claimed: automated reminders for this check-in are paused.", "ok")
        else:
            flash("Someone else claimed or resolved this item first.", "error")
        session.commit()
    return redirect(url_for("workspace.item_page", item_id=item.id))


@bp.post("/items/<int:item_id>/resolve")
@login_required
def resolve(item_id: int) -> str | Response:
    item = _item_or_404(item_id)
    me = staff_member()
    if not me.may_resolve(item.kind):
        abort(403)
    form = ResolveForm()
    if not form.validate_on_submit():
        flash("Write a note and choose an outcome to resolve the item.", "error")
        return redirect(url_for("workspace.item_page", item_id=item.id))
    session = db_session()
    if queue.resolve(session, item.id, me.id, form.note.data.strip(), form.outcome.data, utcnow()):
        _audit(
            "resolve_item",
            store_id=item.store_id,
            patient_id=item.patient_id,
            target=f"item:{item.id}",
            detail={"outcome": form.outcome.data},
        )
        session.commit()
        flash("Resolved.", "ok")
        return redirect(url_for("workspace.queue_page"))
    session.commit()
    flash("This item is claimed by someone else or already resolved.", "error")
    return redirect(url_for("workspace.item_page", item_id=item.id))


@bp.post("/items/<int:item_id>/text")
@login_required
def text(item_id: int) -> Response:
    """Text the patient from the item; the text goes through the sending adapter."""
    item = _item_or_404(item_id)
    form = TextPatientForm()
    if item.patient is None or not form.validate_on_submit():
        flash("Write a message to send.", "error")
        return redirect(url_for("workspace.item_page", item_id=item.id))
    session = db_session()
    try:
        sent = outreach.text_patient(
            session,
            item.patient,
            form.body.data,
            utcnow(),
            checkin_id=item.checkin_id,
            transport=resources().transport,
            urls=urls(),
            defaults=defaults(),
        )
    except outreach.CannotText as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("workspace.item_page", item_id=item.id))
    _audit(
        "text_patient",
        store_id=item.store_id,
        patient_id=item.patient_id,
        target=f"item:{item.id}",
        detail={"outcome": sent.value},
    )
    session.commit()
    flash(
        "Text sent." if sent.value == "sent" else f"Text not sent: {sent.value}.",
        "ok" if sent.value == "sent" else "error",
    )
    return redirect(url_for("workspace.item_page", item_id=item.id))


# --- Upcoming fills and patients --------------------------------------------------------------


@bp.get("/upcoming")
@login_required
def upcoming() -> str:
    """Check-ins by anchor date with their status, for the next two weeks by default."""
    me = staff_member()
    try:
        start = dt.date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = dt.date.today()
    days = min(max(request.args.get("days", 14, type=int) or 14, 1), 62)
    session = db_session()
    checkins = workspace.list_checkins(
        session, me.store_ids, start, start + dt.timedelta(days=days)
    )
    _audit("view_upcoming", detail={"from": start.isoformat(), "days": days})
    session.commit()
    by_date: dict[dt.date, list[Any]] = {}
    for checkin in checkins:
        by_date.setdefault(checkin.anchor_date, []).append(checkin)
    return render_template(
        "workspace/upcoming.html",
        by_date=by_date,
        start=start,
        days=days,
        statuses=list(CheckinStatus),
    )


@bp.get("/patients/<int:patient_id>")
@login_required
def patient_page(patient_id: int) -> str:
    """A patient: enrollment, consent, opt-out, check-ins, open items, the transcript's page."""
    session = db_session()
    patient = workspace.get_patient(session, staff_member().store_ids, patient_id)
    if patient is None:
        abort(404)
    transcript = _transcript_page(patient.id)
    _audit("view_patient", store_id=patient.store_id, patient_id=patient.id, **_paged(transcript))
    anchor = patient.enrollment.anchor_date if patient.enrollment else None
    page = render_template(
        "workspace/patient.html",
        patient=patient,
        plan=plan_for_patient(patient, anchor),
        suggestion=plan_for_patient(patient).suggestion if patient.medicines else None,
        checkins=workspace.checkins_of(session, patient.id),
        items=workspace.open_items_of(session, patient.id),
        history=transcript.messages,
        transcript=transcript,
    )
    session.commit()
    return page


@bp.before_request
def _allow_fills_upload() -> None:
    # Webhooks and forms stay under the app-wide 256 kB; a fills export may be larger.
    if request.endpoint == "workspace.candidates":
        request.max_content_length = MAX_FILLS_UPLOAD + 64 * 1024


@bp.route("/candidates", methods=["GET", "POST"])
@login_required
def candidates() -> str:
    """Patients worth inviting to med sync, from a fills export (as `flask candidates`)."""
    form = CandidatesForm()
    found: list[Any] = []
    rejected: list[tuple[int, str]] = []
    error = None
    if form.validate_on_submit():
        try:
            found, rejected = _find_candidates(form)
        except (ImportFileError, FillsFileError, ValueError) as problem:
            error = str(problem)
        _audit("view_candidates", detail={"candidates": len(found), "rejected": len(rejected)})
        db_session().commit()
    return render_template(
        "workspace/candidates.html",
        form=form,
        found=found,
        rejected=rejected[:20],
        rejected_count=len(rejected),
        error=error,
    )


def _find_candidates(form: CandidatesForm) -> tuple[list[Any], list[tuple[int, str]]]:
    data = form.fills.data.read(MAX_FILLS_UPLOAD + 1)
    if len(data) > MAX_FILLS_UPLOAD:
        raise ValueError("the file is larger than 20 MB; use `flask candidates` for big exports")
    check_utf8(io.BytesIO(data))
    rejected: list[tuple[int, str]] = []
    lines = io.StringIO(data.decode("utf-8"), newline="")
    groups = group_by_patient(read_fills(lines, lambda row, why: rejected.append((row, why))))
    start, end = form.start.data, form.end.data
    return list(find_candidates(groups.items(), start, end, form.min_meds.data)), rejected


# --- Admin ------------------------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
@admin_required
def admin_users() -> str | Response:
    """Staff of the admin's stores; create a login or update one the admin manages."""
    me = staff_member()
    session = db_session()
    stores = workspace.list_stores(session, me.store_ids)
    form = UserForm()
    form.stores.choices = [SelectChoice(s.id, f"{s.code} ({s.name})") for s in stores]
    if form.validate_on_submit():
        chosen = [s for s in stores if s.id in form.stores.data]
        try:
            user, created = staff_admin.save_user(
                session,
                _actor(me),
                form.email.data,
                Role(form.role.data),
                chosen,
                form.password.data or None,
            )
        except staff_admin.StaffChangeRefused as refusal:
            session.commit()  # the refusal's audit
            flash(str(refusal), "error")
            return redirect(url_for("workspace.admin_users"))
        session.commit()
        if user.id == me.id and form.password.data:
            login_user(Staff.of(user))  # a new password ends the other sessions, not this one
        state = "" if user.active else " It stays deactivated until you reactivate it."
        flash(f"{user.email} {'created' if created else 'updated'}.{state}", "ok")
        return redirect(url_for("workspace.admin_users"))
    _audit("view_users")
    session.commit()
    users = workspace.list_users(session, me.store_ids)
    return render_template(
        "workspace/admin_users.html",
        rows=staff_admin.staff_rows(session, _actor(me), users, utcnow()),
        form=form,
        action_form=EmptyForm(),
        me=me,
    )


def _actor(me: Staff) -> staff_admin.Actor:
    return staff_admin.Actor.admin(me.id, me.store_ids)


# Ids in these URLs are database keys: anything past PostgreSQL's integer is simply not found.
@bp.post("/admin/users/<int(max=2147483647):user_id>/<any(deactivate,reactivate,unlock):change>")
@login_required
@admin_required
def admin_user_change(user_id: int, change: str) -> Response:
    """Deactivate (a leaver), reactivate or unlock a login; another store's login is a 404."""
    me = staff_member()
    session = db_session()
    user = session.get(User, user_id)
    if user is None or not _actor(me).manages(user):
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            if change == "deactivate":
                staff_admin.deactivate_user(session, _actor(me), user, utcnow())
            elif change == "reactivate":
                staff_admin.reactivate_user(session, _actor(me), user)
            else:
                staff_admin.unlock_user(session, _actor(me), user, utcnow())
        except staff_admin.StaffChangeRefused as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"{user.email}: {CHANGE_DONE[change]}", "ok")
        session.commit()
    return redirect(url_for("workspace.admin_users"))


CHANGE_DONE = {
    "deactivate": "deactivated; its sessions and API tokens no longer work.",
    "reactivate": "reactivated; it signs in with its password (old API tokens stay revoked).",
    "unlock": "unlocked.",
}


@bp.post("/admin/tokens/<int(max=2147483647):token_id>/revoke")
@login_required
@admin_required
def admin_token_revoke(token_id: int) -> Response:
    """Revoke an API token of a login the admin manages; anyone else's is a 404."""
    me = staff_member()
    session = db_session()
    token = session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None or not _actor(me).manages(token.user):
        abort(404)
    if EmptyForm().validate_on_submit():
        staff_admin.revoke_token(session, _actor(me), token, utcnow())
        session.commit()
        flash(f"Token {token.prefix}… of {token.user.email} revoked.", "ok")
    return redirect(url_for("workspace.admin_users"))


@bp.route("/admin/stores", methods=["GET"])
@login_required
@admin_required
def admin_stores() -> str:
    session = db_session()
    stores = workspace.list_stores(session, staff_member().store_ids)
    forms = {s.id: _store_form(s) for s in stores}
    return render_template("workspace/admin_stores.html", stores=stores, forms=forms)


def _store_form(store: Store) -> StoreForm:
    form = StoreForm(formdata=None)
    form.name.data, form.phone.data, form.timezone.data = (
        store.name,
        display_phone(store.phone),
        store.timezone,
    )
    form.window.data = f"{store.window_start:%H:%M}-{store.window_end:%H:%M}"
    form.lead_days.data = store.lead_days
    return form


@bp.post("/admin/stores/<int:store_id>")
@login_required
@admin_required
def admin_store_update(store_id: int) -> Response:
    """Update a store's name, number, timezone, send window and lead days."""
    session = db_session()
    store = next(
        (s for s in workspace.list_stores(session, staff_member().store_ids) if s.id == store_id),
        None,
    )
    if store is None:
        abort(404)
    form = StoreForm()
    problem = _store_problem(form) if form.validate_on_submit() else "Check the fields."
    if problem:
        flash(problem, "error")
        return redirect(url_for("workspace.admin_stores"))
    start, end = (_minutes(part) for part in form.window.data.split("-"))
    store.name = form.name.data.strip()
    store.phone = normalize_phone(form.phone.data, store.region) or store.phone
    store.timezone = form.timezone.data.strip()
    store.window_start_minute, store.window_end_minute = start, end
    store.lead_days = form.lead_days.data
    _audit("update_store", store_id=store.id, target=store.code)
    session.commit()
    flash(f"Store {store.code} updated.", "ok")
    return redirect(url_for("workspace.admin_stores"))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _store_problem(form: StoreForm) -> str | None:
    if normalize_phone(form.phone.data, "US") is None:
        return "The callback number is not a valid phone number."
    if not is_timezone(form.timezone.data.strip()):
        return "Unknown timezone; use a name like America/Chicago."
    start, end = (_minutes(part) for part in form.window.data.split("-"))
    if not (8 * 60 <= start < end <= 20 * 60):
        return "The send window must lie within 08:00-20:00 and start before it ends."
    return None
