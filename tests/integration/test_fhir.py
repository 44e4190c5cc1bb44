"""`import-fhir` and `export-fhir` (SPEC 15) with hand-written Bundles, through the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import bot.fhir.commands
from bot import outreach
from bot.extensions import db_session
from bot.fhir import codes
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import (
    Checkin,
    CheckinForm,
    Enrollment,
    Medicine,
    Patient,
    Purpose,
    QueueItem,
)
from tests.factories import make_checkin, make_store
from tests.twilio_helpers import TwilioPoster

FIXTURES = Path(__file__).parent.parent / "fixtures" / "fhir"
NOW = dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.UTC)  # the anchor date 2026-12-07 is ahead
ANCHOR = "2026-12-07"
PHONE = "+12025550143"


@pytest.fixture(autouse=True)
def import_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.fhir.commands, "utcnow", lambda: NOW)


def three_medicines() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "three_medicines.json").read_text())
    return data


def write(tmp_path: Path, bundle: object, name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle), encoding="utf-8")
    return path


def import_fhir(runner: FlaskCliRunner, path: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["import-fhir", str(path), *args])


def export(runner: FlaskCliRunner, tmp_path: Path, day: str = ANCHOR) -> Bundle:
    out = tmp_path / f"export-{day}.json"
    result = runner.invoke(args=["export-fhir", "--date", day, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # The library that wrote it parses it back: the Bundle is valid R4 (R4B models).
    return Bundle.model_validate_json(out.read_text())


def snapshot(app: Flask) -> list[tuple[Any, ...]]:
    """Every patient, enrollment and medicine as plain values."""
    with app.app_context():
        session = db_session()
        rows: list[tuple[Any, ...]] = []
        for patient in session.scalars(select(Patient).order_by(Patient.external_id)):
            rows.append(
                (
                    patient.external_id,
                    patient.first_name,
                    patient.last_name,
                    patient.phone,
                    patient.language.value,
                    patient.birth_date,
                    patient.phi_ok,
                    patient.consent_date,
                    patient.delivery.value,
                )
            )
        for e in session.scalars(select(Enrollment).order_by(Enrollment.id)):
            rows.append((e.patient_id, e.anchor_date, e.cycle_days))
        for m in session.scalars(select(Medicine).order_by(Medicine.name)):
            rows.append(
                (
                    m.name,
                    m.med_type.value,
                    m.days_supply,
                    m.last_fill_date,
                    m.refills_remaining,
                    m.quantity,
                    m.daily_dose,
                    m.package.value,
                    m.controlled,
                    m.rx_number,
                    m.prescriber_name,
                    m.prescriber_npi,
                    m.prescriber_phone,
                    m.prescriber_fax,
                )
            )
        return rows


def resources(bundle: Bundle, kind: str) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == kind]


def test_a_patient_with_three_medicines_and_a_dispense_history(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = import_fhir(runner, write(tmp_path, three_medicines()))
    assert result.exit_code == 0, result.output
    assert "entries read: 12; MedicationRequests not current: 1" in result.output
    assert "patients: 1 created" in result.output and "medicines: 3 created" in result.output
    assert result.stderr == ""
    rows = snapshot(app)
    assert rows[0] == (
        "P100",
        "Ana Maria",
        "Lopez",
        PHONE,  # the mobile number, in E.164, not the home one
        "es",  # the preferred language
        dt.date(1950, 3, 4),
        True,
        dt.date(2026, 1, 2),
        "pickup",
    )
    assert rows[1][1:] == (dt.date(2026, 12, 7), 30)
    albuterol, lisinopril, metformin = rows[2:]
    # Spaces squeezed like the CSV's; PRN from asNeeded; a whole package from the extension.
    assert albuterol[:3] == ("Albuterol HFA 90 mcg inhaler", "prn", None)
    assert albuterol[7] == "whole"
    # The latest hand-over is the last fill; 5 repeats less the one dispense after the first.
    assert metformin == (
        "Metformin 500 mg",
        "maintenance",
        30,
        dt.date(2026, 11, 7),
        4,
        60.0,
        2.0,  # 1 tablet x 2 a day
        "splittable",
        False,
        "RX-7001",
        "Grace Kim",
        "1234567893",
        "+12025550110",
        "+12025550111",
    )
    # One repeat, both used (the cancelled dispense is no fill): renewal needed.
    assert lisinopril[2:5] == (30, dt.date(2026, 11, 7), 0)
    assert lisinopril[10] == "Dr. Grace Kim"

    again = import_fhir(runner, write(tmp_path, three_medicines()))
    assert again.exit_code == 0 and "no changes" in again.output
    assert snapshot(app) == rows


def test_export_then_import_again_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_fhir(runner, write(tmp_path, three_medicines())).exit_code == 0
    before = snapshot(app)
    bundle = export(runner, tmp_path)
    kinds = sorted({e.resource.get_resource_type() for e in bundle.entry or []})
    assert kinds == ["MedicationDispense", "MedicationRequest", "Patient", "Practitioner"]
    (patient,) = resources(bundle, "Patient")
    assert patient.identifier[0].system == f"{codes.PATIENT_ID_SYSTEM}:main"
    assert patient.identifier[0].value == "P100"
    planned = {
        d.medicationCodeableConcept.text: d
        for d in resources(bundle, "MedicationDispense")
        if d.status != "completed"
    }
    # No check-in yet: Metformin is to prepare (60 due on the anchor); Lisinopril has no
    # refills left, so it waits for the prescriber; the PRN inhaler is not planned.
    assert sorted(planned) == ["Lisinopril 10 mg", "Metformin 500 mg"]
    metformin, lisinopril = planned["Metformin 500 mg"], planned["Lisinopril 10 mg"]
    assert (metformin.status, metformin.type.coding[0].code) == ("preparation", "fill")
    assert metformin.quantity.value == 60
    assert (lisinopril.status, lisinopril.type.coding[0].code) == ("on-hold", "renewal_needed")
    assert "no refills left" in lisinopril.statusReasonCodeableConcept.text
    last_fills = [d for d in resources(bundle, "MedicationDispense") if d.status == "completed"]
    assert sorted(str(d.whenHandedOver) for d in last_fills) == ["2026-11-07", "2026-11-07"]

    path = tmp_path / "again.json"
    path.write_text(bundle.model_dump_json(exclude_none=True))
    result = import_fhir(runner, path)
    assert result.exit_code == 0, result.output
    assert "no changes" in result.output and result.stderr == ""
    assert snapshot(app) == before


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    return [m.text or "" for m in ET.fromstring(response.data).iter("Message")]


def test_the_days_check_in_outcomes_come_out_with_the_patients_words(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, session: Session, twilio: TwilioPoster
) -> None:
    make_store(session, checkin_form=CheckinForm.FULL)
    session.commit()
    assert import_fhir(runner, write(tmp_path, three_medicines())).exit_code == 0
    patient = session.scalars(select(Patient)).one()
    checkin = make_checkin(session, patient)
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
    for answer in ("no", "no", "no", "yes", "I was in the ER on Sunday", "no"):
        texts(twilio.sms(PHONE, answer))
    session.expire_all()
    item = session.scalars(select(QueueItem)).one()
    assert item.kind.value == "health_change"

    bundle = export(runner, tmp_path)
    words = [c.payload[0].contentString for c in resources(bundle, "Communication")]
    assert words == ["no", "no", "no", "yes", "I was in the ER on Sunday", "no"]
    tasks = {t.code.coding[0].code: t for t in resources(bundle, "Task")}
    assert set(tasks) == {"checkin", "health_change"}
    assert tasks["checkin"].businessStatus.coding[0].code == "flagged"
    assert tasks["checkin"].status == "completed"
    outputs = {o.type.coding[0].code: o.valueCode for o in tasks["checkin"].output}
    assert outputs["health_change"] == "reported" and outputs["med_change"] == "none"
    health = tasks["health_change"]
    assert (health.status, health.priority) == ("requested", "urgent")
    # Its focus is the Communication of the words it came from, in this Bundle.
    urls = {e.fullUrl: e.resource for e in bundle.entry or []}
    assert urls[health.focus.reference].payload[0].contentString == "I was in the ER on Sunday"
    assert health.partOf[0].reference in urls
    # A reported hospital stay holds every maintenance fill for the pharmacist.
    planned = [d for d in resources(bundle, "MedicationDispense") if d.status != "completed"]
    assert {(d.status, d.type.coding[0].code) for d in planned} == {("on-hold", "hold")}
    for resource in resources(bundle, "MedicationDispense"):
        assert resource.status in codes.DISPENSE_STATUSES
    for task in resources(bundle, "Task"):
        assert task.status in codes.TASK_STATUSES
    # Another day has none of it.
    assert export(runner, tmp_path, "2026-12-08").entry is None


def test_a_dry_run_writes_nothing(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = import_fhir(runner, write(tmp_path, three_medicines()), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing saved" in result.output and "medicines: 3 created" in result.output
    assert snapshot(app) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('{"resourceType": "Patient", "id": "x"}', "not a FHIR Bundle"),
        ('[{"resourceType": "Bundle"}]', "not a FHIR Bundle"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": {}}', "entry must be a list"),
    ],
)
def test_a_file_that_is_no_bundle_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, text: str, message: str
) -> None:
    assert import_fhir(runner, write(tmp_path, three_medicines())).exit_code == 0
    before = snapshot(app)
    result = import_fhir(runner, write(tmp_path, text, "bad.json"))
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before


def test_bad_entries_are_reported_once_each_and_the_good_ones_still_import(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    def patient(pid: str, **extra: Any) -> dict[str, Any]:
        return {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [{"value": pid}],
            "name": [{"family": "Doe", "given": ["Jo"]}],
            "telecom": [{"system": "phone", "value": "202-555-0100"}],
            "extension": [{"url": codes.EXT_ANCHOR_DATE, "valueDate": ANCHOR}],
            **extra,
        }

    def request(pid: str, name: str | None = "Atorvastatin 20 mg", **extra: Any) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{pid}"},
            **extra,
        }
        # No name: a code alone, which the library accepts and the import cannot name.
        concept = {"text": name} if name else {"coding": [{"code": "197361"}]}
        return {**resource, "medicationCodeableConcept": concept}

    entries: list[Any] = [
        patient("P1"),  # 0: good
        request("P1"),  # 1: good
        patient("P2", birthDate="1950-13-45"),  # 2: not valid FHIR
        request("P2"),  # 3: its patient is wrong: not reported again
        patient("P3", telecom=[{"system": "phone", "value": "555-12"}]),  # 4: bad phone
        request("P3"),  # 5 and 6: its patient's problem, said once
        request("P3", "Lisinopril 10 mg"),
        request("nobody"),  # 7: no such patient
        request("P1", None),  # 8: no medicine name
        "hello",  # 9: no resource
        request("P1", "Metformin 500 mg", status="bogus"),  # 10: not an R4 status
        patient("P1"),  # 11: P1 twice
        patient("P4", extension=[]),  # 12: no anchor date (the importer's rule)
        request("P4"),
        patient("P5", extension=[{"url": codes.EXT_ANCHOR_DATE, "valueDate": "2026-11-01"}]),
        request("P5"),  # 14: a past anchor date (the importer's rule)
        request("P1", "Simvastatin 40 mg", dispenseRequest={"quantity": {"value": -3}}),  # 16
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}},
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [e if isinstance(e, str) or "resource" in e else {"resource": e} for e in entries],
    }
    result = import_fhir(runner, write(tmp_path, bundle))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    numbers = [int(line.split(":")[0].removeprefix("entry ")) for line in lines]
    assert numbers == sorted(set(numbers)), lines  # one line per bad entry
    said = dict(line.split(": ", 1) for line in lines)
    assert said["entry 2"].startswith("not a valid Patient: birthDate")
    assert said["entry 4"] == "invalid phone number '555-12' (Patient.telecom)"
    assert said["entry 7"] == "subject 'Patient/nobody' is not a Patient of this Bundle"
    assert said["entry 8"].startswith("missing medication")
    assert said["entry 9"] == "no resource with a resourceType"
    assert said["entry 10"] == "status 'bogus' is not an R4 MedicationRequest status"
    assert said["entry 11"] == "patient id 'P1' is already the Patient of entry 0"
    assert said["entry 12"].startswith("missing anchor_date (Patient.extension")
    assert said["entry 14"].startswith("anchor_date 2026-11-01 is in the past")
    assert said["entry 16"].startswith("quantity must be a positive number")
    assert set(said) == {f"entry {n}" for n in (2, 4, 7, 8, 9, 10, 11, 12, 14, 16)}
    rows = snapshot(app)
    assert [r[0] for r in rows if len(r) == 9] == ["P1"]
    assert [r[0] for r in rows if len(r) == 14] == ["Atorvastatin 20 mg"]


def test_a_broken_entry_keeps_the_medicine_it_was_about(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_fhir(runner, write(tmp_path, three_medicines())).exit_code == 0
    before = snapshot(app)
    broken = three_medicines()
    # The Lisinopril request loses its name and a Metformin dispense its hand-over date.
    del broken["entry"][3]["resource"]["medicationCodeableConcept"]
    del broken["entry"][7]["resource"]["whenHandedOver"]
    result = import_fhir(runner, write(tmp_path, broken))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "entry 2: not imported: its MedicationDispense in entry 7 is wrong"
    assert lines[1].startswith("entry 3: not a valid MedicationRequest: ")
    assert "medicationCodeableConcept" in lines[1]
    assert lines[2:] == ["entry 7: a completed dispense needs whenHandedOver"]
    assert "no changes" in result.output
    assert snapshot(app) == before  # neither medicine was removed nor changed


def test_a_stopped_request_removes_the_medicine_like_a_csv_without_its_row(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert import_fhir(runner, write(tmp_path, three_medicines())).exit_code == 0
    changed = copy.deepcopy(three_medicines())
    changed["entry"][4]["resource"]["status"] = "completed"  # the inhaler
    result = import_fhir(runner, write(tmp_path, changed))
    assert result.exit_code == 0 and "1 removed" in result.output
    with app.app_context():
        names = db_session().scalars(select(Medicine.name).order_by(Medicine.name)).all()
        assert names == ["Lisinopril 10 mg", "Metformin 500 mg"]
        assert db_session().scalar(select(func.count()).select_from(Checkin)) == 0
