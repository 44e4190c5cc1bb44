"""Demo data: a store and a dozen patients that exercise every path, made through the real code.

Some medicines have no refills left: the scheduler's first pass queues their renewal requests
(scheduler/renewals.py), as it would for an imported patient.

Conversations are not faked: first texts go through `outreach.send_checkin_sms` (with a quiet
console transport) and the patients' answers through `outreach.handle_inbound_sms`, the same
function the SMS webhook calls. So the queue items, statuses and transcripts the demo shows are
exactly what real traffic would produce.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.security import hash_password
from bot.transports.base import Sender
from bot.transports.console import ConsoleTransport
from store import messages, queue, staff
from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Direction,
    Enrollment,
    Language,
    Medicine,
    MedType,
    Package,
    Patient,
    Purpose,
    QueueKind,
    Role,
    Store,
)

DEMO_EMAIL = "pharmacist@demo.example"
DEMO_NUMBER = "+12025550100"  # the demo store's (fictional) Twilio number
DEMO_HOURS = "Mon-Fri 09:00-19:00, Sat 09:00-14:00"


# Who prescribed the demo's medicines, for the renewal requests (SPEC 13): name, NPI (valid
# check digits, fictional people), phone, fax.
PRESCRIBERS = {
    "rivera": ("Dr. Sofia Rivera", "1234567893", "+12025550170", "+12025550171"),
    "chen": ("Dr. Wei Chen", "1245319599", "+12025550172", "+12025550173"),
}
REFILLS = 3  # on a demo medicine, unless the patient's `no_refills` names it


STANDARD_MEDS = (
    ("Metformin 500 mg", MedType.MAINTENANCE),
    ("Lisinopril 10 mg", MedType.MAINTENANCE),
)


@dataclass(frozen=True)
class DemoPatient:
    """A demo patient and what happens to them."""

    key: str
    first: str
    last: str
    phone: str
    days_to_anchor: int
    replies: tuple[str, ...] = ()  # answered through the real dialog, in order
    language: Language = Language.EN
    channel: Channel = Channel.SMS
    started: bool = True  # first text already sent
    consent: bool = True
    twilio_error: int | None = None  # a status callback with this error after the first text
    prescriber: str = "rivera"  # a key of PRESCRIBERS
    no_refills: tuple[str, ...] = ()  # medicines out of refills: a renewal request to send
    meds: tuple[tuple[str, MedType], ...] = field(
        default=(
            ("Metformin 500 mg", MedType.MAINTENANCE),
            ("Lisinopril 10 mg", MedType.MAINTENANCE),
        )
    )


# The quick form (SPEC 6, the store's default): one question; "no" confirms in one reply, and
# patients write what is new in their own words, which the reader files by topic.
PATIENTS = (
    DemoPatient("D01", "Ana", "Lopez", "+12025550101", 7, started=False),
    DemoPatient(
        "D02", "Ben", "Carter", "+12025550102", 6, replies=("no",), no_refills=("Lisinopril 10 mg",)
    ),
    DemoPatient(
        "D03",
        "Carmen",
        "Ruiz",
        "+12025550103",
        6,
        language=Language.ES,
        replies=("el doctor me cambio la dosis de la metformina", "no gracias"),
    ),
    DemoPatient(
        "D04",
        "Dave",
        "Nguyen",
        "+12025550104",
        5,
        replies=("I keep forgetting my evening dose, and I need my inhaler", "thats all"),
        meds=(("Atorvastatin 20 mg", MedType.MAINTENANCE), ("Albuterol HFA", MedType.PRN)),
    ),
    DemoPatient(
        "D05",
        "Elena",
        "Smith",
        "+12025550105",
        5,
        replies=("No changes. I was in the ER on Sunday for chest pain though",),
    ),
    DemoPatient(
        "D06",
        "Frank",
        "Olsen",
        "+12025550106",
        4,
        replies=("Can I take my lisinopril with ibuprofen?", "no"),
        prescriber="chen",
        no_refills=("Metformin 500 mg",),
    ),
    DemoPatient("D07", "Grace", "Kim", "+12025550107", 4, replies=("call me please",)),
    DemoPatient("D08", "Hector", "Diaz", "+12025550108", 3, replies=("blue", "maybe tuesday")),
    DemoPatient("D09", "Irene", "Walsh", "+12025550109", 6, replies=("STOP",)),
    DemoPatient("D10", "Jack", "Brown", "+12025550110", 7, channel=Channel.VOICE, started=False),
    DemoPatient(
        "D11",
        "Luis",
        "Moreno",
        "+12025550111",
        5,
        language=Language.ES,
        twilio_error=21614,
        replies=(),
    ),
    DemoPatient(
        "D12",
        "Maria",
        "Rossi",
        "+12025550112",
        5,
        replies=("nope, all good",),
        no_refills=("Metformin 500 mg",),
    ),
    DemoPatient("D13", "Ned", "Park", "+12025550113", 2),
    DemoPatient("D14", "Olga", "Petrov", "+12025550114", 12, consent=False, started=False),
    DemoPatient(
        "D15", "Paul", "Quinn", "+12025550115", 5, replies=("I stopped taking the metformin",)
    ),
)


def demo_loaded(session: Session, store: Store) -> bool:
    """Tell whether the demo patients are already in `store`."""
    return (
        session.scalars(
            select(Patient.id).where(Patient.store_id == store.id, Patient.external_id == "D01")
        ).first()
        is not None
    )


def load_demo(session: Session, store: Store, now: dt.datetime, base_url: str) -> str:
    """Create the demo patients and staff login in `store`; return the login's password.

    Idempotent for the patients (a second run adds none); the password is new each time.
    """
    if store.from_number is None and store.messaging_service_sid is None:
        store.from_number = DEMO_NUMBER
    if store.hours is None:  # so "press 0" rings the (demo) pharmacy in the daytime
        store.hours = DEMO_HOURS
    password = secrets.token_urlsafe(9)
    staff.upsert_user(session, DEMO_EMAIL, Role.PHARMACIST, [store], hash_password(password))
    session.commit()
    if demo_loaded(session, store):
        return password
    today = now.astimezone(ZoneInfo(store.timezone)).date()
    quiet = ConsoleTransport(stream=io.StringIO())
    defaults = outreach.Defaults(store.code, Sender(store.from_number))
    urls = outreach.Urls(base_url)
    for spec in PATIENTS:
        checkin = _add_patient(session, store, spec, today)
        session.commit()
        if checkin is None or not spec.started:
            continue
        outreach.send_checkin_sms(
            session, checkin, Purpose.FIRST, now, transport=quiet, urls=urls, defaults=defaults
        )
        for reply in spec.replies:
            sms = outreach.InboundSms(
                sid="SM" + uuid.uuid4().hex,
                from_number=spec.phone,
                to_number=store.from_number or DEMO_NUMBER,
                body=reply,
            )
            outreach.handle_inbound_sms(session, sms, now, defaults)
            session.commit()
        if spec.twilio_error is not None:
            sent = quiet.sent[-1]
            outreach.handle_message_status(session, sent.sid, "undelivered", spec.twilio_error, now)
            session.commit()
    _mark_unreachable(session, store)
    session.commit()
    return password


def _add_patient(
    session: Session, store: Store, spec: DemoPatient, today: dt.date
) -> Checkin | None:
    patient = Patient(
        store_id=store.id,
        external_id=spec.key,
        first_name=spec.first,
        last_name=spec.last,
        phone=spec.phone,
        language=spec.language,
        channel=spec.channel,
        consent_date=today - dt.timedelta(days=200) if spec.consent else None,
        birth_date=dt.date(1938 + int(spec.key[1:]) * 2, 1 + int(spec.key[1:]) % 12, 9),
    )
    prescriber, npi, prescriber_phone, prescriber_fax = PRESCRIBERS[spec.prescriber]
    anchor = today + dt.timedelta(days=spec.days_to_anchor)
    patient.enrollment = Enrollment(anchor_date=anchor, cycle_days=30)
    patient.medicines = [
        Medicine(
            name=name,
            med_type=kind,
            days_supply=30 if kind is MedType.MAINTENANCE else None,
            last_fill_date=anchor - dt.timedelta(days=30),
            quantity=30 if kind is MedType.MAINTENANCE else 1,
            daily_dose=1 if kind is MedType.MAINTENANCE else None,
            package=Package.WHOLE if kind is MedType.PRN else Package.SPLITTABLE,
            refills_remaining=0 if name in spec.no_refills else REFILLS,
            rx_number=f"{6100000 + int(spec.key[1:]) * 10 + n}",
            prescriber_name=prescriber,
            prescriber_npi=npi,
            prescriber_phone=prescriber_phone,
            prescriber_fax=prescriber_fax,
        )
        for n, (name, kind) in enumerate(spec.meds)
    ]
    session.add(patient)
    session.flush()
    if spec.days_to_anchor > store.lead_days:
        return None  # not due yet: the scheduler creates its check-in when it is
    checkin = Checkin(
        enrollment_id=patient.enrollment.id,
        patient_id=patient.id,
        store_id=store.id,
        anchor_date=anchor,
        channel=spec.channel,
        next_attempt_at=None if spec.started else dt.datetime.now(dt.UTC),
    )
    session.add(checkin)
    session.flush()
    return checkin


def _mark_unreachable(session: Session, store: Store) -> None:
    """Ned never answered his text, reminder or call: the state the scheduler leaves at T-3."""
    ned = session.scalars(
        select(Patient).where(Patient.store_id == store.id, Patient.external_id == "D13")
    ).one()
    checkin = session.scalars(select(Checkin).where(Checkin.patient_id == ned.id)).one()
    checkin.status = CheckinStatus.UNREACHABLE
    checkin.next_attempt_at = None
    queue.add_item(
        session,
        kind=QueueKind.UNREACHABLE,
        store_id=store.id,
        patient=ned,
        checkin=checkin,
        text="No answer to the text, the reminder or the call before the fill; please call.",
    )
    messages.record(
        session,
        store_id=store.id,
        patient_id=ned.id,
        checkin_id=checkin.id,
        direction=Direction.OUTBOUND,
        channel=Channel.VOICE,
        purpose=Purpose.CALL,
        from_number=store.from_number or DEMO_NUMBER,
        to_number=ned.phone,
        body=None,
        status="no-answer",
    )
