"""Renewal items (SPEC 13) through the real scheduler pass: raised once per medicine and
cycle, 14 days ahead of the fill, never twice (also with two passes racing), and gone once the
prescriber's answer brought refills."""

from __future__ import annotations

import datetime as dt
import threading

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.jobs import PassReport
from scheduler.renewals import raise_renewals
from store import renewals
from store.models import (
    Enrollment,
    Medicine,
    MedType,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    RenewalAnswer,
    Store,
    utcnow,
)
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, sessions_of, tick

ANCHOR = dt.date(2026, 12, 21)


def no_refills_patient(session: Session, external_id: str = "P1", **overrides: object) -> Patient:
    """A patient anchored on ANCHOR: one medicine out of refills, one with refills, a PRN."""
    store = session.scalars(select(Store).where(Store.code == "main")).first()
    count = session.scalar(select(func.count()).select_from(Patient)) or 0
    patient = make_patient(
        session,
        store or make_store(session),
        external_id,
        anchor_date=ANCHOR,
        phone=f"+1202555{count:04d}",
        **overrides,
    )
    metformin, albuterol = patient.medicines  # from the factory
    metformin.last_fill_date = ANCHOR - dt.timedelta(days=30)
    metformin.refills_remaining = 3
    albuterol.refills_remaining = 0
    patient.medicines.append(
        Medicine(
            name="Lisinopril 10 mg",
            med_type=MedType.MAINTENANCE,
            days_supply=30,
            last_fill_date=ANCHOR - dt.timedelta(days=30),
            refills_remaining=0,
            prescriber_name="Dr. Rivera",
            prescriber_npi="1234567893",
        )
    )
    session.commit()
    return patient


def renewal_items(app: Flask) -> list[QueueItem]:
    with fresh(app) as check:
        return list(
            check.scalars(
                select(QueueItem)
                .where(QueueItem.kind == QueueKind.RENEWAL_NEEDED)
                .order_by(QueueItem.id)
            )
        )


def test_it_raises_one_item_fourteen_days_before_the_fill(app: Flask, session: Session) -> None:
    patient = no_refills_patient(session)
    fake = ClockedFake()
    # 15 days before the fill: not yet.
    assert tick(app, fake, ny(2026, 12, 6, 10, 0)).renewals == 0
    assert renewal_items(app) == []
    # 14 days before: one item, for the medicine without refills only (not the PRN).
    report = tick(app, fake, ny(2026, 12, 7, 10, 0))
    assert report.renewals == 1
    assert "renewal requests queued (no refills left): 1" in report.summary()
    (item,) = renewal_items(app)
    lisinopril = next(m for m in patient.medicines if m.name.startswith("Lisinopril"))
    assert (item.medicine_id, item.anchor_date, item.patient_id) == (
        lisinopril.id,
        ANCHOR,
        patient.id,
    )
    assert item.status is QueueStatus.OPEN
    assert "No refills left for Lisinopril 10 mg" in (item.text or "")
    assert "Dr. Rivera" in (item.text or "")
    # Passes later that day and the days after: never a second one for this cycle.
    for day in (7, 8, 12, 20):
        assert tick(app, fake, ny(2026, 12, day, 15, 0)).renewals == 0
    assert len(renewal_items(app)) == 1


def test_a_resolved_item_is_not_raised_again_in_the_same_cycle(
    app: Flask, session: Session
) -> None:
    no_refills_patient(session)
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))
    (item,) = renewal_items(app)
    # The prescriber denied it: resolved, refills still 0.
    with fresh(app) as change:
        change.execute(
            QueueItem.__table__.update()
            .where(QueueItem.id == item.id)
            .values(status=QueueStatus.RESOLVED, resolved_at=utcnow())
        )
        renewals.record_answer(change, item.id, RenewalAnswer.DENIED, None)
        change.commit()
    assert tick(app, fake, ny(2026, 12, 8, 10, 0)).renewals == 0
    assert len(renewal_items(app)) == 1


def test_the_next_cycle_raises_a_new_item_unless_refills_came(app: Flask, session: Session) -> None:
    patient = no_refills_patient(session)
    second = no_refills_patient(session, "P2")
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))
    first_items = renewal_items(app)
    assert len(first_items) == 2
    # The second patient's prescriber approved 5 refills.
    approved = next(i for i in first_items if i.patient_id == second.id)
    with fresh(app) as change:
        renewals.record_answer(change, approved.id, RenewalAnswer.APPROVED, 5)
        change.commit()
    # After the anchor the enrollment rolls to the next cycle (January 20): the first
    # patient, still without refills, gets a new item for it; the second none.
    report = tick(app, fake, ny(2026, 12, 23, 10, 0))
    assert report.rolled == 2
    assert report.renewals == 1
    items = renewal_items(app)
    assert [(i.patient_id, i.anchor_date) for i in items[2:]] == [
        (patient.id, dt.date(2027, 1, 20))
    ]
    with fresh(app) as check:
        assert (
            check.scalar(
                select(Medicine.refills_remaining).where(Medicine.id == approved.medicine_id)
            )
            == 5
        )


def test_disenrolled_patients_get_no_renewal_item(app: Flask, session: Session) -> None:
    patient = no_refills_patient(session)
    with fresh(app) as change:
        change.execute(
            Enrollment.__table__.update()
            .where(Enrollment.patient_id == patient.id)
            .values(active=False)
        )
        change.commit()
    assert tick(app, ClockedFake(), ny(2026, 12, 7, 10, 0)).renewals == 0
    assert renewal_items(app) == []


def test_a_patient_without_consent_still_gets_the_renewal(app: Flask, session: Session) -> None:
    # Asking the prescriber contacts nobody but the prescriber.
    no_refills_patient(session, consent_date=None)
    assert tick(app, ClockedFake(), ny(2026, 12, 7, 10, 0)).renewals == 1


def test_racing_passes_raise_each_item_once(app: Flask, session: Session) -> None:
    for n in range(20):
        no_refills_patient(session, f"P{n:02d}")
    now = ny(2026, 12, 7, 10, 0)
    barrier = threading.Barrier(3)
    reports = []

    def one_pass() -> None:
        barrier.wait()
        report = PassReport()
        raise_renewals(sessions_of(app), now, report, batch=5)
        reports.append(report)

    racers = [threading.Thread(target=one_pass) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert sum(r.renewals for r in reports) == 20
    assert sum(r.errors for r in reports) == 0
    items = renewal_items(app)
    assert len(items) == 20
    assert len({(i.medicine_id, i.anchor_date) for i in items}) == 20
    # And a full pass afterwards adds none.
    assert tick(app, ClockedFake(), now).renewals == 0
