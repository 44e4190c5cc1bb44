"""The systems, codes and extensions of our Bundles (documented in the README, "FHIR").

SPEC 5.4's columns that FHIR has no element for (the anchor date and cycle, consent, channel,
medicine-name permission, delivery, whole packages, controlled substances) travel as
extensions under our own URN, so they survive a round trip; the patient's time zone uses
HL7's own extension.
"""

from __future__ import annotations

BASE = "urn:medsync-bot"
# Patient.identifier: the pharmacy's own patient id (5.4's patient_id), one system per store.
PATIENT_ID_SYSTEM = f"{BASE}:patient-id"  # + ":" + store code
MR_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"  # type code "MR": record number

EXT_ANCHOR_DATE = f"{BASE}:anchor-date"  # Patient, valueDate (required)
EXT_CYCLE_DAYS = f"{BASE}:cycle-days"  # Patient, valueInteger
EXT_CONSENT_DATE = f"{BASE}:consent-date"  # Patient, valueDate
EXT_CHANNEL = f"{BASE}:channel"  # Patient, valueCode sms | voice
EXT_PHI_OK = f"{BASE}:phi-ok"  # Patient, valueBoolean: medicine names allowed in texts
EXT_DELIVERY = f"{BASE}:delivery"  # Patient, valueCode pickup | delivery
EXT_TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"  # Patient, valueCode (IANA)
EXT_PACKAGE = f"{BASE}:package"  # MedicationRequest, valueCode splittable | whole
EXT_CONTROLLED = f"{BASE}:controlled"  # MedicationRequest, valueBoolean

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
RX_NUMBER_SYSTEM = f"{BASE}:rx-number"

# Export: what the codes of our Tasks and Communications mean.
CHECKIN_TASK_SYSTEM = f"{BASE}:task"  # code "checkin": the refill check-in of an anchor date
QUEUE_KIND_SYSTEM = f"{BASE}:queue-kind"  # SPEC 5.6's kinds
CHECKIN_STATUS_SYSTEM = f"{BASE}:checkin-status"  # SPEC 5.5's statuses (Task.businessStatus)
TOPIC_SYSTEM = f"{BASE}:topic"  # SPEC 6's topics (Task.output)
CHANNEL_SYSTEM = f"{BASE}:channel"  # Communication.medium
FILL_ACTION_SYSTEM = f"{BASE}:fill-action"  # SPEC 13's actions (MedicationDispense.type)
FILL_STATE_SYSTEM = f"{BASE}:fill-state"  # SPEC 13's fill states

# R4 value sets of the statuses we read and write.
MEDICATION_REQUEST_CURRENT = frozenset({"active", "on-hold"})
MEDICATION_REQUEST_STATUSES = MEDICATION_REQUEST_CURRENT | {
    "cancelled",
    "completed",
    "entered-in-error",
    "stopped",
    "draft",
    "unknown",
}
DISPENSE_STATUSES = frozenset(
    {
        "preparation",
        "in-progress",
        "cancelled",
        "on-hold",
        "completed",
        "entered-in-error",
        "stopped",
        "declined",
        "unknown",
    }
)
TASK_STATUSES = frozenset(
    {
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    }
)
