"""gunicorn settings read from the working directory by `gunicorn wsgi:app` (SPEC 4).

Only what the metrics need (bot/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, each worker
keeps its counters in files there, and a worker that exits is marked dead so its live values
stop counting (its counters stay: they are history). Everything else is gunicorn's default or
the command line.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
