"""Pure conversation logic (no Flask, SQLAlchemy, Twilio or APScheduler)."""

from __future__ import annotations
