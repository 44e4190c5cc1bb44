"""`sync-plan`, `adherence` and `candidates` (SPEC 5.7) through the Flask CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from bot.extensions import db_session
from store.models import AuditEvent

# Due dates are at least ten days out, so "today" (which moves overdue fills to today) never
# touches them, whichever day and timezone the tests run in.
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


PATIENTS_HEADER = (
    "patient_id,first_name,last_name,phone,anchor_date,medication,med_type,days_supply,"
    "last_fill_date,refills_remaining,quantity,daily_dose,package,controlled"
)
PATIENT = "\n".join(
    [
        PATIENTS_HEADER,
        # due in 10 days, 2 a day
        f"P1,Ana,Lopez,2025550143,{day(40)},Metformin 500 mg,maintenance,30,{day(-20)},3,60,2,,",
        # pens due in 17 days: whole package
        f"P1,Ana,Lopez,2025550143,{day(40)},Lantus SoloStar,maintenance,30,{day(-13)},2,,,whole,",
        # due in 12 days, controlled
        f"P1,Ana,Lopez,2025550143,{day(40)},Oxycodone 5 mg,maintenance,30,{day(-18)},0,120,4,,yes",
        f"P1,Ana,Lopez,2025550143,{day(40)},Albuterol HFA,prn,,,,,,whole,",
    ]
)


@pytest.fixture
def patient(runner: FlaskCliRunner, tmp_path: Path) -> str:
    path = tmp_path / "patients.csv"
    path.write_text(PATIENT + "\n", encoding="utf-8")
    result = runner.invoke(args=["import-patients", str(path)])
    assert result.exit_code == 0, result.output
    return "P1"


def test_it_plans_short_fills_for_a_chosen_anchor(
    app: Flask, runner: FlaskCliRunner, patient: str
) -> None:
    result = runner.invoke(args=["sync-plan", patient, "--anchor", day(17), "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (plan["patient_id"], plan["store"], plan["anchor"]) == ("P1", "main", day(17))
    assert (plan["suggested"], plan["enrolled_anchor"], plan["cycle_days"]) == (False, day(40), 30)
    items = {item["name"]: item for item in plan["items"]}
    metformin = items["Metformin 500 mg"]
    assert (metformin["status"], metformin["fill_on"], metformin["short_days"]) == (
        "short_fill",
        day(10),
        7,
    )
    assert metformin["short_quantity"] == 14
    assert items["Lantus SoloStar"]["status"] == "aligned"
    oxycodone = items["Oxycodone 5 mg"]
    assert (oxycodone["status"], oxycodone["short_days"]) == ("cannot_short_fill", 0)
    assert "controlled substance" in oxycodone["reason"]
    assert any("no refills left" in note for note in oxycodone["notes"])
    assert items["Albuterol HFA"]["status"] == "cannot_short_fill"
    assert plan["total_short_days"] == 7
    with app.app_context():
        (event,) = db_session().scalars(select(AuditEvent).where(AuditEvent.action == "sync_plan"))
        assert (event.actor, event.target) == ("cli", "P1")


def test_it_suggests_the_insulin_pen_date_as_the_anchor(
    runner: FlaskCliRunner, patient: str
) -> None:
    result = runner.invoke(args=["sync-plan", patient])
    assert result.exit_code == 0, result.output
    assert f"suggested anchor: {day(17)} (Lantus SoloStar cannot be short-filled" in result.output
    assert f"- Metformin 500 mg: short fill 7 days (14 units) on {day(10)}" in result.output
    assert "- Albuterol HFA: as needed (PRN)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync-plan", "NOPE"], "no patient 'NOPE' in store 'main'"),
        (["sync-plan", "P1", "--store", "elsewhere"], "unknown store 'elsewhere'"),
    ],
)
def test_it_refuses_an_unknown_patient_or_store(
    runner: FlaskCliRunner, patient: str, args: list[str], message: str
) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output


FILLS = "\n".join(
    [
        "patient_id,drug,ingredient,drug_class,fill_date,days_supply",
        # PQA's example of an early refill shifted forward: covered 270 of 282 days.
        "A,Metformin 500 mg,metformin,diabetes,2018-03-25,90",
        "A,Metformin 500 mg,metformin,diabetes,2018-07-05,90",
        "A,Metformin 500 mg,metformin,diabetes,2018-09-25,90",
        "A,Lisinopril 10 mg,lisinopril,RASA,2018-01-01,90",  # one fill: no PDC
        "B,Atorvastatin 20 mg,,statin,2018-10-04,30",  # index date too late
        "B,Atorvastatin 20 mg,,statin,2018-11-01,30",
        "B,Atorvastatin 20 mg,,statin,2018-31-12,30",  # row 8: bad date
        "C,Zestoretic,lisinopril/hydrochlorothiazide,RASA,2018-01-01,30",
        "C,Zestoretic,lisinopril/hydrochlorothiazide,RASA,2018-06-01,30",  # PDC 60/365
        "C,Metformin,,diabetes,2018-01-01,zero",  # row 11: bad days supply
        "C,,,diabetes,2018-01-01,30",  # row 12: no drug
    ]
)


@pytest.fixture
def fills_csv(tmp_path: Path) -> Path:
    path = tmp_path / "fills.csv"
    path.write_text(FILLS + "\n", encoding="utf-8")
    return path


PERIOD = ["--from", "2018-01-01", "--to", "2018-12-31"]


def test_it_prints_pdc_as_json_and_says_why_a_patient_has_none(
    runner: FlaskCliRunner, fills_csv: Path
) -> None:
    result = runner.invoke(args=["adherence", str(fills_csv), *PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    spec_fields = ("patient_id", "drug_class", "pdc", "covered_days", "period_days", "reason")
    assert [tuple(r[f] for f in spec_fields) for r in json.loads(result.stdout)] == [
        ("A", "RASA", None, None, None, "fewer than two fills on different dates"),
        ("A", "diabetes", 0.957447, 270, 282, None),
        (
            "B",
            "statin",
            None,
            None,
            None,
            "index date too late: 2018-10-04 is less than 91 days before 2018-12-31",
        ),
        ("C", "RASA", 0.164384, 60, 365, None),
    ]
    assert result.stderr.splitlines() == [
        "row 8: fill_date must be a date YYYY-MM-DD, not '2018-31-12'",
        "row 11: days_supply must be a whole number, not 'zero'",
        "row 12: missing drug",
        "3 rows rejected; the other rows were used",
    ]


def test_it_prints_pdc_as_text(runner: FlaskCliRunner, fills_csv: Path) -> None:
    result = runner.invoke(args=["adherence", str(fills_csv), *PERIOD])
    assert result.exit_code == 0, result.output
    assert "A\tdiabetes\tPDC 95.7% (270/282 days)\tadherent" in result.stdout
    assert "C\tRASA\tPDC 16.4% (60/365 days)\tbelow 80%" in result.stdout
    assert "B\tstatin\tno PDC: index date too late" in result.stdout
    assert "4 patient-class results: 2 with a PDC, 1 below 80%, 2 without a PDC" in result.stdout


def test_it_lists_candidates_by_drug_count_and_by_low_pdc(
    runner: FlaskCliRunner, fills_csv: Path
) -> None:
    result = runner.invoke(args=["candidates", str(fills_csv), *PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    # A takes one maintenance drug, adherent; B has no PDC; C's combination is two ingredients
    # with a PDC of 16.4%.
    assert json.loads(result.stdout) == [
        {
            "patient_id": "C",
            "maintenance_drugs": 2,
            "ingredients": ["hydrochlorothiazide", "lisinopril"],
            "low_pdc": [{"drug_class": "RASA", "pdc": 0.164384}],
            "reasons": ["PDC 16.4% in RASA"],
        }
    ]
    by_count = runner.invoke(args=["candidates", str(fills_csv), *PERIOD, "--min-meds", "2"])
    assert by_count.exit_code == 0, by_count.output
    # With two drugs enough, A (metformin refilled, one 90-day lisinopril fill) is one too.
    assert by_count.stdout.splitlines() == [
        "A: 2 maintenance drugs",
        "C: 2 maintenance drugs; PDC 16.4% in RASA",
        "2 candidates",
    ]


@pytest.mark.parametrize("command", ["adherence", "candidates"])
def test_it_refuses_a_file_without_the_required_columns(
    runner: FlaskCliRunner, tmp_path: Path, command: str
) -> None:
    path = tmp_path / "fills.csv"
    path.write_text("patient_id,drug,fill_date\nA,X,2018-01-01\n", encoding="utf-8")
    result = runner.invoke(args=[command, str(path), *PERIOD])
    assert result.exit_code == 1
    assert "missing required columns: drug_class, days_supply" in result.output


def test_it_refuses_a_file_that_is_not_utf8(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "fills.csv"
    path.write_bytes(FILLS.encode() + b"\nA,Caf\xe9,,x,2018-01-01,30\n")
    result = runner.invoke(args=["adherence", str(path), *PERIOD])
    assert result.exit_code == 1
    assert "line 13 is not valid UTF-8" in result.output


def test_it_refuses_a_period_that_ends_before_it_starts(
    runner: FlaskCliRunner, fills_csv: Path
) -> None:
    result = runner.invoke(
        args=["adherence", str(fills_csv), "--from", "2018-12-31", "--to", "2018-01-01"]
    )
    assert result.exit_code == 2
    assert "must not be before --from" in result.output


def test_it_prints_an_empty_json_list_when_no_fill_is_in_the_period(
    runner: FlaskCliRunner, fills_csv: Path
) -> None:
    for command in ("adherence", "candidates"):
        result = runner.invoke(
            args=[command, str(fills_csv), "--from", "2030-01-01", "--to", "2030-12-31", "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == []
