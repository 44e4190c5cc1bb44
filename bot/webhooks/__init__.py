"""Twilio webhooks (SPEC 5.3): verify the signature, parse, call a use case, render.

Every route is wrapped in `twilio_request`, which answers 403 and touches nothing when the
X-Twilio-Signature does not match. The URL that was signed is rebuilt from PUBLIC_BASE_URL (or
the request's own origin) plus the path and the *raw* query string: Werkzeug's `request.url`
percent-decodes the query, which would break signatures on encoded characters.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from bot.config import Settings
from bot.extensions import settings
from bot.inputs import optional_number, refuse_unstorable
from bot.outreach import Defaults, Urls
from bot.transports.base import default_sender
from store.validate import MAX_INTEGER

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
# The fields that carry what the patient said: kept whatever they hold (SPEC 11), a NUL
# replaced. Any other field or query value with a NUL is refused (PostgreSQL cannot store it).
PATIENT_WORDS = frozenset({"Body", "SpeechResult", "TranscriptionText"})


def signing_key(config: Settings) -> str:
    """Return the key Twilio signs with: the auth token, or in console mode a derived key.

    The console transport has no Twilio account; the patient phone simulator signs its posts
    with a key derived from SECRET_KEY so that the real, verified routes still serve it.
    """
    if config.twilio_auth_token:
        return config.twilio_auth_token
    return hmac.new(
        config.secret_key.encode(), b"console-twilio-signing", hashlib.sha256
    ).hexdigest()


def public_url() -> str:
    """Rebuild the URL Twilio signed: public origin + path + raw query string."""
    origin = settings().public_base_url or request.host_url.rstrip("/")
    url = origin + request.script_root + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def urls() -> Urls:
    """Return the callback URLs on our public origin."""
    return Urls(settings().public_base_url or request.host_url.rstrip("/"))


def defaults() -> Defaults:
    config = settings()
    return Defaults(store_code=config.pharmacy_store_code, sender=default_sender(config))


def _signature_ok() -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or request.headers.get("X-Twilio-Webhooks-Signature-Settings"):
        # A shared-key signature needs a key we do not hold: fail closed.
        return False
    validator = RequestValidator(signing_key(settings()))
    if request.mimetype == "application/json":
        # Only the bodySHA256 scheme signs a JSON body; without it the validator raises.
        if "bodySHA256" not in request.args:
            return False
        try:
            return bool(validator.validate(public_url(), request.get_data(as_text=True), signature))
        except (TypeError, ValueError):
            return False
    return _form_signature_ok(validator, public_url(), request.form, signature)


def _form_signature_ok(
    validator: RequestValidator, url: str, form: MultiDict[str, str], signature: str
) -> bool:
    """`RequestValidator.validate` for a form post, stopping at the first URL that matches.

    Twilio may have signed the URL with or without its port (":443"), so the validator always
    computes both signatures. The same two are tried here, with Twilio's own code, but the one
    spelled like our URL first: the other is only computed for a request that fails it.
    """
    parsed = urlparse(url)
    variants = (add_port, remove_port) if parsed.port else (remove_port, add_port)
    expected = signature.encode()
    return any(
        hmac.compare_digest(validator.compute_signature(variant(parsed), form).encode(), expected)
        for variant in variants
    )


def twilio_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a request whose Twilio signature is missing or wrong, with 403."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _signature_ok():
            log.warning("rejected a Twilio webhook with a bad signature: %s", request.path)
            return Response("invalid signature", status=403, mimetype="text/plain")
        refuse_unstorable(request.args.items(multi=True))
        refuse_unstorable(request.form.items(multi=True), keep=PATIENT_WORDS)
        return view(*args, **kwargs)

    return wrapper


def twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def field(name: str, *, required: bool = True, max_len: int = 64) -> str:
    """Return a form field as Twilio sent it; 400 when a required one is missing or odd."""
    value = request.form.get(name, "")
    if required and not value:
        raise BadRequest(f"missing {name}")
    if len(value) > max_len:
        raise BadRequest(f"{name} is too long")
    return value


def words(name: str) -> str:
    """Return what the patient said in field `name` (one of PATIENT_WORDS), "" when absent.

    Kept as sent, but for NUL, which PostgreSQL text cannot hold: it becomes U+FFFD.
    """
    assert name in PATIENT_WORDS, name
    return request.form.get(name, "").replace("\x00", "\ufffd")


def int_field(
    name: str, *, required: bool = False, low: int = 0, high: int = MAX_INTEGER
) -> int | None:
    """Return a whole-number form field, None when absent; 400 when it is not a whole number
    from `low` to `high` (by default what an INTEGER column holds)."""
    value = optional_number(request.form, name, low=low, high=high)
    if value is None and required:
        raise BadRequest(f"missing {name}")
    return value


def int_arg(name: str, *, low: int = 1, high: int = MAX_INTEGER) -> int | None:
    """Return a whole number of the query string (our own ids), None when absent; 400 when
    it is not one from `low` to `high`."""
    return optional_number(request.args, name, low=low, high=high)


def init_app_routes() -> Blueprint:
    """Import the route modules (they register on `bp`) and return the blueprint."""
    from bot.webhooks import sms, voice  # noqa: F401

    return bp
