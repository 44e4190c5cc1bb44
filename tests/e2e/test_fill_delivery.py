"""Pickup or delivery on the fill day (SPEC 13): the patient's words in a conversation, in
English and Spanish, through signed webhooks, decide the row's delivery; a fill already on
the list follows a later choice; `export-fills` writes the same CSV the page downloads."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import Delivery, Fill, Language, Purpose, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster
from tests.workspace_helpers import StaffClient, make_user

DAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
PATIENT = "+12025550143"
PAGE = f"/fills?date={DAY}"


def _start(app: Flask, session: Session, language: Language) -> tuple[StaffClient, int]:
    store = make_store(session)
    patient = make_patient(session, store, anchor_date=DAY, language=language)
    checkin = make_checkin(session, patient)
    make_user(session, "tech@main.org", Role.TECHNICIAN, store)
    session.commit()
    outreach.send_checkin_sms(
        session,
        checkin,
        Purpose.FIRST,
        NOW,
        transport=FakeTransport(),
        urls=outreach.Urls("http://localhost"),
        defaults=outreach.Defaults(store_code="main", sender=Sender(None, None)),
    )
    assert patient.enrollment is not None
    return StaffClient.signed_in(app, "tech@main.org"), patient.enrollment.id


def _row_delivery(staff: StaffClient, enrollment_id: int) -> str:
    html = staff.get(PAGE).get_data(as_text=True)
    row = html[html.index(f'id="row-{enrollment_id}"') :]
    row = row[: row.index("</tr>")]
    return "delivery" if '<option value="delivery" selected' in row else "pickup"


@pytest.mark.parametrize(
    ("language", "words", "then", "chosen"),
    [
        (Language.EN, "deliver please", "no", "delivery"),
        (Language.ES, "entregar a domicilio por favor", "nada", "delivery"),
        (Language.EN, "no thanks, I'll pick up", None, "pickup"),
        (Language.ES, "no gracias, voy a recoger", None, "pickup"),
    ],
)
def test_the_patients_choice_in_the_conversation_is_the_rows_delivery(
    app: Flask,
    session: Session,
    twilio: TwilioPoster,
    language: Language,
    words: str,
    then: str | None,
    chosen: str,
) -> None:
    staff, enrollment_id = _start(app, session, language)
    assert twilio.sms(PATIENT, words).status_code == 200
    if then:
        twilio.sms(PATIENT, then)
    assert _row_delivery(staff, enrollment_id) == chosen
    staff.post(
        "/fills/state",
        {"date": DAY.isoformat(), "enrollment_id": enrollment_id, "state": "prepared"},
        page=PAGE,
    )
    fill = session.scalars(select(Fill)).one()
    assert fill.delivery.value == chosen


@pytest.mark.parametrize(
    ("language", "words"), [(Language.EN, "deliver please"), (Language.ES, "entregar por favor")]
)
def test_a_fill_on_the_list_follows_a_later_choice(
    app: Flask, session: Session, twilio: TwilioPoster, language: Language, words: str
) -> None:
    staff, enrollment_id = _start(app, session, language)
    twilio.sms(PATIENT, "no")  # confirmed: nothing new
    staff.post(
        "/fills/state",
        {"date": DAY.isoformat(), "enrollment_id": enrollment_id, "state": "prepared"},
        page=PAGE,
    )
    fill = session.scalars(select(Fill)).one()
    assert fill.delivery is Delivery.PICKUP
    twilio.sms(PATIENT, words)  # after the check-in ended
    session.refresh(fill)
    assert fill.delivery is Delivery.DELIVERY
    assert _row_delivery(staff, enrollment_id) == "delivery"


def test_export_fills_writes_the_pages_csv(
    app: Flask, session: Session, runner: FlaskCliRunner, tmp_path: object
) -> None:
    staff, _ = _start(app, session, Language.EN)
    page_csv = staff.get(f"/fills.csv?date={DAY}").get_data(as_text=True)
    out = tmp_path / "fills.csv"  # type: ignore[operator]
    result = runner.invoke(
        args=["export-fills", "--date", DAY.isoformat(), "--store", "main", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == page_csv
    assert "Ana Lopez" in page_csv and "Metformin 500 mg,fill" in page_csv
    printed = runner.invoke(args=["export-fills", "--date", DAY.isoformat(), "--store", "main"])
    assert printed.output == page_csv
    assert runner.invoke(args=["export-fills", "--date", "2026-13-01"]).exit_code == 2
    unknown = runner.invoke(args=["export-fills", "--date", DAY.isoformat(), "--store", "nope"])
    assert unknown.exit_code == 1 and "unknown store" in unknown.output
