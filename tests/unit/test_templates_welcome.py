"""The welcome text (SPEC 14): CTIA's opt-in confirmation in one segment, both languages."""

from __future__ import annotations

import pytest

from dialogs import texts
from dialogs.context import Context
from dialogs.sms_rules import segment_count
from tests.unit.test_templates import PHONE, contexts

MUST_SAY = {
    "en": (
        "Med Sync",
        "Wed Sep 30",
        "before each refill",
        "Msg & data rates may apply",
        "HELP",
        "STOP",
    ),
    "es": (
        "Med Sync",
        "mie 30 sep",
        "antes de cada resurtido",
        "tarifas de msj y datos",
        "AYUDA",
        "ALTO",
    ),
}


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.language}-{c.pharmacy_name[:10]}")
def test_the_welcome_names_program_pickup_frequency_rates_help_and_stop(ctx: Context) -> None:
    text = texts.render("welcome", ctx)
    assert segment_count(text) == 1
    for part in MUST_SAY[ctx.language]:
        assert part in text, (part, text)


@pytest.mark.parametrize("ctx", contexts("voice"), ids=lambda c: c.language)
def test_the_welcome_call_says_the_number_and_nothing_about_medicines(ctx: Context) -> None:
    text = texts.render("welcome", ctx)
    assert PHONE in text and ctx.pharmacy_name in text
    assert not [w for w in ("refill", "resurtido", "medic", "prescription") if w in text.lower()]
