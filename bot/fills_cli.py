"""`flask export-fills --date YYYY-MM-DD [--store CODE] [--out FILE]`: the day's fill decisions
as CSV for the PMS (SPEC 5.2, 13), the same file the fill-day page downloads (bot/fills.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from bot import fills
from bot.extensions import db_session
from store.audit import record_audit
from store.staff import get_store


def init_app(app: Flask) -> None:
    app.cli.add_command(export_fills)


@click.command("export-fills")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--store", "store_code", help="The store (default: the default store).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the CSV to this file (default: standard output).",
)
@with_appcontext
def export_fills(day: dt.datetime, store_code: str | None, out: Path | None) -> None:
    """Write the fill decisions of --date (patient, medicine, action, quantity, state, note)."""
    from bot.cli import ensure_default_store

    session = db_session()
    code = ensure_default_store().code if store_code is None else store_code
    store = get_store(session, code)
    if store is None:
        raise click.ClickException(f"unknown store {code!r}")
    listing = fills.fill_day(session, [store.id], day.date())
    record_audit(
        session,
        "export_fills",
        actor="cli",
        store_id=store.id,
        detail={"date": day.date().isoformat(), "rows": len(listing.rows)},
    )
    session.commit()
    text = fills.export_csv(listing)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(listing.rows)} patients written to {out}", err=True)
