"""A small seeded API: a store, a pharmacist's token, a patient with a check-in, messages and
queue items, so the described answers are real ones (not only 401s and 404s)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from store import messages, queue
from store.models import Channel, Direction, Patient, QueueKind, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import make_user


@dataclass(frozen=True)
class Seeded:
    token: str  # a pharmacist's
    colleague_token: str  # a technician's, of the same store
    item_ids: list[int]
    checkin_id: int
    patient_id: str
    anchor_date: str


def seed(session: Session) -> Seeded:
    store = make_store(session)
    patient = make_patient(session, store, "P1")
    make_patient(session, store, "P2", first_name="Bob", phone="+12025550177")
    # P3 is not enrolled: an enrollment change without an anchor date is refused (409).
    session.add(
        Patient(
            store_id=store.id,
            external_id="P3",
            first_name="Cy",
            last_name="Doe",
            phone="+12025550188",
        )
    )
    checkin = make_checkin(session, patient)
    item_ids = [
        queue.add_item(
            session, kind=kind, store_id=store.id, patient=patient, checkin=checkin, text=words
        )
        for kind, words in (
            (QueueKind.MED_CHANGE, "my doctor doubled the metformin"),
            (QueueKind.PRN_NEED, "test strips"),
            (QueueKind.HEALTH_CHANGE, "I was in the ER"),
        )
    ]
    messages.record(
        session,
        store_id=store.id,
        patient_id=patient.id,
        direction=Direction.INBOUND,
        channel=Channel.SMS,
        from_number=patient.phone,
        to_number="+12025550100",
        body="yes",
        status="received",
        twilio_sid="SMcontract1",
    )
    token = make_user(session, "pharm@main.org", Role.PHARMACIST, store)
    colleague = make_user(session, "tech@main.org", Role.TECHNICIAN, store)
    assert patient.enrollment is not None
    seeded = Seeded(
        token,
        colleague,
        item_ids,
        checkin.id,
        patient.external_id,
        patient.enrollment.anchor_date.isoformat(),
    )
    session.commit()
    return seeded
