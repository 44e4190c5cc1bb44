"""Demo-like data for the browser tests and the screenshots: one store, a handful of patients
with English and Spanish transcripts, and queue items of several kinds.

Dates are relative to `today` so that the upcoming-fills page (which starts today) shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from store import messages, queue
from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Direction,
    Enrollment,
    Language,
    Medicine,
    MedType,
    Patient,
    Purpose,
    QueueKind,
    Role,
    Store,
    utcnow,
)
from tests.workspace_helpers import make_user

PHARMACY = "Main Street Pharmacy"
STORE_NUMBER = "+12025550100"
CALLBACK = "(202) 555-0199"
PHARMACIST = "rivera@mainstreetrx.example"

# Who says what: (direction, purpose, words). Outbound texts are prefixed with the pharmacy.
Turn = tuple[Direction, Purpose | None, str]
OUT, IN = Direction.OUTBOUND, Direction.INBOUND


@dataclass
class Demo:
    store: Store
    patients: dict[str, Patient] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)


def _patient(
    session: Session,
    store: Store,
    external_id: str,
    name: str,
    phone: str,
    anchor: dt.date,
    medicines: list[tuple[str, MedType]],
    *,
    language: Language = Language.EN,
    channel: Channel = Channel.SMS,
    status: CheckinStatus = CheckinStatus.FLAGGED,
    attempts: int = 1,
) -> tuple[Patient, Checkin]:
    first, last = name.split(" ", 1)
    patient = Patient(
        store_id=store.id,
        external_id=external_id,
        first_name=first,
        last_name=last,
        phone=phone,
        language=language,
        channel=channel,
        consent_date=dt.date(2026, 1, 15),
    )
    patient.enrollment = Enrollment(anchor_date=anchor, cycle_days=30)
    # Maintenance medicines were last filled 30 days before the anchor, bar the second one,
    # filled later: the sync plan then shows one in step and one that needs a short fill.
    patient.medicines = [
        Medicine(
            name=med,
            med_type=kind,
            days_supply=30 if kind is MedType.MAINTENANCE else None,
            last_fill_date=anchor - dt.timedelta(days=30 - 8 * (n == 1))
            if kind is MedType.MAINTENANCE
            else None,
            daily_dose=1.0 if kind is MedType.MAINTENANCE else None,
        )
        for n, (med, kind) in enumerate(medicines)
    ]
    session.add(patient)
    session.flush()
    assert patient.enrollment is not None
    checkin = Checkin(
        enrollment_id=patient.enrollment.id,
        patient_id=patient.id,
        store_id=store.id,
        anchor_date=anchor,
        channel=channel,
        status=status,
        attempts=attempts,
    )
    session.add(checkin)
    session.flush()
    return patient, checkin


def _transcript(
    session: Session,
    patient: Patient,
    checkin: Checkin,
    start: dt.datetime,
    turns: list[Turn],
) -> int:
    """Record the turns a minute or two apart; return the id of the last inbound message."""
    last_inbound = 0
    for n, (direction, purpose, words) in enumerate(turns):
        outbound = direction is OUT
        last = messages.record(
            session,
            now=start + dt.timedelta(minutes=2 * n),
            store_id=patient.store_id,
            patient_id=patient.id,
            checkin_id=checkin.id,
            direction=direction,
            channel=Channel.SMS,
            purpose=purpose,
            from_number=STORE_NUMBER if outbound else patient.phone,
            to_number=patient.phone if outbound else STORE_NUMBER,
            body=f"{PHARMACY}: {words}" if outbound else words,
            status="delivered" if outbound else "received",
        )
        if not outbound:
            last_inbound = last
    return last_inbound


def seed_demo(session: Session, today: dt.date, now: dt.datetime | None = None) -> Demo:
    """Create the demo store, staff, patients, transcripts and queue items; commit."""
    now = now or utcnow()
    morning = now - dt.timedelta(hours=2)
    store = Store(
        code="main",
        name=PHARMACY,
        phone="+12025550199",
        timezone="America/New_York",
        from_number=STORE_NUMBER,
    )
    session.add(store)
    session.flush()
    demo = Demo(store)
    make_user(session, PHARMACIST, Role.PHARMACIST, store)
    make_user(session, "kim@mainstreetrx.example", Role.TECHNICIAN, store)
    day = dt.timedelta(days=1)

    maria, c_maria = _patient(
        session,
        store,
        "100234",
        "María González",
        "+12025550111",
        today + 2 * day,
        [("Lisinopril 10 mg", MedType.MAINTENANCE), ("Metformin 500 mg", MedType.MAINTENANCE)],
        language=Language.ES,
    )
    words = "Mi doctor me cambio el lisinopril a 20 mg la semana pasada"
    said = _transcript(
        session,
        maria,
        c_maria,
        morning,
        [
            (
                OUT,
                Purpose.FIRST,
                "Hola Maria. Resurtido: ¿Medicinas o dosis nuevas, suspendidas o "
                "cambiadas? Responda SI o NO. Tel (202) 555-0199. ALTO para no recibir mas.",
            ),
            (IN, None, "Si"),
            (OUT, Purpose.REPLY, "¿Que cambio? Responda en pocas palabras."),
            (IN, None, words),
            (
                OUT,
                Purpose.REPLY,
                "¿Olvido dosis, efectos secundarios, pastillas de sobra o "
                "problemas al tomarlas? Responda SI o NO.",
            ),
            (IN, None, "No"),
            (
                OUT,
                Purpose.REPLY,
                "¡Gracias! Un farmaceutico revisara sus respuestas antes de "
                f"recoger el {(today + 2 * day):%d/%m}. Dudas? Llame al {CALLBACK}.",
            ),
        ],
    )
    demo.patients["maria"] = maria
    demo.items["med_change"] = queue.add_item(
        session,
        kind=QueueKind.MED_CHANGE,
        store_id=store.id,
        patient=maria,
        checkin=c_maria,
        message_id=said,
        text=words,
    )

    james, c_james = _patient(
        session,
        store,
        "100871",
        "James Okafor",
        "+12025550122",
        today + 2 * day,
        [
            ("Atorvastatin 40 mg", MedType.MAINTENANCE),
            ("Amlodipine 5 mg", MedType.MAINTENANCE),
            ("Nitroglycerin 0.4 mg SL", MedType.PRN),
        ],
    )
    words = "I was in the ER on Saturday for chest pain, they kept me overnight"
    said = _transcript(
        session,
        james,
        c_james,
        morning + dt.timedelta(minutes=20),
        [
            (
                OUT,
                Purpose.FIRST,
                "Hi James! Refill check: Any new, stopped or changed medicines "
                f"or doses? Reply YES or NO. Call {CALLBACK}. Reply STOP to opt out.",
            ),
            (IN, None, "no"),
            (
                OUT,
                Purpose.REPLY,
                "Any missed doses, side effects, leftover pills or trouble "
                "taking them? Reply YES or NO.",
            ),
            (IN, None, "No"),
            (
                OUT,
                Purpose.REPLY,
                "Need any as-needed items this time, like an inhaler or test "
                "strips? Reply YES or NO.",
            ),
            (IN, None, "no thanks"),
            (
                OUT,
                Purpose.REPLY,
                "Any hospital or ER stay, or a new health condition? Reply YES or NO.",
            ),
            (IN, None, "yes"),
            (OUT, Purpose.REPLY, "What happened? Please reply in a few words."),
            (IN, None, words),
        ],
    )
    demo.patients["james"] = james
    demo.items["health_change"] = queue.add_item(
        session,
        kind=QueueKind.HEALTH_CHANGE,
        store_id=store.id,
        patient=james,
        checkin=c_james,
        message_id=said,
        text=words,
        priority=1,
    )

    dorothy, c_dorothy = _patient(
        session,
        store,
        "100412",
        "Dorothy Williams",
        "+12025550133",
        today + 3 * day,
        [
            ("Metformin 1000 mg", MedType.MAINTENANCE),
            ("Glipizide 5 mg", MedType.MAINTENANCE),
            ("Test strips (OneTouch)", MedType.PRN),
            ("Lancets", MedType.PRN),
        ],
    )
    words = "Yes test strips and lancets please"
    said = _transcript(
        session,
        dorothy,
        c_dorothy,
        morning + dt.timedelta(minutes=45),
        [
            (
                OUT,
                Purpose.FIRST,
                "Hi Dorothy! Refill check: Any new, stopped or changed medicines "
                f"or doses? Reply YES or NO. Call {CALLBACK}. Reply STOP to opt out.",
            ),
            (IN, None, "NO"),
            (
                OUT,
                Purpose.REPLY,
                "Need any as-needed items this time, like an inhaler or test "
                "strips? Reply YES or NO.",
            ),
            (IN, None, "YES"),
            (OUT, Purpose.REPLY, "Which items do you need? Please reply in a few words."),
            (IN, None, words),
        ],
    )
    demo.patients["dorothy"] = dorothy
    demo.items["prn_need"] = queue.add_item(
        session,
        kind=QueueKind.PRN_NEED,
        store_id=store.id,
        patient=dorothy,
        checkin=c_dorothy,
        message_id=said,
        text=words,
    )
    words = "I skip the glipizide some mornings when I don't eat breakfast"
    demo.items["adherence"] = queue.add_item(
        session,
        kind=QueueKind.ADHERENCE,
        store_id=store.id,
        patient=dorothy,
        checkin=c_dorothy,
        text=words,
    )

    lucia, c_lucia = _patient(
        session,
        store,
        "100958",
        "Lucía Ramírez",
        "+12025550144",
        today + 4 * day,
        [("Losartan 50 mg", MedType.MAINTENANCE), ("Levothyroxine 75 mcg", MedType.MAINTENANCE)],
        language=Language.ES,
    )
    words = "¿Puedo tomar ibuprofeno con mi pastilla de la presion?"
    _transcript(
        session,
        lucia,
        c_lucia,
        morning + dt.timedelta(minutes=70),
        [
            (
                OUT,
                Purpose.REPLY,
                "¿Tiene otra pregunta para el farmaceutico? Escribala aqui, o responda NO.",
            ),
            (IN, None, words),
        ],
    )
    demo.patients["lucia"] = lucia
    demo.items["concern"] = queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=store.id,
        patient=lucia,
        checkin=c_lucia,
        text=words,
    )

    frank, c_frank = _patient(
        session,
        store,
        "100377",
        "Frank Miller",
        "+12025550155",
        today + 5 * day,
        [("Warfarin 5 mg", MedType.MAINTENANCE), ("Furosemide 20 mg", MedType.MAINTENANCE)],
        channel=Channel.VOICE,
        status=CheckinStatus.UNREACHABLE,
        attempts=2,
    )
    demo.patients["frank"] = frank
    demo.items["unreachable"] = queue.add_item(
        session,
        kind=QueueKind.UNREACHABLE,
        store_id=store.id,
        patient=frank,
        checkin=c_frank,
        text="No answer to 2 calls",
    )

    grace, c_grace = _patient(
        session,
        store,
        "100502",
        "Grace Thompson",
        "+12025550166",
        today + 6 * day,
        [("Sertraline 50 mg", MedType.MAINTENANCE)],
    )
    words = "Can someone call me about my insurance card"
    demo.patients["grace"] = grace
    demo.items["callback"] = queue.add_item(
        session,
        kind=QueueKind.CALLBACK_REQUEST,
        store_id=store.id,
        patient=grace,
        checkin=c_grace,
        text=words,
    )

    # Patients with nothing to clear: confirmed or still waiting, for the upcoming-fills page.
    for n, (name, phone, offset, status, lang) in enumerate(
        [
            ("Harold Brooks", "+12025550177", 2, CheckinStatus.CONFIRMED, Language.EN),
            ("Rosa Delgado", "+12025550188", 3, CheckinStatus.CONFIRMED, Language.ES),
            ("Evelyn Park", "+12025550112", 4, CheckinStatus.IN_PROGRESS, Language.EN),
            ("Walter Nguyen", "+12025550113", 6, CheckinStatus.SCHEDULED, Language.EN),
            ("Carmen Ortiz", "+12025550114", 8, CheckinStatus.SCHEDULED, Language.ES),
        ]
    ):
        _patient(
            session,
            store,
            f"1011{n:02d}",
            name,
            phone,
            today + offset * day,
            [("Simvastatin 20 mg", MedType.MAINTENANCE)],
            language=lang,
            status=status,
            attempts=0 if status is CheckinStatus.SCHEDULED else 1,
        )
    session.commit()
    return demo
