"""Send SMS and place calls through Twilio's REST API, turning every failure into an Outcome.

Failure policy (SPEC 9; reasons from twilio.md 1.2-1.4):

* What a code means is bot/transports/errors.py's one mapping: opted out (21610) ->
  OPTED_OUT; invalid number (21211, 21614, ...) -> INVALID_NUMBER. Twilio asks callers to
  branch on a small allow-list of codes only, so 21612 and every other code -> FAILED with it.
* 429 / a retryable code (20429): Twilio did not process the request, so it is retried with
  exponential backoff and jitter, at most `max_attempts` tries in all; then FAILED.
* A read timeout, a dropped connection or any HTTP 5xx may come after Twilio created the
  message or call, so the result is UNKNOWN and the request is never repeated: a patient must
  not get the same text twice. The status callback (or staff) settles it.
* A connection that was never made (refused, connect timeout, DNS failure) sent nothing, so it
  is FAILED: safe for a later pass to try again.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from bot.transports.base import (
    MAX_CALL_TIMEOUT,
    MAX_VALIDITY_PERIOD,
    Outcome,
    Sender,
    SendResult,
    call_problem,
    failed,
    scrub,
    sms_problem,
    update_problem,
)
from bot.transports.errors import is_invalid_number, is_opt_out, is_retryable
from bot.transports.pacing import Pacer

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
# DetectMessageEnd answers at once for a person but waits for the beep on a machine, so the
# voicemail is spoken after the beep, not over the greeting (twilio.md 3.7).
AMD_MODE = "DetectMessageEnd"
# Outbound calls are limited per account (1 CPS by default), not per number, so all calls
# share one pacing key whatever store they are placed for.
CALLS_KEY = "account"
# The SDK falls back to os.environ when `environment` is falsy ({}), so name the variables
# that would move requests to another edge or region and leave them empty.
_NO_ENV = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}
_NOT_SENT_ERRORS = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
)
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_URI_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\+|%2B)?\d{7,15}(?![0-9A-Za-z])", re.IGNORECASE)


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """Send the SDK's requests to `base_url` instead of Twilio's, always with a timeout."""

    def __init__(self, base_url: str = TWILIO_API, timeout: float = 10.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        # requests reads the proxy and CA bundle variables of os.environ again on every
        # request (a sixth of a send's CPU in the scheduler's profile). Read them once, for
        # the base URL, and keep them: the environment does not change while we run.
        from_environment = self.session.merge_environment_settings(
            self.base_url, {}, None, None, None
        )
        self.proxy = from_environment["proxies"]
        self.session.verify = from_environment["verify"]
        self.session.trust_env = False

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Log the method and the URI, without the account SID, at DEBUG."""
        # The SDK's own version logs the full URL and every header at INFO.
        log.debug("twilio request: %s %s", kwargs["method"], _scrub_uri(str(kwargs["url"])))

    def log_response(self, status_code: int, response: object) -> None:
        """Log the HTTP status at DEBUG."""
        log.debug("twilio response: HTTP %s", status_code)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Rewrite the Twilio origin to the configured base, then send."""
        if url == TWILIO_API or url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioTransport:
    """The real transport: Twilio's REST API through twilio-python."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str = TWILIO_API,
        messages_per_second: float = 0.0,
        calls_per_second: float = 1.0,
        http_timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.api_base_url = api_base_url.rstrip("/")
        self.http_timeout = http_timeout
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._rand = rand
        self.sms_pacer = Pacer(messages_per_second, clock, sleep)
        self.call_pacer = Pacer(calls_per_second, clock, sleep)
        # twilio-python's client shares one requests.Session and is not documented as
        # thread-safe, so each thread gets its own.
        self._local = threading.local()

    def client(self) -> Client:
        """Return this thread's Twilio client, building it on first use."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self.account_sid,
                self._auth_token,
                http_client=RebasedHttpClient(self.api_base_url, self.http_timeout),
                environment=dict(_NO_ENV),
            )
            self._local.client = client
        return client

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        sender: Sender,
        status_callback: str | None,
        validity_period: int | None = None,
    ) -> SendResult:
        """Send one SMS from the sender's Messaging Service, or else its number."""
        problem = sms_problem(sender, validity_period)
        if problem:
            return _refused_locally("sms", problem)
        params: dict[str, Any] = {"to": to, "body": body}
        if sender.messaging_service_sid:
            params["messaging_service_sid"] = sender.messaging_service_sid
        else:
            params["from_"] = sender.from_number
        if status_callback:
            params["status_callback"] = status_callback
        if validity_period is not None:
            # Above the maximum Twilio would refuse the message; the maximum means the same.
            params["validity_period"] = min(validity_period, MAX_VALIDITY_PERIOD)
        key = sender.sms_key
        return self._send(
            "sms",
            lambda: self.client().messages.create(**params),
            pace=lambda: self.sms_pacer.wait(key),
        )

    def place_call(
        self,
        *,
        to: str,
        sender: Sender,
        url: str,
        status_callback: str | None,
        machine_detection: bool = True,
        timeout_seconds: int = 30,
        amd_status_callback: str | None = None,
    ) -> SendResult:
        """Place one call from the sender's number; its TwiML comes from `url`.

        Answering machine detection is synchronous unless `amd_status_callback` is given:
        Twilio then posts `AnsweredBy` with its request for `url`, so the voice webhook alone
        decides between the IVR and a voicemail and nothing has to race a live call. The cost
        is a few seconds of silence after a person answers (twilio.md 3.7).
        """
        problem = call_problem(sender, timeout_seconds)
        if problem:
            return _refused_locally("call", problem)
        params: dict[str, Any] = {
            "to": to,
            "from_": sender.from_number,
            "url": url,
            "method": "POST",
            "timeout": min(timeout_seconds, MAX_CALL_TIMEOUT),
        }
        if status_callback:
            params["status_callback"] = status_callback
            params["status_callback_method"] = "POST"
            params["status_callback_event"] = list(CALL_EVENTS)
        if machine_detection:
            params["machine_detection"] = AMD_MODE
            if amd_status_callback:
                # The SDK types AsyncAmd as a string: Python True would go out as "True".
                params["async_amd"] = "true"
                params["async_amd_status_callback"] = amd_status_callback
                params["async_amd_status_callback_method"] = "POST"
        return self._send(
            "call",
            lambda: self.client().calls.create(**params),
            pace=lambda: self.call_pacer.wait(CALLS_KEY),
        )

    def update_call(
        self,
        *,
        sid: str,
        twiml: str | None = None,
        url: str | None = None,
        status: str | None = None,
    ) -> SendResult:
        """Redirect a live call to new TwiML or a URL, or end it."""
        problem = update_problem(twiml, url, status)
        if problem:
            return _refused_locally("call update", problem)
        params: dict[str, Any] = {}
        if twiml is not None:
            params["twiml"] = twiml
        if url is not None:
            params["url"] = url
            params["method"] = "POST"
        if status is not None:
            params["status"] = status
        return self._send("call update", lambda: self.client().calls(sid).update(**params))

    def _send(
        self,
        what: str,
        request: Callable[[], Any],
        pace: Callable[[], object] | None = None,
    ) -> SendResult:
        """Make one request, retrying only when Twilio says it did not process it."""
        for attempt in range(1, self.max_attempts + 1):
            if pace is not None:
                pace()
            try:
                instance = request()
            except TwilioException as exc:
                status = getattr(exc, "status", None)
                code = getattr(exc, "code", None)
                if _rate_limited(status, code) and attempt < self.max_attempts:
                    delay = self._backoff(attempt)
                    log.warning(
                        "twilio %s rate-limited (http=%s code=%s); try %d of %d in %.2fs",
                        what,
                        status,
                        code,
                        attempt + 1,
                        self.max_attempts,
                        delay,
                    )
                    self._sleep(delay)
                    continue
                return _twilio_error(what, exc)
            except requests.RequestException as exc:
                return _network_error(what, exc)
            except json.JSONDecodeError:
                # A 2xx we cannot read: Twilio (or the stand-in) did accept something.
                log.warning("twilio %s answered 2xx with an unreadable body", what)
                return SendResult(Outcome.UNKNOWN, None, "unknown", None, "unreadable response")
            return _accepted(what, instance)
        raise AssertionError("unreachable: the last attempt always returns")

    def _backoff(self, attempt: int) -> float:
        """Return the pause before try `attempt + 1`: doubling, with 'equal jitter'."""
        return self.backoff_seconds * 2.0 ** (attempt - 1) * (0.5 + 0.5 * self._rand())


def _rate_limited(status: object, code: object) -> bool:
    return status == 429 or (isinstance(code, int) and is_retryable(code))


def _outcome_for(status: int | None, code: int | None) -> Outcome:
    """Map a Twilio error response to an Outcome (see the module docstring)."""
    if is_opt_out(code):
        return Outcome.OPTED_OUT
    if is_invalid_number(code):
        return Outcome.INVALID_NUMBER
    if status is not None and status >= 500:
        return Outcome.UNKNOWN
    return Outcome.FAILED


def _twilio_error(what: str, exc: TwilioException) -> SendResult:
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if isinstance(exc, TwilioRestException):
        message = str(exc.msg)
    elif isinstance(exc, TwilioServiceException):
        message = exc.title + (f": {exc.detail}" if exc.detail else "")
    else:
        # Raised before any request (e.g. missing credentials): nothing reached Twilio.
        message = type(exc).__name__
    outcome = _outcome_for(status, code)
    # str(exc) carries ANSI colours on a TTY and may quote numbers; log the fields instead.
    log.warning(
        "twilio %s %s: http=%s code=%s uri=%s",
        what,
        outcome.value,
        status,
        code,
        _scrub_uri(getattr(exc, "uri", "")),
    )
    return SendResult(
        outcome,
        None,
        "unknown" if outcome is Outcome.UNKNOWN else "failed",
        code if isinstance(code, int) else None,
        scrub(message),
    )


def _network_error(what: str, exc: requests.RequestException) -> SendResult:
    name = type(exc).__name__
    if _never_sent(exc):
        log.warning("twilio %s not sent: %s before the request went out", what, name)
        return SendResult(Outcome.FAILED, None, "failed", None, f"not sent: {name}")
    log.warning("twilio %s outcome unknown after %s; not retrying", what, name)
    return SendResult(Outcome.UNKNOWN, None, "unknown", None, f"no answer from Twilio: {name}")


def _never_sent(exc: requests.RequestException) -> bool:
    """Tell whether the request failed before any byte of it reached the server."""
    if isinstance(exc, _NOT_SENT_ERRORS):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    # requests wraps a refused connection or failed DNS lookup as MaxRetryError(NewConnectionError);
    # a connection dropped mid-request is a ProtocolError instead, which may have been processed.
    reason = exc.args[0]
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _accepted(what: str, instance: Any) -> SendResult:
    sid = getattr(instance, "sid", None)
    status = str(getattr(instance, "status", None) or "queued")
    if status in ("failed", "undelivered", "canceled"):
        code = getattr(instance, "error_code", None)
        message = getattr(instance, "error_message", None)
        log.warning("twilio %s %s at once: sid=%s code=%s", what, status, sid, code)
        return SendResult(
            Outcome.FAILED,
            sid,
            status,
            int(code) if code else None,
            scrub(str(message)) if message else None,
        )
    log.info("twilio %s accepted: sid=%s status=%s", what, sid, status)
    return SendResult(Outcome.SENT, sid, status)


def _refused_locally(what: str, problem: str) -> SendResult:
    log.warning("twilio %s not sent: %s", what, problem)
    return failed(problem)


def _scrub_uri(uri: str) -> str:
    """Hide the account SID and any phone number in a request URI before logging it."""
    return _URI_NUMBER.sub("[number]", _ACCOUNT_SID.sub("AC…", uri or ""))
