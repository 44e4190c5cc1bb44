"""The medsync-bot Flask application."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(env: Mapping[str, str] | None = None, **flask_config: Any) -> Flask:
    """Build the app from `env` (default: the process environment).

    Nothing is created at import time: each call gets its own settings, engine and
    transport, so tests can build several apps side by side.
    """
    from bot import health
    from bot.cli import init_app as init_cli
    from bot.config import load_settings
    from bot.extensions import init_app as init_extensions
    from bot.webhooks import init_app_routes as init_webhooks

    app = Flask(__name__, instance_relative_config=True)
    settings = load_settings(app.instance_path, env)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.demo,
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.config.update(flask_config)
    logging.basicConfig(level=settings.log_level)

    init_extensions(app, settings)
    init_cli(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(init_webhooks())
    return app
