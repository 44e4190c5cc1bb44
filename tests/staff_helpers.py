"""Two stores and their staff, for the tests of logins, sessions, the Staff page and the audit."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import queue
from store.models import AuditEvent, QueueKind, Role, Store, User
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import make_user


@dataclass(frozen=True)
class Chain:
    """Store A (admin, pharmacist, technician), store B (admin, pharmacist), a shared user."""

    a: int
    b: int
    item_a: int
    item_b: int
    patient_a: int
    patient_b: int
    tokens: dict[str, str]


def make_chain(session: Session) -> Chain:
    a = make_store(session, "a", name="Alpha Pharmacy")
    b = make_store(session, "b", name="Beta Pharmacy", from_number="+12025550177")
    ana = make_patient(session, a, "P1")
    bob = make_patient(session, b, "P9", first_name="Bob", phone="+12125550100")
    item_a = queue.add_item(
        session,
        kind=QueueKind.MED_CHANGE,
        store_id=a.id,
        patient=ana,
        checkin=make_checkin(session, ana),
        text="my doctor changed my metformin",
    )
    item_b = queue.add_item(
        session,
        kind=QueueKind.HEALTH_CHANGE,
        store_id=b.id,
        patient=bob,
        checkin=make_checkin(session, bob),
        text="ER on Sunday",
    )
    tokens = {
        "admin@a.org": make_user(session, "admin@a.org", Role.ADMIN, a),
        "pharm@a.org": make_user(session, "pharm@a.org", Role.PHARMACIST, a),
        "tech@a.org": make_user(session, "tech@a.org", Role.TECHNICIAN, a),
        "admin@b.org": make_user(session, "admin@b.org", Role.ADMIN, b),
        "pharm@b.org": make_user(session, "pharm@b.org", Role.PHARMACIST, b),
        "both@ab.org": make_user(session, "both@ab.org", Role.PHARMACIST, a, b),
    }
    session.commit()
    return Chain(a.id, b.id, item_a, item_b, ana.id, bob.id, tokens)


def user(session: Session, email: str) -> User:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).one()


def store_id(session: Session, code: str) -> int:
    return session.scalars(select(Store.id).where(Store.code == code)).one()


def audit_events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "not signed in"
    return cookie.value


def replay(client: FlaskClient, cookie: str) -> FlaskClient:
    """A fresh browser that presents someone's old session cookie."""
    fresh = type(client)(client.application, client.response_wrapper)
    fresh.set_cookie("session", cookie)
    return fresh
