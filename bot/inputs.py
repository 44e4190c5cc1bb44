"""Where values from outside enter: ids in URLs, numbers and dates in queries and forms, text
the database cannot store, and how large a request body may be.

The bounds are checked here, as the request arrives, so that a bad value is a clear 400 (or a
404 for an id no row can have) and never reaches a query that would overflow: an id at or
above 2**31 is an error in PostgreSQL's INTEGER columns, a page number times the page size an
error in SQLite's 64-bit integers, a NUL an error in any PostgreSQL text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from store.validate import MAX_INTEGER, whole_number

# A page number times the page size (at most 500) stays an INTEGER.
MAX_PAGE = 1_000_000
# Dates a pharmacy deals with, far enough from date.max that adding a cycle never overflows.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(9000, 12, 31)
# NUL, which PostgreSQL text cannot hold, and lone surrogates, which no UTF-8 can encode.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_BODY_LIMIT = "medsync_body_limit"

View = TypeVar("View", bound=Callable[..., Any])


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in our URLs: a row id, 1 to MAX_INTEGER, in ASCII digits.

    Anything else matches no route (404), as a missing row would, instead of reaching a query
    that PostgreSQL refuses ("integer out of range").
    """

    regex = r"[0-9]+"  # Werkzeug's \\d+ also matches "١٢", which int() reads as 12

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the id converter and the request checks; call before any route or CSRFProtect."""
    # Every integer in our URLs is a row id. A rule takes its converter when it is added, so
    # this comes before the blueprints.
    app.url_map.converters["int"] = DatabaseIdConverter
    # Before CSRFProtect's check, which reads the body: by then the body's limit must be set.
    app.before_request(_apply_body_limit)
    app.before_request(_refuse_unstorable_text)


# --- Numbers and dates --------------------------------------------------------------------------


def parse_number(raw: str, name: str, *, low: int, high: int) -> int:
    """Return `raw` as a whole number in [low, high]; 400 naming `name` and the range if not."""
    try:
        return whole_number(raw, low, high)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}.") from None


def optional_number(values: MultiDict[str, str], name: str, *, low: int, high: int) -> int | None:
    """Return the number `values[name]` (a query or a form), None when absent or empty."""
    raw = values.get(name, "")
    return parse_number(raw, name, low=low, high=high) if raw else None


def number_arg(name: str, *, default: int, low: int, high: int) -> int:
    """Return the query's number `name`, `default` when absent; 400 when out of range."""
    found = optional_number(request.args, name, low=low, high=high)
    return default if found is None else found


def date_arg(name: str, *, default: dt.date) -> dt.date:
    """Return the query's date `name` (YYYY-MM-DD), `default` when absent; 400 when odd."""
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not FIRST_DATE <= day <= LAST_DATE:
        raise BadRequest(f"{name} must be a date, YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}.")
    return day


# --- Text the database cannot store -------------------------------------------------------------


def refuse_unstorable(values: Iterable[tuple[str, Any]], *, keep: Collection[str] = ()) -> None:
    """Answer 400 when a value (other than those named in `keep`) holds a NUL or a lone
    surrogate; `values` are (name, value) pairs, values that are not text are skipped."""
    for name, value in values:
        if name not in keep and isinstance(value, str) and _UNSTORABLE.search(value):
            raise BadRequest(f"{name or 'A value'} contains a character that cannot be stored.")


def _refuse_unstorable_text() -> None:
    """Refuse NUL in every query, path, form and JSON value of the pages and the API.

    The Twilio webhooks check after the signature (bot.webhooks.twilio_request), keeping the
    patient's own words with NUL replaced (SPEC 11: bad input never loses them).
    """
    if request.blueprint == "twilio":
        return
    refuse_unstorable(request.args.items(multi=True))
    refuse_unstorable((request.view_args or {}).items())
    refuse_unstorable(request.form.items(multi=True))
    if request.is_json:
        refuse_unstorable(_json_strings(_json_body()))


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's parser goes: not a ValueError
        raise BadRequest("The JSON body is nested too deeply.") from None


def _json_strings(document: Any) -> Iterable[tuple[str, str]]:
    """Every key and string in a JSON document, as (key, text) pairs, without recursion."""
    pending = [("", document)]
    while pending:
        key, value = pending.pop()
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                yield "A key", inner_key
                pending.append((inner_key, inner))
        elif isinstance(value, list):
            pending.extend((key, inner) for inner in value)
        elif isinstance(value, str):
            yield key, value


# --- Request bodies -----------------------------------------------------------------------------


def body_limit(max_bytes: int, too_large: str) -> Callable[[View], View]:
    """Let signed-in staff send this view a body of up to `max_bytes` (an upload); every other
    view keeps the app's MAX_CONTENT_LENGTH. `too_large` says what to do instead.

    Applied where the route is declared, below `@bp.route`, so the routed view carries it.
    """

    def mark(view: View) -> View:
        setattr(view, _BODY_LIMIT, (max_bytes, too_large))
        return view

    return mark


def _apply_body_limit() -> None:
    """Raise the body limit for a view marked with `body_limit`, before anything reads it.

    Flask-WTF's CSRF check parses the form in its own before_request: a limit raised later (in
    a blueprint's before_request or the view) comes after the body was refused at 256 kB.
    Only a signed-in user gets the larger limit; anyone else is refused at the usual size.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    limit: tuple[int, str] | None = getattr(view, _BODY_LIMIT, None)
    if limit is None or not current_user.is_authenticated:
        return
    max_bytes, too_large = limit
    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestEntityTooLarge(too_large)
    request.max_content_length = max_bytes
