"""create-store, create-user, create-api-token (SPEC 5.2)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from bot.extensions import db_session
from bot.security import hash_api_token, verify_password
from store.models import ApiToken, AuditEvent, Role, Store, User, utcnow
from store.staff import find_api_token

NORTH = [
    "create-store",
    "north",
    "--name",
    "North Pharmacy",
    "--phone",
    "(212) 555-0100",
    "--timezone",
    "America/Chicago",
]


def test_create_store_creates_then_updates(app: Flask, runner: FlaskCliRunner) -> None:
    assert "store north created" in runner.invoke(args=NORTH).output
    result = runner.invoke(
        args=[*NORTH[:3], "North Rx", *NORTH[4:], "--from-number", "+12025550143"]
    )
    assert "store north updated" in result.output
    with app.app_context():
        store = db_session().scalars(select(Store).where(Store.code == "north")).one()
        assert (store.name, store.phone, store.from_number) == (
            "North Rx",
            "+12125550100",
            "+12025550143",
        )
        assert (store.window_start.hour, store.window_end.hour, store.lead_days) == (9, 19, 7)


def test_create_store_rejects_bad_values_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    bad_tz = runner.invoke(args=[*NORTH[:-1], "Mars/Base"])
    assert bad_tz.exit_code != 0 and "unknown timezone" in bad_tz.output
    bad_phone = runner.invoke(args=[*NORTH[:4], "--phone", "12", *NORTH[6:]])
    assert bad_phone.exit_code != 0 and "not a valid phone number" in bad_phone.output
    with app.app_context():
        assert db_session().scalars(select(Store)).all() == []


def test_create_user_hashes_the_password(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=NORTH)
    result = runner.invoke(
        args=[
            "create-user",
            "Alice@Example.org",
            "--role",
            "pharmacist",
            "--store",
            "north",
            "--password-stdin",
        ],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db_session().scalars(select(User)).one()
        assert user.email == "alice@example.org"
        assert user.role == Role.PHARMACIST
        assert [s.code for s in user.stores] == ["north"]
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        assert verify_password(user.password_hash, "correct horse battery")
        assert not verify_password(user.password_hash, "wrong")
        actions = db_session().scalars(select(AuditEvent.action)).all()
        assert "create_user" in actions


def test_create_user_refuses_unknown_store_and_short_password(
    app: Flask, runner: FlaskCliRunner
) -> None:
    unknown = runner.invoke(
        args=["create-user", "a@b.org", "--role", "admin", "--store", "nope", "--password-stdin"],
        input="long enough password\n",
    )
    assert unknown.exit_code != 0 and "unknown store 'nope'" in unknown.output
    runner.invoke(args=NORTH)
    short = runner.invoke(
        args=["create-user", "a@b.org", "--role", "admin", "--store", "north", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    with app.app_context():
        assert db_session().scalars(select(User)).all() == []


def test_create_api_token_prints_it_once_and_stores_a_digest(
    app: Flask, runner: FlaskCliRunner
) -> None:
    runner.invoke(args=NORTH)
    runner.invoke(
        args=[
            "create-user",
            "t@b.org",
            "--role",
            "technician",
            "--store",
            "north",
            "--password-stdin",
        ],
        input="long enough password\n",
    )
    result = runner.invoke(args=["create-api-token", "t@b.org"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("msb_") and len(token) > 40
    with app.app_context():
        session = db_session()
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hash_api_token(token) and token not in stored.token_hash
        user = find_api_token(session, hash_api_token(token), utcnow())
        assert user is not None and user.email == "t@b.org"
        assert find_api_token(session, hash_api_token(token + "x"), utcnow()) is None
    assert runner.invoke(args=["create-api-token", "nobody@b.org"]).exit_code != 0


def test_db_upgrade_creates_the_default_store(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        store = db_session().scalars(select(Store)).one()
        assert (store.code, store.name, store.timezone) == (
            "main",
            "Main Street Pharmacy",
            "America/New_York",
        )
