"""Patient import from the pharmacy management system's CSV export (SPEC 5.4).

One row per medicine; the patient columns repeat on each of that patient's rows. The import is
an upsert keyed on (store, patient_id) and (patient, medication):

* every row is validated on its own; a bad row is reported with its spreadsheet row number and
  reason, and the good rows still import;
* running the same file twice changes nothing and says so;
* a patient's anchor date, details or medicine list change in place; medicines that are no
  longer in the file for a patient that is, are removed;
* an anchor date before the patient's local today is refused: the scheduler would roll it on
  to the next cycle, and the next import would put it back;
* memory stays bounded on large files: rows are applied in batches and each batch is flushed
  and forgotten. Which patients and medicines a run has already seen is stamped on the rows
  themselves (`import_run`), not kept in memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, selectinload

from store import roster
from store.models import (
    Channel,
    ConsentMethod,
    ConsentState,
    Delivery,
    Enrollment,
    Language,
    Medicine,
    MedType,
    Package,
    Patient,
    Store,
)
from store.validate import is_timezone, normalize_phone

REQUIRED_COLUMNS = (
    "patient_id",
    "first_name",
    "last_name",
    "phone",
    "anchor_date",
    "medication",
    "med_type",
)
OPTIONAL_COLUMNS = (
    "store",
    "language",
    "channel",
    "timezone",
    "cycle_days",
    "consent_date",
    "phi_ok",
    "days_supply",
    "last_fill_date",
    "refills_remaining",
    "quantity",
    "daily_dose",
    "package",
    "controlled",
    "birth_date",
    "rx_number",
    "prescriber_name",
    "prescriber_npi",
    "prescriber_phone",
    "prescriber_fax",
    "delivery",
)
# Optional columns whose stored value an export without the column leaves alone.
KEPT_WHEN_ABSENT = (
    "birth_date",
    "delivery",
    "rx_number",
    "prescriber_name",
    "prescriber_npi",
    "prescriber_phone",
    "prescriber_fax",
)
BATCH_ROWS = 500
MIN_BIRTH_DATE = dt.date(1900, 1, 1)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
_LANGUAGES = {"en": Language.EN, "english": Language.EN, "es": Language.ES, "spanish": Language.ES}
_LANGUAGES |= {"espanol": Language.ES, "español": Language.ES}
_CHANNELS = {"sms": Channel.SMS, "text": Channel.SMS, "voice": Channel.VOICE, "call": Channel.VOICE}
_CHANNELS |= {"phone": Channel.VOICE, "ivr": Channel.VOICE}
_PACKAGES = {"splittable": Package.SPLITTABLE, "whole": Package.WHOLE}
_DELIVERY = {"pickup": Delivery.PICKUP, "delivery": Delivery.DELIVERY}
_NPI = re.compile(r"\d{10}")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (not CSV, missing columns)."""


class RowError(ValueError):
    """One row cannot be imported; the message says why."""


class PatientColumnsError(RowError):
    """The row's patient columns (the same on each of the patient's rows) are wrong."""


@dataclass(frozen=True)
class SourceRow:
    """One row as a reader made it (the CSV here, a FHIR Bundle in bot/fhir), before the rules.

    `number` is what a rejection names (a spreadsheet row, a Bundle entry); a problem with the
    patient's columns names `patient_number` instead when the reader gave one (the Patient
    entry the row's patient columns came from). `problem` is the reader's own reason to reject
    the row; it still protects the patient's other medicines like any rejected row.
    """

    number: int
    cells: Mapping[str, Any]
    patient_number: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class PatientFields:
    first_name: str
    last_name: str
    phone: str
    language: Language
    channel: Channel
    timezone: str | None
    phi_ok: bool
    birth_date: dt.date | None
    delivery: Delivery


@dataclass(frozen=True)
class MedicineFields:
    med_type: MedType
    days_supply: int | None
    last_fill_date: dt.date | None
    refills_remaining: int | None
    quantity: float | None
    daily_dose: float | None
    package: Package
    controlled: bool
    rx_number: str | None
    prescriber_name: str | None
    prescriber_npi: str | None
    prescriber_phone: str | None
    prescriber_fax: str | None


@dataclass(frozen=True)
class ImportRow:
    """One validated CSV row."""

    row: int
    patient_row: int  # what a problem with the patient's columns names
    store_code: str
    store_id: int
    patient_id: str
    patient: PatientFields
    # Outreach consent as the PMS records it; applied unless staff recorded consent since.
    consent_date: dt.date | None
    anchor_date: dt.date
    local_today: dt.date  # where the patient lives (their timezone, else the store's)
    cycle_days: int
    medication: str
    medicine: MedicineFields

    @property
    def key(self) -> tuple[str, str]:
        return (self.store_code, self.patient_id)


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    rows: int = 0
    patients_created: int = 0
    patients_updated: int = 0
    patients_unchanged: int = 0
    enrollments_changed: int = 0
    medicines_created: int = 0
    medicines_updated: int = 0
    medicines_unchanged: int = 0
    medicines_removed: int = 0
    duplicate_rows: int = 0
    rejected_rows: int = 0
    # Of the file's patients: texted or called at the next scheduler pass (a welcome or a
    # check-in due), and new ones waiting for staff review instead (store.review_imports).
    contacted_next_pass: int = 0
    awaiting_review: int = 0

    @property
    def changes(self) -> int:
        return (
            self.patients_created
            + self.patients_updated
            + self.enrollments_changed
            + self.medicines_created
            + self.medicines_updated
            + self.medicines_removed
        )

    def summary(self) -> str:
        """Describe the outcome in a few lines for the operator."""
        lines = [
            f"rows read: {self.rows}, rejected: {self.rejected_rows}, "
            f"duplicates skipped: {self.duplicate_rows}",
            f"patients: {self.patients_created} created, {self.patients_updated} updated, "
            f"{self.patients_unchanged} unchanged; enrollments changed: {self.enrollments_changed}",
            f"medicines: {self.medicines_created} created, {self.medicines_updated} updated, "
            f"{self.medicines_unchanged} unchanged, {self.medicines_removed} removed",
        ]
        contacted, waiting = self.contacted_next_pass, self.awaiting_review
        lines.append(
            f"outreach: {contacted} patient{'s' * (contacted != 1)} would be contacted at the"
            f" next scheduler pass; {waiting} new patient{'s wait' if waiting != 1 else ' waits'}"
            " for review"
        )
        if self.changes == 0:
            lines.append("no changes")
        return "\n".join(lines)


RejectHandler = Callable[[int, str], None]


@dataclass
class _StoreInfo:
    id: int
    region: str
    timezone: str
    lead_days: int
    review_imports: bool  # new patients wait for staff review before any outreach


@dataclass
class _Run:
    """The state of one import run that must survive across batches."""

    id: str
    stores: dict[str, _StoreInfo]
    default_store: str
    now: dt.datetime
    report: ImportReport = field(default_factory=ImportReport)
    # Columns added to the format later that this file does not have: their stored values
    # stay (an older export must not wipe a birth date or a delivery choice).
    absent: frozenset[str] = frozenset()
    # Patients with a rejected row keep the medicines the file did not list: a typo in one
    # row must not delete that medicine from the patient's profile.
    protected: set[tuple[str, str]] = field(default_factory=set)

    def reject(self, on_reject: RejectHandler, row: int, reason: str, key: tuple[str, str]) -> None:
        self.report.rejected_rows += 1
        self.protected.add(key)
        on_reject(row, reason)


def import_patients(
    session: Session,
    lines: Iterable[str],
    *,
    default_store: str,
    on_reject: RejectHandler,
    now: dt.datetime,
    commit: bool = True,
) -> ImportReport:
    """Import the CSV text `lines` and return the report.

    `now` (aware) gives each patient's local today, before which an anchor date is refused.

    With `commit`, each batch is committed as it completes, so a crash part-way keeps the
    batches already done (and a rerun finishes the job). Without it, everything is flushed
    and then rolled back: a dry run that still exercises every database constraint.
    """
    reader = csv.DictReader(_strip_bom(lines))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    # The header is spreadsheet row 1; a row with more cells than columns has a None key.
    rows = (
        SourceRow(
            number, raw, problem="more cells than columns in the header" if None in raw else None
        )
        for number, raw in enumerate(reader, start=2)
    )
    return import_rows(
        session,
        header,
        rows,
        default_store=default_store,
        on_reject=on_reject,
        now=now,
        commit=commit,
    )


def import_rows(
    session: Session,
    columns: Iterable[str],
    rows: Iterable[SourceRow],
    *,
    default_store: str,
    on_reject: RejectHandler,
    now: dt.datetime,
    commit: bool = True,
) -> ImportReport:
    """Import `rows` whose cells are named by `columns` (those of 5.4) with the CSV's rules.

    The way in for readers of other formats: each turns its file into rows of 5.4's columns,
    and every rule, the upsert and the report stay here. `columns` is the header: an optional
    column of KEPT_WHEN_ABSENT that is not in it keeps its stored values.
    """
    stores = {
        s.code: _StoreInfo(s.id, s.region, s.timezone, s.lead_days, s.review_imports)
        for s in session.scalars(select(Store))
    }
    if default_store not in stores:
        raise ImportFileError(f"unknown store {default_store!r}")
    header = set(columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(f"missing required columns: {', '.join(missing)}")
    run = _Run(id=uuid.uuid4().hex, stores=stores, default_store=default_store, now=now)
    run.absent = frozenset(c for c in KEPT_WHEN_ABSENT if c not in header)
    try:
        batch: list[ImportRow] = []
        for row in _read_rows(rows, run, on_reject):
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                _apply_batch(session, batch, run, on_reject)
                _finish_batch(session, commit)
                batch = []
        _apply_batch(session, batch, run, on_reject)
        run.report.medicines_removed = _remove_missing_medicines(session, run)
        _count_outreach(session, run)
        _finish_batch(session, commit)
    finally:
        if not commit:
            session.rollback()
    return run.report


def _finish_batch(session: Session, commit: bool) -> None:
    session.flush()
    if commit:
        session.commit()
    # Forget the batch's objects: the database holds them now, memory does not have to.
    session.expunge_all()


def _read_rows(
    rows: Iterable[SourceRow], run: _Run, on_reject: RejectHandler
) -> Iterator[ImportRow]:
    for source in rows:
        run.report.rows += 1
        raw = source.cells
        try:
            if source.problem is not None:
                raise RowError(source.problem)
            yield _parse_row(raw, source, run)
        except RowError as error:
            store = str(raw.get("store") or "").strip() or run.default_store
            key = (store, str(raw.get("patient_id") or "").strip())
            number = source.number
            if isinstance(error, PatientColumnsError) and source.patient_number is not None:
                number = source.patient_number
            run.reject(on_reject, number, str(error), key)


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


@dataclass(frozen=True)
class _PatientPart:
    store_code: str
    store: _StoreInfo
    patient_id: str
    patient: PatientFields
    consent_date: dt.date | None
    anchor_date: dt.date
    local_today: dt.date
    cycle_days: int


def _parse_row(raw: Mapping[str, Any], source: SourceRow, run: _Run) -> ImportRow:
    cell = _Cells(raw)
    try:
        part = _parse_patient_columns(cell, run)
    except RowError as error:
        raise PatientColumnsError(str(error)) from None
    store = part.store
    npi = cell.text("prescriber_npi", required=False, max_len=10) or None
    if npi is not None and not _NPI.fullmatch(npi):
        raise RowError(f"prescriber_npi must be 10 digits, not {npi!r}")
    medicine = MedicineFields(
        med_type=cell.choice("med_type", {"maintenance": MedType.MAINTENANCE, "prn": MedType.PRN}),
        days_supply=cell.integer("days_supply", 1, 400),
        last_fill_date=cell.date("last_fill_date", required=False),
        refills_remaining=cell.integer("refills_remaining", 0, 99),
        quantity=cell.number("quantity"),
        daily_dose=cell.number("daily_dose"),
        package=cell.choice("package", _PACKAGES, Package.SPLITTABLE),
        controlled=cell.boolean("controlled"),
        rx_number=cell.text("rx_number", required=False, max_len=32) or None,
        prescriber_name=cell.text("prescriber_name", required=False, max_len=120) or None,
        prescriber_npi=npi,
        prescriber_phone=cell.phone("prescriber_phone", store.region),
        prescriber_fax=cell.phone("prescriber_fax", store.region),
    )
    return ImportRow(
        row=source.number,
        patient_row=source.patient_number if source.patient_number is not None else source.number,
        store_code=part.store_code,
        store_id=store.id,
        patient_id=part.patient_id,
        patient=part.patient,
        consent_date=part.consent_date,
        anchor_date=part.anchor_date,
        local_today=part.local_today,
        cycle_days=part.cycle_days,
        medication=" ".join(cell.text("medication", max_len=200).split()),
        medicine=medicine,
    )


def _parse_patient_columns(cell: _Cells, run: _Run) -> _PatientPart:
    """The columns that describe the patient (repeated on each of the patient's rows)."""
    store_code = cell.text("store", required=False, max_len=32) or run.default_store
    store = run.stores.get(store_code)
    if store is None:
        raise RowError(f"unknown store {store_code!r}")
    phone_raw = cell.text("phone", max_len=40)
    phone = normalize_phone(phone_raw, store.region)
    if phone is None:
        raise RowError(f"invalid phone number {phone_raw!r}")
    timezone = cell.text("timezone", required=False, max_len=64) or None
    if timezone is not None and not is_timezone(timezone):
        raise RowError(f"unknown timezone {timezone!r} (use an IANA name like America/Chicago)")
    local_today = run.now.astimezone(ZoneInfo(timezone or store.timezone)).date()
    birth_date = cell.date("birth_date", required=False)
    if birth_date is not None and not MIN_BIRTH_DATE <= birth_date <= local_today:
        raise RowError(f"birth_date {birth_date} is in the future or before 1900")
    patient = PatientFields(
        first_name=cell.text("first_name", max_len=80),
        last_name=cell.text("last_name", max_len=80),
        phone=phone,
        language=cell.choice("language", _LANGUAGES, Language.EN),
        channel=cell.choice("channel", _CHANNELS, Channel.SMS),
        timezone=timezone,
        phi_ok=cell.boolean("phi_ok"),
        birth_date=birth_date,
        delivery=cell.choice("delivery", _DELIVERY, Delivery.PICKUP),
    )
    anchor_date = cell.date("anchor_date", required=True)
    assert anchor_date is not None
    return _PatientPart(
        store_code=store_code,
        store=store,
        patient_id=cell.text("patient_id", max_len=64),
        patient=patient,
        consent_date=cell.date("consent_date", required=False),
        anchor_date=anchor_date,
        local_today=local_today,
        cycle_days=cell.integer("cycle_days", 7, 365) or 30,
    )


class _Cells:
    """Typed access to one row's cells, raising RowError with the column name."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def _get(self, name: str) -> str:
        return str(self.raw.get(name) or "").strip()

    def text(self, name: str, required: bool = True, max_len: int = 200) -> str:
        value = self._get(name)
        if required and not value:
            raise RowError(f"missing {name}")
        if len(value) > max_len:
            raise RowError(f"{name} is longer than {max_len} characters")
        return value

    def choice(self, name: str, allowed: dict[str, Any], default: Any = None) -> Any:
        value = self._get(name).lower()
        if not value:
            if default is None:
                raise RowError(f"missing {name}")
            return default
        if value not in allowed:
            choices = sorted({str(v) for v in allowed.values()})
            raise RowError(f"{name} must be {' or '.join(choices)}, not {value!r}")
        return allowed[value]

    def date(self, name: str, required: bool) -> dt.date | None:
        value = self._get(name)
        if not value:
            if required:
                raise RowError(f"missing {name}")
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise RowError(f"{name} must be a date YYYY-MM-DD, not {value!r}") from None

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self._get(name)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            raise RowError(f"{name} must be a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise RowError(f"{name} must be between {low} and {high}, not {number}")
        return number

    def number(self, name: str) -> float | None:
        value = self._get(name)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise RowError(f"{name} must be a number, not {value!r}") from None
        if not 0 < number < 100_000:
            raise RowError(f"{name} must be a positive number, not {value!r}")
        return number

    def phone(self, name: str, region: str) -> str | None:
        value = self.text(name, required=False, max_len=40)
        if not value:
            return None
        number = normalize_phone(value, region)
        if number is None:
            raise RowError(f"invalid {name} {value!r}")
        return number

    def boolean(self, name: str) -> bool:
        value = self._get(name).lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise RowError(f"{name} must be yes or no, not {value!r}")


def _apply_batch(
    session: Session, batch: list[ImportRow], run: _Run, on_reject: RejectHandler
) -> None:
    if not batch:
        return
    keys = {(r.store_id, r.patient_id) for r in batch}
    patients = {
        (p.store_id, p.external_id): p
        for p in session.scalars(
            select(Patient)
            .where(tuple_(Patient.store_id, Patient.external_id).in_(keys))
            .options(selectinload(Patient.medicines), selectinload(Patient.enrollment))
        )
    }
    for row in batch:
        key = (row.store_id, row.patient_id)
        patient = patients.get(key)
        if row.anchor_date < row.local_today:
            run.reject(on_reject, row.patient_row, _past_anchor_reason(row, patient), row.key)
            continue
        if patient is None:
            patient = patients[key] = Patient(
                store_id=row.store_id,
                external_id=row.patient_id,
                medicines=[],
                # The store's import safety: nobody new is contacted before staff look.
                needs_review=run.stores[row.store_code].review_imports,
            )
            session.add(patient)
            run.report.patients_created += 1
            _set_fields(patient, row.patient, run.absent)
            _set_consent(patient, row.consent_date, run.now)
        elif patient.import_run != run.id:
            changed = _set_fields(patient, row.patient, run.absent)
            if _set_consent(patient, row.consent_date, run.now) or changed:
                run.report.patients_updated += 1
            else:
                run.report.patients_unchanged += 1
        elif (
            _differs(patient, row.patient, run.absent)
            or _enrollment_differs(patient, row)
            or _consent_differs(patient, row.consent_date)
        ):
            reason = "patient details differ from an earlier row of this patient"
            run.reject(on_reject, row.patient_row, reason, row.key)
            continue
        if patient.import_run != run.id:
            patient.import_run = run.id
            if _set_enrollment(patient, row):
                run.report.enrollments_changed += 1
        _apply_medicine(patient, row, run, on_reject)


def _past_anchor_reason(row: ImportRow, patient: Patient | None) -> str:
    """Say why a past anchor date is refused, and what staff should do about it."""
    past = f"anchor_date {row.anchor_date} is in the past (today is {row.local_today})"
    stored = patient.enrollment.anchor_date if patient and patient.enrollment else None
    if stored is not None and stored >= row.local_today:
        # The scheduler rolled the anchor on a cycle; the pharmacy system still has the old one.
        return (
            f"{past}; this patient's anchor date is already {stored}: "
            "update it in the pharmacy system, or leave the row out"
        )
    return f"{past}: export the patient's next anchor date"


def _apply_medicine(patient: Patient, row: ImportRow, run: _Run, on_reject: RejectHandler) -> None:
    medicine = next((m for m in patient.medicines if m.name == row.medication), None)
    if medicine is None:
        medicine = Medicine(name=row.medication, import_run=run.id)
        _set_fields(medicine, row.medicine, run.absent)
        patient.medicines.append(medicine)
        run.report.medicines_created += 1
    elif medicine.import_run == run.id:
        if _differs(medicine, row.medicine, run.absent):
            reason = f"{row.medication!r} is listed twice with different details"
            run.reject(on_reject, row.row, reason, row.key)
        else:
            run.report.duplicate_rows += 1
    else:
        medicine.import_run = run.id
        if _set_fields(medicine, row.medicine, run.absent):
            run.report.medicines_updated += 1
        else:
            run.report.medicines_unchanged += 1


def _differs(target: object, values: PatientFields | MedicineFields, keep: frozenset[str]) -> bool:
    return any(
        getattr(target, f.name) != getattr(values, f.name)
        for f in fields(values)
        if f.name not in keep
    )


def _set_fields(
    target: object, values: PatientFields | MedicineFields, keep: frozenset[str]
) -> bool:
    """Copy `values` (but those in `keep`) onto `target`; tell whether anything changed."""
    changed = _differs(target, values, keep)
    for f in fields(values):
        if f.name not in keep:
            setattr(target, f.name, getattr(values, f.name))
    return changed


def _file_decides_consent(patient: Patient) -> bool:
    """The file's consent date is the patient's, unless staff recorded consent (accepted or
    declined) in the workspace since: a nightly import must not undo a patient's decline."""
    return patient.consent_method in (None, ConsentMethod.IMPORT)


def _consent_differs(patient: Patient, consent_date: dt.date | None) -> bool:
    return _file_decides_consent(patient) and patient.consent_date != consent_date


def _set_consent(patient: Patient, consent_date: dt.date | None, now: dt.datetime) -> bool:
    """Record the file's consent date as accepted consent by import; tell whether it changed.

    Only a new or changed date is recorded as a consent (with the time it was recorded), so
    patients who consented before consent states existed keep getting check-ins and are not
    welcomed again by a re-import of the same file.
    """
    if not _consent_differs(patient, consent_date):
        return False
    patient.consent_date = consent_date
    patient.consent_state = ConsentState.ACCEPTED if consent_date else None
    patient.consent_method = ConsentMethod.IMPORT if consent_date else None
    patient.consent_recorded_at = now if consent_date else None
    patient.consent_by_id = None
    return True


def _enrollment_differs(patient: Patient, row: ImportRow) -> bool:
    enrollment = patient.enrollment
    return enrollment is None or (enrollment.anchor_date, enrollment.cycle_days) != (
        row.anchor_date,
        row.cycle_days,
    )


def _set_enrollment(patient: Patient, row: ImportRow) -> bool:
    if not _enrollment_differs(patient, row):
        return False
    if patient.enrollment is None:
        patient.enrollment = Enrollment(anchor_date=row.anchor_date, cycle_days=row.cycle_days)
    else:
        patient.enrollment.anchor_date = row.anchor_date
        patient.enrollment.cycle_days = row.cycle_days
    return True


def _count_outreach(session: Session, run: _Run) -> None:
    """Count whom the next scheduler pass would contact, per store as of its local today."""
    for store in run.stores.values():
        contacted, waiting = roster.count_contacted_next(
            session,
            store_id=store.id,
            today=run.now.astimezone(ZoneInfo(store.timezone)).date(),
            lead_days=store.lead_days,
            import_run=run.id,
        )
        run.report.contacted_next_pass += contacted
        run.report.awaiting_review += waiting


def _remove_missing_medicines(session: Session, run: _Run) -> int:
    """Delete medicines of this run's patients that the file no longer lists."""
    session.flush()
    seen_patients = select(Patient.id).where(Patient.import_run == run.id)
    protected_ids: set[int] = set()
    for store_code, patient_id in run.protected:
        store = run.stores.get(store_code)
        if store is not None:
            protected_ids.update(
                session.scalars(
                    select(Patient.id).where(
                        Patient.store_id == store.id, Patient.external_id == patient_id
                    )
                )
            )
    result = session.execute(
        delete(Medicine)
        .where(Medicine.patient_id.in_(seen_patients))
        .where(Medicine.patient_id.not_in(protected_ids))
        .where((Medicine.import_run != run.id) | Medicine.import_run.is_(None))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def check_utf8(stream: IO[bytes], chunk_size: int = 1 << 20) -> None:
    """Raise ImportFileError naming the line of the first byte that is not UTF-8.

    Run before the import so that a file with a broken byte changes nothing at all.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    while chunk := stream.read(chunk_size):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            line += chunk[: error.start].count(b"\n")
            raise ImportFileError(f"line {line} is not valid UTF-8") from None
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(f"line {line} is not valid UTF-8") from None
