"""Error answers (bot/errors.py): pages in the workspace layout with a way back, JSON under
/api/, plain text under /twilio/, and a 500 that is logged but shows no traceback."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest

from bot.extensions import db_session
from store.models import Role
from tests.factories import make_store
from tests.workspace_helpers import StaffClient, make_user

SECRET = "the exception's own words, never shown"


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with routes that fail, answered as in production (no exception propagation)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom() -> str:
        raise RuntimeError(SECRET)

    def broken_sql() -> str:
        db_session().execute(text("SELECT no_such_column FROM stores"))
        return "unreachable"

    def bad_request() -> str:
        raise BadRequest()

    for path in ("/test/boom", "/api/test/boom", "/twilio/test/boom"):
        app.add_url_rule(path, f"boom{path}", boom)
    app.add_url_rule("/test/broken-sql", "broken_sql", broken_sql)
    app.add_url_rule("/test/bad-request", "bad_request", bad_request)
    return app


@pytest.fixture
def pharmacist(failing_app: Flask, session: Session) -> StaffClient:
    store = make_store(session, "a")
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    return StaffClient.signed_in(failing_app, "ph@a.org")


def page_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.mimetype == "text/html"
    page: str = response.get_data(as_text=True)
    assert 'href="/static/style.css"' in page  # the workspace layout
    return page


@pytest.mark.parametrize(
    ("method", "path", "code", "title"),
    [
        ("GET", "/test/bad-request", 400, "That request could not be used"),
        ("GET", "/admin/stores", 403, "Not allowed"),
        ("GET", "/no/such/page", 404, "Not found"),
        ("GET", "/logout", 405, "Not possible here"),
        ("POST", "/login", 413, "Too large"),
        ("GET", "/test/boom", 500, "Something went wrong"),
    ],
)
def test_each_error_is_a_page_in_the_layout_with_a_way_back_to_the_queue(
    pharmacist: StaffClient, method: str, path: str, code: int, title: str
) -> None:
    data = {"filler": "x" * (300 * 1024)} if code == 413 else None
    response = pharmacist.client.open(path, method=method, data=data)
    assert response.status_code == code
    page = page_of(response)
    assert f'<h1 id="error-title">{title}</h1>' in page
    assert 'href="/queue">Back to the queue</a>' in page
    assert "Traceback" not in page and SECRET not in page


def test_signed_out_the_way_back_is_the_sign_in_page(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert 'href="/login">Sign in</a>' in page_of(response)


def test_an_expired_form_says_so(failing_app: Flask) -> None:
    response = failing_app.test_client().post("/login", data={"email": "a@b.org"})
    assert response.status_code == 400
    assert "The form had expired" in page_of(response)


def test_a_500_is_logged_and_shows_a_friendly_page(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = failing_app.test_client().get("/test/boom")
    assert response.status_code == 500
    page = page_of(response)
    assert "The error has been logged" in page and SECRET not in page
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert logged and SECRET in str(logged[0].exc_info[1])  # type: ignore[index]


def test_a_database_error_still_draws_the_page_for_a_signed_in_user(
    pharmacist: StaffClient,
) -> None:
    # The failed transaction is rolled back before the layout reads the user through it.
    response = pharmacist.get("/test/broken-sql")
    assert response.status_code == 500
    page = page_of(response)
    assert "Back to the queue" in page and "no_such_column" not in page


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/api/no/such/route", 404),
        ("GET", "/api/queue/1/claim", 405),
        ("GET", "/api/test/boom", 500),
    ],
)
def test_errors_under_api_are_json(failing_app: Flask, method: str, path: str, code: int) -> None:
    response = failing_app.test_client().open(path, method=method)
    assert response.status_code == code
    assert response.mimetype == "application/json"
    assert set(response.json) == {"error"}  # type: ignore[arg-type]
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "code"), [("/twilio/sms", 405), ("/twilio/test/boom", 500)])
def test_errors_under_twilio_stay_plain_text(failing_app: Flask, path: str, code: int) -> None:
    response = failing_app.test_client().get(path)
    assert response.status_code == code
    assert response.mimetype == "text/plain"
    assert "<" not in response.get_data(as_text=True)
