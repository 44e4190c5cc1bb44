"""Entry point for gunicorn (`gunicorn wsgi:app`) and the CLI (`flask --app wsgi ...`)."""

from __future__ import annotations

import sys

from bot import create_app
from bot.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # A clear one-line message beats a traceback for a mistyped environment variable.
    print(f"medsync-bot: configuration error: {error}", file=sys.stderr)
    sys.exit(78)  # EX_CONFIG
