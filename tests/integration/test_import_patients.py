"""`flask import-patients` (SPEC 5.4) on clean and messy files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

import bot.cli
from bot.extensions import db_session
from store.models import Channel, Enrollment, Language, Medicine, MedType, Package, Patient

HEADER = (
    "store,patient_id,first_name,last_name,phone,language,channel,timezone,anchor_date,"
    "cycle_days,consent_date,phi_ok,medication,med_type,days_supply,last_fill_date,"
    "refills_remaining,quantity,daily_dose,package,controlled"
)

MESSY = "\ufeff" + "\n".join(
    [
        HEADER,
        # row 2, 3: one patient, national format with punctuation, two medicines
        ",P1,Ana,Lopez,(202) 555-0143,es,sms,,2026-12-07,30,2026-01-02,yes,"
        "Metformin 500 mg,maintenance,30,2026-11-07,3,60,2,,",
        ",P1,Ana,Lopez,(202) 555-0143,es,sms,,2026-12-07,30,2026-01-02,yes,"
        "Albuterol HFA,prn,,,,,,whole,",
        # row 4: international format with dots and spaces
        "main,P2,Bob,Smith,+1 212.555.0100,,voice,America/Chicago,2026-12-10,,,no,"
        "Lisinopril 10 mg,maintenance,90,,,,,,",
        # row 5: exact duplicate of row 4
        "main,P2,Bob,Smith,+1 212.555.0100,,voice,America/Chicago,2026-12-10,,,no,"
        "Lisinopril 10 mg,maintenance,90,,,,,,",
        # row 6: invalid phone
        ",P3,Cy,Doe,555-12,,,,2026-12-10,,,,Atorvastatin 20 mg,maintenance,,,,,,,",
        # row 7: invalid date
        ",P4,Di,Roe,2025550143,,,,2026-13-45,,,,Atorvastatin 20 mg,maintenance,,,,,,,",
        # row 8: unknown store
        "elsewhere,P5,Ed,Poe,2025550143,,,,2026-12-10,,,,Atorvastatin 20 mg,maintenance,,,,,,,",
        # row 9: missing required field (last_name)
        ",P6,Flo,,2025550143,,,,2026-12-10,,,,Atorvastatin 20 mg,maintenance,,,,,,,",
        # row 10: bad enum
        ",P7,Gus,Lee,2025550143,fr,,,2026-12-10,,,,Atorvastatin 20 mg,weekly,,,,,,,",
        # row 11: a controlled medicine with a quoted name containing a comma
        ',P8,Hal,Kim,202-555-0143,,,,2026-12-12,28,,,"Oxycodone 5 mg, tablet",maintenance,'
        "30,,0,120,4,,yes",
    ]
)


# The files' anchor dates are fixed, so the import's clock is too (bot.cli passes it in).
NOW = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # noon in New York


@pytest.fixture(autouse=True)
def import_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.cli, "utcnow", lambda: NOW)


def write(tmp_path: Path, text: str, name: str = "patients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(runner: FlaskCliRunner, path: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["import-patients", str(path), *args])


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return write(tmp_path, MESSY)


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db_session().scalar(select(func.count()).select_from(model)) or 0)


def test_it_imports_every_good_row_and_reports_each_bad_one(
    app: Flask, runner: FlaskCliRunner, messy: Path
) -> None:
    result = run_import(runner, messy)
    assert result.exit_code == 0, result.output
    assert "row 6: invalid phone number '555-12'" in result.output
    assert "row 7: anchor_date must be a date YYYY-MM-DD, not '2026-13-45'" in result.output
    assert "row 8: unknown store 'elsewhere'" in result.output
    assert "row 9: missing last_name" in result.output
    assert "row 10: language must be en or es, not 'fr'" in result.output
    assert "rejected: 5, duplicates skipped: 1" in result.output
    assert "patients: 3 created" in result.output
    assert "medicines: 4 created" in result.output
    with app.app_context():
        session = db_session()
        patients = {p.external_id: p for p in session.scalars(select(Patient))}
        assert set(patients) == {"P1", "P2", "P8"}
        ana, bob, hal = patients["P1"], patients["P2"], patients["P8"]
        assert (ana.phone, ana.language, ana.phi_ok) == ("+12025550143", Language.ES, True)
        assert ana.consent_date == dt.date(2026, 1, 2)
        assert [(m.name, m.med_type, m.package) for m in ana.medicines] == [
            ("Albuterol HFA", MedType.PRN, Package.WHOLE),
            ("Metformin 500 mg", MedType.MAINTENANCE, Package.SPLITTABLE),
        ]
        assert ana.enrollment is not None
        assert (ana.enrollment.anchor_date, ana.enrollment.cycle_days) == (dt.date(2026, 12, 7), 30)
        assert (bob.phone, bob.channel, bob.timezone) == (
            "+12125550100",
            Channel.VOICE,
            "America/Chicago",
        )
        assert bob.consent_date is None
        (oxy,) = hal.medicines
        assert (oxy.name, oxy.controlled, oxy.quantity, oxy.daily_dose) == (
            "Oxycodone 5 mg, tablet",
            True,
            120.0,
            4.0,
        )


def test_it_reports_no_changes_the_second_time(
    app: Flask, runner: FlaskCliRunner, messy: Path
) -> None:
    assert run_import(runner, messy).exit_code == 0
    again = run_import(runner, messy)
    assert again.exit_code == 0, again.output
    assert "no changes" in again.output
    assert "patients: 0 created, 0 updated, 3 unchanged" in again.output
    assert count(app, Patient) == 3
    assert count(app, Medicine) == 4


def test_it_updates_anchor_date_and_medicine_list_in_place(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    first = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Lisinopril 10 mg,maintenance\n",
        "first.csv",
    )
    second = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type,days_supply\n"
        "P1,Ana,Lopez,2025550143,2026-12-14,Metformin 500 mg,maintenance,90\n"
        "P1,Ana,Lopez,2025550143,2026-12-14,Atorvastatin 20 mg,maintenance,\n",
        "second.csv",
    )
    assert run_import(runner, first).exit_code == 0
    with app.app_context():
        before = db_session().scalars(select(Patient)).one()
        ids = (before.id, before.enrollment.id if before.enrollment else None)
    result = run_import(runner, second)
    assert result.exit_code == 0, result.output
    assert "enrollments changed: 1" in result.output
    assert "medicines: 1 created, 1 updated, 0 unchanged, 1 removed" in result.output
    with app.app_context():
        patient = db_session().scalars(select(Patient)).one()
        assert patient.enrollment is not None
        assert (patient.id, patient.enrollment.id) == ids
        assert patient.enrollment.anchor_date == dt.date(2026, 12, 14)
        assert {m.name: m.days_supply for m in patient.medicines} == {
            "Metformin 500 mg": 90,
            "Atorvastatin 20 mg": None,
        }
    assert count(app, Enrollment) == 1


def test_a_rejected_row_does_not_remove_that_medicine(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    good = (
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type,days_supply\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance,30\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Lisinopril 10 mg,maintenance,30\n"
    )
    assert run_import(runner, write(tmp_path, good, "good.csv")).exit_code == 0
    typo = good.replace("Lisinopril 10 mg,maintenance,30", "Lisinopril 10 mg,maintenance,thirty")
    result = run_import(runner, write(tmp_path, typo, "typo.csv"))
    assert "row 3: days_supply must be a whole number, not 'thirty'" in result.output
    assert count(app, Medicine) == 2


def test_conflicting_rows_of_one_patient_keep_the_first(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance\n"
        "P1,Ana,Lopez,2125550100,2026-12-07,Lisinopril 10 mg,maintenance\n",
    )
    result = run_import(runner, path)
    assert "row 3: patient details differ from an earlier row of this patient" in result.output
    with app.app_context():
        patient = db_session().scalars(select(Patient)).one()
        assert patient.phone == "+12025550143"
        assert [m.name for m in patient.medicines] == ["Metformin 500 mg"]


def test_dry_run_changes_nothing(app: Flask, runner: FlaskCliRunner, messy: Path) -> None:
    result = run_import(runner, messy, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing saved" in result.output
    assert "patients: 3 created" in result.output
    assert count(app, Patient) == 0


def test_it_refuses_a_file_without_the_required_columns(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path, "patient_id,first_name\nP1,Ana\n")
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert "missing required columns: last_name, phone, anchor_date, medication, med_type" in (
        result.output
    )


def test_it_refuses_a_file_that_is_not_utf8_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    good = "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
    good += "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance\n"
    path.write_bytes(good.encode() + "P2,José,Pé,2025550143,2026-12-07,X,prn\n".encode("latin-1"))
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert "line 3 is not valid UTF-8" in result.output
    assert count(app, Patient) == 0


def test_it_rejects_a_row_with_too_many_cells(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance,extra\n",
    )
    result = run_import(runner, path)
    assert "row 2: more cells than columns in the header" in result.output


def test_it_uses_the_store_option_for_rows_without_a_store(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    created = runner.invoke(
        args=[
            "create-store",
            "north",
            "--name",
            "North",
            "--phone",
            "2125550100",
            "--timezone",
            "America/Chicago",
        ]
    )
    assert created.exit_code == 0, created.output
    path = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance\n",
    )
    assert run_import(runner, path, "--store", "north").exit_code == 0
    with app.app_context():
        patient = db_session().scalars(select(Patient)).one()
        assert patient.store.code == "north"
    unknown = run_import(runner, path, "--store", "nowhere")
    assert unknown.exit_code != 0 and "unknown store 'nowhere'" in unknown.output


def test_it_imports_many_rows_in_batches(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    lines = ["patient_id,first_name,last_name,phone,anchor_date,medication,med_type"]
    for n in range(1200):
        lines.append(f"P{n // 3},Pat,Num{n // 3},2025550143,2026-12-07,Drug {n % 3},maintenance")
    path = write(tmp_path, "\n".join(lines) + "\n")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "patients: 400 created" in result.output
    assert "medicines: 1200 created" in result.output
    again = run_import(runner, path)
    assert "no changes" in again.output and "0 removed" in again.output


def test_it_keeps_only_one_batch_in_memory(app: Flask, tmp_path: Path) -> None:
    """Bounded memory: the session never holds much more than one batch of objects."""
    from sqlalchemy import event

    from bot.cli import ensure_default_store
    from store import importer

    rows = 4 * importer.BATCH_ROWS
    text = "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n" + "".join(
        f"P{n},Pat,Num,2025550143,2026-12-07,Drug,maintenance\n" for n in range(rows)
    )
    with app.app_context():
        session = db_session()
        store = ensure_default_store()
        session.commit()
        sizes: list[int] = []
        event.listen(
            session, "after_flush_postexec", lambda s, _ctx: sizes.append(len(s.identity_map))
        )
        report = importer.import_patients(
            session,
            text.splitlines(keepends=True),
            default_store=store.code,
            on_reject=print,
            now=NOW,
        )
    assert report.patients_created == rows
    # A batch holds BATCH_ROWS patients, their medicines and enrollments, and the store.
    assert 3 * importer.BATCH_ROWS <= max(sizes) <= 3 * importer.BATCH_ROWS + 10


PAST_ANCHORS = "\n".join(
    [
        "patient_id,first_name,last_name,phone,timezone,anchor_date,medication,med_type",
        # row 2: yesterday in New York
        "P1,Ana,Lopez,2025550143,,2026-11-30,Metformin 500 mg,maintenance",
        # row 3: today in New York (noon) is not the past
        "P2,Bob,Smith,2025550144,,2026-12-01,Metformin 500 mg,maintenance",
        # row 4: already 2 December in Tokyo, so 1 December has passed there
        "P3,Cy,Doe,2025550145,Asia/Tokyo,2026-12-01,Metformin 500 mg,maintenance",
    ]
)


def test_an_anchor_date_in_the_patients_past_is_refused(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = run_import(runner, write(tmp_path, PAST_ANCHORS))
    assert result.exit_code == 0, result.output
    assert (
        "row 2: anchor_date 2026-11-30 is in the past (today is 2026-12-01): "
        "export the patient's next anchor date"
    ) in result.output
    assert "row 4: anchor_date 2026-12-01 is in the past (today is 2026-12-02)" in result.output
    assert "row 3" not in result.output
    with app.app_context():
        imported = db_session().scalars(select(Patient.external_id)).all()
    assert imported == ["P2"]


def test_a_reimport_does_not_put_back_an_anchor_the_scheduler_rolled(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler import cli as scheduler_cli

    path = write(
        tmp_path,
        "patient_id,first_name,last_name,phone,anchor_date,medication,med_type\n"
        "P1,Ana,Lopez,2025550143,2026-12-07,Metformin 500 mg,maintenance\n",
    )
    assert "patients: 1 created" in run_import(runner, path).output
    # The anchor passes; the scheduler rolls it on by a 30-day cycle.
    scheduler_cli.init_app(app)
    tick = runner.invoke(args=["tick", "--now", "2026-12-09T15:00:00Z"])
    assert "anchors rolled to the next cycle: 1" in tick.output, tick.output
    monkeypatch.setattr(bot.cli, "utcnow", lambda: dt.datetime(2026, 12, 10, 15, tzinfo=dt.UTC))

    again = run_import(runner, path)  # the pharmacy system still says 7 December
    assert again.exit_code == 0, again.output
    assert (
        "row 2: anchor_date 2026-12-07 is in the past (today is 2026-12-10); this patient's "
        "anchor date is already 2027-01-06: update it in the pharmacy system, or leave the row out"
    ) in again.output
    assert "no changes" in again.output
    with app.app_context():
        enrollment = db_session().scalars(select(Enrollment)).one()
    assert enrollment.anchor_date == dt.date(2027, 1, 6)
