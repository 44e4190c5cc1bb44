"""What the caller tells the dialog on every step: pharmacy, patient, channel, language."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, TypeAlias

Lang: TypeAlias = Literal["en", "es"]
Channel: TypeAlias = Literal["sms", "voice"]
LANGUAGES: tuple[Lang, ...] = ("en", "es")


@dataclass(frozen=True)
class Context:
    """Facts the caller supplies on every step; never stored in the dialog state.

    `pharmacy_phone` is a display string such as "(555) 010-0199"; `language` is the patient's
    stored preference, used only to start a dialog (the state then carries the language).
    No template names a medicine, so `phi_ok` changes nothing yet; it is here so that a future
    template that does can check it.
    """

    pharmacy_name: str
    pharmacy_phone: str
    patient_first_name: str
    pickup_date: datetime.date
    channel: Channel
    language: Lang
    phi_ok: bool = False
    program_name: str = "Med Sync"
    # Voice: the patient called us (greeted as a caller, no identity check) rather than we them.
    inbound_call: bool = False
    # Voice: the store is open now, so "press 0" puts the caller through to the pharmacy, at
    # this number (E.164; the display number when not given).
    pharmacy_open: bool = False
    transfer_number: str = ""
    # Other patients share this number (a household): every text names whom it is about.
    shared_phone: bool = False


def as_lang(value: str) -> Lang:
    """Return `value` as a supported language, falling back to English."""
    return "es" if value == "es" else "en"
