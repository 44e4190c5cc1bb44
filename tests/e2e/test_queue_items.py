"""Claim, release, take over and resolve (bot/items.py), by the pages and the API alike: roles,
conflicts, outcomes, the audit log, and the check-in's reminders pausing and resuming."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot import items
from bot.access import Staff
from store import queue
from store.models import AuditEvent, Checkin, QueueItem, QueueKind, QueueStatus, Role, User
from tests.factories import make_checkin, make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, fresh, ny, tick, walk
from tests.workspace_helpers import StaffClient, make_user

NOW = dt.datetime(2026, 12, 2, 15, 14, tzinfo=dt.UTC)  # 10:14 AM in New York


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """One store; a pharmacist, a second pharmacist, a technician and an admin; three items."""
    store = make_store(session)
    ana = make_patient(session, store)
    checkin = make_checkin(session, ana)
    ids: dict[str, Any] = {
        kind.value: queue.add_item(
            session, kind=kind, store_id=store.id, patient=ana, checkin=checkin, text=text
        )
        for kind, text in [
            (QueueKind.MED_CHANGE, "my doctor changed my metformin"),
            (QueueKind.CONCERN, "can I take it with ibuprofen?"),
            (QueueKind.PRN_NEED, "need test strips"),
        ]
    }
    for name, role in [
        ("pharm", Role.PHARMACIST),
        ("pharm2", Role.PHARMACIST),
        ("tech", Role.TECHNICIAN),
        ("admin", Role.ADMIN),
    ]:
        ids[name] = make_user(session, f"{name}@x.test", role, store)
    session.commit()
    return ids


def user_id(session: Session, name: str) -> int:
    return session.scalars(select(User.id).where(User.email == f"{name}@x.test")).one()


def item(session: Session, item_id: int) -> QueueItem:
    session.expire_all()
    found = session.get(QueueItem, item_id)
    assert found is not None
    return found


def api(client: FlaskClient, token: str, item_id: int, action: str, **body: object) -> TestResponse:
    return client.post(
        f"/api/queue/{item_id}/{action}",
        headers={"Authorization": f"Bearer {token}"},
        json=body or None,
    )


def audits(session: Session) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    session.expire_all()
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.like("%_item"), AuditEvent.action != "view_item")
        .order_by(AuditEvent.id)
    )
    return [(e.action, e.actor, e.target, e.detail) for e in rows]


def staff(session: Session, name: str) -> Staff:
    user = session.get(User, user_id(session, name))
    assert user is not None
    return Staff.of(user)


# --- Point 8: nobody can claim what they may not resolve; stuck claims can be cleared ----------


def test_a_technician_cannot_claim_a_clinical_item_by_the_page_or_the_api(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    tech = StaffClient.signed_in(app, "tech@x.test")
    page = tech.get(f"/items/{world['med_change']}").get_data(as_text=True)
    assert ">Claim</button>" not in page  # not offered
    assert tech.post(f"/items/{world['med_change']}/claim").status_code == 403
    refused = api(app.test_client(), world["tech"], world["concern"], "claim")
    assert refused.status_code == 403 and "pharmacist" in refused.json["error"]
    assert item(session, world["med_change"]).status is QueueStatus.OPEN
    assert item(session, world["concern"]).status is QueueStatus.OPEN
    # What a technician may resolve, they may claim.
    assert api(app.test_client(), world["tech"], world["prn_need"], "claim").status_code == 200
    assert item(session, world["prn_need"]).status is QueueStatus.CLAIMED


def test_a_stuck_technician_claim_is_taken_over_and_resolved_by_a_pharmacist(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    # As the old code let happen: a technician holds a clinical item.
    queue.claim(session, world["med_change"], user_id(session, "tech"), NOW)
    session.commit()
    pharm = StaffClient.signed_in(app, "pharm@x.test")
    path = f"/items/{world['med_change']}"

    page = html.unescape(pharm.get(path).get_data(as_text=True))
    assert "Claimed by tech@x.test since Dec 02, 10:14 AM" in page
    assert ">Take over</button>" in page and ">Resolve</button>" not in page
    pharm.post(f"{path}/resolve", {"note": "done", "outcome": "handled"}, page=path)
    assert item(session, world["med_change"]).status is QueueStatus.CLAIMED  # take over first

    assert pharm.post(f"{path}/take-over", page=path).status_code == 302
    taken = item(session, world["med_change"])
    assert (taken.status, taken.claimed_by_id) == (QueueStatus.CLAIMED, user_id(session, "pharm"))
    page = html.unescape(pharm.get(path).get_data(as_text=True))
    assert "Taken over from tech@x.test" in page and "Claimed by pharm@x.test since" in page
    response = pharm.post(
        f"{path}/resolve", {"note": "new dose entered", "outcome": "profile_updated"}, page=path
    )
    assert response.status_code == 302 and response.location.endswith("/queue")
    resolved = item(session, world["med_change"])
    assert (resolved.status, resolved.outcome) == (QueueStatus.RESOLVED, "profile_updated")
    assert audits(session) == [
        ("take_over_item", "user", f"item:{world['med_change']}", {"from": "tech@x.test"}),
        ("resolve_item", "user", f"item:{world['med_change']}", {"outcome": "profile_updated"}),
    ]


def test_by_the_api_a_pharmacist_or_admin_takes_over_any_claim_a_technician_none(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    client, prn = app.test_client(), world["prn_need"]
    assert api(client, world["tech"], prn, "claim").status_code == 200
    assert api(client, world["pharm"], prn, "claim").status_code == 409
    resolve = api(client, world["pharm"], prn, "resolve", note="x")
    assert resolve.status_code == 409 and "tech@x.test" in resolve.json["error"]

    taken = api(client, world["pharm"], prn, "take-over")
    assert taken.status_code == 200 and taken.json["claimed_by"] == "pharm@x.test"
    assert taken.json["claimed_at"] is not None
    assert api(client, world["tech"], prn, "take-over").status_code == 403
    assert api(client, world["pharm"], prn, "take-over").status_code == 409  # theirs now
    assert api(client, world["admin"], prn, "take-over").json["claimed_by"] == "admin@x.test"
    assert api(client, world["pharm2"], world["concern"], "take-over").status_code == 409  # open
    assert [(a, actor, d) for a, actor, _, d in audits(session)] == [
        ("claim_item", "api", {}),
        ("take_over_item", "api", {"from": "tech@x.test"}),
        ("take_over_item", "api", {"from": "pharm@x.test"}),
    ]


def test_only_the_claimer_releases_a_claim(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    client, concern = app.test_client(), world["concern"]
    assert api(client, world["pharm"], concern, "release").status_code == 409  # not claimed
    assert api(client, world["pharm"], concern, "claim").status_code == 200
    refused = api(client, world["admin"], concern, "release")
    assert refused.status_code == 409 and "pharm@x.test" in refused.json["error"]
    released = api(client, world["pharm"], concern, "release")
    assert released.status_code == 200
    assert (released.json["status"], released.json["claimed_by"]) == ("open", None)

    pharm = StaffClient.signed_in(app, "pharm@x.test")
    path = f"/items/{world['med_change']}"
    pharm.post(f"{path}/claim", page=path)
    assert ">Release</button>" in pharm.get(path).get_data(as_text=True)
    pharm.post(f"{path}/release", page=path)
    assert item(session, world["med_change"]).status is QueueStatus.OPEN
    actions = [(a, actor) for a, actor, _, _ in audits(session)]
    assert actions == [
        ("claim_item", "api"),
        ("release_item", "api"),
        ("claim_item", "user"),
        ("release_item", "user"),
    ]


def test_the_claimers_release_lets_the_paused_reminders_resume(
    app: Flask, session: Session
) -> None:
    store = make_store(session)
    patient = make_patient(session, store, anchor_date=dt.date(2026, 12, 14))
    make_user(session, "pharm@x.test", Role.PHARMACIST, store)
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 10, 0))  # the first text
    with fresh(app) as write:
        checkin = write.scalars(select(Checkin)).one()
        item_id = queue.add_item(
            write, kind=QueueKind.CONCERN, store_id=store.id, patient=patient, checkin=checkin
        )
        claimed = items.claim(write, staff(write, "pharm"), item(write, item_id), NOW, actor="user")
        assert claimed.ok
        write.commit()

    walk(app, fake, ny(2026, 12, 8, 8, 0), ny(2026, 12, 9, 12, 0), dt.timedelta(hours=1))
    assert len(fake.to(patient.phone)) == 1  # the reminder, due 12/8 09:00, waits

    with fresh(app) as write:
        mine = item(write, item_id)
        assert items.release(
            write, staff(write, "pharm"), mine, ny(2026, 12, 9, 12, 30), actor="user"
        ).ok
        write.commit()
    tick(app, fake, ny(2026, 12, 9, 13, 0))
    # At the next pass, not at the next day's look.
    assert [c.at for c in fake.to(patient.phone)] == [
        ny(2026, 12, 7, 10, 0),
        ny(2026, 12, 9, 13, 0),
    ]


# --- Point 9: one rule for outcomes and notes, audited the same way ----------------------------


def test_the_api_takes_only_a_known_outcome_and_audits_it(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    client, token = app.test_client(), world["pharm"]
    for body in [
        {"note": "called", "outcome": "whatever I like"},
        {"note": "called", "outcome": 7},
        {"note": "", "outcome": "handled"},
        {"note": "x" * (items.NOTE_MAX_LENGTH + 1)},
        {"note": "nul\x00inside"},
        {},
    ]:
        response = api(client, token, world["concern"], "resolve", **body)
        assert response.status_code == 400, body
        assert "error" in response.json
    assert item(session, world["concern"]).status is QueueStatus.OPEN
    done = api(client, token, world["concern"], "resolve", note="called", outcome="called_patient")
    assert done.status_code == 200 and done.json["outcome"] == "called_patient"
    # SPEC 5.3's body is only a note: the default outcome is recorded, and audited.
    assert api(client, token, world["prn_need"], "resolve", note="added").json["outcome"] == (
        items.DEFAULT_OUTCOME
    )
    assert [(a, actor, d) for a, actor, _, d in audits(session)] == [
        ("resolve_item", "api", {"outcome": "called_patient"}),
        ("resolve_item", "api", {"outcome": items.DEFAULT_OUTCOME}),
    ]
    assert api(client, token, world["concern"], "resolve", note="again").status_code == 409


def test_the_page_refuses_an_outcome_the_api_would_refuse(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    pharm = StaffClient.signed_in(app, "pharm@x.test")
    path = f"/items/{world['concern']}"
    response = pharm.post(f"{path}/resolve", {"note": "n", "outcome": "whatever I like"}, page=path)
    assert response.status_code == 302 and response.location.endswith(path)
    assert "Choose an outcome" in pharm.get(path).get_data(as_text=True)
    assert item(session, world["concern"]).status is QueueStatus.OPEN
    page = pharm.get(path).get_data(as_text=True)
    # The form offers exactly the outcomes the rule accepts.
    for value, label in items.OUTCOMES.items():
        assert f'<option value="{value}">{label}</option>' in page


def test_two_claims_at_once_leave_one_winner(
    app: Flask, world: dict[str, Any], session: Session
) -> None:
    seen = item(session, world["concern"])  # both read it open...
    with fresh(app) as other:
        first = items.claim(other, staff(other, "pharm"), item(other, seen.id), NOW, actor="user")
        assert first.ok
        other.commit()
    lost = items.claim(session, staff(session, "pharm2"), seen, NOW, actor="user")
    assert lost.refusal is items.Refusal.CONFLICT and "pharm@x.test" in lost.message
    assert item(session, seen.id).claimed_by_id == user_id(session, "pharm")


def test_the_readme_lists_the_outcomes_the_api_takes() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = readme.split("an outcome not among")[1].split("(`")[0]
    assert re.findall(r"`(\w+)`", listed) == list(items.OUTCOMES)
    assert f"(`{items.DEFAULT_OUTCOME}` when left out)" in readme
