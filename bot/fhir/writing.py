"""`export-fhir --date`: one anchor date's check-in outcomes and fill decisions as a Bundle.

A `collection` Bundle, validated by the R4B models of fhir.resources before it is written.
For each patient due that day (store/day_records.py):

* the Patient and a MedicationRequest per medicine, in the shape `import-fhir` reads, so the
  Bundle stands on its own and importing it again changes nothing; each medicine's last fill
  is a completed MedicationDispense (its hand-over date, quantity and days supply);
* the check-in as a Task (code `checkin`): `businessStatus` is SPEC 5.5's status, `output`
  the topic summary of SPEC 6, `status` the nearest R4 Task status;
* a Communication for each of the patient's own messages of the check-in (the words, or the
  recording's URL for a voicemail), from the patient to the pharmacy;
* a Task per queue item (SPEC 5.6's kind as its code, `focus` the Communication of the words
  it came from, `partOf` the check-in's Task, urgent when high priority). Task rather than
  Flag: every item is work a pharmacist clears, and Task carries who claimed it and how it
  was resolved; Flag is a standing warning with none of that;
* the fill decision per maintenance medicine (SPEC 13's action) as a MedicationDispense:
  the fill-day list's action (bot/fills.py): `preparation` to fill or short-fill (with the
  quantity), `on-hold` with the reason when an open change item or a missing refill holds
  it; staff's fill state when they have worked the fill (`in-progress` prepared or ready,
  `completed` picked up or delivered, `on-hold`).
  A medicine not due that day has no dispense.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import fills
from bot.fhir import codes
from bot.summary import topic_summary
from store.day_records import PatientDay, patients_due
from store.models import (
    Channel,
    CheckinStatus,
    Delivery,
    FillState,
    Medicine,
    MedType,
    Patient,
    Priority,
    QueueItem,
    QueueStatus,
    Store,
)

_NAMESPACE = uuid.UUID("6f1f5b1e-2b7c-4d55-9a53-0c9a2f0f3b1d")  # fullUrls: stable per row
# SPEC 5.5 -> the nearest R4 Task status of the check-in.
_CHECKIN_TASK_STATUS = {
    CheckinStatus.SCHEDULED: "requested",
    CheckinStatus.IN_PROGRESS: "in-progress",
    CheckinStatus.CONFIRMED: "completed",
    CheckinStatus.FLAGGED: "completed",
    CheckinStatus.INCOMPLETE: "failed",
    CheckinStatus.UNREACHABLE: "failed",
    CheckinStatus.OPTED_OUT: "cancelled",
    CheckinStatus.EXPIRED: "failed",
}
_ITEM_TASK_STATUS = {
    QueueStatus.OPEN: "requested",
    QueueStatus.CLAIMED: "in-progress",
    QueueStatus.RESOLVED: "completed",
}
_FILL_DISPENSE_STATUS = {
    FillState.TO_PREPARE: "preparation",
    FillState.PREPARED: "in-progress",
    FillState.READY: "in-progress",
    FillState.PICKED_UP: "completed",
    FillState.DELIVERED: "completed",
    FillState.ON_HOLD: "on-hold",
}


@dataclass(frozen=True)
class FillDecision:
    """SPEC 13's action for one maintenance medicine on the fill day."""

    medicine: Medicine
    action: str  # fill | short_fill | hold | renewal_needed | not_due
    quantity: float | None
    days_supply: int | None
    reason: str


def day_bundle(
    session: Session, day: dt.date, now: dt.datetime, *, store_ids: Iterable[int] | None = None
) -> Bundle:
    """The Bundle of `day` for those stores (None: all), validated by the library."""
    stores = list(session.scalars(select(Store.id))) if store_ids is None else list(store_ids)
    # The fill decisions are the fill-day list's (bot/fills.py), so the export says what the
    # technicians' list says.
    rows = {row.enrollment_id: row for row in fills.fill_day(session, stores, day).rows}
    entries: list[dict[str, Any]] = []
    for due in patients_due(session, day, stores):
        enrollment = due.patient.enrollment
        row = rows.get(enrollment.id) if enrollment is not None else None
        entries.extend(_patient_entries(due, day, row))
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": now.isoformat(),
            "entry": entries,
        }
    )


def fill_decisions(due: PatientDay, row: fills.FillRow | None) -> list[FillDecision]:
    """Each maintenance medicine's action on the fill-day list's row of the patient."""
    if row is None:
        return []
    medicines = {medicine.id: medicine for medicine in due.patient.medicines}
    decisions = []
    for medicine_id, line in zip(row.medicine_ids, row.medicines, strict=True):
        medicine = medicines[medicine_id]
        # The list gives a quantity only to a short fill; any other is the usual quantity.
        quantity = medicine.quantity if line.quantity is None else line.quantity
        decision = FillDecision(
            medicine, line.action.value, quantity, line.days_supply, line.reason
        )
        decisions.append(decision)
    return decisions


def _ref(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{key}')}"


def _entry(resource: dict[str, Any], key: str) -> dict[str, Any]:
    kind = resource["resourceType"]
    return {"fullUrl": _ref(kind, key), "resource": {**resource, "id": f"{kind.lower()}-{key}"}}


def _patient_entries(
    due: PatientDay, day: dt.date, row: fills.FillRow | None
) -> list[dict[str, Any]]:
    patient = due.patient
    key = str(patient.id)
    patient_ref = {"reference": _ref("Patient", key), "display": patient.full_name}
    entries = [_entry(_patient(patient), key)]
    for medicine in patient.medicines:
        if _has_prescriber(medicine):
            entries.append(_entry(_prescriber(medicine), str(medicine.id)))
        entries.append(_entry(_request(medicine, patient_ref), str(medicine.id)))
        if medicine.last_fill_date is not None:
            entries.append(_entry(_last_fill(medicine, patient_ref), f"last-{medicine.id}"))
    checkin_ref = None
    if due.checkin is not None:
        checkin = due.checkin
        checkin_ref = {"reference": _ref("Task", f"checkin-{checkin.id}")}
        entries.append(_entry(_checkin_task(due, patient_ref), f"checkin-{checkin.id}"))
        for message in due.words:
            entries.append(_entry(_communication(message, patient_ref), str(message.id)))
    for item in due.items:
        task = _item_task(item, patient_ref, checkin_ref, {m.id for m in due.words})
        entries.append(_entry(task, f"item-{item.id}"))
    for decision in fill_decisions(due, row):
        if decision.action != "not_due":
            resource = _planned_dispense(decision, due, patient_ref)
            entries.append(_entry(resource, f"fill-{day.isoformat()}-{decision.medicine.id}"))
    return entries


def _ext(url: str, kind: str, value: object) -> dict[str, Any]:
    return {"url": url, kind: value}


def _patient(patient: Patient) -> dict[str, Any]:
    enrollment = patient.enrollment
    extensions = [
        _ext(codes.EXT_CHANNEL, "valueCode", patient.channel.value),
        _ext(codes.EXT_PHI_OK, "valueBoolean", patient.phi_ok),
        _ext(codes.EXT_DELIVERY, "valueCode", patient.delivery.value),
    ]
    if enrollment is not None:
        extensions += [
            _ext(codes.EXT_ANCHOR_DATE, "valueDate", enrollment.anchor_date.isoformat()),
            _ext(codes.EXT_CYCLE_DAYS, "valueInteger", enrollment.cycle_days),
        ]
    if patient.consent_date is not None:
        extensions.append(
            _ext(codes.EXT_CONSENT_DATE, "valueDate", patient.consent_date.isoformat())
        )
    if patient.timezone:
        extensions.append(_ext(codes.EXT_TIMEZONE, "valueCode", patient.timezone))
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [
            {
                "system": f"{codes.PATIENT_ID_SYSTEM}:{patient.store.code}",
                "value": patient.external_id,
                "type": {"coding": [{"system": codes.MR_TYPE_SYSTEM, "code": "MR"}]},
            }
        ],
        "active": not patient.opted_out,
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "telecom": [{"system": "phone", "value": patient.phone, "use": "mobile"}],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": patient.language.value}]
                },
                "preferred": True,
            }
        ],
        "extension": extensions,
    }
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def _number(value: float | int) -> Decimal | int:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else number


def _request(medicine: Medicine, patient_ref: dict[str, Any]) -> dict[str, Any]:
    supply: dict[str, Any] = {}
    if medicine.quantity is not None:
        supply["quantity"] = {"value": _number(medicine.quantity)}
    if medicine.days_supply is not None:
        supply["expectedSupplyDuration"] = _days(medicine.days_supply)
    if medicine.refills_remaining is not None:
        # Repeats left: with only the last fill in this Bundle, import reads them back as is.
        supply["numberOfRepeatsAllowed"] = medicine.refills_remaining
    dosage: dict[str, Any] = {}
    if medicine.med_type == MedType.PRN:
        dosage["asNeededBoolean"] = True
    if medicine.daily_dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": _number(medicine.daily_dose)}}]
        dosage["timing"] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": patient_ref,
        "medicationCodeableConcept": {"text": medicine.name},
        "extension": [
            _ext(codes.EXT_PACKAGE, "valueCode", medicine.package.value),
            _ext(codes.EXT_CONTROLLED, "valueBoolean", medicine.controlled),
        ],
    }
    if medicine.med_type == MedType.MAINTENANCE:
        resource["courseOfTherapyType"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "code": "continuous",
                }
            ]
        }
    if dosage:
        resource["dosageInstruction"] = [dosage]
    if supply:
        resource["dispenseRequest"] = supply
    if medicine.rx_number:
        resource["identifier"] = [{"system": codes.RX_NUMBER_SYSTEM, "value": medicine.rx_number}]
    if _has_prescriber(medicine):
        resource["requester"] = {
            "reference": _ref("Practitioner", str(medicine.id)),
            "display": medicine.prescriber_name,
        }
    return resource


def _has_prescriber(medicine: Medicine) -> bool:
    return any(
        (
            medicine.prescriber_name,
            medicine.prescriber_npi,
            medicine.prescriber_phone,
            medicine.prescriber_fax,
        )
    )


def _prescriber(medicine: Medicine) -> dict[str, Any]:
    """The prescriber as the medicine knows them (one per medicine: the PMS keys none)."""
    resource: dict[str, Any] = {"resourceType": "Practitioner"}
    if medicine.prescriber_name:
        resource["name"] = [{"text": medicine.prescriber_name}]
    if medicine.prescriber_npi:
        resource["identifier"] = [{"system": codes.NPI_SYSTEM, "value": medicine.prescriber_npi}]
    telecom = [
        {"system": system, "value": number}
        for system, number in (
            ("phone", medicine.prescriber_phone),
            ("fax", medicine.prescriber_fax),
        )
        if number
    ]
    if telecom:
        resource["telecom"] = telecom
    return resource


def _days(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}


def _dispense(medicine: Medicine, patient_ref: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "status": status,
        "subject": patient_ref,
        "medicationCodeableConcept": {"text": medicine.name},
        "authorizingPrescription": [{"reference": _ref("MedicationRequest", str(medicine.id))}],
    }


def _last_fill(medicine: Medicine, patient_ref: dict[str, Any]) -> dict[str, Any]:
    assert medicine.last_fill_date is not None
    resource = _dispense(medicine, patient_ref, "completed")
    resource["whenHandedOver"] = medicine.last_fill_date.isoformat()
    if medicine.quantity is not None:
        resource["quantity"] = {"value": _number(medicine.quantity)}
    if medicine.days_supply is not None:
        resource["daysSupply"] = _days(medicine.days_supply)
    return resource


def _planned_dispense(
    decision: FillDecision, due: PatientDay, patient_ref: dict[str, Any]
) -> dict[str, Any]:
    fill = due.fill
    if decision.action in ("hold", "renewal_needed"):
        status = "on-hold"
    elif fill is not None:
        status = _FILL_DISPENSE_STATUS[fill.state]
    else:
        status = "preparation"
    resource = _dispense(decision.medicine, patient_ref, status)
    resource["type"] = {
        "coding": [{"system": codes.FILL_ACTION_SYSTEM, "code": decision.action}],
        "text": decision.reason,
    }
    if status == "on-hold":
        reason = fill.note if fill is not None and fill.note else decision.reason
        resource["statusReasonCodeableConcept"] = {"text": reason}
    if decision.quantity is not None:
        resource["quantity"] = {"value": _number(decision.quantity)}
    if decision.days_supply is not None:
        resource["daysSupply"] = _days(decision.days_supply)
    if fill is not None:
        resource["extension"] = [_ext(codes.FILL_STATE_SYSTEM, "valueCode", fill.state.value)]
        if status == "completed" and fill.closed_at is not None:
            resource["whenHandedOver"] = fill.closed_at.isoformat()
    delivery = fill.delivery if fill is not None else due.patient.delivery
    if delivery == Delivery.DELIVERY:
        resource["destination"] = {"display": "the patient's home (delivery)"}
    if due.checkin is not None:
        resource["supportingInformation"] = [
            {"reference": _ref("Task", f"checkin-{due.checkin.id}")}
        ]
    return resource


def _checkin_task(due: PatientDay, patient_ref: dict[str, Any]) -> dict[str, Any]:
    checkin = due.checkin
    assert checkin is not None
    return {
        "resourceType": "Task",
        "status": _CHECKIN_TASK_STATUS[checkin.status],
        "businessStatus": {
            "coding": [{"system": codes.CHECKIN_STATUS_SYSTEM, "code": checkin.status.value}],
            "text": checkin.status.value,
        },
        "intent": "order",
        "code": {
            "coding": [{"system": codes.CHECKIN_TASK_SYSTEM, "code": "checkin"}],
            "text": f"refill check-in for {checkin.anchor_date.isoformat()}",
        },
        "for": patient_ref,
        "authoredOn": checkin.created_at.isoformat(),
        "lastModified": checkin.updated_at.isoformat(),
        "executionPeriod": {"end": checkin.anchor_date.isoformat()},
        "output": [
            {
                "type": {"coding": [{"system": codes.TOPIC_SYSTEM, "code": topic}]},
                "valueCode": state,
            }
            for topic, state in topic_summary(checkin.topics).items()
        ],
    }


def _communication(message: Any, patient_ref: dict[str, Any]) -> dict[str, Any]:
    payload: list[dict[str, Any]] = []
    if message.body:
        payload.append({"contentString": message.body})
    if message.recording_url:
        payload.append(
            {"contentAttachment": {"url": message.recording_url, "contentType": "audio/mpeg"}}
        )
    channel = Channel(message.channel)
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "status": "completed",
        "subject": patient_ref,
        "sender": patient_ref,
        "sent": message.created_at.isoformat(),
        "medium": [{"coding": [{"system": codes.CHANNEL_SYSTEM, "code": channel.value}]}],
    }
    if payload:  # a call with neither words nor a recording has none (FHIR has no empty text)
        resource["payload"] = payload
    if message.checkin_id is not None:
        resource["partOf"] = [{"reference": _ref("Task", f"checkin-{message.checkin_id}")}]
    return resource


def _item_task(
    item: QueueItem,
    patient_ref: dict[str, Any],
    checkin_ref: dict[str, Any] | None,
    words: set[int],
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "status": _ITEM_TASK_STATUS[item.status],
        "businessStatus": {"text": item.status.value},
        "intent": "order",
        "priority": "urgent" if item.priority <= int(Priority.HIGH) else "routine",
        "code": {
            "coding": [{"system": codes.QUEUE_KIND_SYSTEM, "code": item.kind.value}],
            "text": item.kind.value.replace("_", " "),
        },
        "for": patient_ref,
        "authoredOn": item.created_at.isoformat(),
    }
    if item.reason:
        resource["description"] = item.reason
    if item.message_id in words:
        resource["focus"] = {"reference": _ref("Communication", str(item.message_id))}
    if checkin_ref is not None:
        resource["partOf"] = [checkin_ref]
    if item.resolution_note:
        resource["note"] = [{"text": item.resolution_note}]
    if item.text and item.message_id not in words:
        resource["input"] = [{"type": {"text": "the patient's words"}, "valueString": item.text}]
    if item.anchor_date is not None:
        resource["restriction"] = {"period": {"end": item.anchor_date.isoformat()}}
    return resource
