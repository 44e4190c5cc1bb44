"""gunicorn settings read from the working directory by `gunicorn wsgi:app` (SPEC 4).

Two hooks; everything else is gunicorn's default or the command line.

- The settings are checked once in the master before any worker is forked, so a mistyped
  variable stops gunicorn with one line. (wsgi.py still exits with gunicorn's "app failed to
  load" code in a worker, but when every worker fails at once gunicorn 27's own shutdown
  reaps the second one inside its halt and prints a HaltServer traceback.)
- The metrics (bot/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, each worker keeps its
  counters in files there, and a worker that exits is marked dead so its live values stop
  counting (its counters stay: they are history).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

EX_CONFIG = 78


def on_starting(server: Any) -> None:
    from bot.config import ConfigError, load_settings

    try:
        load_settings(Path(__file__).resolve().parent / "instance")
    except ConfigError as error:
        print(f"medsync-bot: configuration error: {error}", file=sys.stderr)
        sys.exit(EX_CONFIG)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
