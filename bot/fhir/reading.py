"""`import-fhir`: a Bundle of Patient, MedicationRequest and MedicationDispense as import rows.

Each Patient with each of its current MedicationRequests becomes one row of SPEC 5.4's columns
(the CSV's "one row per medicine"), and `store.importer.import_rows` applies the CSV's rules,
upsert and report to them: a wrong phone or a past anchor date is refused in the same words.
What is read from where:

* Patient: the PMS id from `identifier` (our system for a store, else the one typed MR, else
  the only one), `name` (official, else the first: given and family), `telecom` (sms, then
  a mobile phone, then any phone), `birthDate`, `communication.language` (preferred first),
  and the extensions of bot/fhir/codes.py (anchor date, cycle, consent date, channel,
  phi_ok, delivery, time zone).
* MedicationRequest (status active or on-hold; others are not current and are left out, so
  the import removes the medicine as a CSV without its row would): the medicine's name from
  `medicationCodeableConcept` (text, else the first coding's display) or
  `medicationReference.display`; PRN when a dosage is `asNeeded`; the daily dose from the
  first dosage's dose x frequency / period; `dispenseRequest` quantity, expected supply
  duration (days) and `numberOfRepeatsAllowed`; the Rx number from `identifier`; the
  prescriber from `requester` (a Practitioner of the Bundle: name, NPI, phone, fax).
* MedicationDispense (status completed, with `whenHandedOver`), matched to its request by
  `authorizingPrescription`: the latest hand-over is the last fill date and its quantity and
  days supply win over the request's; refills left are the repeats allowed less the
  dispenses after the first.

Entries are numbered as in `Bundle.entry[N]` (from 0). A wrong entry is reported once and
changes nothing of its own; a wrong request or dispense keeps that patient's other medicines.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.fhir import codes
from store import importer

RejectHandler = Callable[[int, str], None]
ALL_COLUMNS = importer.REQUIRED_COLUMNS + importer.OPTIONAL_COLUMNS
# Where each column comes from, added to the importer's reason so the sender knows what to fix.
SOURCES = {
    "patient_id": "Patient.identifier",
    "first_name": "Patient.name.given",
    "last_name": "Patient.name.family",
    "phone": "Patient.telecom",
    "language": "Patient.communication.language",
    "birth_date": "Patient.birthDate",
    "anchor_date": f"Patient.extension {codes.EXT_ANCHOR_DATE}",
    "cycle_days": f"Patient.extension {codes.EXT_CYCLE_DAYS}",
    "consent_date": f"Patient.extension {codes.EXT_CONSENT_DATE}",
    "channel": f"Patient.extension {codes.EXT_CHANNEL}",
    "phi_ok": f"Patient.extension {codes.EXT_PHI_OK}",
    "delivery": f"Patient.extension {codes.EXT_DELIVERY}",
    "timezone": f"Patient.extension {codes.EXT_TIMEZONE}",
    "medication": "MedicationRequest.medicationCodeableConcept",
    "days_supply": "dispenseRequest.expectedSupplyDuration or MedicationDispense.daysSupply",
    "quantity": "dispenseRequest.quantity or MedicationDispense.quantity",
    "daily_dose": "MedicationRequest.dosageInstruction",
    "refills_remaining": "dispenseRequest.numberOfRepeatsAllowed",
    "last_fill_date": "MedicationDispense.whenHandedOver",
    "package": f"MedicationRequest.extension {codes.EXT_PACKAGE}",
    "controlled": f"MedicationRequest.extension {codes.EXT_CONTROLLED}",
    "rx_number": "MedicationRequest.identifier",
    "prescriber_name": "Practitioner.name",
    "prescriber_npi": "Practitioner.identifier (NPI)",
    "prescriber_phone": "Practitioner.telecom",
    "prescriber_fax": "Practitioner.telecom",
}
_PERIOD_DAYS = {"d": Decimal(1), "h": Decimal(1) / 24, "wk": Decimal(7), "min": Decimal(1) / 1440}


class EntryError(ValueError):
    """One entry cannot be read; the message says why."""


@dataclass
class BundleRows:
    """A Bundle read as import rows, with what the reader itself refused or left out."""

    columns: list[str]
    rows: list[importer.SourceRow]
    problems: list[tuple[int, str]] = field(default_factory=list)  # (entry, reason)
    entries: int = 0
    not_current: int = 0  # MedicationRequests neither active nor on hold
    other: int = 0  # entries of resource types the import does not read


@dataclass
class _Entry:
    number: int
    resource: Mapping[str, Any]


@dataclass
class _Request:
    entry: int
    model: MedicationRequest | None  # None: not valid FHIR (`problem` says so)
    subject: str | None  # the reference to its Patient
    dispenses: list[MedicationDispense] = field(default_factory=list)
    problem: str | None = None


def import_bundle(
    session: Session,
    text: str,
    *,
    default_store: str,
    on_reject: RejectHandler,
    now: dt.datetime,
    commit: bool = True,
) -> tuple[importer.ImportReport, BundleRows]:
    """Import a Bundle's JSON `text` like a CSV of the same patients (store.importer)."""
    read = read_bundle(text)
    # A Patient's problem comes back once for each of its medicines: said once, in entry order.
    told: dict[tuple[int, str], None] = dict.fromkeys(read.problems)

    def tell(entry: int, reason: str) -> None:
        told[(entry, reason)] = None

    report = importer.import_rows(
        session,
        read.columns,
        read.rows,
        default_store=default_store,
        on_reject=tell,
        now=now,
        commit=commit,
    )
    for entry, reason in sorted(told):
        on_reject(entry, _with_source(reason))
    return report, read


def _with_source(reason: str) -> str:
    words = reason.replace(",", " ").split()
    column = next((w for w in words if w in SOURCES), None)
    return f"{reason} ({SOURCES[column]})" if column else reason


def read_bundle(text: str) -> BundleRows:
    """Read the Bundle; raise importer.ImportFileError when it is not one at all."""
    try:
        bundle = json.loads(text)
    except ValueError as error:
        raise importer.ImportFileError(f"not JSON: {error}") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise importer.ImportFileError('not a FHIR Bundle (no "resourceType": "Bundle")')
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise importer.ImportFileError("Bundle.entry must be a list")
    read = BundleRows(columns=[], rows=[], entries=len(raw_entries))
    by_type, urls = _index(raw_entries, read)
    read.other = sum(len(entries) for kind, entries in by_type.items() if kind not in _READ)
    practitioners: dict[int, Practitioner] = {}
    for entry in by_type.get("Practitioner", []):
        try:
            practitioners[entry.number] = _parse(Practitioner, entry)
        except EntryError as error:
            read.problems.append((entry.number, str(error)))
    requests = _read_requests(by_type.get("MedicationRequest", []), urls, read)
    _attach_dispenses(by_type.get("MedicationDispense", []), requests, urls, read)
    _patient_rows(by_type.get("Patient", []), requests, practitioners, urls, read)
    for request in requests.values():
        if _subject_entry(request, urls) is None:
            reason = f"subject {request.subject!r} is not a Patient of this Bundle"
            read.problems.append((request.entry, request.problem or reason))
    given = {c for row in read.rows for c, value in row.cells.items() if value}
    read.columns = [
        c for c in ALL_COLUMNS if c not in importer.KEPT_WHEN_ABSENT or c in given or c == "store"
    ]
    read.problems.sort()
    return read


_READ = ("Patient", "MedicationRequest", "MedicationDispense", "Practitioner")
_Urls = Mapping[str, tuple[str, int]]  # fullUrl or Type/id -> (resource type, entry)


def _index(raw_entries: list[Any], read: BundleRows) -> tuple[dict[str, list[_Entry]], _Urls]:
    by_type: dict[str, list[_Entry]] = {}
    urls: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(raw_entries):
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            read.problems.append((number, "no resource with a resourceType"))
            continue
        kind = resource["resourceType"]
        by_type.setdefault(kind, []).append(_Entry(number, resource))
        # The first entry of a URL is the one references mean (a repeat is reported later).
        if isinstance(raw.get("fullUrl"), str):
            urls.setdefault(raw["fullUrl"], (kind, number))
        if isinstance(resource.get("id"), str):
            urls.setdefault(f"{kind}/{resource['id']}", (kind, number))
    return by_type, urls


def _patient_rows(
    entries: Iterable[_Entry],
    requests: Mapping[int, _Request],
    practitioners: Mapping[int, Practitioner],
    urls: _Urls,
    read: BundleRows,
) -> None:
    """One row per current MedicationRequest of each Patient."""
    seen_ids: dict[tuple[str, str], int] = {}
    for entry in entries:
        try:
            cells = _patient_cells(_parse(Patient, entry))
        except EntryError as error:
            read.problems.append((entry.number, str(error)))
            continue
        key = (cells["store"], cells["patient_id"])
        if key in seen_ids:
            reason = f"patient id {key[1]!r} is already the Patient of entry {seen_ids[key]}"
            read.problems.append((entry.number, reason))
            continue
        seen_ids[key] = entry.number
        own = [r for r in requests.values() if _subject_entry(r, urls) == entry.number]
        if not own:
            read.problems.append((entry.number, "no current MedicationRequest for this Patient"))
        for request in sorted(own, key=lambda r: r.entry):
            read.rows.append(_row(request, cells, entry.number, practitioners, urls))


def _parse(model: Any, entry: _Entry) -> Any:
    """The entry as a library model; EntryError with the library's first complaint."""
    try:
        return model.model_validate(entry.resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "resource"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise EntryError(f"not a valid {model.__name__}: {where}: {message}") from None


def _read_requests(entries: Iterable[_Entry], urls: _Urls, read: BundleRows) -> dict[int, _Request]:
    requests: dict[int, _Request] = {}
    for entry in entries:
        subject = entry.resource.get("subject")
        reference = subject.get("reference") if isinstance(subject, dict) else None
        reference = reference if isinstance(reference, str) else None
        try:
            model = _parse(MedicationRequest, entry)
        except EntryError as error:
            # Reported with the row: its patient's other medicines stay as they are.
            requests[entry.number] = _Request(entry.number, None, reference, problem=str(error))
            continue
        if model.status not in codes.MEDICATION_REQUEST_STATUSES:
            problem = f"status {model.status!r} is not an R4 MedicationRequest status"
            requests[entry.number] = _Request(entry.number, None, reference, problem=problem)
        elif model.status in codes.MEDICATION_REQUEST_CURRENT:
            requests[entry.number] = _Request(entry.number, model, reference)
        else:
            read.not_current += 1
    return requests


def _subject_entry(request: _Request, urls: _Urls) -> int | None:
    kind, number = urls.get(request.subject or "", ("", -1))
    return number if kind == "Patient" else None


def _attach_dispenses(
    entries: Iterable[_Entry], requests: Mapping[int, _Request], urls: _Urls, read: BundleRows
) -> None:
    """Give each current request its completed dispenses (the fills that happened)."""
    for entry in entries:
        references = [
            ref["reference"]
            for ref in entry.resource.get("authorizingPrescription") or []
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str)
        ]
        targets = [
            requests[number]
            for kind, number in (urls.get(ref, ("", -1)) for ref in references)
            if kind == "MedicationRequest" and number in requests
        ]
        try:
            model = _parse(MedicationDispense, entry)
            if model.status not in codes.DISPENSE_STATUSES:
                raise EntryError(f"status {model.status!r} is not an R4 MedicationDispense status")
            if model.status != "completed":
                continue  # planned, on hold or cancelled: not a fill that happened
            if model.whenHandedOver is None:
                raise EntryError("a completed dispense needs whenHandedOver")
            if not targets:
                raise EntryError(
                    "authorizingPrescription names no current MedicationRequest of this Bundle"
                )
        except EntryError as error:
            read.problems.append((entry.number, str(error)))
            for request in targets:  # the medicine stays as it was: its history is unclear
                request.problem = (
                    f"not imported: its MedicationDispense in entry {entry.number} is wrong"
                )
            continue
        for request in targets:
            request.dispenses.append(model)


def _patient_cells(patient: Patient) -> dict[str, str]:
    store, patient_id = _pms_id(patient)
    name = _official_name(patient)
    extensions = {ext.url: ext for ext in patient.extension or []}

    def ext(url: str) -> str:
        found = extensions.get(url)
        if found is None:
            return ""
        for attribute in ("valueDate", "valueInteger", "valueCode", "valueString"):
            value = getattr(found, attribute, None)
            if value is not None:
                return _text(value)
        boolean = getattr(found, "valueBoolean", None)
        return "" if boolean is None else ("yes" if boolean else "no")

    return {
        "store": store,
        "patient_id": patient_id,
        "first_name": " ".join(name.given or []) if name else "",
        "last_name": (name.family or "") if name else "",
        "phone": _phone(patient.telecom or [], ("sms", "phone")),
        "language": _language(patient),
        "channel": ext(codes.EXT_CHANNEL),
        "timezone": ext(codes.EXT_TIMEZONE),
        "anchor_date": ext(codes.EXT_ANCHOR_DATE),
        "cycle_days": ext(codes.EXT_CYCLE_DAYS),
        "consent_date": ext(codes.EXT_CONSENT_DATE),
        "phi_ok": ext(codes.EXT_PHI_OK),
        "birth_date": _text(patient.birthDate) if patient.birthDate else "",
        "delivery": ext(codes.EXT_DELIVERY),
    }


def _pms_id(patient: Patient) -> tuple[str, str]:
    """(store code or "" for the default store, the PMS id)."""
    identifiers = [i for i in patient.identifier or [] if i.value]
    for identifier in identifiers:
        system = identifier.system or ""
        if system.startswith(codes.PATIENT_ID_SYSTEM + ":"):
            return system.removeprefix(codes.PATIENT_ID_SYSTEM + ":"), str(identifier.value)
    typed = [i for i in identifiers if i.type and any(c.code == "MR" for c in i.type.coding or [])]
    if len(typed) == 1:
        return "", str(typed[0].value)
    if len(identifiers) == 1:
        return "", str(identifiers[0].value)
    if not identifiers:
        raise EntryError("missing patient_id (Patient.identifier)")
    raise EntryError(
        "several identifiers: mark the PMS id with type MR or system "
        f"{codes.PATIENT_ID_SYSTEM}:<store code>"
    )


def _official_name(patient: Patient) -> Any:
    names = patient.name or []
    return next((n for n in names if n.use == "official"), names[0] if names else None)


def _phone(telecoms: Iterable[Any], systems: tuple[str, ...]) -> str:
    numbers = [t for t in telecoms if t.value and t.system in systems and not _ended(t)]
    ranked = sorted(
        numbers, key=lambda t: (t.system != "sms", t.use != "mobile", t.rank or 1_000_000)
    )
    return str(ranked[0].value) if ranked else ""


def _ended(telecom: Any) -> bool:
    period = telecom.period
    return bool(period and period.end)


def _language(patient: Patient) -> str:
    spoken = sorted(patient.communication or [], key=lambda c: not c.preferred)
    for communication in spoken:
        language = communication.language
        for coding in language.coding or []:
            if coding.code:
                return str(coding.code).split("-")[0]
        if language.text:
            return str(language.text)
    return ""


def _row(
    request: _Request,
    patient_cells: Mapping[str, str],
    patient_entry: int,
    practitioners: Mapping[int, Practitioner],
    urls: Mapping[str, tuple[str, int]],
) -> importer.SourceRow:
    model = request.model
    if request.problem is not None or model is None:
        problem = request.problem or "not valid"
        return importer.SourceRow(request.entry, patient_cells, patient_entry, problem=problem)
    try:
        cells = {**patient_cells, **_medicine_cells(model, request.dispenses)}
        cells |= _prescriber_cells(model, practitioners, urls)
    except EntryError as error:
        return importer.SourceRow(request.entry, patient_cells, patient_entry, problem=str(error))
    return importer.SourceRow(request.entry, cells, patient_entry)


def _medicine_cells(
    model: MedicationRequest, dispenses: list[MedicationDispense]
) -> dict[str, str]:
    extensions = {ext.url: ext for ext in model.extension or []}
    package = extensions.get(codes.EXT_PACKAGE)
    controlled = extensions.get(codes.EXT_CONTROLLED)
    supply = model.dispenseRequest
    quantity = supply.quantity.value if supply and supply.quantity else None
    days = _days(supply.expectedSupplyDuration) if supply else None
    repeats = supply.numberOfRepeatsAllowed if supply else None
    handed = sorted(dispenses, key=lambda d: _date_of(d.whenHandedOver))
    last_fill = ""
    if handed:
        latest = handed[-1]
        last_fill = _date_of(latest.whenHandedOver).isoformat()
        if latest.quantity and latest.quantity.value is not None:
            quantity = latest.quantity.value
        if latest.daysSupply:
            days = _days(latest.daysSupply)
    refills = None if repeats is None else max(0, int(repeats) - max(0, len(handed) - 1))
    return {
        "medication": _medication_name(model),
        "med_type": "prn"
        if any(_as_needed(d) for d in model.dosageInstruction or [])
        else "maintenance",
        "days_supply": _text(days),
        "last_fill_date": last_fill,
        "refills_remaining": _text(refills),
        "quantity": _text(quantity),
        "daily_dose": _text(_daily_dose(model)),
        "package": _text(package.valueCode) if package and package.valueCode else "",
        "controlled": ""
        if controlled is None or controlled.valueBoolean is None
        else ("yes" if controlled.valueBoolean else "no"),
        "rx_number": next((str(i.value) for i in model.identifier or [] if i.value), ""),
    }


def _prescriber_cells(
    model: MedicationRequest,
    practitioners: Mapping[int, Practitioner],
    urls: Mapping[str, tuple[str, int]],
) -> dict[str, str]:
    requester = model.requester
    if requester is None:
        return {}
    kind, number = urls.get(requester.reference or "", ("", -1))
    practitioner = practitioners.get(number) if kind == "Practitioner" else None
    if practitioner is None:
        return {"prescriber_name": requester.display or ""}
    names = practitioner.name or []
    name = names[0] if names else None
    parts = [*(name.given or []), name.family or ""] if name else []
    full = (name.text or " ".join(str(p) for p in parts).strip()) if name else ""
    npi = next(
        (str(i.value) for i in practitioner.identifier or [] if i.system == codes.NPI_SYSTEM),
        "",
    )
    telecoms = practitioner.telecom or []
    return {
        "prescriber_name": full or requester.display or "",
        "prescriber_npi": npi,
        "prescriber_phone": _phone(telecoms, ("phone",)),
        "prescriber_fax": _phone(telecoms, ("fax",)),
    }


def _medication_name(model: MedicationRequest) -> str:
    concept = model.medicationCodeableConcept
    if concept is not None:
        if concept.text:
            return str(concept.text)
        display = next((c.display for c in concept.coding or [] if c.display), None)
        if display:
            return str(display)
    if model.medicationReference is not None and model.medicationReference.display:
        return str(model.medicationReference.display)
    raise EntryError(
        "missing medication (medicationCodeableConcept.text or a coding's display, "
        "or medicationReference.display)"
    )


def _as_needed(dosage: Any) -> bool:
    return bool(dosage.asNeededBoolean) or dosage.asNeededCodeableConcept is not None


def _daily_dose(model: MedicationRequest) -> Decimal | None:
    """Dose x frequency / period in days, from the first dosage that says all three."""
    for dosage in model.dosageInstruction or []:
        dose = next(
            (r.doseQuantity.value for r in dosage.doseAndRate or [] if r.doseQuantity),
            None,
        )
        repeat = dosage.timing.repeat if dosage.timing else None
        if dose is None or repeat is None or repeat.period is None:
            continue
        unit_days = _PERIOD_DAYS.get(repeat.periodUnit or "")
        if unit_days is None:
            raise EntryError(f"dosage periodUnit {repeat.periodUnit!r} is not min, h, d or wk")
        per_day = (
            Decimal(dose) * Decimal(repeat.frequency or 1) / (Decimal(repeat.period) * unit_days)
        )
        return per_day.normalize()
    return None


def _days(duration: Any) -> Decimal | None:
    if duration is None or duration.value is None:
        return None
    unit = duration.code or duration.unit or "d"
    factor = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}.get(str(unit))
    if factor is None:
        raise EntryError(f"a supply duration in {unit!r}: give it in days (d)")
    return Decimal(duration.value) * factor


def _date_of(moment: Any) -> dt.date:
    if isinstance(moment, dt.datetime):
        return moment.date()  # the date where it was handed over, in its own offset
    if isinstance(moment, dt.date):
        return moment
    return dt.date.fromisoformat(str(moment)[:10])


def _text(value: Any) -> str:
    """A cell as the CSV would have it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float | int):
        number = Decimal(value)
        return str(int(number)) if number == number.to_integral_value() else str(number.normalize())
    return str(value)
