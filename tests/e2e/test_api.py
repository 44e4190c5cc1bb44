"""The JSON API (SPEC 5.3): bearer tokens, fixed field names, isolation, roles, errors, audit."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.api import TRANSCRIPT_PAGE_SIZE
from store import messages, queue
from store.models import (
    AuditEvent,
    Channel,
    Direction,
    Message,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
)
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import make_user

ITEM_FIELDS = {
    "id",
    "kind",
    "status",
    "priority",
    "patient_id",
    "patient_name",
    "store",
    "anchor_date",
    "text",
    "recording_url",
    "created_at",
    "claimed_by",
    "resolution_note",
}
MESSAGE_FIELDS = {
    "id",
    "direction",
    "channel",
    "body",
    "recording_url",
    "twilio_sid",
    "status",
    "error_code",
    "created_at",
}


@pytest.fixture
def tokens(session: Session) -> dict[str, object]:
    a, b = make_store(session, "a"), make_store(session, "b", from_number="+12025550177")
    ana, bob = make_patient(session, a, "P1"), make_patient(session, b, "P9", first_name="Bob")
    checkin_a, checkin_b = make_checkin(session, ana), make_checkin(session, bob)
    ids = {
        "med": queue.add_item(
            session,
            kind=QueueKind.MED_CHANGE,
            store_id=a.id,
            patient=ana,
            checkin=checkin_a,
            text="new dose",
        ),
        "prn": queue.add_item(
            session,
            kind=QueueKind.PRN_NEED,
            store_id=a.id,
            patient=ana,
            checkin=checkin_a,
            text="strips",
        ),
        "other": queue.add_item(
            session,
            kind=QueueKind.CONCERN,
            store_id=b.id,
            patient=bob,
            checkin=checkin_b,
            text="b's words",
        ),
    }
    messages.record(
        session,
        store_id=a.id,
        patient_id=ana.id,
        direction=Direction.INBOUND,
        channel=Channel.SMS,
        from_number=ana.phone,
        to_number="+12025550100",
        body="yes",
        status="received",
        twilio_sid="SMapi1",
    )
    result: dict[str, object] = {
        "pharm": make_user(session, "pharm@a.org", Role.PHARMACIST, a),
        "tech": make_user(session, "tech@a.org", Role.TECHNICIAN, a),
        "pharm_b": make_user(session, "pharm@b.org", Role.PHARMACIST, b),
        **ids,
    }
    session.commit()
    return result


def call(client: FlaskClient, method: str, path: str, token: object | None, **kw: object):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(path, method=method, headers=headers, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/queue"),
        ("POST", "/api/queue/1/claim"),
        ("POST", "/api/queue/1/resolve"),
        ("GET", "/api/patients/P1/messages"),
        ("GET", "/api/checkins?anchor_date=2026-12-07"),
    ],
)
@pytest.mark.parametrize("token", [None, "msb_wrong"])
def test_every_route_needs_a_valid_token(
    app: Flask, tokens: dict[str, object], method: str, path: str, token: str | None
) -> None:
    response = call(app.test_client(), method, path, token)
    assert response.status_code == 401 and "error" in response.json


def test_the_queue_has_the_fixed_fields_and_only_the_callers_store(
    app: Flask, tokens: dict[str, object]
) -> None:
    body = call(app.test_client(), "GET", "/api/queue", tokens["pharm"]).json
    assert {i["text"] for i in body["items"]} == {"new dose", "strips"}
    assert all(ITEM_FIELDS <= set(item) for item in body["items"])
    first = body["items"][0]
    assert (first["patient_id"], first["patient_name"], first["store"], first["anchor_date"]) == (
        "P1",
        "Ana Lopez",
        "a",
        "2026-12-07",
    )
    only_prn = call(
        app.test_client(), "GET", "/api/queue?kind=prn_need&status=open", tokens["pharm"]
    ).json
    assert [i["kind"] for i in only_prn["items"]] == ["prn_need"]
    assert (
        call(app.test_client(), "GET", "/api/queue?kind=nonsense", tokens["pharm"]).status_code
        == 400
    )


def test_claim_and_resolve(app: Flask, tokens: dict[str, object], session: Session) -> None:
    client, item = app.test_client(), tokens["med"]
    claimed = call(client, "POST", f"/api/queue/{item}/claim", tokens["pharm"])
    assert (
        claimed.status_code == 200
        and claimed.json["status"] == "claimed"
        and claimed.json["claimed_by"] == "pharm@a.org"
    )
    assert call(client, "POST", f"/api/queue/{item}/claim", tokens["pharm"]).status_code == 409
    assert (
        call(client, "POST", f"/api/queue/{item}/resolve", tokens["pharm"], json={}).status_code
        == 400
    )
    assert (
        call(
            client, "POST", f"/api/queue/{item}/resolve", tokens["pharm"], data="not json"
        ).status_code
        == 400
    )
    done = call(
        client,
        "POST",
        f"/api/queue/{item}/resolve",
        tokens["pharm"],
        json={"note": "updated profile"},
    )
    assert done.status_code == 200 and (done.json["status"], done.json["resolution_note"]) == (
        "resolved",
        "updated profile",
    )
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"api_list_queue", "claim_item", "resolve_item"} <= actions or {
        "claim_item",
        "resolve_item",
    } <= actions


def test_a_technician_cannot_resolve_clinical_items(
    app: Flask, tokens: dict[str, object], session: Session
) -> None:
    client = app.test_client()
    assert (
        call(
            client,
            "POST",
            f"/api/queue/{tokens['med']}/resolve",
            tokens["tech"],
            json={"note": "x"},
        ).status_code
        == 403
    )
    assert (
        call(
            client,
            "POST",
            f"/api/queue/{tokens['prn']}/resolve",
            tokens["tech"],
            json={"note": "added"},
        ).status_code
        == 200
    )
    assert session.get(QueueItem, tokens["med"]).status == QueueStatus.OPEN  # type: ignore[union-attr,arg-type]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/queue/{other}/claim"),
        ("POST", "/api/queue/{other}/resolve"),
        ("GET", "/api/patients/P9/messages"),
    ],
)
def test_another_stores_data_is_404(
    app: Flask, tokens: dict[str, object], session: Session, method: str, path: str
) -> None:
    response = call(
        app.test_client(), method, path.format(**tokens), tokens["pharm"], json={"note": "x"}
    )
    assert response.status_code == 404 and response.json == {"error": response.json["error"]}
    assert session.get(QueueItem, tokens["other"]).status == QueueStatus.OPEN  # type: ignore[union-attr,arg-type]


def test_the_transcript_has_the_fixed_fields(app: Flask, tokens: dict[str, object]) -> None:
    body = call(app.test_client(), "GET", "/api/patients/P1/messages", tokens["pharm"]).json
    (message,) = body["items"]
    assert MESSAGE_FIELDS <= set(message)
    assert (message["direction"], message["channel"], message["body"], message["twilio_sid"]) == (
        "inbound",
        "sms",
        "yes",
        "SMapi1",
    )


def test_checkins_for_a_day(app: Flask, tokens: dict[str, object]) -> None:
    client = app.test_client()
    body = call(client, "GET", "/api/checkins?anchor_date=2026-12-07", tokens["pharm"]).json
    assert [
        (c["patient_id"], c["anchor_date"], c["status"], c["channel"]) for c in body["items"]
    ] == [("P1", "2026-12-07", "scheduled", "sms")]
    assert call(client, "GET", "/api/checkins?anchor_date=soon", tokens["pharm"]).status_code == 400


def test_unknown_routes_answer_json(app: Flask, tokens: dict[str, object]) -> None:
    response = call(app.test_client(), "DELETE", "/api/queue", tokens["pharm"])
    assert response.status_code == 405 and "error" in response.json


def _record_texts(
    session: Session, patient_phone: str, store_id: int, patient_id: int, n: int
) -> None:
    for i in range(n):
        messages.record(
            session,
            store_id=store_id,
            patient_id=patient_id,
            direction=Direction.INBOUND,
            channel=Channel.SMS,
            from_number=patient_phone,
            to_number="+12025550100",
            body=f"text {i}",
            status="received",
        )
    session.commit()


def test_a_long_transcript_comes_in_pages_and_nothing_is_missed(
    app: Flask, session: Session, tokens: dict[str, object]
) -> None:
    ana = session.scalars(select(Patient).where(Patient.external_id == "P1")).one()
    _record_texts(session, ana.phone, ana.store_id, ana.id, TRANSCRIPT_PAGE_SIZE + 1)
    client = app.test_client()
    latest = call(client, "GET", "/api/patients/P1/messages", tokens["pharm"]).json
    assert len(latest["items"]) == TRANSCRIPT_PAGE_SIZE
    assert latest["earlier"] == 2
    assert latest["items"][-1]["body"] == f"text {TRANSCRIPT_PAGE_SIZE}"
    assert latest["next_before"] == latest["items"][0]["id"]

    path = f"/api/patients/P1/messages?before={latest['next_before']}"
    older = call(client, "GET", path, tokens["pharm"]).json
    assert [m["body"] for m in older["items"]] == ["yes", "text 0"]
    assert (older["earlier"], older["next_before"]) == (0, None)
    everything = session.scalars(select(Message.id).where(Message.patient_id == ana.id)).all()
    seen = [m["id"] for m in older["items"] + latest["items"]]
    assert sorted(seen) == sorted(everything) and len(set(seen)) == len(seen)
    audited = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_view_transcript")
    ).all()
    assert [event.detail for event in audited][-1] == {"before": latest["next_before"]}


@pytest.mark.parametrize("before", ["abc", "0", "-1", "1.5", "", "99999999999999999999"])
def test_a_bad_transcript_cursor_is_a_400(
    app: Flask, tokens: dict[str, object], before: str
) -> None:
    response = call(
        app.test_client(), "GET", f"/api/patients/P1/messages?before={before}", tokens["pharm"]
    )
    assert response.status_code == 400 and "error" in response.json


def test_another_patients_message_is_not_a_cursor(
    app: Flask, session: Session, tokens: dict[str, object]
) -> None:
    bob = session.scalars(select(Patient).where(Patient.external_id == "P9")).one()
    _record_texts(session, bob.phone, bob.store_id, bob.id, 1)
    bobs = session.scalars(select(Message.id).where(Message.patient_id == bob.id)).one()
    response = call(
        app.test_client(), "GET", f"/api/patients/P1/messages?before={bobs}", tokens["pharm"]
    )
    assert response.status_code == 400
    assert "text 0" not in response.get_data(as_text=True)
