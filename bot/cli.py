"""Operator commands (SPEC 5.2), each a few lines around a store/ or bot/ function.

The scheduler's commands (`tick`, `run-scheduler`) live in scheduler/cli.py and are
registered by wsgi.py, so that bot/ never imports scheduler/.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from bot import staff_admin
from bot.extensions import db_session, resources, settings
from bot.security import hash_api_token, new_api_token, password_problem
from store import importer, migrate
from store.audit import record_audit
from store.models import Role, Store, User, utcnow
from store.staff import (
    MAX_EMAIL_LENGTH,
    StoreFields,
    add_api_token,
    all_api_tokens_of,
    ensure_store,
    find_tokens,
    get_store,
    get_user,
    normalize_email,
    upsert_store,
)
from store.validate import is_timezone, normalize_phone


def init_app(app: Flask) -> None:
    """Register the operator commands on `app`."""
    app.cli.add_command(db)
    for command in (
        import_patients,
        create_store,
        create_user,
        create_api_token,
        list_api_tokens,
        revoke_api_token,
        demo,
    ):
        app.cli.add_command(command)
    from bot.planning_cli import init_app as init_planning

    init_planning(app)


def ensure_default_store() -> Store:
    """Create the default store of PHARMACY_* settings when it does not exist yet."""
    config = settings()
    return ensure_store(
        db_session(),
        config.pharmacy_store_code,
        StoreFields(
            name=config.pharmacy_name,
            phone=config.pharmacy_phone,
            timezone=config.pharmacy_timezone,
            from_number=config.twilio_from_number,
            messaging_service_sid=config.twilio_messaging_service_sid,
        ),
    )


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def upgrade(revision: str) -> None:
    """Apply migrations, then make sure the default store exists."""
    migrate.upgrade(settings().database_url, revision)
    ensure_default_store()
    db_session().commit()
    click.echo(f"database at {migrate.current_revision(resources().db.engine)}")


@db.command()
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    migrate.downgrade(settings().database_url, revision)
    click.echo(f"database at {migrate.current_revision(resources().db.engine)}")


@click.command("import-patients")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_code", help="Store for rows whose store column is empty.")
@click.option("--dry-run", is_flag=True, help="Validate and report, change nothing.")
@with_appcontext
def import_patients(csv_file: Path, store_code: str | None, dry_run: bool) -> None:
    """Upsert patients, enrollments and medicines from CSV_FILE (SPEC 5.4)."""
    session = db_session()
    default_store = ensure_default_store().code if store_code is None else store_code
    if get_store(session, default_store) is None:
        raise click.ClickException(f"unknown store {default_store!r}")
    session.commit()

    def report_rejected(row: int, reason: str) -> None:
        click.echo(f"row {row}: {reason}", err=True)

    try:
        with csv_file.open("rb") as raw:
            importer.check_utf8(raw)
        with _progress(csv_file) as lines:
            report = importer.import_patients(
                session,
                lines,
                default_store=default_store,
                on_reject=report_rejected,
                commit=not dry_run,
            )
    except importer.ImportFileError as error:
        raise click.ClickException(f"{csv_file}: {error}") from None
    record_audit(
        session,
        "import_patients",
        actor="cli",
        target=csv_file.name,
        detail={"dry_run": dry_run, "rows": report.rows, "rejected": report.rejected_rows},
    )
    session.commit()
    click.echo(("dry run, nothing saved\n" if dry_run else "") + report.summary())


@contextmanager
def _progress(path: Path) -> Iterator[Iterable[str]]:
    """Open the CSV as text; on a big file at a terminal, show a progress bar while reading."""
    size = path.stat().st_size
    with path.open(encoding="utf-8", newline="") as file:
        if size < 1 << 20 or not sys.stderr.isatty():
            yield file
            return
        with click.progressbar(length=size, label="importing", file=sys.stderr) as bar:

            def lines() -> Iterator[str]:
                for line in file:
                    bar.update(len(line.encode()))
                    yield line

            yield lines()


@click.command("create-store")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="Callback number patients can call.")
@click.option("--timezone", required=True, help="IANA name, e.g. America/Chicago.")
@click.option("--from-number", help="Twilio number (E.164) this store sends from.")
@click.option("--messaging-service-sid", help="Twilio Messaging Service (MG...) to send with.")
@click.option(
    "--lead-days",
    type=click.IntRange(3, 7),
    help="Days before the anchor date the check-in starts (3 to 7; default 7).",
)
@click.option(
    "--send-window",
    metavar="HH:MM-HH:MM",
    help="Local hours outreach may be sent, within 08:00-20:00 (default 09:00-19:00).",
)
@click.option(
    "--reminder-delay-hours",
    type=click.IntRange(1, 72),
    help="Hours without a reply before the reminder (1 to 72; default 24).",
)
@click.option(
    "--unreachable-days",
    type=click.IntRange(0, 6),
    help="Days before the anchor date an unanswered check-in goes to staff (default 3).",
)
@with_appcontext
def create_store(
    code: str,
    name: str,
    phone: str,
    timezone: str,
    from_number: str | None,
    messaging_service_sid: str | None,
    lead_days: int | None,
    send_window: str | None,
    reminder_delay_hours: int | None,
    unreachable_days: int | None,
) -> None:
    """Create or update a store (options not given keep their current or default value)."""
    window = _send_window_option(send_window) if send_window else None
    values = StoreFields(
        name=name.strip(),
        phone=_phone_option("--phone", phone),
        timezone=timezone,
        from_number=_phone_option("--from-number", from_number) if from_number else None,
        messaging_service_sid=messaging_service_sid,
    )
    if not is_timezone(timezone):
        raise click.BadParameter(f"unknown timezone {timezone!r}", param_hint="--timezone")
    if messaging_service_sid and not messaging_service_sid.startswith("MG"):
        raise click.BadParameter("must start with MG", param_hint="--messaging-service-sid")
    if not name.strip() or not code.strip() or len(code) > 32:
        raise click.UsageError("CODE (up to 32 characters) and --name must not be empty")
    session = db_session()
    store, created = upsert_store(session, code.strip(), values)
    if window is not None:
        store.window_start_minute, store.window_end_minute = window
    store.lead_days = lead_days or store.lead_days or 7
    store.reminder_delay_hours = reminder_delay_hours or store.reminder_delay_hours or 24
    if unreachable_days is not None:
        store.unreachable_days = unreachable_days
    elif store.unreachable_days is None:
        store.unreachable_days = 3
    if store.unreachable_days > store.lead_days:
        raise click.BadParameter(
            f"must not exceed the lead days ({store.lead_days}): the check-in would go to"
            " staff before it starts",
            param_hint="--unreachable-days",
        )
    record_audit(session, "create_store", actor="cli", store_id=store.id, target=store.code)
    session.commit()
    click.echo(f"store {store.code} {'created' if created else 'updated'}")


def _send_window_option(value: str) -> tuple[int, int]:
    """Parse HH:MM-HH:MM into minutes after midnight, within SPEC 7's 08:00 to 20:00."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if match is None:
        raise click.BadParameter(
            f"expected HH:MM-HH:MM, e.g. 09:00-19:00, not {value!r}", param_hint="--send-window"
        )
    sh, sm, eh, em = (int(part) for part in match.groups())
    if sm > 59 or em > 59:
        raise click.BadParameter(f"not a time of day: {value!r}", param_hint="--send-window")
    start, end = sh * 60 + sm, eh * 60 + em
    if not 8 * 60 <= start < end <= 20 * 60:
        raise click.BadParameter(
            f"must start before it ends and lie within 08:00-20:00, not {value!r}",
            param_hint="--send-window",
        )
    return start, end


def _phone_option(option: str, value: str) -> str:
    e164 = normalize_phone(value)
    if e164 is None:
        raise click.BadParameter(f"not a valid phone number: {value!r}", param_hint=option)
    return e164


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--store", "store_codes", multiple=True, required=True, help="Repeat for several.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(email: str, role: str, store_codes: tuple[str, ...], password_stdin: bool) -> None:
    """Create or update a staff login (a new password ends its sessions and clears its lock)."""
    address = normalize_email(email)
    if address is None:
        raise click.BadParameter(
            f"must be an email address of at most {MAX_EMAIL_LENGTH} characters", param_hint="EMAIL"
        )
    session = db_session()
    stores = []
    for code in store_codes:
        store = get_store(session, code) if len(code) <= 32 else None
        if store is None:
            raise click.BadParameter(f"unknown store {code[:40]!r}", param_hint="--store")
        stores.append(store)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    user, created = staff_admin.save_user(
        session, staff_admin.OPERATOR, address, Role(role), stores, password
    )
    session.commit()
    click.echo(f"user {user.email} {'created' if created else 'updated'} ({role})")
    if not user.active:
        click.echo("  it is deactivated: an admin reactivates it on the Staff page", err=True)


def _user_option(email: str) -> User:
    user = get_user(db_session(), email)
    if user is None:
        raise click.BadParameter(f"no user {email[:MAX_EMAIL_LENGTH]!r}", param_hint="EMAIL")
    return user


@click.command("create-api-token")
@click.argument("email")
@with_appcontext
def create_api_token(email: str) -> None:
    """Print a new API token for EMAIL; it is shown once and stored hashed."""
    session = db_session()
    user = _user_option(email)
    if not user.active:
        raise click.BadParameter(f"{user.email} is deactivated", param_hint="EMAIL")
    token = new_api_token()
    add_api_token(session, user, hash_api_token(token), token[:12])
    record_audit(session, "create_api_token", actor="cli", user_id=user.id, target=user.email)
    session.commit()
    click.echo(token)


@click.command("list-api-tokens")
@click.argument("email")
@with_appcontext
def list_api_tokens(email: str) -> None:
    """List EMAIL's API tokens: id, prefix, created, last used, revoked (never the token)."""
    tokens = all_api_tokens_of(db_session(), _user_option(email))
    if not tokens:
        click.echo("no API tokens")
    for token in tokens:
        revoked = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "valid"
        click.echo(
            f"{token.id}\t{token.prefix}\tcreated {_when(token.created_at)}"
            f"\tlast used {_when(token.last_used_at)}\t{revoked}"
        )


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


@click.command("revoke-api-token")
@click.argument("id_or_prefix")
@with_appcontext
def revoke_api_token(id_or_prefix: str) -> None:
    """Revoke the API token with this id or prefix (as `list-api-tokens` prints them)."""
    session = db_session()
    found = find_tokens(session, id_or_prefix)
    if not found:
        raise click.BadParameter("no valid token with that id or prefix", param_hint="ID_OR_PREFIX")
    if len(found) > 1:
        ids = ", ".join(str(token.id) for token in found)
        raise click.BadParameter(f"several tokens have that prefix; use an id: {ids}")
    staff_admin.revoke_token(session, staff_admin.OPERATOR, found[0], utcnow())
    session.commit()
    click.echo(f"token {found[0].id} ({found[0].prefix}) of {found[0].user.email} revoked")


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo patients into the default store and print a pharmacist login."""
    from bot.demo import DEMO_EMAIL, load_demo
    from bot.devphone import is_served

    session = db_session()
    store = ensure_default_store()
    session.commit()
    base = settings().public_base_url or "http://127.0.0.1:5000"
    password = load_demo(session, store, utcnow(), base)
    click.echo(f"demo loaded in store {store.code} ({store.name})")
    click.echo(f"  workspace:      {base}/login  as {DEMO_EMAIL} / {password}")
    if is_served(settings()):
        click.echo(f"  patient phone:  {base}/dev/phone")
    elif settings().transport == "console":
        click.echo("  patient phone:  only in demo mode (MEDSYNC_DEMO=1, as scripts/run.sh sets)")
