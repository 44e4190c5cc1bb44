"""The fills CSV reader (SPEC 5.7): good rows become fills, bad rows are reported by row."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from planning.fills import FillsFileError, group_by_patient, read_fills
from planning.pdc import Fill

HEADER = "patient_id,drug,ingredient,drug_class,fill_date,days_supply\n"


def read(text: str) -> tuple[list[Fill], list[tuple[int, str]]]:
    rejected: list[tuple[int, str]] = []
    fills = list(
        read_fills(io.StringIO(text, newline=""), lambda r, why: rejected.append((r, why)))
    )
    return fills, rejected


def test_it_reads_a_fill_and_defaults_the_ingredient_to_the_drug_name() -> None:
    fills, rejected = read(HEADER + "P1,Lipitor  20 mg,,statin,2026-01-05,30\n")
    assert rejected == []
    assert fills == [
        Fill("P1", "Lipitor 20 mg", ("lipitor 20 mg",), "statin", dt.date(2026, 1, 5), 30)
    ]


def test_it_splits_a_combination_into_sorted_lower_case_ingredients() -> None:
    fills, _ = read(HEADER + "P1,Zestoretic,Lisinopril / Hydrochlorothiazide,RASA,2026-01-05,30\n")
    assert fills[0].ingredients == ("hydrochlorothiazide", "lisinopril")


def test_it_tolerates_a_bom_header_case_column_order_and_a_missing_ingredient_column() -> None:
    text = (
        "\ufeffDays_Supply,Fill_Date,Drug_Class,Drug,Patient_ID\n90,2026-02-01,RASA,Losartan,P9\n"
    )
    fills, rejected = read(text)
    assert rejected == []
    assert fills == [Fill("P9", "Losartan", ("losartan",), "RASA", dt.date(2026, 2, 1), 90)]


def test_it_rejects_each_bad_row_with_its_spreadsheet_row_number() -> None:
    text = HEADER + "\n".join(
        [
            "P1,Metformin,,diabetes,2026-01-05,30",  # row 2: good
            ",Metformin,,diabetes,2026-01-05,30",  # row 3
            "P1,,,diabetes,2026-01-05,30",  # row 4
            "P1,Metformin,,,2026-01-05,30",  # row 5
            "P1,Metformin,,diabetes,2026-02-30,30",  # row 6
            "P1,Metformin,,diabetes,01/05/2026,30",  # row 7
            "P1,Metformin,,diabetes,,30",  # row 8
            "P1,Metformin,,diabetes,2026-01-05,thirty",  # row 9
            "P1,Metformin,,diabetes,2026-01-05,0",  # row 10
            "P1,Metformin,,diabetes,2026-01-05,401",  # row 11
            "P1,Metformin,,diabetes,2026-01-05,",  # row 12
            "P1,Metformin,metformin//glipizide,diabetes,2026-01-05,30",  # row 13
            "P1,Metformin,,diabetes,2026-01-05,30,extra",  # row 14
            "",  # row 15: blank, skipped without a complaint
            '"P2","Metformin\nER",,diabetes,2026-01-05,30',  # row 16, over two lines: good
            "P2,Metformin,,diabetes,2026-01-0x,30",  # row 17
        ]
    )
    fills, rejected = read(text + "\n")
    assert [f.patient_id for f in fills] == ["P1", "P2"]
    assert fills[1].drug == "Metformin ER"
    assert rejected == [
        (3, "missing patient_id"),
        (4, "missing drug"),
        (5, "missing drug_class"),
        (6, "fill_date must be a date YYYY-MM-DD, not '2026-02-30'"),
        (7, "fill_date must be a date YYYY-MM-DD, not '01/05/2026'"),
        (8, "missing fill_date"),
        (9, "days_supply must be a whole number, not 'thirty'"),
        (10, "days_supply must be between 1 and 400, not 0"),
        (11, "days_supply must be between 1 and 400, not 401"),
        (12, "missing days_supply"),
        (13, "ingredient has an empty part between slashes: 'metformin//glipizide'"),
        (14, "more cells than columns in the header"),
        (17, "fill_date must be a date YYYY-MM-DD, not '2026-01-0x'"),
    ]


def test_it_rejects_overlong_cells() -> None:
    _, rejected = read(HEADER + f"{'P' * 65},Metformin,,diabetes,2026-01-05,30\n")
    assert rejected == [(2, "patient_id is longer than 64 characters")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("patient_id,drug,fill_date\nP1,X,2026-01-01\n", "missing required columns: drug_class"),
    ],
)
def test_it_refuses_a_file_without_the_required_header(text: str, message: str) -> None:
    with pytest.raises(FillsFileError, match=message):
        read(text)


def test_it_shares_repeated_strings_and_dates_between_rows() -> None:
    fills, _ = read(HEADER + "P1,Metformin,,diabetes,2026-01-05,30\n" * 2)
    first, second = fills
    assert first.patient_id is second.patient_id
    assert first.ingredients is second.ingredients
    assert first.fill_date is second.fill_date


def test_it_groups_fills_by_patient_in_order_of_first_appearance() -> None:
    fills, _ = read(HEADER + "B,X,,c,2026-01-01,30\nA,X,,c,2026-01-02,30\nB,Y,,c,2026-01-03,30\n")
    groups = group_by_patient(fills)
    assert list(groups) == ["B", "A"]
    assert [f.drug for f in groups["B"]] == ["X", "Y"]
