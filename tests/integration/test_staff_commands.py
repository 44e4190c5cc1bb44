"""create-user's checks, list-api-tokens and revoke-api-token (SPEC 5.2, 10)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEvent, Role, User
from tests.factories import make_store
from tests.staff_helpers import audit_events, user
from tests.workspace_helpers import make_user


@pytest.fixture
def north(app: Flask, session: Session) -> None:
    make_store(session, "north")
    session.commit()


def create_user(runner: FlaskCliRunner, email: str, password: str = "long enough password"):  # type: ignore[no-untyped-def]
    return runner.invoke(
        args=["create-user", email, "--role", "pharmacist", "--store", "north", "--password-stdin"],
        input=password + "\n",
    )


@pytest.mark.parametrize("length", [97, 254])
def test_a_long_email_is_a_login(
    runner: FlaskCliRunner, session: Session, north: None, length: int
) -> None:
    email = "a" * (length - len("@example.org")) + "@example.org"
    result = create_user(runner, email)
    assert result.exit_code == 0, result.output
    assert user(session, email).email == email
    [event] = audit_events(session, "create_user")
    assert event.target == email and event.detail["stores"] == ["north"]


@pytest.mark.parametrize(
    "email",
    [
        "a" * 243 + "@example.org",  # 255 characters
        "no-at-sign.example.org",
        "two@@example.org",
        "nodot@example",
        "space in@example.org",
        "tab\t@example.org",
    ],
)
def test_a_bad_email_gets_one_line_and_no_login(
    runner: FlaskCliRunner, session: Session, north: None, email: str
) -> None:
    result = create_user(runner, email)
    assert result.exit_code == 2
    assert "must be an email address of at most 254 characters" in result.output
    assert "Traceback" not in result.output
    assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10 characters"),
        ("p" * 201, "at most 200 characters"),
        ("          ", "must not be only spaces"),
        ("ten chars\x01!", "control characters"),
    ],
)
def test_a_bad_password_gets_one_line_and_no_login(
    runner: FlaskCliRunner, session: Session, north: None, password: str, message: str
) -> None:
    result = create_user(runner, "p@example.org", password)
    assert result.exit_code == 2 and message in result.output
    assert session.scalars(select(User)).all() == []


def test_an_unknown_or_overlong_store_code_is_refused(runner: FlaskCliRunner, north: None) -> None:
    for code in ("nope", "x" * 300):
        result = runner.invoke(
            args=["create-user", "a@b.org", "--role", "admin", "--store", code, "--password-stdin"],
            input="long enough password\n",
        )
        assert result.exit_code == 2 and "unknown store" in result.output


def test_create_user_keeps_a_deactivated_login_deactivated(
    runner: FlaskCliRunner, session: Session, north: None
) -> None:
    create_user(runner, "gone@example.org")
    user(session, "gone@example.org").active = False
    session.commit()
    result = create_user(runner, "gone@example.org", "another long password")
    assert result.exit_code == 0
    assert "deactivated" in result.output
    assert user(session, "gone@example.org").active is False
    [update] = audit_events(session, "update_user")
    assert update.detail["active"] is False and update.detail["password_changed"] is True


def test_create_user_ends_the_sessions_of_the_old_password(
    runner: FlaskCliRunner, session: Session, north: None
) -> None:
    create_user(runner, "p@example.org")
    version = user(session, "p@example.org").session_version
    create_user(runner, "p@example.org", "another long password")
    assert user(session, "p@example.org").session_version == version + 1


# --- API tokens -------------------------------------------------------------------------------


def test_list_api_tokens_shows_prefixes_never_tokens(
    runner: FlaskCliRunner, session: Session, north: None
) -> None:
    create_user(runner, "p@example.org")
    first = runner.invoke(args=["create-api-token", "p@example.org"]).output.strip()
    second = runner.invoke(args=["create-api-token", "P@Example.org"]).output.strip()
    listing = runner.invoke(args=["list-api-tokens", "p@example.org"])
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[1] == first[:12] and lines[1].split("\t")[1] == second[:12]
    assert all("valid" in line and "last used never" in line for line in lines)
    assert first not in listing.output and second not in listing.output
    empty = runner.invoke(args=["list-api-tokens", "nobody@example.org"])
    assert empty.exit_code == 2 and "no user" in empty.output


def test_revoke_api_token_by_prefix_or_id(
    app: Flask, runner: FlaskCliRunner, session: Session, north: None
) -> None:
    create_user(runner, "p@example.org")
    first = runner.invoke(args=["create-api-token", "p@example.org"]).output.strip()
    second = runner.invoke(args=["create-api-token", "p@example.org"]).output.strip()
    client = app.test_client()

    def status(token: str) -> int:
        return client.get("/api/queue", headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(first) == status(second) == 200
    by_prefix = runner.invoke(args=["revoke-api-token", first[:12]])
    assert by_prefix.exit_code == 0, by_prefix.output
    assert status(first) == 401 and status(second) == 200
    second_id = runner.invoke(args=["list-api-tokens", "p@example.org"]).output.splitlines()[1]
    assert runner.invoke(args=["revoke-api-token", second_id.split("\t")[0]]).exit_code == 0
    assert status(second) == 401
    assert "revoked" in runner.invoke(args=["list-api-tokens", "p@example.org"]).output
    again = runner.invoke(args=["revoke-api-token", first[:12]])
    assert again.exit_code == 2 and "no valid token" in again.output
    events = audit_events(session, "revoke_api_token")
    assert [(e.actor, e.target) for e in events] == [("cli", "p@example.org")] * 2


def test_revoke_api_token_refuses_an_ambiguous_prefix(
    runner: FlaskCliRunner, session: Session, north: None
) -> None:
    store = make_store(session, "south")
    make_user(session, "pharm@a.org", Role.PHARMACIST, store)  # token msb_test_pharm@a.org
    make_user(session, "pharm@b.org", Role.PHARMACIST, store)  # the same 12-character prefix
    session.commit()
    result = runner.invoke(args=["revoke-api-token", "msb_test_pha"])
    assert result.exit_code == 2 and "several tokens" in result.output
    assert session.scalars(select(AuditEvent.action)).all() == []


def test_no_token_for_a_deactivated_login(
    runner: FlaskCliRunner, session: Session, north: None
) -> None:
    create_user(runner, "gone@example.org")
    user(session, "gone@example.org").active = False
    session.commit()
    result = runner.invoke(args=["create-api-token", "gone@example.org"])
    assert result.exit_code == 2 and "deactivated" in result.output
