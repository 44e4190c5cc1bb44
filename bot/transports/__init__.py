"""Outbound sending: one interface, a Twilio transport and a console transport (SPEC 9)."""

from __future__ import annotations

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

__all__ = [
    "ConsoleTransport",
    "Outcome",
    "SendResult",
    "Sender",
    "Sent",
    "Transport",
    "default_sender",
    "sender_for_store",
]
