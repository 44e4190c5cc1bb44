"""The program report (SPEC 15): `/reports`, its CSV, and `GET /api/reports/program`.

Thin views over store/reports.py (the one read model): they read the period and the caller's
stores, audit the view and render. The page can also measure PDC by Star class from a fills
export (the same upload as the candidates page, bot/fills_upload.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, g, render_template
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import BadRequest

from bot import charts
from bot.access import Staff, api_error, login_required, staff_member, token_required
from bot.extensions import db_session
from bot.fills_upload import MAX_FILLS_UPLOAD, read_fills_upload
from bot.inputs import body_limit, date_arg
from planning.trend import STAR_CLASSES, ClassPoint, pdc_trend, trend_days
from store import workspace
from store.audit import record_audit
from store.models import CheckinStatus, QueueKind, utcnow
from store.reports import (
    DEFINITIONS,
    ChainReport,
    Period,
    PeriodError,
    csv_rows,
    enrolled_patient_ids,
    program_report,
)

pages = Blueprint("reports", __name__)
api = Blueprint("reports_api", __name__, url_prefix="/api")

CHECKIN_LABELS = {
    CheckinStatus.CONFIRMED: "Confirmed (nothing to flag)",
    CheckinStatus.FLAGGED: "Flagged for a pharmacist",
    CheckinStatus.INCOMPLETE: "Answered in part",
    CheckinStatus.UNREACHABLE: "Unreachable",
    CheckinStatus.OPTED_OUT: "Opted out",
    CheckinStatus.EXPIRED: "Expired (no answer by the fill)",
    CheckinStatus.IN_PROGRESS: "In progress",
    CheckinStatus.SCHEDULED: "Scheduled, nothing sent yet",
}
PQA_LABELS = {
    "initial_sync_rate": "Initial sync rate",
    "patient_contact_rate": "Patient contact rate",
    "continuation_6_months": "Continuation at 6 months",
    "continuation_12_months": "Continuation at 12 months",
}
CLASS_LABELS = {
    "diabetes": "Diabetes (non-insulin)",
    "RASA": "RAS antagonists",
    "statin": "Statins",
}


class PdcForm(FlaskForm):  # type: ignore[misc]
    fills = FileField("Fills export (CSV)", validators=[FileRequired()])


def init_app(app: Flask) -> None:
    app.register_blueprint(pages)
    app.register_blueprint(api)  # GETs only: no CSRF token needed; errors JSON (bot/errors.py)


def _period(today: dt.date) -> Period:
    """The query's `from` and `to` (default: the 30 days to today); 400 when they are odd."""
    default = Period.last_days(today)
    try:
        return Period(date_arg("from", default=default.start), date_arg("to", default=default.end))
    except PeriodError as error:
        raise BadRequest(f"{error}.") from None


def _today(me: Staff) -> dt.date:
    """Today where the caller's first store is (the page's default period ends today)."""
    stores = workspace.list_stores(db_session(), me.store_ids)
    zone = ZoneInfo(stores[0].timezone) if stores else dt.UTC
    return utcnow().astimezone(zone).date()


def _report(me: Staff, period: Period, actor: str) -> ChainReport:
    session = db_session()
    report = program_report(session, me.store_ids, period)
    record_audit(
        session,
        "view_program_report",
        actor=actor,
        user_id=me.id,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )
    session.commit()
    return report


@pages.route("/reports", methods=["GET", "POST"])
@body_limit(
    MAX_FILLS_UPLOAD + 64 * 1024,
    "The file is larger than 20 MB; use `flask adherence` for bigger exports.",
)
@login_required
def page() -> str:
    """The report for the caller's stores; a fills export posted here adds PDC by class."""
    me = staff_member()
    period = _period(_today(me))
    form = PdcForm()
    pdc: list[ClassPoint] = []
    pdc_error = None
    rejected: list[tuple[int, str]] = []
    if form.validate_on_submit():
        try:
            groups, rejected = read_fills_upload(form.fills.data)
        except ValueError as problem:
            pdc_error = str(problem)
        else:
            enrolled = enrolled_patient_ids(db_session(), me.store_ids)
            pdc = pdc_trend(groups, enrolled, trend_days(period.start, period.end))
    report = _report(me, period, "user")
    return render_template(
        "workspace/reports.html",
        period=period,
        report=report,
        total=report.total.to_json(),
        per_store=[one.to_json() for one in report.per_store],
        definitions=DEFINITIONS,
        checkin_labels={status.value: label for status, label in CHECKIN_LABELS.items()},
        kinds=[kind.value for kind in QueueKind],
        pqa_labels=PQA_LABELS,
        fills_chart=_fills_chart(report),
        form=form,
        pdc_rows=_pdc_rows(pdc),
        pdc_chart=_pdc_chart(pdc) if pdc else None,
        pdc_error=pdc_error,
        rejected=rejected[:20],
        rejected_count=len(rejected),
        class_labels=CLASS_LABELS,
    )


@pages.get("/reports.csv")
@login_required
def download() -> Response:
    """The same figures as the page, one (store, measure, value) row each."""
    me = staff_member()
    period = _period(_today(me))
    report = _report(me, period, "user")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("store", "measure", "value"))
    writer.writerows(csv_rows(report))
    name = f"program-report-{period.start}-{period.end}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@pages.get("/reports/charts.css")
def chart_css() -> Response:
    """pygal's chart styles, from this origin so the CSP needs no 'unsafe-inline'."""
    response = Response(charts.chart_css(), mimetype="text/css")
    response.cache_control.max_age = 3600
    return response


@api.get("/reports/program")
@token_required
def program() -> Any:
    """The program measures of the caller's stores (SPEC 15): totals, and `per_store`."""
    me: Staff = g.staff
    try:
        period = _period(_today(me))
    except BadRequest as error:
        return api_error(400, str(error.description))
    return _report(me, period, "api").to_json()


def _fills_chart(report: ChainReport) -> Any:
    days = report.total.fills_per_day()
    return charts.bar_chart(
        "Fills per day: check-ins due and fills picked up or delivered; the numbers are in the"
        " table below",
        [entry["date"][5:] for entry in days],
        {
            "Check-ins due": [entry["due"] for entry in days],
            "Picked up or delivered": [entry["filled"] for entry in days],
        },
        every=max(1, len(days) // 10),
    )


def _pdc_rows(points: list[ClassPoint]) -> list[dict[str, Any]]:
    return [
        {
            "day": point.day.isoformat(),
            "class": CLASS_LABELS[point.drug_class],
            "patients": point.patients,
            "adherent": point.adherent,
            "adherent_rate": point.adherent_rate,
            "mean_pdc": point.mean_pdc,
        }
        for point in points
    ]


def _pdc_chart(points: list[ClassPoint]) -> Any:
    days = sorted({point.day for point in points})
    series = {
        CLASS_LABELS[name]: [
            next(p.adherent_rate for p in points if p.day == day and p.drug_class == name)
            for day in days
        ]
        for name in STAR_CLASSES
    }
    return charts.line_chart(
        "Share of enrolled patients adherent (PDC 80% or more) by Star Ratings class; the"
        " numbers are in the table below",
        [day.isoformat() for day in days],
        series,
        percent=True,
    )
