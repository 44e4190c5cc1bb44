"""The patients page, the enroll flow and enrollment changes (SPEC 14).

Thin views: store/roster.py finds and classifies patients (the status of each defined once),
bot/enrollment.py checks and applies every change (the API calls the same functions), the
views render and commit. A refused form is rendered again with what was typed and each
problem beside its field (400); a saved one redirects, so a reload never posts twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bot import enrollment
from bot.access import Staff, login_required, staff_member
from bot.extensions import db_session
from bot.planning_cli import medication_of
from bot.workspace import _audit, bp
from bot.workspace.forms import EmptyForm
from planning.sync import SyncPlan, plan_sync
from store import enrollments, roster, workload, workspace
from store.models import (
    Channel,
    CheckinForm,
    ConsentState,
    Delivery,
    Language,
    MedType,
    Patient,
    User,
    utcnow,
)
from store.validate import MAX_INTEGER, whole_number

PER_PAGE = 50
# The anchor suggestion looks at the store's load this far ahead (a suggestion starts at the
# first medicine's due date and spans one cycle).
SUGGESTION_HORIZON_DAYS = 120
LANGUAGE_LABELS = {Language.EN: "English", Language.ES: "Spanish"}
CHANNEL_LABELS = {Channel.SMS: "Text messages", Channel.VOICE: "Phone calls only"}
FORM_LABELS = {None: "The store's form", CheckinForm.QUICK: "Quick", CheckinForm.FULL: "Full"}


def _me() -> Staff:
    return staff_member()


def _actor() -> enrollment.Actor:
    return enrollment.Actor(_me().id, "user")


def _patient_or_404(patient_id: int) -> Patient:
    patient = workspace.get_patient(db_session(), _me().store_ids, patient_id)
    if patient is None:
        abort(404)
    return patient


# --- The roster -----------------------------------------------------------------------------


@bp.get("/patients")
@login_required
def patients_page() -> str:
    """Find any patient (name, PMS id, phone, birth date); filter by status or "new from
    import"; by name, fifty at a time."""
    me = _me()
    status_arg = request.args.get("status", "")
    status = roster.RosterStatus(status_arg) if status_arg in roster.STATUS_LABELS else None
    new_from_import = request.args.get("review") == "1"
    after = _cursor(request.args.get("after"))
    query = request.args.get("q", "")[: roster.MAX_QUERY]
    session = db_session()
    page = roster.search(
        session,
        me.store_ids,
        enrollment.staff_today(session, me.store_ids, utcnow()),
        query=query,
        status=status,
        new_from_import=new_from_import,
        after=after,
        per_page=PER_PAGE,
    )
    if page is None:
        abort(400)
    waiting = roster.search(
        session,
        me.store_ids,
        enrollment.staff_today(session, me.store_ids, utcnow()),
        new_from_import=True,
        per_page=1,
    )
    _audit(
        "view_patients", detail={"q": bool(query), "status": status_arg, "review": new_from_import}
    )
    session.commit()
    return render_template(
        "workspace/patients.html",
        page=page,
        query=query,
        status=status_arg if status else "",
        new_from_import=new_from_import,
        waiting_review=waiting.total if waiting else 0,
        statuses=roster.STATUS_LABELS,
        first_page=after is None,
        per_page=PER_PAGE,
        action_form=EmptyForm(formdata=None),
    )


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return whole_number(raw, 1, MAX_INTEGER)
    except ValueError:
        abort(400)


@bp.get("/patients/by-id/<path:external_id>")
@login_required
def patient_by_external_id(external_id: str) -> Response:
    """The patient page by the pharmacy's own id (`?store=CODE` when two stores share it)."""
    found = roster.find_by_external_id(
        db_session(), _me().store_ids, external_id, request.args.get("store")
    )
    if not found:
        abort(404)
    if len(found) > 1:
        return redirect(url_for("workspace.patients_page", q=external_id))
    return redirect(url_for("workspace.patient_page", patient_id=found[0].id))


@bp.app_context_processor
def _enrollment_helpers() -> dict[str, Any]:
    return {
        "enrollment_panel": enrollment_panel,
        "roster_status_label": roster.STATUS_LABELS,
        "candidate_rows": candidate_rows,
    }


def candidate_rows(candidates: Iterable[Any]) -> dict[str, list[roster.RosterRow]]:
    """The caller's patients with the candidates' PMS ids (the candidates page: names, birth
    dates, enrolled or not, and the Enroll button)."""
    session = db_session()
    me = _me()
    ids = [candidate.patient_id for candidate in candidates]
    return roster.rows_by_external_id(
        session, me.store_ids, ids, enrollment.staff_today(session, me.store_ids, utcnow())
    )


def enrollment_panel(patient: Patient) -> dict[str, Any]:
    """What the patient page shows of the enrollment: status, consent, the household on the
    same phone, the follow-ups still open, and which actions to offer."""
    session = db_session()
    now = utcnow()
    today = enrollment.local_today(patient, now)
    consent_by = session.get(User, patient.consent_by_id) if patient.consent_by_id else None
    return {
        "status": roster.status_of(session, patient.id, today),
        "household": roster.household(session, patient, today),
        "follow_ups": enrollments.open_follow_ups(session, patient.id),
        "services": enrollment.SERVICES,
        "offer_again_on": enrollment.offer_again_on(patient, today),
        "consent_by": consent_by.email if consent_by else None,
        "methods": enrollment.CONSENT_METHODS,
        "action_form": EmptyForm(formdata=None),
        "form_labels": FORM_LABELS,
    }


@bp.post("/patients/<int:patient_id>/review")
@login_required
def approve_review(patient_id: int) -> Response:
    """A patient new from an import may be contacted: staff looked at them."""
    patient = _patient_or_404(patient_id)
    if EmptyForm().validate_on_submit():
        if enrollment.approve_review(db_session(), _actor(), patient, utcnow()):
            flash(f"{patient.full_name} reviewed: outreach may start.", "ok")
        db_session().commit()
    back = request.form.get("back")
    if back == "roster":
        return redirect(url_for("workspace.patients_page", review="1"))
    return redirect(url_for("workspace.patient_page", patient_id=patient.id))


@bp.post("/patients/<int:patient_id>/follow-ups/<int:follow_up_id>/done")
@login_required
def follow_up_done(patient_id: int, follow_up_id: int) -> Response:
    patient = _patient_or_404(patient_id)
    if EmptyForm().validate_on_submit():
        if enrollment.finish_follow_up(db_session(), _actor(), patient, follow_up_id, utcnow()):
            flash("Follow-up marked done.", "ok")
        db_session().commit()
    return redirect(url_for("workspace.patient_page", patient_id=patient.id) + "#follow-ups")


# --- A patient entered by hand ----------------------------------------------------------------


@bp.route("/patients/new", methods=["GET", "POST"])
@login_required
def new_patient() -> str | Response | tuple[str, int]:
    """Add a patient not in the PMS export yet (`?external_id=` prefilled from a candidate)."""
    me = _me()
    session = db_session()
    stores = workspace.list_stores(session, me.store_ids)
    typed: dict[str, str] = {"external_id": request.args.get("external_id", "")[:64]}
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
        store = next((s for s in stores if str(s.id) == typed.get("store_id")), None)
        if not EmptyForm().validate_on_submit():
            errors["form"] = "the form expired; send it again"
        elif store is None:
            errors["store_id"] = "choose one of your stores"
        else:
            try:
                new = enrollment.parse_new_patient(
                    typed, store.region, dt.datetime.now(dt.UTC).date()
                )
                patient = enrollment.create_patient(session, _actor(), store, new)
            except enrollment.Invalid as invalid:
                errors = invalid.errors
            else:
                session.commit()
                flash(f"{patient.full_name} added. Now record consent and enroll.", "ok")
                return redirect(url_for("workspace.enroll_page", patient_id=patient.id))
    page = render_template(
        "workspace/patient_new.html",
        stores=stores,
        typed=typed,
        errors=errors,
        form=EmptyForm(formdata=None),
        languages=LANGUAGE_LABELS,
        channels=CHANNEL_LABELS,
        deliveries={Delivery.PICKUP: "Pick up at the store", Delivery.DELIVERY: "Delivery"},
    )
    return (page, 400) if errors else page


# --- The enroll flow --------------------------------------------------------------------------


@bp.route("/patients/<int:patient_id>/enroll", methods=["GET", "POST"])
@login_required
def enroll_page(patient_id: int) -> str | Response | tuple[str, int]:
    """The ASHP opt-in steps on one page: consent, medicines, anchor date (with the planner's
    suggestion and the short fills it needs), costs, other services. "Show short fills"
    renders the page again for the date typed, keeping every answer."""
    session = db_session()
    patient = _patient_or_404(patient_id)
    now = utcnow()
    today = enrollment.local_today(patient, now)
    typed: dict[str, Any] = _defaults(patient, today)
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {k: v for k, v in request.form.items() if k not in ("csrf_token", "services")}
        typed["services"] = request.form.getlist("services")
        if not EmptyForm().validate_on_submit():
            errors["form"] = "the form expired; send it again"
        elif request.form.get("action") != "preview":
            try:
                answers = enrollment.parse_enroll(typed, typed["services"], today)
                enrollment.enroll(session, _actor(), patient, answers, now)
            except enrollment.Invalid as invalid:
                errors = invalid.errors
            else:
                session.commit()
                flash(_enrolled_message(patient, answers), "ok")
                return redirect(url_for("workspace.patient_page", patient_id=patient.id))
    offer_again_on = enrollment.offer_again_on(patient, today)
    asked = request.values.get("patient_asked") == "1"
    _audit("view_enroll", store_id=patient.store_id, patient_id=patient.id)
    plan, suggestion = _plans(patient, typed, today)
    page = render_template(
        "workspace/enroll.html",
        patient=patient,
        typed=typed,
        errors=errors,
        form=EmptyForm(formdata=None),
        quiet_until=None if asked else offer_again_on,
        patient_asked=asked,
        plan=plan,
        suggestion=suggestion,
        methods=enrollment.CONSENT_METHODS,
        services=enrollment.SERVICES,
        languages=LANGUAGE_LABELS,
        channels=CHANNEL_LABELS,
        today=today,
    )
    session.commit()
    return (page, 400) if errors else page


def _defaults(patient: Patient, today: dt.date) -> dict[str, Any]:
    enrolled = patient.enrollment
    anchor = enrolled.anchor_date if enrolled and enrolled.anchor_date >= today else None
    if anchor is None and patient.medicines:
        suggested = _plan(patient, None, {}, today, _full_days(patient, today)).anchor
        anchor = suggested if suggested and suggested >= today else None
    values: dict[str, Any] = {
        "consent": "",
        "method": "",
        "anchor_date": (anchor or today + dt.timedelta(days=7)).isoformat(),
        "costs_note": enrolled.costs_note if enrolled and enrolled.costs_note else "",
        "services": [],
        "services_note": "",
        "channel": patient.channel.value,
        "language": patient.language.value,
        "phi_ok": "yes" if patient.phi_ok else "no",
    }
    values |= {f"med_{m.id}": m.med_type.value for m in patient.medicines}
    return values


def _full_days(patient: Patient, today: dt.date) -> frozenset[dt.date]:
    """The store's days on which one more patient would go over its daily fill limit
    (store/workload.py), which the suggestion avoids: the next SUGGESTION_HORIZON days."""
    end = today + dt.timedelta(days=SUGGESTION_HORIZON_DAYS)
    limit = patient.store.daily_fill_limit
    return workload.full_days(db_session(), patient.store_id, today, end, limit)


def _plan(
    patient: Patient,
    anchor: dt.date | None,
    med_types: Mapping[int, MedType],
    today: dt.date,
    avoid: frozenset[dt.date] = frozenset(),
) -> SyncPlan:
    """The planner on the medicines as the form has them typed (maintenance or PRN)."""
    meds = [
        dataclasses.replace(
            medication_of(m),
            med_type="prn" if med_types.get(m.id, m.med_type) is MedType.PRN else "maintenance",
        )
        for m in patient.medicines
    ]
    cycle = patient.enrollment.cycle_days if patient.enrollment else enrollment.DEFAULT_CYCLE_DAYS
    return plan_sync(meds, anchor, cycle_days=cycle, today=today, avoid=avoid)


def _plans(
    patient: Patient, typed: Mapping[str, Any], today: dt.date
) -> tuple[SyncPlan | None, SyncPlan | None]:
    """The plan for the date typed, and the planner's own suggestion."""
    if not patient.medicines:
        return None, None
    med_types = {
        m.id: MedType(typed[f"med_{m.id}"])
        for m in patient.medicines
        if typed.get(f"med_{m.id}") in MedType._value2member_map_
    }
    try:
        anchor: dt.date | None = dt.date.fromisoformat(str(typed.get("anchor_date", "")))
    except ValueError:
        anchor = None
    suggestion = _plan(patient, None, med_types, today, _full_days(patient, today))
    return (_plan(patient, anchor, med_types, today) if anchor else None), suggestion


def _enrolled_message(patient: Patient, answers: enrollment.EnrollInput) -> str:
    if answers.consent is ConsentState.DECLINED:
        return (
            f"{patient.full_name} declined: never contacted, and not offered enrollment again"
            f" for {enrollment.DECLINE_QUIET_DAYS} days."
        )
    assert answers.anchor_date is not None
    enrolled = f"{patient.full_name} enrolled: pickup {answers.anchor_date.strftime('%A %B %d')}."
    if patient.opted_out:
        # Only the patient's START lifts a carrier opt-out (SPEC 8), not staff.
        return f"{enrolled} They texted STOP before: nothing is sent until they text START."
    return f"{enrolled} The welcome text goes out in the next send window."


# --- Changes ------------------------------------------------------------------------------------


@bp.route("/patients/<int:patient_id>/enrollment", methods=["GET", "POST"])
@login_required
def enrollment_page(patient_id: int) -> str | Response | tuple[str, int]:
    """Change the anchor date, channel, language, medicine names, form; pause; disenroll.

    Each form posts only its own fields: what it sends is what changes (bot/enrollment.py
    `parse_changes`, the API's rules)."""
    session = db_session()
    patient = _patient_or_404(patient_id)
    if patient.enrollment is None:
        return redirect(url_for("workspace.enroll_page", patient_id=patient.id))
    now = utcnow()
    today = enrollment.local_today(patient, now)
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        typed = {k: v for k, v in request.form.items() if k in enrollment.CHANGE_FIELDS}
        if request.form.get("action") == "end_pause":
            typed = {"paused_until": ""}
        if not EmptyForm().validate_on_submit():
            errors["form"] = "the form expired; send it again"
        elif not typed:
            errors["form"] = "nothing to change"
        else:
            try:
                changes = enrollment.parse_changes(typed, today)
                done = enrollment.change_enrollment(session, _actor(), patient, changes, now)
            except (enrollment.Invalid, enrollment.Refused) as problem:
                errors = getattr(problem, "errors", {"form": str(problem)})
            else:
                session.commit()
                flash(
                    ("Saved: " + "; ".join(done.values()) + ".") if done else "Nothing changed.",
                    "ok",
                )
                return redirect(url_for("workspace.patient_page", patient_id=patient.id))
    enrolled = patient.enrollment
    values = {
        "anchor_date": enrolled.anchor_date.isoformat(),
        "channel": patient.channel.value,
        "language": patient.language.value,
        "phi_ok": "yes" if patient.phi_ok else "no",
        "checkin_form": enrolled.checkin_form.value if enrolled.checkin_form else "",
        "paused_until": enrolled.paused_until.isoformat() if enrolled.paused_until else "",
        "disenroll_reason": "",
    } | typed
    _audit("view_enrollment", store_id=patient.store_id, patient_id=patient.id)
    page = render_template(
        "workspace/enrollment.html",
        patient=patient,
        values=values,
        errors=errors,
        form=EmptyForm(formdata=None),
        languages=LANGUAGE_LABELS,
        channels=CHANNEL_LABELS,
        form_labels=FORM_LABELS,
        status=roster.status_of(session, patient.id, today),
        today=today,
    )
    session.commit()
    return (page, 400) if errors else page
