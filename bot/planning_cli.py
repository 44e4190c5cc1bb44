"""Planning and adherence commands (SPEC 5.7): `sync-plan`, `adherence`, `candidates`.

Each is a few lines around planning/: the database (sync-plan) or the fills file (the other
two) is read here and handed to the pure functions as plain dataclasses.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.cli import ensure_default_store
from bot.extensions import db_session
from planning.candidates import DEFAULT_MIN_MEDS, find_candidates
from planning.fills import FillsFileError, group_by_patient, read_fills
from planning.pdc import Fill, adherence
from planning.sync import DEFAULT_CYCLE_DAYS, Medication, SyncPlan, plan_sync
from store.audit import record_audit
from store.importer import ImportFileError, check_utf8
from store.models import Medicine, MedType, Package, Patient
from store.staff import get_store

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def init_app(app: Flask) -> None:
    """Register the planning commands on `app`."""
    for command in (sync_plan, adherence_command, candidates_command):
        app.cli.add_command(command)


class MedicineColumns(Protocol):
    """A stored medicine's planning columns: a Medicine, or a row the fill day read."""

    name: str
    med_type: MedType
    days_supply: int | None
    last_fill_date: dt.date | None
    refills_remaining: int | None
    quantity: float | None
    daily_dose: float | None
    package: Package
    controlled: bool


def medication_of(medicine: MedicineColumns | Medicine) -> Medication:
    """Return the planning view of a stored medicine."""
    return Medication(
        name=medicine.name,
        med_type="prn" if medicine.med_type == MedType.PRN else "maintenance",
        days_supply=medicine.days_supply,
        last_fill_date=medicine.last_fill_date,
        refills_remaining=medicine.refills_remaining,
        quantity=medicine.quantity,
        daily_dose=medicine.daily_dose,
        package="whole" if medicine.package == Package.WHOLE else "splittable",
        controlled=medicine.controlled,
    )


def plan_for_patient(
    patient: Patient, anchor: dt.date | None = None, today: dt.date | None = None
) -> SyncPlan:
    """Plan the patient's medicines for `anchor` (None: the suggested anchor), as of `today`."""
    if today is None:
        today = dt.datetime.now(ZoneInfo(patient.timezone or patient.store.timezone)).date()
    cycle = patient.enrollment.cycle_days if patient.enrollment else DEFAULT_CYCLE_DAYS
    meds = [medication_of(m) for m in patient.medicines]
    return plan_sync(meds, anchor, cycle_days=cycle, today=today)


@click.command("sync-plan")
@click.argument("patient_id")
@click.option("--store", "store_code", help="The patient's store (default: the default store).")
@click.option("--anchor", type=_DATE, help="Plan for this anchor date instead of suggesting one.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@with_appcontext
def sync_plan(
    patient_id: str, store_code: str | None, anchor: dt.datetime | None, as_json: bool
) -> None:
    """Plan short fills to bring PATIENT_ID's maintenance medicines to one anchor date."""
    session = db_session()
    code = ensure_default_store().code if store_code is None else store_code
    store = get_store(session, code)
    if store is None:
        raise click.ClickException(f"unknown store {code!r}")
    patient = session.scalars(
        select(Patient).where(Patient.store_id == store.id, Patient.external_id == patient_id)
    ).one_or_none()
    if patient is None:
        raise click.ClickException(f"no patient {patient_id!r} in store {code!r}")
    plan = plan_for_patient(patient, anchor.date() if anchor else None)
    record_audit(
        session,
        "sync_plan",
        actor="cli",
        store_id=store.id,
        patient_id=patient.id,
        target=patient.external_id,
    )
    session.commit()
    enrolled = patient.enrollment.anchor_date if patient.enrollment else None
    if as_json:
        document: dict[str, object] = {"patient_id": patient.external_id, "store": store.code}
        document |= plan.to_json()
        document["enrolled_anchor"] = enrolled.isoformat() if enrolled else None
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"patient {patient.external_id} ({patient.full_name}), store {store.code}")
    if enrolled is not None:
        click.echo(f"enrolled anchor: {enrolled}")
    label = "suggested anchor" if plan.suggestion else "anchor"
    click.echo(f"{label}: {plan.anchor or 'none'} ({plan.reason})")
    click.echo(
        f"cycle: {plan.cycle_days} days; short fills: {plan.short_fills} "
        f"({plan.total_short_days} days)"
    )
    for item in plan.items:
        click.echo(f"- {item.name}: {item.reason}")
        for note in item.notes:
            click.echo(f"    note: {note}")


@click.command("adherence")
@click.argument("fills_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "start", type=_DATE, required=True, help="Start of the period.")
@click.option("--to", "end", type=_DATE, required=True, help="End of the period (inclusive).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def adherence_command(fills_csv: Path, start: dt.datetime, end: dt.datetime, as_json: bool) -> None:
    """Print the PDC (PQA method) per patient and drug class in FILLS_CSV."""
    first, last = _period(start, end)
    results = adherence(_read_patients(fills_csv).items(), first, last)
    if as_json:
        _echo_json_list(result.to_json() for result in results)
        return
    counts = {"results": 0, "with_pdc": 0, "below": 0}
    for result in results:
        counts["results"] += 1
        if result.pdc is None:
            click.echo(f"{result.patient_id}\t{result.drug_class}\tno PDC: {result.reason}")
            continue
        counts["with_pdc"] += 1
        counts["below"] += not result.adherent
        flag = "adherent" if result.adherent else "below 80%"
        click.echo(
            f"{result.patient_id}\t{result.drug_class}\tPDC {result.pdc:.1%} "
            f"({result.covered_days}/{result.period_days} days)\t{flag}"
        )
    click.echo(
        f"{counts['results']} patient-class results: {counts['with_pdc']} with a PDC, "
        f"{counts['below']} below 80%, {counts['results'] - counts['with_pdc']} without a PDC"
    )


@click.command("candidates")
@click.argument("fills_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "start", type=_DATE, required=True, help="Start of the period.")
@click.option("--to", "end", type=_DATE, required=True, help="End of the period (inclusive).")
@click.option(
    "--min-meds",
    type=click.IntRange(min=1),
    default=DEFAULT_MIN_MEDS,
    show_default=True,
    help="Maintenance drugs (distinct active ingredients) that make a patient a candidate.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def candidates_command(
    fills_csv: Path, start: dt.datetime, end: dt.datetime, min_meds: int, as_json: bool
) -> None:
    """List patients in FILLS_CSV worth inviting to med sync."""
    first, last = _period(start, end)
    found = find_candidates(_read_patients(fills_csv).items(), first, last, min_meds)
    if as_json:
        _echo_json_list(candidate.to_json() for candidate in found)
        return
    count = 0
    for candidate in found:
        count += 1
        click.echo(f"{candidate.patient_id}: {'; '.join(candidate.reasons)}")
    click.echo(f"{count} candidate{'s' * (count != 1)}")


def _echo_json_list(items: Iterable[dict[str, object]]) -> None:
    """Print a JSON list one item at a time, so a long list is never held whole."""
    separator = "[\n"
    for item in items:
        click.echo(separator + textwrap.indent(json.dumps(item, indent=2), "  "), nl=False)
        separator = ",\n"
    click.echo("[]" if separator == "[\n" else "\n]")


def _period(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    if end < start:
        raise click.BadParameter("must not be before --from", param_hint="--to")
    return start.date(), end.date()


def _read_patients(path: Path) -> dict[str, list[Fill]]:
    """Read the fills file grouped by patient; report each bad row to stderr as it is met."""
    rejected = 0

    def report_rejected(row: int, reason: str) -> None:
        nonlocal rejected
        rejected += 1
        click.echo(f"row {row}: {reason}", err=True)

    try:
        with path.open("rb") as raw:
            check_utf8(raw)
        with path.open(encoding="utf-8", newline="") as file:
            groups = group_by_patient(read_fills(file, report_rejected))
    except (ImportFileError, FillsFileError) as error:
        raise click.ClickException(f"{path}: {error}") from None
    if rejected:
        click.echo(f"{rejected} rows rejected; the other rows were used", err=True)
    return groups
