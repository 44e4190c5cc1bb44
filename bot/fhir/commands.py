"""`import-fhir FILE.json [--store CODE] [--dry-run]` and `export-fhir --date YYYY-MM-DD`.

The options and output of `import-patients` (bot/cli.py): one `entry N: reason` line per bad
entry on stderr, the same summary, the same audit event name with the format in its detail.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from bot.cli import import_store
from bot.extensions import db_session
from store import importer
from store.audit import record_audit
from store.models import utcnow
from store.staff import get_store

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def init_app(app: Flask) -> None:
    for command in (import_fhir, export_fhir):
        app.cli.add_command(command)


@click.command("import-fhir")
@click.argument("json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_code", help="Store for patients without a store identifier.")
@click.option("--dry-run", is_flag=True, help="Validate and report, change nothing.")
@with_appcontext
def import_fhir(json_file: Path, store_code: str | None, dry_run: bool) -> None:
    """Upsert patients, enrollments and medicines from a FHIR R4 Bundle (SPEC 15)."""
    from bot.fhir import reading  # the FHIR models take 0.15 s to import: only when used

    session = db_session()
    default_store = import_store(store_code)

    def report_rejected(entry: int, reason: str) -> None:
        click.echo(f"entry {entry}: {reason}", err=True)

    try:
        with json_file.open("rb") as raw:
            importer.check_utf8(raw)
        report, read = reading.import_bundle(
            session,
            json_file.read_text(encoding="utf-8-sig"),
            default_store=default_store,
            on_reject=report_rejected,
            now=utcnow(),
            commit=not dry_run,
        )
    except importer.ImportFileError as error:
        raise click.ClickException(f"{json_file}: {error}") from None
    record_audit(
        session,
        "import_patients",
        actor="cli",
        target=json_file.name,
        detail={
            "format": "fhir",
            "dry_run": dry_run,
            "rows": report.rows,
            "rejected": report.rejected_rows,
        },
    )
    session.commit()
    entries = (
        f"entries read: {read.entries}; MedicationRequests not current: {read.not_current}; "
        f"other resources left out: {read.other}"
    )
    click.echo(("dry run, nothing saved\n" if dry_run else "") + entries + "\n" + report.summary())


@click.command("export-fhir")
@click.option("--date", "day", type=_DATE, required=True, help="The anchor date, YYYY-MM-DD.")
@click.option("--store", "store_code", help="Only this store (default: every store).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the Bundle to this file instead of standard output.",
)
@with_appcontext
def export_fhir(day: dt.datetime, store_code: str | None, out: Path | None) -> None:
    """The day's check-in outcomes and fill decisions as a FHIR R4 Bundle (SPEC 15)."""
    from bot.fhir import writing  # the FHIR models take 0.15 s to import: only when used

    session = db_session()
    store_ids = None
    if store_code is not None:
        store = get_store(session, store_code)
        if store is None:
            raise click.ClickException(f"unknown store {store_code!r}")
        store_ids = [store.id]
    bundle = writing.day_bundle(session, day.date(), utcnow(), store_ids=store_ids)
    text = bundle.model_dump_json(indent=2, exclude_none=True)
    record_audit(
        session,
        "export_fhir",
        actor="cli",
        target=day.date().isoformat(),
        detail={"store": store_code, "entries": len(bundle.entry or [])},
    )
    session.commit()
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{len(bundle.entry or [])} entries written to {out}", err=True)
