"""Which of a patient's medicines a staff-written text names (dialogs/phi.py; SPEC 8, 10)."""

from __future__ import annotations

import pytest

from dialogs.phi import medicine_words, named_medicines

MEDICINES = [
    "Metformin 500 mg",
    "Lisinopril/Hydrochlorothiazide 20-12.5 mg",
    "Albuterol HFA",
    "Oxycodone 5 mg, tablet",
    "Lantus SoloStar",
    "Vitamin D3 1000 IU",
]


def test_a_medicine_is_known_by_the_words_of_its_name_before_the_strength() -> None:
    assert medicine_words(MEDICINES) == [
        "metformin",
        "lisinopril",
        "hydrochlorothiazide",
        "albuterol",
        "oxycodone",
        "lantus",
        "solostar",
        "vitamin",
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Your METFORMIN is ready.", ["metformin"]),
        ("Su metformina está lista.", ["metformin"]),  # Spanish, a word that starts with it
        ("Lisinopril and albuterol are in.", ["lisinopril", "albuterol"]),
        ("Your lántus pens are here", ["lantus"]),  # accents do not hide a name
        ("Your refill is ready for pickup.", []),
        ("Please bring your tablet list", []),  # a dose form names nothing
        ("Metforming plans", ["metformin"]),  # a prefix match errs on the side of asking
    ],
)
def test_it_finds_the_medicines_a_text_names(text: str, named: list[str]) -> None:
    assert named_medicines(text, MEDICINES) == named
