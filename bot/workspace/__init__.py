"""The pharmacist workspace: login, queue, item, upcoming fills, patient page, admin.

Views are thin: they read the signed-in staff member's stores from bot/access.py, call
store/workspace.py (which filters every query by those stores) or a use case in bot/outreach.py,
write the audit log, and render. Another store's item looks exactly like a missing one (404).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from bot import items, staff_admin
from bot import renewals as renewal_rules
from bot.access import (
    LOGIN_REFUSED,
    Staff,
    admin_required,
    authenticate,
    login_required,
    staff_member,
)
from bot.enrollment import staff_today
from bot.extensions import db_session
from bot.fills_upload import MAX_FILLS_UPLOAD, read_fills_upload
from bot.inputs import MAX_PAGE, body_limit, date_arg, number_arg
from bot.planning_cli import plan_for_patient
from bot.summary import topic_rows
from bot.workspace.forms import (
    CandidatesForm,
    EmptyForm,
    LoginForm,
    ResolveForm,
    UserForm,
)
from planning.candidates import find_candidates
from planning.fills import FillsFileError
from store import renewals as store_renewals
from store import staff, workspace
from store.audit import record_audit
from store.importer import ImportFileError
from store.models import (
    ApiToken,
    CheckinStatus,
    MedType,
    QueueKind,
    QueueStatus,
    Role,
    User,
    utcnow,
)
from store.roster import STATUS_LABELS
from store.validate import display_phone
from store.workload import calendar as enrollment_calendar

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
    QueueKind.INCOMPLETE: "Check-in not finished",
    QueueKind.RENEWAL_NEEDED: "Renewal needed",
    QueueKind.NOT_PICKED_UP: "Not picked up",
}
STATUS_FILTERS = {
    "active": (QueueStatus.OPEN, QueueStatus.CLAIMED),
    "open": (QueueStatus.OPEN,),
    "claimed": (QueueStatus.CLAIMED,),
    "resolved": (QueueStatus.RESOLVED,),
}


def init_app(app: Flask) -> None:
    """Register the pages and the template helpers they share."""
    from bot.workspace import (  # noqa: F401  (their views join bp)
        fills,
        patients,
        renewals,
        stores,
        texting,
        workload,
    )

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
            "topic_rows": topic_rows,
            "local_time": _local_time,
            # Rendered, never read from this request: an error page for a body too large
            # must not parse it again.
            "logout_form": EmptyForm(formdata=None),
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
    """The queue: high priority first, then soonest fill; filters by kind and status, with
    counts per kind of the status shown; the heading counts what is left to clear (active)."""
    me = staff_member()
    status = request.args.get("status", "active")
    kind_arg = request.args.get("kind", "")
    kind = QueueKind(kind_arg) if kind_arg in QueueKind._value2member_map_ else None
    page = number_arg("page", default=1, low=1, high=MAX_PAGE)
    session = db_session()
    statuses = STATUS_FILTERS.get(status, STATUS_FILTERS["active"])
    counts = workspace.count_by_kind(session, me.store_ids, statuses)
    active = (
        counts
        if statuses == STATUS_FILTERS["active"]
        else workspace.count_by_kind(session, me.store_ids)
    )
    listing = workspace.list_queue(
        session,
        me.store_ids,
        statuses=statuses,
        kind=kind,
        page=page,
        total=counts.get(kind, 0) if kind else sum(counts.values()),
    )
    _audit("view_queue", detail={"status": status, "kind": kind_arg, "page": page})
    session.commit()
    return render_template(
        "workspace/queue.html",
        listing=listing,
        counts=counts,
        total_shown=sum(counts.values()),
        total_active=sum(active.values()),
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
        may_resolve=staff_member().may_resolve(item.kind),
        actions=items.allowed_actions(staff_member(), item),
        outcomes=items.OUTCOME_LABELS,
        **_renewal_of(item),
        note_max_length=items.NOTE_MAX_LENGTH,
    )


def _renewal_of(item: Any) -> dict[str, Any]:
    """The renewal request a renewal_needed item shows (bot/workspace/renewals.py)."""
    if item.kind is not QueueKind.RENEWAL_NEEDED:
        return {"renewal": None}
    return {
        "renewal": store_renewals.renewal_of(db_session(), staff_member().store_ids, item.id),
        "answer_labels": renewal_rules.ANSWER_LABELS,
        "sent_via": renewal_rules.SENT_VIA,
    }


@bp.post("/items/<int:item_id>/claim")
@login_required
def claim(item_id: int) -> Response:
    return _act_on_item(item_id, items.claim)


@bp.post("/items/<int:item_id>/release")
@login_required
def release(item_id: int) -> Response:
    return _act_on_item(item_id, items.release)


@bp.post("/items/<int:item_id>/take-over")
@login_required
def take_over(item_id: int) -> Response:
    return _act_on_item(item_id, items.take_over)


@bp.post("/items/<int:item_id>/resolve")
@login_required
def resolve(item_id: int) -> Response:
    form = ResolveForm()
    resolve_with = functools.partial(items.resolve, note=form.note.data, outcome=form.outcome.data)
    return _act_on_item(item_id, resolve_with, form, done=url_for("workspace.queue_page"))


def _act_on_item(
    item_id: int,
    act: Callable[..., items.Result],
    form: FlaskForm | None = None,
    *,
    done: str | None = None,
) -> Response:
    """Run a claim, release, take-over or resolution (bot/items.py) and say how it went.

    A role refusal is a 403 (the page never offers what the role may not do); any other
    refusal is told on the item page. After success, go to `done` (default: the item page).
    """
    item = _item_or_404(item_id)
    back = url_for("workspace.item_page", item_id=item_id)
    if not (form or EmptyForm()).validate_on_submit():
        return redirect(back)
    session = db_session()
    result = act(session, staff_member(), item, utcnow(), actor="user")
    if result.refusal is items.Refusal.FORBIDDEN:
        abort(403)
    if result.ok:
        session.commit()
    flash(result.message, "ok" if result.ok else "error")
    return redirect((done or back) if result.ok else back)


# --- Upcoming fills and patients --------------------------------------------------------------


@bp.get("/upcoming")
@login_required
def upcoming() -> str:
    """Enrolled patients by anchor date, with their check-in's status when there is one (with
    or without consent, before the scheduler starts it), for the next two weeks by default."""
    me = staff_member()
    start = date_arg("from", default=dt.date.today())
    days = upcoming_days(request.args.get("days"))
    last = start + dt.timedelta(days=days - 1)  # `days` fill dates, `from` the first
    session = db_session()
    today = staff_today(session, me.store_ids, utcnow())
    by_date = enrollment_calendar(session, me.store_ids, start, last, today)
    _audit("view_upcoming", detail={"from": start.isoformat(), "days": days})
    session.commit()
    return render_template(
        "workspace/upcoming.html",
        by_date=by_date,
        start=start,
        last=last,
        days=days,
        days_range=(MIN_UPCOMING_DAYS, MAX_UPCOMING_DAYS),
        statuses=list(CheckinStatus),
        status_labels=STATUS_LABELS,
    )


MIN_UPCOMING_DAYS, DEFAULT_UPCOMING_DAYS, MAX_UPCOMING_DAYS = 1, 14, 62


def upcoming_days(raw: str | None) -> int:
    """The Upcoming page's `?days=`: how many fill dates to show, counting `from` itself.

    One rule for every value: a whole number is clamped to 1..62 (0 and negatives show one
    day, a huge number two months); anything else, or nothing, shows two weeks.
    """
    try:
        days = int(raw or "")
    except ValueError:
        return DEFAULT_UPCOMING_DAYS
    return min(max(days, MIN_UPCOMING_DAYS), MAX_UPCOMING_DAYS)


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


@bp.route("/candidates", methods=["GET", "POST"])
# Webhooks and other forms stay under the app-wide 256 kB; a fills export may be larger.
@body_limit(
    MAX_FILLS_UPLOAD + 64 * 1024,
    "The file is larger than 20 MB; use `flask candidates` for bigger exports.",
)
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
    groups, rejected = read_fills_upload(form.fills.data)
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
