"""The import's enrollment columns (SPEC 5.4, 14): birth date, prescriber, delivery, consent
as a recorded state, import safety (review before outreach) and the outreach forecast."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.cli
from store.models import ConsentMethod, ConsentState, Delivery, Medicine, Patient
from tests.factories import make_store

NOW = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # noon in New York
HEADER = (
    "patient_id,first_name,last_name,phone,anchor_date,consent_date,medication,med_type,"
    "birth_date,rx_number,prescriber_name,prescriber_npi,prescriber_phone,prescriber_fax,"
    "delivery"
)
GOOD = "\n".join(
    [
        HEADER,
        "P1,Maria,Garcia,2025550143,2026-12-07,2026-11-30,Metformin 500 mg,maintenance,"
        "1948-03-09,RX123,Dr. Ruth Ames,1234567893,(202) 555-0188,202-555-0189,delivery",
        "P2,Maria,Garcia,2025550144,2027-01-20,,Lisinopril 10 mg,maintenance,1961-07-14,,,,,,",
    ]
)


@pytest.fixture(autouse=True)
def import_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.cli, "utcnow", lambda: NOW)


def run_import(runner: FlaskCliRunner, tmp_path: Path, text: str, *args: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["import-patients", str(path), *args])


def patient(session: Session, external_id: str) -> Patient:
    session.expire_all()
    return session.scalars(select(Patient).where(Patient.external_id == external_id)).one()


def test_it_imports_birth_date_prescriber_and_delivery(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    result = run_import(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    maria = patient(session, "P1")
    assert maria.birth_date == dt.date(1948, 3, 9)
    assert maria.delivery is Delivery.DELIVERY
    assert patient(session, "P2").delivery is Delivery.PICKUP
    medicine = session.scalars(select(Medicine).where(Medicine.patient_id == maria.id)).one()
    assert (medicine.rx_number, medicine.prescriber_name, medicine.prescriber_npi) == (
        "RX123",
        "Dr. Ruth Ames",
        "1234567893",
    )
    assert (medicine.prescriber_phone, medicine.prescriber_fax) == ("+12025550188", "+12025550189")
    again = run_import(runner, tmp_path, GOOD)
    assert again.output.rstrip().endswith("no changes"), again.output


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("2026-02-30,,,,,,", "birth_date must be a date YYYY-MM-DD, not '2026-02-30'"),
        ("2030-01-01,,,,,,", "birth_date 2030-01-01 is in the future or before 1900"),
        ("1950-01-01,,,12345,,,", "prescriber_npi must be 10 digits, not '12345'"),
        ("1950-01-01,,,,555-12,,", "invalid prescriber_phone '555-12'"),
        ("1950-01-01,,,,,,courier", "delivery must be delivery or pickup, not 'courier'"),
    ],
)
def test_it_rejects_a_bad_new_column_with_the_row_and_reason(
    runner: FlaskCliRunner, tmp_path: Path, cells: str, reason: str
) -> None:
    row = f"P3,Cy,Doe,2025550145,2026-12-07,,Atorvastatin 20 mg,maintenance,{cells}"
    result = run_import(runner, tmp_path, f"{HEADER}\n{row}")
    assert f"row 2: {reason}" in result.output
    assert "rejected: 1" in result.output


def test_a_consent_date_is_recorded_as_accepted_by_import(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    run_import(runner, tmp_path, GOOD)
    maria = patient(session, "P1")
    assert maria.consent_date == dt.date(2026, 11, 30)
    assert (maria.consent_state, maria.consent_method) == (
        ConsentState.ACCEPTED,
        ConsentMethod.IMPORT,
    )
    assert maria.consent_recorded_at == NOW
    other = patient(session, "P2")
    assert (other.consent_date, other.consent_state, other.consent_method) == (None, None, None)


def test_a_decline_recorded_by_staff_survives_the_next_import(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    run_import(runner, tmp_path, GOOD)
    maria = patient(session, "P1")
    maria.consent_date, maria.consent_state = None, ConsentState.DECLINED
    maria.consent_method = ConsentMethod.VERBAL
    session.commit()
    result = run_import(runner, tmp_path, GOOD)
    assert result.output.rstrip().endswith("no changes"), result.output
    maria = patient(session, "P1")
    assert (maria.consent_date, maria.consent_state) == (None, ConsentState.DECLINED)


def test_an_export_without_the_new_columns_keeps_their_values(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    run_import(runner, tmp_path, GOOD)
    old_format = "\n".join(
        [
            "patient_id,first_name,last_name,phone,anchor_date,consent_date,medication,med_type",
            "P1,Maria,Garcia,2025550143,2026-12-07,2026-11-30,Metformin 500 mg,maintenance",
        ]
    )
    result = run_import(runner, tmp_path, old_format)
    assert "patients: 0 created, 0 updated, 1 unchanged" in result.output, result.output
    maria = patient(session, "P1")
    assert maria.birth_date == dt.date(1948, 3, 9) and maria.delivery is Delivery.DELIVERY


def test_it_says_how_many_would_be_contacted_at_the_next_pass(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    # P1: consented, so welcomed at the next pass; P2: no consent, never contacted.
    for args in (("--dry-run",), ()):
        result = run_import(runner, tmp_path, GOOD, *args)
        assert (
            "outreach: 1 patient would be contacted at the next scheduler pass;"
            " 0 new patients wait for review"
        ) in result.output, result.output


def test_with_review_on_new_patients_wait_and_nobody_would_be_contacted(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    make_store(session, "main", review_imports=True)
    session.commit()
    dry = run_import(runner, tmp_path, GOOD, "--dry-run")
    assert "outreach: 0 patients would be contacted" in dry.output, dry.output
    assert "2 new patients wait for review" in dry.output
    assert session.scalars(select(Patient)).all() == []  # a dry run saves nothing
    run_import(runner, tmp_path, GOOD)
    assert patient(session, "P1").needs_review and patient(session, "P2").needs_review
    # A known patient is not new: re-importing does not put them back into review.
    maria = patient(session, "P1")
    maria.needs_review = False
    session.commit()
    again = run_import(runner, tmp_path, GOOD)
    assert "1 patient would be contacted" in again.output, again.output
    assert "1 new patient waits for review" in again.output
    assert not patient(session, "P1").needs_review
