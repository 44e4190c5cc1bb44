"""The real demo (bot/demo.py, what `flask --app wsgi demo` loads) for the browser tests and the
screenshots, plus known logins.

Nothing is retyped here: the patients' conversations go through the real dialog code, and the
renewal requests come from the scheduler's own renewal step. Only the staff logins are added,
with a known password, so a test can sign in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.demo import load_demo
from scheduler.jobs import PassReport
from scheduler.renewals import raise_renewals
from store.models import Patient, QueueItem, QueueKind, QueueStatus, Role, Store, utcnow
from tests.workspace_helpers import make_user

PHARMACY = "Main Street Pharmacy"
PHARMACIST = "rivera@mainstreetrx.example"
TECHNICIAN = "kim@mainstreetrx.example"


@dataclass
class Demo:
    store: Store
    patients: dict[str, Patient] = field(default_factory=dict)  # by PMS id (D01...)
    items: dict[str, int] = field(default_factory=dict)  # the first open item of each kind

    def active_items(self, session: Session) -> int:
        return len(
            session.scalars(
                select(QueueItem.id).where(
                    QueueItem.store_id == self.store.id,
                    QueueItem.status.in_((QueueStatus.OPEN, QueueStatus.CLAIMED)),
                )
            ).all()
        )


def seed_demo(app: Flask, session: Session, now: dt.datetime | None = None) -> Demo:
    """Load the demo into a new store `main`, raise its renewal requests as the scheduler's
    first pass would, and add the logins; commit."""
    now = now or utcnow()
    store = Store(
        code="main",
        name=PHARMACY,
        phone="+12025550199",
        timezone="America/New_York",
    )
    session.add(store)
    session.commit()
    load_demo(session, store, now, "http://127.0.0.1:5000")
    raise_renewals(app.extensions["medsync"].db.sessions, now, PassReport())
    make_user(session, PHARMACIST, Role.PHARMACIST, store)
    make_user(session, TECHNICIAN, Role.TECHNICIAN, store)
    session.commit()
    demo = Demo(store)
    for patient in session.scalars(select(Patient).where(Patient.store_id == store.id)):
        demo.patients[patient.external_id] = patient
    for item in session.scalars(
        select(QueueItem).where(QueueItem.store_id == store.id).order_by(QueueItem.id)
    ):
        demo.items.setdefault(QueueKind(item.kind).value, item.id)
    return demo
