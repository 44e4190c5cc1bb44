"""Outbound sending: one interface, a Twilio transport and a console transport (SPEC 9)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.transports.base import (
    Outcome,
    Sender,
    SendResult,
    Sent,
    Transport,
    default_sender,
    sender_for_store,
)
from bot.transports.console import ConsoleTransport
from bot.transports.twilio import TwilioTransport

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "ConsoleTransport",
    "Outcome",
    "SendResult",
    "Sender",
    "Sent",
    "Transport",
    "TwilioTransport",
    "default_sender",
    "make_transport",
    "sender_for_store",
]


def make_transport(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Transport:
    """Build the transport `settings.transport` names."""
    if settings.transport == "console":
        return ConsoleTransport()
    if settings.transport == "twilio":
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            # Settings refuses this already; checked again so a hand-built Settings fails clearly.
            raise ValueError("the twilio transport needs an account SID and an auth token")
        return TwilioTransport(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            api_base_url=settings.twilio_api_base_url,
            messages_per_second=settings.messages_per_second,
            calls_per_second=settings.calls_per_second,
            sleep=sleep,
            clock=clock,
        )
    raise ValueError(f"unknown transport {settings.transport!r}")
