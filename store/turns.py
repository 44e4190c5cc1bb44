"""The read model of a dialog turn: who it is about, as plain values read at its start.

Every path that runs the dialog (an inbound text, a call, a scheduler send) reads the same four
things, with the patient's row locked: the store, the patient (with their enrollment), the
check-in and its conversation. The SMS webhook reads them as plain columns (building ORM
entities cost more than its query); the voice paths and the scheduler hold entities already
and convert them with `of`. The use cases (bot/outreach/) take only these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from store.models import (
    Checkin,
    CheckinForm,
    CheckinStatus,
    Conversation,
    Enrollment,
    Language,
    Patient,
    Store,
)


@dataclass(frozen=True)
class TurnStore:
    """The store a turn is about: its name and number for the texts, its form and hours."""

    id: int
    name: str
    phone: str
    timezone: str
    checkin_form: CheckinForm
    hours: str | None
    from_number: str | None
    messaging_service_sid: str | None

    @classmethod
    def of(cls, store: Store) -> TurnStore:
        return cls(
            store.id,
            store.name,
            store.phone,
            store.timezone,
            store.checkin_form,
            store.hours,
            store.from_number,
            store.messaging_service_sid,
        )


@dataclass(frozen=True)
class TurnEnrollment:
    anchor_date: dt.date
    checkin_form: CheckinForm | None  # the patient's own form; None: the store's

    @classmethod
    def of(cls, enrollment: Enrollment) -> TurnEnrollment:
        return cls(enrollment.anchor_date, enrollment.checkin_form)


@dataclass(frozen=True)
class TurnPatient:
    """The patient writing, called or texted, as read with the row locked.

    Writes go through the UPDATE functions of store/patients.py, by id; nobody else can change
    the row before the turn's transaction ends.
    """

    id: int
    store_id: int
    phone: str
    first_name: str
    language: Language
    phi_ok: bool
    opted_out_at: dt.datetime | None
    consent_date: dt.date | None
    enrollment: TurnEnrollment | None
    shared_phone: bool = False  # a household or caregiver: other patients have this number

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def contactable(self) -> bool:
        """Outreach may go to this patient: consent recorded and not opted out (SPEC 7)."""
        return self.consent_date is not None and not self.opted_out

    @classmethod
    def of(cls, patient: Patient, *, shared_phone: bool = False) -> TurnPatient:
        enrollment = patient.enrollment
        return cls(
            id=patient.id,
            store_id=patient.store_id,
            phone=patient.phone,
            first_name=patient.first_name,
            language=patient.language,
            phi_ok=patient.phi_ok,
            opted_out_at=patient.opted_out_at,
            consent_date=patient.consent_date,
            enrollment=TurnEnrollment.of(enrollment) if enrollment is not None else None,
            shared_phone=shared_phone,
        )


@dataclass(frozen=True)
class TurnCheckin:
    """A check-in as a turn reads it."""

    id: int
    status: CheckinStatus
    anchor_date: dt.date
    completed_at: dt.datetime | None

    @classmethod
    def of(cls, checkin: Checkin) -> TurnCheckin:
        return cls(checkin.id, checkin.status, checkin.anchor_date, checkin.completed_at)


@dataclass(frozen=True)
class TurnConversation:
    """A conversation as a turn reads it: its saved state and version."""

    id: int
    version: int
    data: dict[str, Any]

    @classmethod
    def of(cls, conversation: Conversation) -> TurnConversation:
        return cls(conversation.id, conversation.version, conversation.data)
