"""A bad setting stops `flask` commands and gunicorn with one line naming it (SPEC 5.1).

Run as subprocesses with a clean environment, the way an operator meets them: the message
must come out of wsgi.py, not out of SQLAlchemy's first connection as a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

BAD_URLS = [
    "postgres://rx@127.0.0.1/rx",
    "nonsense",
    "sqlite:////no/such/folder/rx.sqlite3",
]


def clean_env(**values: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), **values}


@pytest.mark.parametrize("url", BAD_URLS)
def test_db_upgrade_with_a_bad_database_url_prints_one_line(url: str) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=clean_env(MEDSYNC_DEMO="1", DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("medsync-bot: configuration error: DATABASE_URL")
    assert "Traceback" not in result.stdout + result.stderr


def test_gunicorn_stops_on_a_bad_setting_instead_of_rebooting_workers() -> None:
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "--workers", "2", "wsgi:app"],
        cwd=ROOT,
        env=clean_env(MEDSYNC_DEMO="1", DATABASE_URL="nonsense"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "medsync-bot: configuration error: DATABASE_URL is not a database URL" in (result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
