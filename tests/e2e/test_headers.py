"""What the browser is told: no caching of patient data or JSON, a strict CSP, escaped words."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from store import queue
from store.models import QueueKind
from tests.factories import make_checkin, make_patient
from tests.staff_helpers import Chain, make_chain
from tests.workspace_helpers import StaffClient


@pytest.fixture
def chain(app: Flask, session: Session) -> Chain:
    return make_chain(session)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("path", "authorized"),
    [("/api/queue", True), ("/api/queue", False), ("/api/nowhere", True), ("/healthz", False)],
)
def test_json_answers_are_never_cached(
    app: Flask, chain: Chain, path: str, authorized: bool
) -> None:
    headers = bearer(chain.tokens["pharm@a.org"]) if authorized else {}
    response = app.test_client().get(path, headers=headers)
    assert response.is_json
    assert response.headers["Cache-Control"] == "no-store"


def test_the_content_security_policy_forbids_a_base_element(app: Flask, chain: Chain) -> None:
    policy = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "base-uri 'none'" in policy and "default-src 'self'" in policy


def test_a_patients_words_are_shown_as_text_never_as_markup(
    app: Flask, chain: Chain, session: Session
) -> None:
    from store.models import Store

    store = session.get(Store, chain.a)
    assert store is not None
    patient = make_patient(session, store, "P2", first_name="<b>Eve</b>")
    item = queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=store.id,
        patient=patient,
        checkin=make_checkin(session, patient),
        text='<script>alert(1)</script><img src=x onerror="alert(2)">',
    )
    session.commit()
    me = StaffClient.signed_in(app, "pharm@a.org")
    for path in ("/queue", f"/items/{item}", f"/patients/{patient.id}"):
        page = me.get(path)
        html = page.get_data(True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Eve" not in html
        assert "&lt;b&gt;Eve&lt;/b&gt;" in html
        # And were markup to slip through, no inline script would run.
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy
