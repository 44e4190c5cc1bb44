"""Entry point for gunicorn (`gunicorn wsgi:app`) and the CLI (`flask --app wsgi ...`)."""

from __future__ import annotations

import gc
import sys

from bot import create_app
from bot.config import ConfigError
from scheduler.cli import init_app as init_scheduler_commands

EX_CONFIG = 78
GUNICORN_APP_LOAD_ERROR = 4

try:
    app = create_app()
except ConfigError as error:
    # A clear one-line message beats a traceback for a mistyped environment variable.
    print(f"medsync-bot: configuration error: {error}", file=sys.stderr)
    # gunicorn boots a new worker after any other exit code, forever; 4 makes it stop.
    sys.exit(GUNICORN_APP_LOAD_ERROR if "gunicorn" in sys.modules else EX_CONFIG)
init_scheduler_commands(app)  # `tick` and `run-scheduler` (bot/ never imports scheduler/)

# The app's startup objects (modules, templates, SQLAlchemy's metadata: most of the heap) live
# as long as the process. Frozen, they are left out of every full collection, which a big page
# triggers while its rows are alive: each one walked them all again (about 100 ms a 2,000-row
# fill day, docs/benchmarks.md). gunicorn's workers import this module, so each freezes its own.
gc.freeze()
