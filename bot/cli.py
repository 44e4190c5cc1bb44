"""Operator commands (SPEC 5.2), each a few lines around a store/ or bot/ function.

The scheduler's commands (`tick`, `run-scheduler`) live in scheduler/cli.py and are
registered by wsgi.py, so that bot/ never imports scheduler/.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from bot import staff_admin
from bot.extensions import db_session, resources, settings
from bot.security import hash_api_token, new_api_token, password_problem
from store import importer, store_settings
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
)


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
    from bot import fills_cli
    from bot.fhir.commands import init_app as init_fhir
    from bot.planning_cli import init_app as init_planning

    init_planning(app)
    init_fhir(app)
    fills_cli.init_app(app)


def import_store(store_code: str | None) -> str:
    """The store of an import's rows that name none: `--store`, else the default store of the
    PHARMACY_* settings (created when missing, and committed); an unknown code stops it."""
    session = db_session()
    code = ensure_default_store().code if store_code is None else store_code
    if get_store(session, code) is None:
        raise click.ClickException(f"unknown store {code!r}")
    session.commit()
    return code


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
    from store import migrate  # Alembic takes 0.07 s to import: only for these commands

    migrate.upgrade(settings().database_url, revision)
    ensure_default_store()
    db_session().commit()
    click.echo(f"database at {migrate.current_revision(resources().db.engine)}")


@db.command()
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from store import migrate

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
    default_store = import_store(store_code)

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
                now=utcnow(),
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


def _store_setting_option(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`--name-with-dashes` for a store setting, explained by the validator's own rule."""
    field = next(f for f in store_settings.FIELDS if f.name == name)
    metavar = "N" if field.numeric else field.metavar
    return click.option(f"--{name.replace('_', '-')}", name, metavar=metavar, help=field.rule)


@click.command("create-store")
@click.argument("code")
@_store_setting_option("name")
@_store_setting_option("phone")
@_store_setting_option("timezone")
@_store_setting_option("from_number")
@_store_setting_option("messaging_service_sid")
@_store_setting_option("lead_days")
@_store_setting_option("send_window")
@_store_setting_option("reminder_delay_hours")
@_store_setting_option("unreachable_days")
@_store_setting_option("checkin_form")
@_store_setting_option("hours")
@_store_setting_option("pickup_days")
@_store_setting_option("daily_fill_limit")
@_store_setting_option("enrollment_target")
@_store_setting_option("review_imports")
@with_appcontext
def create_store(code: str, **typed: str | None) -> None:
    """Create or update a store (options not given keep their current or default value).

    --name, --phone and --timezone are required for a new store. The rules are those of the
    admin's Stores page (store/store_settings.py); every wrong option is reported at once.
    """
    code = code.strip()
    if not code or len(code) > 32:
        raise click.UsageError("CODE must be 1 to 32 characters")
    session = db_session()
    store = get_store(session, code)
    current = store_settings.settings_of(store) if store is not None else None
    region = store.region if store is not None else "US"
    try:
        values = store_settings.check_store_settings(typed, current, region=region)
    except store_settings.StoreSettingsError as error:
        lines = [f"--{name.replace('_', '-')}: {message}" for name, message in error.errors.items()]
        raise click.UsageError("\n".join(lines)) from None
    store, created = store_settings.save_store(session, code, values)
    record_audit(session, "create_store", actor="cli", store_id=store.id, target=store.code)
    session.commit()
    click.echo(f"store {store.code} {'created' if created else 'updated'}")


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
