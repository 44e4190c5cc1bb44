"""What an error looks like, in one place: JSON under /api/, plain text under /twilio/, and a
page in the workspace's layout (with a way back) everywhere else.

A 500 is logged by Flask with its traceback (the engine keeps bound parameters, phone numbers
and message bodies, out of its errors) and answered with a friendly page that shows none of it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from bot.access import api_error

log = logging.getLogger(__name__)

# What the page says for each status: a title and a sentence, in staff's words.
PAGE_TEXTS: dict[int, tuple[str, str]] = {
    400: ("That request could not be used", "Something in the address or the form was not right."),
    403: ("Not allowed", "Your role does not give access to this page or action."),
    404: ("Not found", "There is nothing here, or it belongs to a store you do not work for."),
    405: ("Not possible here", "This address does not take that kind of request."),
    413: ("Too large", "What was sent is larger than this page accepts."),
    500: ("Something went wrong", "The error has been logged. Please try again in a moment."),
}
CSRF_TEXT = "The form had expired. Go back, reload the page and try again."


def init_app(app: Flask) -> None:
    # At app level: a 404 or 405 is raised by routing, before any blueprint runs. Unhandled
    # exceptions arrive here too, as an InternalServerError, after Flask has logged them.
    app.register_error_handler(HTTPException, handle_http_error)


def handle_http_error(error: HTTPException) -> Any:
    """Answer `error` in the form the caller reads: JSON, plain text or a page."""
    code = error.code or 500
    if request.path.startswith("/api/"):
        return api_error(code, _api_message(error, code))
    if request.path.startswith("/twilio/"):
        # Twilio reads TwiML or nothing; a page would only end up in its debugger.
        return Response(error.name, status=code, mimetype="text/plain")
    title, sentence = PAGE_TEXTS.get(code, (error.name, ""))
    if isinstance(error, CSRFError):
        sentence = CSRF_TEXT
    elif code != 500 and error.description != type(error).description:
        sentence = error.description or sentence  # a reason the view gave on purpose
    return _page(code, title, sentence), code


def _api_message(error: HTTPException, code: int) -> str:
    if code >= 500:
        return "internal server error"  # never the exception's text
    return error.description or error.name


def _page(code: int, title: str, sentence: str) -> str | Response:
    """The error page in the workspace layout; bare HTML if even that cannot be drawn."""
    try:
        if code >= 500:
            _forget_failed_transaction()
        return render_template("error.html", code=code, title=title, sentence=sentence)
    except Exception:  # a broken database also breaks the layout's sign-in check
        log.exception("could not render the %s page", code)
        body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{sentence}</p>"
        return Response(body, mimetype="text/html")


def _forget_failed_transaction() -> None:
    # The request's session may be mid-way through the failed transaction; the layout reads
    # the signed-in user through it.
    from flask import g

    session = g.get("db_session")
    if session is not None:
        session.rollback()
