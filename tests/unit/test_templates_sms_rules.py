"""GSM-7 and UCS-2 segment counting, and fitting texts into one segment."""

from __future__ import annotations

import pytest

from dialogs.sms_rules import (
    fits_one_segment,
    is_gsm7,
    segment_count,
    shorten,
    to_gsm7,
)


@pytest.mark.parametrize(
    ("text", "gsm7"),
    [
        ("Reply YES or NO.", True),
        ("¿Qué pasó? ñ é ü à ¡Hola! £ ¥ §", False),  # á and ó are not GSM-7
        ("¿Que paso? ñ é ü à ¡Hola! £ ¥ §", True),
        ("{braces} [brackets] ~ ^ | € \\", True),  # the extension table
        ("curly ’quotes’", False),
        ("emoji 👍", False),
        ("back`tick", False),
    ],
)
def test_it_knows_the_gsm7_alphabet(text: str, gsm7: bool) -> None:
    assert is_gsm7(text) is gsm7


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters cost two septets
        ("€" * 81, 2),
        ("á" * 70, 1),
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("👍" * 35, 1),  # two UCS-2 units each
        ("👍" * 36, 2),
    ],
)
def test_it_counts_segments(text: str, segments: int) -> None:
    assert segment_count(text) == segments
    assert fits_one_segment(text) is (segments <= 1)


def test_it_folds_names_to_gsm7() -> None:
    assert to_gsm7("Farmacia Díaz “Núñez”") == 'Farmacia Diaz "Nuñez"'  # ñ is GSM-7, ú is not
    assert to_gsm7("José’s Rx\u00a0Shop") == "José's Rx Shop"
    assert to_gsm7("薬局 Pharmacy") == "Pharmacy"


@pytest.mark.parametrize(
    ("name", "limit", "short"),
    [
        ("Main Street Pharmacy", 40, "Main Street Pharmacy"),
        ("Northside Community Pharmacy & Wellness", 24, "Northside Community"),
        ("Northside Community Pharmacy & Wellness", 12, "Northside"),
        ("Supercalifragilisticpharmacy", 12, "Supercalifra"),
    ],
)
def test_it_shortens_names_at_a_word_boundary(name: str, limit: int, short: str) -> None:
    assert shorten(name, limit) == short
