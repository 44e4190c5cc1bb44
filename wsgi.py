"""Entry point for gunicorn (`gunicorn wsgi:app`) and the CLI (`flask --app wsgi ...`)."""

from __future__ import annotations

import sys

from bot import create_app
from bot.config import ConfigError
from scheduler.cli import init_app as init_scheduler_commands

try:
    app = create_app()
except ConfigError as error:
    # A clear one-line message beats a traceback for a mistyped environment variable.
    print(f"medsync-bot: configuration error: {error}", file=sys.stderr)
    sys.exit(78)  # EX_CONFIG
init_scheduler_commands(app)  # `tick` and `run-scheduler` (bot/ never imports scheduler/)
