from __future__ import annotations

from flask import Flask


def test_it_reports_the_database_reachable(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_it_answers_503_when_the_database_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from tests.conftest import TEST_ENV

    # A folder where the database file should be: valid settings, no database behind them.
    # (A file in a missing folder is refused at start now, by bot.config.)
    unopenable = tmp_path / "db.sqlite3"
    unopenable.mkdir()
    app = create_app({**TEST_ENV, "DATABASE_URL": f"sqlite:///{unopenable}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
