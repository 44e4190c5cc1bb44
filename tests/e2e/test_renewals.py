"""Renewal requests in the workspace (SPEC 13): the list by prescriber, the printed sheet, the
item page's fields, "sent" and the prescriber's answer (audited, refills onto the medicine),
store isolation, and bad input refused with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import renewals
from store.models import (
    AuditEvent,
    Medicine,
    MedType,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    RenewalAnswer,
    Role,
    Store,
)
from tests.factories import make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user

ANCHOR = dt.date(2026, 12, 21)
NPI = "1234567893"


def out_of_refills(
    session: Session, store: Store, external_id: str, prescriber: str, npi: str | None, **kw: object
) -> tuple[Patient, int]:
    """A patient with one medicine without refills and its renewal item (as the scheduler
    raises it); return the patient and the item id."""
    count = session.scalar(select(QueueItem.id).order_by(QueueItem.id.desc()).limit(1)) or 0
    patient = make_patient(
        session,
        store,
        external_id,
        anchor_date=ANCHOR,
        phone=f"+1202555{count + 10:04d}",
        birth_date=dt.date(1948, 3, 9),
        **kw,
    )
    patient.medicines.append(
        Medicine(
            name="Lisinopril 10 mg",
            med_type=MedType.MAINTENANCE,
            days_supply=30,
            quantity=30,
            last_fill_date=dt.date(2026, 11, 21),
            refills_remaining=0,
            rx_number=f"RX{external_id}",
            prescriber_name=prescriber,
            prescriber_npi=npi,
            prescriber_phone="+12025550188",
            prescriber_fax="+12025550189",
        )
    )
    session.flush()
    medicine = patient.medicines[-1]
    item_id = renewals.raise_renewal(session, medicine.id, ANCHOR, ANCHOR)
    assert item_id is not None
    session.commit()
    return patient, item_id


@pytest.fixture
def setup(app: Flask, session: Session) -> dict[str, object]:
    store = make_store(session, "a", name="Main Street Pharmacy", phone="+12025550199")
    other = make_store(session, "b", name="Other Pharmacy")
    ana, ana_item = out_of_refills(session, store, "P1", "Dr. Rivera", NPI)
    ben, ben_item = out_of_refills(
        session, store, "P2", "Dr. Rivera", NPI, first_name="Ben", last_name="Moss"
    )
    cam, cam_item = out_of_refills(
        session, store, "P3", "Dr. Chen", None, first_name="Cam", last_name="Ito"
    )
    _, far_item = out_of_refills(
        session, other, "P9", "Dr. Rivera", NPI, first_name="Far", last_name="Away"
    )
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    make_user(session, "tech@a.org", Role.TECHNICIAN, store)
    session.commit()
    return {
        "ana": ana,
        "ana_item": ana_item,
        "ben_item": ben_item,
        "cam_item": cam_item,
        "far_item": far_item,
    }


def audit_actions(session: Session, target: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == target).order_by(AuditEvent.id)
        )
    )


def test_the_list_groups_open_renewals_by_prescriber(app: Flask, setup: dict[str, object]) -> None:
    page = StaffClient.signed_in(app, "tech@a.org").get("/renewals").get_data(as_text=True)
    assert page.index("Dr. Chen") < page.index("Dr. Rivera")  # by name
    assert "Ana Lopez" in page and "Ben Moss" in page and "Cam Ito" in page
    assert "Far Away" not in page  # another store
    assert f"/renewals/print?prescriber={NPI}" in page
    assert "/renewals/print?prescriber=Dr.+Chen" in page  # no NPI: the name
    assert 'href="/renewals"' in page and 'href="/workload"' in page  # the nav


def test_the_sheet_lists_one_prescribers_patients_and_medicines(
    app: Flask, session: Session, setup: dict[str, object]
) -> None:
    me = StaffClient.signed_in(app, "tech@a.org")
    response = me.get(f"/renewals/print?prescriber={NPI}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for words in (
        "Refill authorization request",
        "Dr. Rivera",
        NPI,
        "(202) 555-0188",  # prescriber phone
        "(202) 555-0189",  # prescriber fax
        "Main Street Pharmacy",
        "(202) 555-0199",  # the pharmacy's phone
        "Ana Lopez",
        "Ben Moss",
        "03/09/1948",  # birth date
        "Lisinopril 10 mg",
        "RXP1",
        "11/21/2026",  # last fill
        "30 (30 days)",  # quantity
        "Prescriber's signature",
        "renewals.css",
    ):
        assert words in page, words
    assert "Cam Ito" not in page  # another prescriber
    assert "Far Away" not in page  # another store
    assert audit_actions(session, f"item:{setup['ana_item']}") == ["print_renewal"]


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 400), ("?prescriber=", 400), ("?prescriber=%20", 400), ("?prescriber=9999999999", 404)],
)
def test_a_bad_or_unknown_prescriber_is_refused(
    app: Flask, setup: dict[str, object], query: str, status: int
) -> None:
    me = StaffClient.signed_in(app, "tech@a.org")
    assert me.get(f"/renewals/print{query}").status_code == status


def test_another_stores_prescriber_sheet_is_not_found(app: Flask, session: Session) -> None:
    store = make_store(session, "a")
    other = make_store(session, "b")
    out_of_refills(session, other, "P9", "Dr. Far", "1111111111")
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    me = StaffClient.signed_in(app, "ph@a.org")
    assert me.get("/renewals/print?prescriber=1111111111").status_code == 404


def test_a_technician_records_the_sheet_sent(
    app: Flask, session: Session, setup: dict[str, object]
) -> None:
    me = StaffClient.signed_in(app, "tech@a.org")
    response = me.post("/renewals/sent", {"prescriber": NPI, "via": "fax"}, page="/renewals")
    assert response.status_code == 302
    session.expire_all()
    sent = {
        i.id: i.renewal_sent_at
        for i in session.scalars(select(QueueItem).where(QueueItem.kind == "renewal_needed"))
    }
    assert sent[setup["ana_item"]] is not None and sent[setup["ben_item"]] is not None
    assert sent[setup["cam_item"]] is None and sent[setup["far_item"]] is None
    assert audit_actions(session, f"item:{setup['ana_item']}") == ["renewal_sent"]
    page = me.get("/renewals").get_data(as_text=True)
    assert page.count("Not sent yet") == 1  # Cam's


@pytest.mark.parametrize("via", ["", "email", "FAX"])
def test_sent_needs_fax_or_phone(
    app: Flask, session: Session, setup: dict[str, object], via: str
) -> None:
    me = StaffClient.signed_in(app, "tech@a.org")
    response = me.post("/renewals/sent", {"prescriber": NPI, "via": via}, page="/renewals")
    assert response.status_code == 400
    item_page = f"/items/{setup['ana_item']}"
    assert me.post(f"{item_page}/renewal/sent", {"via": via}, page=item_page).status_code == 400
    session.expire_all()
    assert session.scalars(select(QueueItem.renewal_sent_at)).all() == [None] * 4


def test_the_item_page_shows_the_renewal_and_records_the_answer(
    app: Flask, session: Session, setup: dict[str, object]
) -> None:
    item_id = setup["ana_item"]
    me = StaffClient.signed_in(app, "ph@a.org")
    page = me.get(f"/items/{item_id}").get_data(as_text=True)
    for words in ("Renewal request", "Lisinopril 10 mg", "Rx RXP1", "NPI " + NPI, "Not sent yet"):
        assert words in page, words
    item_page = f"/items/{item_id}"
    assert me.post(f"{item_page}/renewal/sent", {"via": "phone"}, page=item_page).status_code == 302
    assert "Not sent yet" not in me.get(item_page).get_data(as_text=True)
    response = me.post(
        f"{item_page}/renewal/answer",
        {"answer": "approved", "refills": "5", "note": "Dr. Rivera's nurse, by phone"},
        page=item_page,
    )
    assert response.status_code == 302
    session.expire_all()
    item = session.get(QueueItem, item_id)
    assert item is not None
    assert item.status is QueueStatus.RESOLVED
    assert (item.renewal_answer, item.renewal_refills) == (RenewalAnswer.APPROVED, 5)
    assert item.resolution_note == "Renewal approved: 5 refills. Dr. Rivera's nurse, by phone"
    medicine = session.get(Medicine, item.medicine_id)
    assert medicine is not None and medicine.refills_remaining == 5
    changes = [a for a in audit_actions(session, f"item:{item_id}") if a != "view_item"]
    assert changes == ["renewal_sent", "resolve_item", "renewal_answer"]
    page = me.get(item_page).get_data(as_text=True)
    assert "Approved: 5 refills" in page
    # Answered once: a second answer is refused and changes nothing.
    again = me.post(
        f"{item_page}/renewal/answer", {"answer": "denied", "refills": ""}, page=item_page
    )
    assert again.status_code == 302
    session.expire_all()
    assert session.get(QueueItem, item_id).renewal_answer is RenewalAnswer.APPROVED  # type: ignore[union-attr]


def test_a_denial_keeps_no_refills(app: Flask, session: Session, setup: dict[str, object]) -> None:
    item_page = f"/items/{setup['ben_item']}"
    me = StaffClient.signed_in(app, "ph@a.org")
    response = me.post(f"{item_page}/renewal/answer", {"answer": "denied"}, page=item_page)
    assert response.status_code == 302
    session.expire_all()
    item = session.get(QueueItem, setup["ben_item"])
    assert item is not None and item.status is QueueStatus.RESOLVED
    assert (item.renewal_answer, item.renewal_refills) == (RenewalAnswer.DENIED, None)
    assert session.get(Medicine, item.medicine_id).refills_remaining == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "form",
    [
        {"answer": "maybe", "refills": "5"},
        {"answer": "", "refills": "5"},
        {"answer": "approved", "refills": ""},
        {"answer": "approved", "refills": "0"},
        {"answer": "approved", "refills": "100"},
        {"answer": "approved", "refills": "-1"},
        {"answer": "approved", "refills": "five"},
        {"answer": "denied", "refills": "3"},
        {"answer": "changed", "refills": "3", "note": "  "},
    ],
)
def test_a_bad_answer_is_refused_and_changes_nothing(
    app: Flask, session: Session, setup: dict[str, object], form: dict[str, str]
) -> None:
    item_page = f"/items/{setup['ana_item']}"
    me = StaffClient.signed_in(app, "ph@a.org")
    assert me.post(f"{item_page}/renewal/answer", form, page=item_page).status_code == 400
    session.expire_all()
    item = session.get(QueueItem, setup["ana_item"])
    assert item is not None and item.status is QueueStatus.OPEN and item.renewal_answer is None
    assert session.get(Medicine, item.medicine_id).refills_remaining == 0  # type: ignore[union-attr]


def test_a_technician_may_not_record_the_answer(
    app: Flask, session: Session, setup: dict[str, object]
) -> None:
    item_page = f"/items/{setup['ana_item']}"
    me = StaffClient.signed_in(app, "tech@a.org")
    page = me.get(item_page).get_data(as_text=True)
    assert "Sent by fax" in page and "Record the answer" not in page
    form = {"answer": "approved", "refills": "2"}
    assert me.post(f"{item_page}/renewal/answer", form, page=item_page).status_code == 403


def test_another_stores_item_is_not_found(
    app: Flask, session: Session, setup: dict[str, object]
) -> None:
    item_page = f"/items/{setup['far_item']}"
    me = StaffClient.signed_in(app, "ph@a.org")
    form = {"answer": "approved", "refills": "2"}
    assert me.post(f"{item_page}/renewal/answer", form).status_code == 404
    assert me.post(f"{item_page}/renewal/sent", {"via": "fax"}).status_code == 404
    session.expire_all()
    assert session.get(QueueItem, setup["far_item"]).renewal_sent_at is None  # type: ignore[union-attr]


def test_other_kinds_have_no_renewal_answer(app: Flask, session: Session) -> None:
    store = make_store(session, "a")
    patient = make_patient(session, store)
    from store import queue

    item_id = queue.add_item(session, kind=QueueKind.CONCERN, store_id=store.id, patient=patient)
    make_user(session, "ph@a.org", Role.PHARMACIST, store)
    session.commit()
    me = StaffClient.signed_in(app, "ph@a.org")
    page = me.get(f"/items/{item_id}").get_data(as_text=True)
    assert "Renewal request" not in page
    form = {"answer": "approved", "refills": "2"}
    response = me.post(f"/items/{item_id}/renewal/answer", form, page=f"/items/{item_id}")
    assert response.status_code == 400
    assert me.post(f"/items/{item_id}/renewal/sent", {"via": "fax"}).status_code == 404
    session.expire_all()
    assert session.get(QueueItem, item_id).status is QueueStatus.OPEN  # type: ignore[union-attr]
