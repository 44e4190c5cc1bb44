from __future__ import annotations

from flask import Flask


def test_it_reports_the_database_reachable(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_it_answers_503_when_the_database_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot import create_app
    from tests.conftest import TEST_ENV

    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    app = create_app({**TEST_ENV, "DATABASE_URL": f"sqlite:///{missing}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
