"""The fills CSV (SPEC 5.7): read, validate, and group by patient.

Header row, one row per dispensed fill; columns `patient_id`, `drug`, `ingredient` (optional:
active ingredients joined by `/`; default the drug name), `drug_class`, `fill_date`
(`YYYY-MM-DD`), `days_supply`. A bad row is reported through `on_reject` with its spreadsheet
row number (the header is row 1) and the reason, and the good rows are still used.

Memory: rows are parsed one at a time, but PDC needs each patient's fills together and an
export need not be sorted by patient, so `group_by_patient` keeps every fill in memory as a
small slotted object whose strings and dates are shared between rows (about 150 bytes a fill:
docs/benchmarks.md measures 100,000 fills). The caller opens the file; nothing here does I/O.
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


class _Row:
    """One CSV record, its cells looked up by column name."""

    __slots__ = ("cells", "columns", "width")

    def __init__(self, cells: list[str], columns: dict[str, int], width: int) -> None:
        self.cells = cells
        self.columns = columns
        self.width = width

    def get(self, name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index].strip()


class _Reader:
    """Parse rows, sharing repeated strings and dates between them to keep memory small."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}
        self.ingredients: dict[str, tuple[str, ...]] = {}

    def shared(self, value: str) -> str:
        return self.strings.setdefault(value, value)

    def parse(self, raw: _Row) -> Fill:
        if len(raw.cells) > raw.width:
            raise _RowError("more cells than columns in the header")
        patient_id = self.text(raw, "patient_id", 64)
        drug = " ".join(self.text(raw, "drug", 200).split())
        drug_class = self.text(raw, "drug_class", 64)
        ingredient = _cell(raw, "ingredient") or drug
        if len(ingredient) > 200:
            raise _RowError("ingredient is longer than 200 characters")
        return Fill(
            patient_id=self.shared(patient_id),
            drug=self.shared(drug),
            ingredients=self.ingredient_list(ingredient),
            drug_class=self.shared(drug_class),
            fill_date=self.date(raw),
            days_supply=_days_supply(raw),
        )

    def text(self, raw: _Row, name: str, limit: int) -> str:
        value = _cell(raw, name)
        if not value:
            raise _RowError(f"missing {name}")
        if len(value) > limit:
            raise _RowError(f"{name} is longer than {limit} characters")
        return value

    def ingredient_list(self, value: str) -> tuple[str, ...]:
        cached = self.ingredients.get(value)
        if cached is not None:
            return cached
        parts = [" ".join(part.split()).lower() for part in value.split("/")]
        if not all(parts):
            raise _RowError(f"ingredient has an empty part between slashes: {value!r}")
        # Sorted and deduplicated: "a/b" and "B/A" are the same product.
        result = tuple(self.shared(part) for part in sorted(set(parts)))
        self.ingredients[value] = result
        return result

    def date(self, raw: _Row) -> dt.date:
        value = _cell(raw, "fill_date")
        cached = self.dates.get(value)
        if cached is not None:
            return cached
        if not value:
            raise _RowError("missing fill_date")
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _RowError(f"fill_date must be a date YYYY-MM-DD, not {value!r}") from None
        self.dates[value] = day
        return day


def _cell(raw: _Row, name: str) -> str:
    return raw.get(name)


def _days_supply(raw: _Row) -> int:
    value = _cell(raw, "days_supply")
    if not value:
        raise _RowError("missing days_supply")
    try:
        days = int(value)
    except ValueError:
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
    columns = {name: index for index, name in reversed(list(enumerate(header))) if name}
    parser = _Reader()
    row = 1  # the header is spreadsheet row 1
    for cells in records:
        # Count records, not lines: a quoted cell may span lines but is still one row.
        row += 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank row, as spreadsheets leave at the end
        try:
            yield parser.parse(_Row(cells, columns, len(header)))
        except _RowError as error:
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
