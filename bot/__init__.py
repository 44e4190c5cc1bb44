"""The medsync-bot Flask application."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response


def create_app(env: Mapping[str, str] | None = None, **flask_config: Any) -> Flask:
    """Build the app from `env` (default: the process environment).

    Nothing is created at import time: each call gets its own settings, engine and
    transport, so tests can build several apps side by side.
    """
    from flask_wtf.csrf import CSRFProtect

    from bot import access, api, devphone, errors, health, inputs, metrics, reports, workspace
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
        REMEMBER_COOKIE_SECURE=not settings.demo,
        PERMANENT_SESSION_LIFETIME=8 * 3600,  # one shift at the counter
        MAX_CONTENT_LENGTH=256 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    app.config.update(flask_config)
    logging.basicConfig(level=settings.log_level)

    init_extensions(app, settings)
    metrics.init_app(app)  # first, so its webhook timer starts before any other hook
    init_cli(app)
    access.init_app(app)
    # Before CSRFProtect (which reads the body) and before any route (which takes <int:>).
    inputs.init_app(app)
    csrf = CSRFProtect(app)
    app.register_blueprint(health.bp)
    # Twilio signs its requests and API clients send a bearer token: neither has a CSRF token.
    app.register_blueprint(csrf.exempt(init_webhooks()))
    api.init_app(app)
    csrf.exempt(api.bp)
    errors.init_app(app)
    workspace.init_app(app)
    reports.init_app(app)  # the program report: page, CSV and GET /api/reports/program
    # Signs what the browser asks, so it exists only in demo mode with the console transport.
    devphone.init_app(app)
    csrf.exempt(devphone.bp)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    """Keep pages with patient data out of frames, caches and other origins' reach."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; media-src 'self' https:; frame-ancestors 'none'; form-action 'self';"
        " base-uri 'none'",
    )
    # Pages and JSON alike carry patient data or tokens' answers: no copy in any cache.
    if response.mimetype == "text/html" or response.is_json:
        response.headers.setdefault("Cache-Control", "no-store")
    return response
