"""Request body limits: a fills export up to 20 MB on /candidates, 256 kB everywhere else.

The larger limit must be in place before Flask-WTF's CSRF check reads the form (an app-level
before_request); set later it came after the body had been refused at 256 kB.
"""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from store.models import Role
from tests.factories import make_store
from tests.twilio_helpers import STORE_NUMBER, TwilioPoster, sid
from tests.workspace_helpers import StaffClient, make_user

MB = 1024 * 1024
HEADER = "patient_id,drug,ingredient,drug_class,fill_date,days_supply\n"


@pytest.fixture
def pharmacist(app: Flask, session: Session) -> StaffClient:
    make_user(session, "pharm@a.org", Role.PHARMACIST, make_store(session))
    session.commit()
    return StaffClient.signed_in(app, "pharm@a.org")


def fills_export(size: int) -> bytes:
    """A fills CSV of about `size` bytes whose last row is bad (read to the end, it shows)."""
    row = "X{n},lisinopril,,RASA,2026-01-01,30\n"
    rows, length, n = [HEADER], len(HEADER), 0
    while length < size:
        rows.append(row.format(n=n % 5000))
        length += len(rows[-1])
        n += 1
    rows.append("LAST,lisinopril,,RASA,not-a-date,30\n")
    return "".join(rows).encode()


def upload(client: StaffClient, data: bytes, csrf: str) -> tuple[int, str]:
    fields = {"start": "2026-01-01", "end": "2026-12-31", "min_meds": "1", "csrf_token": csrf}
    # Encoded here, in memory: the test client spools a large body to a temporary file that
    # it never closes when the app does not read it all.
    boundary, body = encode_multipart(
        MultiDict({**fields, "fills": FileStorage(io.BytesIO(data), "fills.csv")})
    )
    response = client.client.post(
        "/candidates", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    return response.status_code, response.get_data(as_text=True)


def test_a_1_mb_fills_export_is_read(pharmacist: StaffClient) -> None:
    status, page = upload(pharmacist, fills_export(1 * MB), pharmacist.csrf("/candidates"))
    assert status == 200
    assert "1 row rejected" in page and "fill_date must be a date" in page


def test_a_21_mb_fills_export_is_refused_with_a_clear_message(pharmacist: StaffClient) -> None:
    status, page = upload(pharmacist, fills_export(21 * MB), pharmacist.csrf("/candidates"))
    assert status == 413
    assert "larger than 20 MB" in page and "flask candidates" in page


def test_an_anonymous_upload_keeps_the_small_limit(app: Flask, pharmacist: StaffClient) -> None:
    visitor = StaffClient(app.test_client(), "nobody@a.org")
    status, _ = upload(visitor, fills_export(1 * MB), visitor.csrf("/login"))
    assert status == 413


def test_other_forms_keep_the_small_limit(app: Flask, pharmacist: StaffClient) -> None:
    visitor = StaffClient(app.test_client(), "x" * 300_000 + "@a.org")
    assert visitor.login("whatever").status_code == 413
    response = pharmacist.post("/items/1/text", {"body": "x" * 300_000})
    assert response.status_code == 413


def test_webhooks_keep_the_small_limit(twilio: TwilioPoster) -> None:
    form = {"MessageSid": sid("SM"), "From": "+12025550143", "To": STORE_NUMBER}
    assert twilio.post("/twilio/sms", {**form, "Body": "x" * 300_000}).status_code == 413
