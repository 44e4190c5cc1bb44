"""What a Twilio error code means for us: the one mapping shared by sending, callbacks and policy.

Twilio asks callers to branch on a small allow-list of codes and to treat every other code as
a generic failure (twilio.md 1.3, 1.4), so the list below is short on purpose:

* 21610 "unsubscribed recipient" (the patient texted STOP): opt the patient out, never retry.
  It comes from a send or, with a Messaging Service, from a status callback.
* 21211 invalid 'To' number, 21614 'To' is not a mobile number, and 30006 "landline or
  unreachable carrier" (a status callback after the send): the number cannot take the channel.
  One `invalid_number` item per check-in; an SMS patient's check-in moves on to the call.
* 20429 "too many requests": Twilio did not process the request, so it is safe to retry after
  backing off (the transport does, then reports a plain failure).

Pure: no I/O, imported by bot.transports.twilio, bot.outreach and scheduler.policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class TwilioError(StrEnum):
    """What to do about a Twilio error code."""

    OPTED_OUT = "opted_out"
    INVALID_NUMBER = "invalid_number"
    RETRYABLE = "retryable"
    OTHER = "other"  # recorded with its code; nothing else is done


TWILIO_ERRORS: Mapping[int, TwilioError] = MappingProxyType(
    {
        21610: TwilioError.OPTED_OUT,
        21211: TwilioError.INVALID_NUMBER,
        21614: TwilioError.INVALID_NUMBER,
        30006: TwilioError.INVALID_NUMBER,
        20429: TwilioError.RETRYABLE,
    }
)


def twilio_error(code: int | None) -> TwilioError | None:
    """Return what `code` means; None when there is no error code."""
    if code is None:
        return None
    return TWILIO_ERRORS.get(code, TwilioError.OTHER)


def is_opt_out(code: int | None) -> bool:
    return twilio_error(code) is TwilioError.OPTED_OUT


def is_invalid_number(code: int | None) -> bool:
    return twilio_error(code) is TwilioError.INVALID_NUMBER


def is_retryable(code: int | None) -> bool:
    return twilio_error(code) is TwilioError.RETRYABLE
