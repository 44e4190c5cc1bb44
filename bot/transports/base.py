"""The sending interface every transport implements, and the values it returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.config import Settings


@dataclass(frozen=True)
class Sender:
    """Who sends: a store's own number, or its Messaging Service."""

    from_number: str | None
    # When set, SMS go out with MessagingServiceSid instead of From. Calls always need a number.
    messaging_service_sid: str | None = None

    @property
    def sms_key(self) -> str | None:
        """Return the key Twilio queues this sender's messages under."""
        return self.messaging_service_sid or self.from_number


class HasSender(Protocol):
    """Anything carrying a sender, such as `store.models.Store`."""

    @property
    def from_number(self) -> str | None: ...

    @property
    def messaging_service_sid(self) -> str | None: ...


def default_sender(settings: Settings) -> Sender:
    """Return the configured sender used for stores that have none of their own."""
    return Sender(settings.twilio_from_number, settings.twilio_messaging_service_sid)


def sender_for_store(store: HasSender, default: Sender) -> Sender:
    """Pick the store's own sender, or `default` when the store has neither number nor service.

    The store's values are never mixed with the default: a patient must see (and reply to) the
    one identity of their pharmacy.
    """
    if store.from_number or store.messaging_service_sid:
        return Sender(store.from_number, store.messaging_service_sid)
    return default


class Outcome(StrEnum):
    """What the caller should do with a send, whatever the transport."""

    SENT = "sent"  # accepted by Twilio (queued/accepted/...); delivery comes by status callback
    # Which codes mean these two: bot/transports/errors.py.
    OPTED_OUT = "opted_out"  # the patient unsubscribed; opt them out, never retry
    INVALID_NUMBER = "invalid_number"  # bad number, or not a mobile (voice may work)
    FAILED = "failed"  # refused or never sent; recorded, not retried
    UNKNOWN = "unknown"  # may have reached Twilio; never retried, the status callback decides


@dataclass(frozen=True)
class SendResult:
    """The result of one send, call or call update."""

    outcome: Outcome
    sid: str | None  # SM.../CA... when known
    status: str  # Twilio's status ("queued", "accepted", ...) or "failed"/"unknown"
    error_code: int | None = None
    error_message: str | None = None  # scrubbed: never a phone number or a message body

    @property
    def ok(self) -> bool:
        """Tell whether Twilio accepted the request."""
        return self.outcome is Outcome.SENT


def failed(message: str, code: int | None = None) -> SendResult:
    """Return a FAILED result for a request that never left this process."""
    return SendResult(Outcome.FAILED, None, "failed", code, message)


@dataclass(frozen=True)
class Sent:
    """One request a recording transport made (console and fake transports)."""

    kind: str  # "sms" | "call" | "update_call"
    sid: str
    to: str | None = None
    body: str | None = None
    sender: Sender | None = None
    url: str | None = None
    twiml: str | None = None
    status: str | None = None  # the requested call status on "update_call"
    status_callback: str | None = None
    validity_period: int | None = None
    machine_detection: bool = False
    result: SendResult | None = None


class Transport(Protocol):
    """Send SMS and place calls; never raises for a network or Twilio error."""

    name: str

    def send_sms(
        self,
        *,
        to: str,
        body: str,
        sender: Sender,
        status_callback: str | None,
        validity_period: int | None = None,
    ) -> SendResult:
        """Send one SMS from `sender`; `validity_period` is in seconds (1..36000)."""
        ...

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
        """Place one call whose TwiML comes from `url`.

        With `machine_detection`, Twilio adds `AnsweredBy` to the request for `url`; with an
        `amd_status_callback` too, the call starts at once and `AnsweredBy` goes there instead.
        """
        ...

    def update_call(
        self,
        *,
        sid: str,
        twiml: str | None = None,
        url: str | None = None,
        status: str | None = None,
    ) -> SendResult:
        """Redirect a live call to new TwiML or a URL, or end it (status completed/canceled)."""
        ...


MAX_VALIDITY_PERIOD = 36_000  # seconds; Twilio's maximum and default (Create Message spec)
MAX_CALL_TIMEOUT = 600  # seconds of ringing; Twilio's maximum (Create Call spec)
CALL_UPDATE_STATUSES = ("completed", "canceled")


def sms_problem(sender: Sender, validity_period: int | None) -> str | None:
    """Return why this SMS can't be requested at all, or None when it can."""
    if not sender.sms_key:
        return "no sender: the store has neither a from number nor a Messaging Service"
    if validity_period is not None and validity_period < 1:
        # A zero or negative period means the send window has already closed.
        return f"validity_period must be 1..{MAX_VALIDITY_PERIOD} seconds, not {validity_period}"
    return None


def call_problem(sender: Sender, timeout_seconds: int) -> str | None:
    """Return why this call can't be placed at all, or None when it can."""
    if not sender.from_number:
        # Messaging Services only send messages; a call needs a caller ID of our own.
        return "no from number: calls can't be placed from a Messaging Service alone"
    if timeout_seconds < 1:
        return f"timeout_seconds must be 1..{MAX_CALL_TIMEOUT}, not {timeout_seconds}"
    return None


def update_problem(twiml: str | None, url: str | None, status: str | None) -> str | None:
    """Return why this call update can't be requested, or None when it can."""
    if twiml is None and url is None and status is None:
        return "nothing to update: give twiml, url or status"
    if twiml is not None and url is not None:
        return "give twiml or url, not both"
    if status is not None and status not in CALL_UPDATE_STATUSES:
        return f"status must be one of {', '.join(CALL_UPDATE_STATUSES)}, not {status!r}"
    return None


# Runs of 7+ digits (with the usual separators) look like phone numbers; error codes have 5.
_PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


def scrub(text: str, limit: int = 300) -> str:
    """Remove phone-number-like digit runs from `text` and cap its length."""

    def replace(match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match.group())
        return "[number]" if digits >= 7 else match.group()

    cleaned = _PHONE_LIKE.sub(replace, " ".join(text.split()))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def mask_phone(number: str | None) -> str:
    """Keep the country/area prefix and the last two digits of a number, e.g. +1202…43."""
    if not number:
        return "-"
    if len(number) <= 7:
        return "…" + number[-2:]
    return f"{number[:5]}…{number[-2:]}"
