"""Outbound sending: one interface, a Twilio transport and a console transport (SPEC 9)."""

from __future__ import annotations
