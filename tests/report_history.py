"""A small, hand-checkable history of one store for the program report tests (November 2026).

The figures each test expects are worked out by hand in EXPECTED, from the events below, not
from the code under test. Times are 15:00 UTC (10:00 in New York) unless a test is about the
edge of a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from store import messages
from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Direction,
    Fill,
    FillState,
    Language,
    Patient,
    Purpose,
    QueueItem,
    QueueKind,
    QueueStatus,
    Store,
)
from tests.factories import STORE_NUMBER, make_patient

NOV_FROM, NOV_TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
LONG_AGO = dt.datetime(2026, 3, 1, 15, tzinfo=dt.UTC)


def at(month: int, day: int, hour: int = 15, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def _patient(session: Session, store: Store, pid: str, created: dt.datetime, **kw: Any) -> Patient:
    patient = make_patient(session, store, pid, phone=f"+1202555{int(pid[1:]):04d}", **kw)
    assert patient.enrollment is not None
    patient.enrollment.created_at = created
    return patient


def send(
    session: Session,
    patient: Patient,
    when: dt.datetime,
    purpose: Purpose,
    status: str,
    *,
    checkin: Checkin | None = None,
    channel: Channel = Channel.SMS,
) -> None:
    messages.record(
        session,
        now=when,
        store_id=patient.store_id,
        patient_id=patient.id,
        checkin_id=checkin.id if checkin else None,
        direction=Direction.OUTBOUND,
        channel=channel,
        purpose=purpose,
        from_number=STORE_NUMBER,
        to_number=patient.phone,
        body=None if channel is Channel.VOICE else "Main Street Pharmacy: refill check",
        status=status,
    )


def _answer(
    session: Session,
    patient: Patient,
    when: dt.datetime,
    body: str,
    *,
    checkin: Checkin | None = None,
    channel: Channel = Channel.SMS,
) -> None:
    messages.record(
        session,
        now=when,
        store_id=patient.store_id,
        patient_id=patient.id,
        checkin_id=checkin.id if checkin else None,
        direction=Direction.INBOUND,
        channel=channel,
        from_number=patient.phone,
        to_number=STORE_NUMBER,
        body=body,
        status="received",
    )


def _checkin(session: Session, patient: Patient, anchor: dt.date, status: CheckinStatus) -> Checkin:
    assert patient.enrollment is not None
    checkin = Checkin(
        enrollment_id=patient.enrollment.id,
        patient_id=patient.id,
        store_id=patient.store_id,
        anchor_date=anchor,
        channel=patient.channel,
        status=status,
    )
    session.add(checkin)
    session.flush()
    return checkin


def _item(
    session: Session,
    checkin: Checkin,
    kind: QueueKind,
    raised: dt.datetime,
    resolved: dt.datetime | None = None,
) -> None:
    session.add(
        QueueItem(
            store_id=checkin.store_id,
            patient_id=checkin.patient_id,
            checkin_id=checkin.id,
            kind=kind,
            anchor_date=checkin.anchor_date,
            created_at=raised,
            status=QueueStatus.RESOLVED if resolved else QueueStatus.OPEN,
            resolved_at=resolved,
        )
    )


def _fill(session: Session, patient: Patient, anchor: dt.date, closed: dt.datetime) -> None:
    assert patient.enrollment is not None
    session.add(
        Fill(
            store_id=patient.store_id,
            patient_id=patient.id,
            enrollment_id=patient.enrollment.id,
            anchor_date=anchor,
            state=FillState.PICKED_UP,
            closed_at=closed,
        )
    )


def seed_november(session: Session, store: Store) -> dict[str, Patient]:
    """Ten patients of `store` and what happened to them around November 2026."""
    six_months, a_year = dt.timedelta(days=182), dt.timedelta(days=365)
    p1 = _patient(session, store, "P1", at(11, 10) - six_months)  # 6-month mark Nov 10, stays
    p2 = _patient(session, store, "P2", at(11, 15) - six_months)  # 6-month mark Nov 15, left
    p2.enrollment.active = False  # type: ignore[union-attr]
    p2.enrollment.disenrolled_at = p2.enrollment.created_at + dt.timedelta(days=100)  # type: ignore[union-attr]
    p2.enrollment.disenroll_reason = "prefers to phone"  # type: ignore[union-attr]
    p3 = _patient(  # 12-month mark Nov 20, stays; Spanish, by phone call
        session, store, "P3", at(11, 20) - a_year, language=Language.ES, channel=Channel.VOICE
    )
    p4 = _patient(session, store, "P4", LONG_AGO)
    p4.enrollment.active = False  # type: ignore[union-attr]
    p4.enrollment.disenrolled_at = at(11, 12)  # type: ignore[union-attr]
    p4.enrollment.disenroll_reason = "moved away"  # type: ignore[union-attr]
    p5 = _patient(session, store, "P5", LONG_AGO)
    p6 = _patient(session, store, "P6", LONG_AGO, language=Language.ES)
    p7 = _patient(session, store, "P7", LONG_AGO)
    p8 = _patient(session, store, "P8", at(11, 5), consent_date=dt.date(2026, 11, 5))
    p9 = _patient(session, store, "P9", at(11, 25), consent_date=dt.date(2026, 11, 25))
    _patient(session, store, "P10", at(11, 26), consent_date=None)  # never consented

    # P1, text: answered NO, confirmed; picked up on the anchor date.
    c1 = _checkin(session, p1, dt.date(2026, 11, 20), CheckinStatus.CONFIRMED)
    send(session, p1, at(11, 13), Purpose.FIRST, "delivered", checkin=c1)
    _answer(session, p1, at(11, 13, 16), "NO", checkin=c1)
    _fill(session, p1, dt.date(2026, 11, 20), at(11, 20, 18))
    # October: outside the period.
    c0 = _checkin(session, p1, dt.date(2026, 10, 21), CheckinStatus.CONFIRMED)
    send(session, p1, at(10, 14), Purpose.FIRST, "delivered", checkin=c0)
    _answer(session, p1, at(10, 14, 16), "NO", checkin=c0)
    # P3, call: said a dose changed; the item was cleared in 2 hours.
    c2 = _checkin(session, p3, dt.date(2026, 11, 20), CheckinStatus.FLAGGED)
    send(session, p3, at(11, 13), Purpose.FIRST, "completed", checkin=c2, channel=Channel.VOICE)
    _answer(session, p3, at(11, 13, 15), "cambiaron mi dosis", checkin=c2, channel=Channel.VOICE)
    _item(session, c2, QueueKind.MED_CHANGE, at(11, 13, 15), at(11, 13, 17))
    # P5: text and reminder, no answer: unreachable, cleared in 24 hours.
    c3 = _checkin(session, p5, dt.date(2026, 11, 25), CheckinStatus.UNREACHABLE)
    send(session, p5, at(11, 18), Purpose.FIRST, "delivered", checkin=c3)
    send(session, p5, at(11, 19), Purpose.REMINDER, "delivered", checkin=c3)
    _item(session, c3, QueueKind.UNREACHABLE, at(11, 22), at(11, 23))
    # P6: the text failed (a landline): not contacted; the item is still open.
    c4 = _checkin(session, p6, dt.date(2026, 11, 25), CheckinStatus.IN_PROGRESS)
    send(session, p6, at(11, 18), Purpose.FIRST, "failed", checkin=c4)
    _item(session, c4, QueueKind.INVALID_NUMBER, at(11, 18))
    # P7: answered STOP.
    c5 = _checkin(session, p7, dt.date(2026, 11, 27), CheckinStatus.OPTED_OUT)
    send(session, p7, at(11, 20), Purpose.FIRST, "delivered", checkin=c5)
    _answer(session, p7, at(11, 20, 16), "STOP", checkin=c5)
    p7.opted_out_at = at(11, 20, 16)
    # P8: the welcome text, then the first synchronized fill picked up.
    send(session, p8, at(11, 5), Purpose.WELCOME, "delivered")
    _fill(session, p8, dt.date(2026, 11, 28), at(11, 28, 18))
    session.flush()
    return {"P1": p1, "P3": p3, "P4": p4, "P8": p8, "P9": p9}


ZERO_CHECKINS = {status.value: 0 for status in CheckinStatus}
ZERO_ITEMS = {kind.value: 0 for kind in QueueKind}

# Worked out by hand from seed_november (see each comment).
EXPECTED: dict[str, Any] = {
    "from": "2026-11-01",
    "to": "2026-11-30",
    # In at the end: P1, P3, P5, P6, P8, P9 (P2 and P4 left, P7 opted out, P10 no consent).
    "enrolled": 6,
    "target": 100,
    "target_share": 0.06,
    "new_enrollments": 3,  # P8, P9, P10
    "disenrollments": 1,  # P4 (P2 left in August)
    "disenroll_reasons": {"moved away": 1},
    # P1, P3, P5, P7, P8 (the welcome); P6's text failed.
    "contacted": 5,
    "responded": 3,  # P1, P3, P7 (STOP is an answer)
    "response_rate": 0.6,
    "opted_out": 1,  # P7
    "opt_out_rate": 0.2,
    "checkins": ZERO_CHECKINS
    | {"confirmed": 1, "flagged": 1, "unreachable": 1, "in_progress": 1, "opted_out": 1},
    "checkins_total": 5,
    "unreachable_rate": 0.2,
    "items": ZERO_ITEMS | {"med_change": 1, "unreachable": 1, "invalid_number": 1},
    "items_total": 3,
    "cleared": 2,
    "median_hours_to_clear": 13.0,  # median of 2 h and 24 h
    "by_channel": {
        # C1, C3, C4, C5; contacted C1, C3, C5; answered C1, C5.
        "sms": {
            "checkins": 4,
            "contacted": 3,
            "responded": 2,
            "contact_rate": 0.75,
            "response_rate": 0.6667,
        },
        "voice": {
            "checkins": 1,
            "contacted": 1,
            "responded": 1,
            "contact_rate": 1.0,
            "response_rate": 1.0,
        },
    },
    "by_language": {
        "en": {
            "checkins": 3,
            "contacted": 3,
            "responded": 2,
            "contact_rate": 1.0,
            "response_rate": 0.6667,
        },
        "es": {
            "checkins": 2,
            "contacted": 1,
            "responded": 1,
            "contact_rate": 0.5,
            "response_rate": 1.0,
        },
    },
    "pqa": {
        # P8 of P8, P9, P10 had a first synchronized fill picked up.
        "initial_sync_rate": {"numerator": 1, "denominator": 3, "rate": 0.3333},
        # C1, C2, C5 answered before their anchor date, of five.
        "patient_contact_rate": {"numerator": 3, "denominator": 5, "rate": 0.6},
        # P1 stayed, P2 left before the mark.
        "continuation_6_months": {"numerator": 1, "denominator": 2, "rate": 0.5},
        "continuation_12_months": {"numerator": 1, "denominator": 1, "rate": 1.0},
    },
}
EXPECTED_DAYS = {  # fills_per_day entries that are not zero
    "2026-11-20": {"due": 2, "filled": 1},
    "2026-11-25": {"due": 2, "filled": 0},
    "2026-11-27": {"due": 1, "filled": 0},
    "2026-11-28": {"due": 0, "filled": 1},
}

# A fills export: P1 statin 120 of 183 days (index Jun 1 to Nov 30: 90 + 30 days covered),
# P3 RASA 153 of 153 (Jul 1, 90 days, then Sep 29 to Nov 30, 63 days), P4 (disenrolled) and
# P99 (not a patient here) not counted; metformin for P1 has only one fill: no PDC.
FILLS_CSV = """patient_id,drug,ingredient,drug_class,fill_date,days_supply
P1,Atorvastatin 20 mg,atorvastatin,statin,2026-06-01,90
P1,Atorvastatin 20 mg,atorvastatin,statin,2026-09-01,30
P1,Metformin 500 mg,metformin,diabetes,2026-06-01,90
P3,Lisinopril 10 mg,lisinopril,RASA,2026-07-01,90
P3,Lisinopril 10 mg,lisinopril,RASA,2026-09-29,90
P4,Simvastatin 20 mg,simvastatin,statin,2026-06-01,90
P4,Simvastatin 20 mg,simvastatin,statin,2026-08-30,90
P99,Rosuvastatin 10 mg,rosuvastatin,statin,2026-06-01,90
P99,Rosuvastatin 10 mg,rosuvastatin,statin,2026-08-30,90
broken,row
"""
# The Nov 30 point: statin 1 patient, mean 120/183, none adherent; RASA 1, 1.0, adherent.
STATIN_NOV_30 = round(120 / 183, 4)
