"""Refused accesses reach the audit log (SPEC 10): role checks, other stores, bad tokens."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.staff_helpers import Chain, audit_events, make_chain, user
from tests.workspace_helpers import StaffClient


@pytest.fixture
def chain(app: Flask, session: Session) -> Chain:
    return make_chain(session)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("email", "path", "status"),
    [
        ("pharm@a.org", "/admin/users", 403),
        ("tech@a.org", "/admin/stores", 403),
        ("pharm@a.org", "/items/{item_b}", 404),
        ("admin@a.org", "/patients/{patient_b}", 404),
        ("pharm@a.org", "/items/999999", 404),
        ("pharm@a.org", "/patients/999999", 404),
    ],
)
def test_a_refused_page_is_audited(
    app: Flask, chain: Chain, session: Session, email: str, path: str, status: int
) -> None:
    me = StaffClient.signed_in(app, email)
    url = path.format(item_b=chain.item_b, patient_b=chain.patient_b)
    assert me.get(url).status_code == status
    [event] = audit_events(session, "access_refused")
    assert (event.actor, event.user_id, event.target) == ("user", user(session, email).id, url)
    assert event.detail["status"] == status and event.detail["method"] == "GET"


def test_a_refused_action_is_audited_and_changes_nothing(
    app: Flask, chain: Chain, session: Session
) -> None:
    me = StaffClient.signed_in(app, "admin@a.org")
    assert me.post(f"/items/{chain.item_b}/claim").status_code == 404
    [event] = audit_events(session, "access_refused")
    assert event.detail["method"] == "POST" and event.target == f"/items/{chain.item_b}/claim"
    assert audit_events(session, "claim_item") == []


@pytest.mark.parametrize(
    ("email", "method", "path", "status"),
    [
        ("pharm@a.org", "POST", "/api/queue/{item_b}/claim", 404),
        ("pharm@a.org", "POST", "/api/queue/999999/claim", 404),
        ("pharm@a.org", "GET", "/api/patients/P9/messages", 404),
        ("tech@a.org", "POST", "/api/queue/{item_a}/resolve", 403),
    ],
)
def test_a_refused_api_call_is_audited(
    app: Flask, chain: Chain, session: Session, email: str, method: str, path: str, status: int
) -> None:
    url = path.format(item_a=chain.item_a, item_b=chain.item_b)
    response = app.test_client().open(
        url, method=method, headers=bearer(chain.tokens[email]), json={"note": "done"}
    )
    assert response.status_code == status
    [event] = audit_events(session, "access_refused")
    assert (event.actor, event.user_id, event.target) == ("api", user(session, email).id, url)
    assert event.detail["status"] == status


def test_a_bad_api_token_is_audited_by_its_prefix_only(
    app: Flask, chain: Chain, session: Session
) -> None:
    guess = "msb_guessing_the_rest_of_a_token"
    response = app.test_client().get("/api/queue", headers=bearer(guess))
    assert response.status_code == 401
    [event] = audit_events(session, "api_token_refused")
    assert event.target == guess[:12] and event.user_id is None
    assert guess not in str(event.detail)


def test_anonymous_404s_and_urls_of_no_page_are_not_audited(
    app: Flask, chain: Chain, session: Session
) -> None:
    assert app.test_client().get("/no/such/page").status_code == 404
    assert app.test_client().get("/items/1").status_code == 302
    me = StaffClient.signed_in(app, "pharm@a.org")
    for path in ("/favicon.ico", "/static/missing.css", "/api/nowhere"):
        assert me.get(path).status_code == 404
    assert audit_events(session, "access_refused") == []
