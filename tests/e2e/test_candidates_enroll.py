"""The candidates page (SPEC 14): names, birth dates, enrolled or not, and an Enroll button
to the flow (or to adding the patient when the roster does not have them yet)."""

from __future__ import annotations

import datetime as dt
import html
import io

from flask import Flask
from sqlalchemy.orm import Session

from store.models import Role
from tests.factories import make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user


def fills(*patients: str) -> bytes:
    rows = ["patient_id,drug,ingredient,drug_class,fill_date,days_supply"]
    for patient in patients:
        for drug, cls in (
            ("lisinopril", "RASA"),
            ("atorvastatin", "statin"),
            ("metformin", "diabetes"),
        ):
            rows += [f"{patient},{drug},,{cls},2026-01-0{n},30" for n in (1, 2)]
    return "\n".join(rows).encode()


def test_candidates_show_who_they_are_and_lead_to_enrollment(app: Flask, session: Session) -> None:
    store = make_store(session, "a")
    other = make_store(session, "b", from_number="+12025550177")
    enrolled = make_patient(
        session, store, "X1", first_name="Maria", last_name="Garcia", birth_date=dt.date(1948, 3, 9)
    )
    asked = make_patient(
        session,
        store,
        "X2",
        first_name="Ben",
        last_name="Okafor",
        phone="+12025550144",
        consent_date=None,
        birth_date=dt.date(1961, 7, 14),
    )
    make_patient(session, other, "X3", first_name="Hidden", last_name="Elsewhere")
    make_user(session, "pharm@a.org", Role.PHARMACIST, store)
    session.commit()
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.client.post(
        "/candidates",
        data={
            "fills": (io.BytesIO(fills("X1", "X2", "X3")), "fills.csv"),
            "start": "2026-01-01",
            "end": "2026-12-31",
            "min_meds": "3",
            "csrf_token": me.csrf("/candidates"),
        },
        content_type="multipart/form-data",
    )
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Maria Garcia" in page and "1948-03-09" in page and "Enrolled" in page
    assert "Ben Okafor" in page and "1961-07-14" in page and "Not enrolled (not consented)" in page
    assert f'href="/patients/{asked.id}/enroll"' in page
    assert f'href="/patients/{enrolled.id}/enroll"' not in page
    # Another store's patient with that id is not shown: to this pharmacy it is someone new.
    assert "Hidden" not in page and 'href="/patients/new?external_id=X3"' in page
