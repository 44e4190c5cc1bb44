"""The fills CSV (SPEC 5.7): read, validate, and group by patient.

Header row, one row per dispensed fill; columns `patient_id`, `drug`, `ingredient` (optional:
active ingredients joined by `/`; default the drug name), `drug_class`, `fill_date`
(`YYYY-MM-DD`), `days_supply`. A bad row is reported through `on_reject` with its spreadsheet
row number (the header is row 1) and the reason, and the good rows are still used.

Memory: rows are parsed one at a time, but PDC needs each patient's fills together and an
export need not be sorted by patient, so `group_by_patient` keeps every fill in memory: a
named tuple whose strings and dates are shared with the rows before it. That measured about
125 bytes a fill (12 MB for 100,000 fills, docs/benchmarks.md), so an external sort was not
worth its temporary files. The caller opens the file; nothing here does I/O.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator

from planning.pdc import Fill

REQUIRED_COLUMNS = ("patient_id", "drug", "drug_class", "fill_date", "days_supply")
OPTIONAL_COLUMNS = ("ingredient",)
MAX_DAYS_SUPPLY = 400  # the patient import's bound too

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

RejectHandler = Callable[[int, str], None]


class FillsFileError(ValueError):
    """The file as a whole cannot be read (no header, missing columns)."""


class _RowError(ValueError):
    pass


class _Reader:
    """Parse records, sharing repeated strings and dates between them to keep memory small."""

    def __init__(self, header: list[str]) -> None:
        self.width = len(header)
        columns = {name: index for index, name in reversed(list(enumerate(header))) if name}
        self.patient_id = columns["patient_id"]
        self.drug = columns["drug"]
        self.ingredient = columns.get("ingredient")
        self.drug_class = columns["drug_class"]
        self.fill_date = columns["fill_date"]
        self.days_supply = columns["days_supply"]
        self.strings: dict[str, str] = {}
        self.drugs: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}
        self.ingredients: dict[str, tuple[str, ...]] = {}  # by the cell as written
        self.by_drug: dict[str, tuple[str, ...]] = {}  # rows without an ingredient

    def parse(self, cells: list[str]) -> Fill:
        if len(cells) != self.width:
            if len(cells) > self.width:
                raise _RowError("more cells than columns in the header")
            cells = cells + [""] * (self.width - len(cells))
        strings = self.strings
        patient_id = _text(cells[self.patient_id], "patient_id", 64)
        drug = self.drugs.get(cells[self.drug]) or self.drug_name(cells[self.drug])
        drug_class = _text(cells[self.drug_class], "drug_class", 64)
        ingredient = cells[self.ingredient] if self.ingredient is not None else ""
        ingredients = self.ingredients.get(ingredient) if ingredient else self.by_drug.get(drug)
        return Fill(
            patient_id=strings.setdefault(patient_id, patient_id),
            drug=drug,
            ingredients=ingredients or self.ingredient_list(ingredient, drug),
            drug_class=strings.setdefault(drug_class, drug_class),
            fill_date=self.dates.get(cells[self.fill_date]) or self.date(cells[self.fill_date]),
            days_supply=_days_supply(cells[self.days_supply]),
        )

    def drug_name(self, cell: str) -> str:
        name = " ".join(_text(cell, "drug", 200).split())
        name = self.strings.setdefault(name, name)
        self.drugs[cell] = name
        return name

    def ingredient_list(self, cell: str, drug: str) -> tuple[str, ...]:
        value = cell.strip() or drug
        if len(value) > 200:
            raise _RowError("ingredient is longer than 200 characters")
        parts = [" ".join(part.split()).lower() for part in value.split("/")]
        if not all(parts):
            raise _RowError(f"ingredient has an empty part between slashes: {value!r}")
        # Sorted and deduplicated: "a/b" and "B/A" are the same product.
        result = tuple(self.strings.setdefault(part, part) for part in sorted(set(parts)))
        if cell.strip():
            self.ingredients[cell] = result
        else:  # an empty cell means "the drug's name"
            self.by_drug[drug] = result
        return result

    def date(self, cell: str) -> dt.date:
        value = cell.strip()
        if not value:
            raise _RowError("missing fill_date")
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _RowError(f"fill_date must be a date YYYY-MM-DD, not {value!r}") from None
        self.dates[cell] = day
        return day


def _text(cell: str, name: str, limit: int) -> str:
    value = cell.strip()
    if not value:
        raise _RowError(f"missing {name}")
    if len(value) > limit:
        raise _RowError(f"{name} is longer than {limit} characters")
    return value


def _days_supply(cell: str) -> int:
    try:
        days = int(cell)  # int() ignores surrounding spaces itself
    except ValueError:
        value = cell.strip()
        if not value:
            raise _RowError("missing days_supply") from None
        raise _RowError(f"days_supply must be a whole number, not {value!r}") from None
    if not 1 <= days <= MAX_DAYS_SUPPLY:
        raise _RowError(f"days_supply must be between 1 and {MAX_DAYS_SUPPLY}, not {days}")
    return days


def read_fills(lines: Iterable[str], on_reject: RejectHandler) -> Iterator[Fill]:
    """Yield the good fills of the CSV text `lines`; report each bad row to `on_reject`."""
    records = csv.reader(_strip_bom(lines))
    header = [name.strip().lower() for name in next(records, [])]
    if not any(header):
        raise FillsFileError("the file is empty (expected a header row)")
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise FillsFileError(f"missing required columns: {', '.join(missing)}")
    parser = _Reader(header)
    row = 1  # the header is spreadsheet row 1
    for cells in records:
        # Count records, not lines: a quoted cell may span lines but is still one row.
        row += 1
        try:
            yield parser.parse(cells)
        except _RowError as error:
            # A blank row (spreadsheets leave some at the end) is no fill and no error either.
            if "".join(cells).strip():
                on_reject(row, str(error))


def group_by_patient(fills: Iterable[Fill]) -> dict[str, list[Fill]]:
    """Group fills by patient, in the order patients first appear."""
    groups: dict[str, list[Fill]] = {}
    for fill in fills:
        group = groups.get(fill.patient_id)
        if group is None:
            groups[fill.patient_id] = group = []
        group.append(fill)
    return groups


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line
