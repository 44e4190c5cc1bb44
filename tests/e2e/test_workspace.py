"""The pharmacist workspace: every page and action, every role, store isolation, CSRF, audit."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.transports.fake import FakeTransport
from bot.workspace import TRANSCRIPT_PAGE_SIZE
from store import messages, queue
from store.models import (
    AuditEvent,
    Channel,
    Direction,
    Message,
    Patient,
    Purpose,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
)
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import PASSWORD, StaffClient, make_user


@pytest.fixture
def world(app: Flask, session: Session) -> dict[str, int]:
    """Two stores; a pharmacist, a technician and an admin of store A; a pharmacist of B."""
    a = make_store(session, "a", name="Alpha Pharmacy")
    b = make_store(session, "b", name="Beta Pharmacy", from_number="+12025550177")
    ana = make_patient(session, a, "P1")
    bob = make_patient(session, b, "P9", first_name="Bob", phone="+12125550100")
    checkin_a, checkin_b = make_checkin(session, ana), make_checkin(session, bob)
    ids = {
        "med_a": queue.add_item(
            session,
            kind=QueueKind.MED_CHANGE,
            store_id=a.id,
            patient=ana,
            checkin=checkin_a,
            text="my doctor changed my metformin",
        ),
        "prn_a": queue.add_item(
            session,
            kind=QueueKind.PRN_NEED,
            store_id=a.id,
            patient=ana,
            checkin=checkin_a,
            text="need test strips",
        ),
        "item_b": queue.add_item(
            session,
            kind=QueueKind.HEALTH_CHANGE,
            store_id=b.id,
            patient=bob,
            checkin=checkin_b,
            text="ER on Sunday",
            priority=1,
        ),
        "patient_a": ana.id,
        "patient_b": bob.id,
    }
    make_user(session, "pharm@a.org", Role.PHARMACIST, a)
    make_user(session, "tech@a.org", Role.TECHNICIAN, a)
    make_user(session, "admin@a.org", Role.ADMIN, a)
    make_user(session, "pharm@b.org", Role.PHARMACIST, b)
    session.commit()
    return ids


def audit_actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


PAGES = ["/queue", "/upcoming", "/patients/{patient_a}", "/items/{med_a}"]


@pytest.mark.parametrize("path", [*PAGES, "/admin/users", "/admin/stores", "/"])
def test_every_page_needs_a_login(app: Flask, world: dict[str, int], path: str) -> None:
    response = app.test_client().get(path.format(**world))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("email", ["pharm@a.org", "tech@a.org", "admin@a.org"])
@pytest.mark.parametrize("path", PAGES)
def test_every_role_sees_its_store_pages(
    app: Flask, world: dict[str, int], email: str, path: str
) -> None:
    me = StaffClient.signed_in(app, email)
    response = me.get(path.format(**world))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/items/{item_b}", "/patients/{patient_b}"])
def test_another_stores_data_is_not_found(app: Flask, world: dict[str, int], path: str) -> None:
    for email in ("pharm@a.org", "tech@a.org", "admin@a.org"):
        me = StaffClient.signed_in(app, email)
        assert me.get(path.format(**world)).status_code == 404


def test_another_stores_item_cannot_be_claimed_resolved_or_texted(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "admin@a.org")
    item = world["item_b"]
    assert me.post(f"/items/{item}/claim").status_code == 404
    assert me.post(f"/items/{item}/resolve", {"note": "x", "outcome": "handled"}).status_code == 404
    assert me.post(f"/items/{item}/text", {"body": "hello"}).status_code == 404
    session.expire_all()
    assert session.get(QueueItem, item).status == QueueStatus.OPEN  # type: ignore[union-attr]


def test_the_queue_lists_only_the_users_stores_with_counts(
    app: Flask, world: dict[str, int]
) -> None:
    page = StaffClient.signed_in(app, "pharm@a.org").get("/queue").get_data(as_text=True)
    assert "my doctor changed my metformin" in page and "need test strips" in page
    assert "ER on Sunday" not in page and "Bob" not in page
    assert 'id="active-count" aria-label="2 items to clear">2<' in page
    filtered = (
        StaffClient.signed_in(app, "pharm@a.org").get("/queue?kind=prn_need").get_data(as_text=True)
    )
    assert "need test strips" in filtered and "metformin" not in filtered


def test_a_pharmacist_claims_and_resolves_and_it_is_audited(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    item = world["med_a"]
    page = me.get(f"/items/{item}").get_data(as_text=True)
    assert "Metformin 500 mg" in page and "Albuterol HFA" in page  # maintenance and PRN lists
    assert me.post(f"/items/{item}/claim", page=f"/items/{item}").status_code == 302
    response = me.post(
        f"/items/{item}/resolve",
        {"note": "Updated profile", "outcome": "profile_updated"},
        page=f"/items/{item}",
    )
    assert response.status_code == 302
    session.expire_all()
    resolved = session.get(QueueItem, item)
    assert resolved is not None and resolved.status == QueueStatus.RESOLVED
    assert (resolved.resolution_note, resolved.outcome) == ("Updated profile", "profile_updated")
    assert {"login", "view_item", "claim_item", "resolve_item"} <= set(audit_actions(session))


def test_a_technician_cannot_resolve_a_clinical_item(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "tech@a.org")
    assert (
        me.post(f"/items/{world['med_a']}/resolve", {"note": "n", "outcome": "handled"}).status_code
        == 403
    )
    assert (
        me.post(
            f"/items/{world['prn_a']}/resolve", {"note": "added strips", "outcome": "handled"}
        ).status_code
        == 302
    )
    session.expire_all()
    assert session.get(QueueItem, world["med_a"]).status == QueueStatus.OPEN  # type: ignore[union-attr]
    assert session.get(QueueItem, world["prn_a"]).status == QueueStatus.RESOLVED  # type: ignore[union-attr]


def test_an_item_claimed_by_someone_else_cannot_be_resolved(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    first = StaffClient.signed_in(app, "pharm@a.org")
    second = StaffClient.signed_in(app, "admin@a.org")
    first.post(f"/items/{world['med_a']}/claim")
    second.post(f"/items/{world['med_a']}/resolve", {"note": "mine", "outcome": "handled"})
    session.expire_all()
    assert session.get(QueueItem, world["med_a"]).status == QueueStatus.CLAIMED  # type: ignore[union-attr]


def test_texting_the_patient_goes_through_the_adapter_into_the_transcript(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    fake = FakeTransport()
    app.extensions["medsync"].transport = fake
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.post(
        f"/items/{world['med_a']}/text", {"body": "Please call us about your refill."}
    )
    assert response.status_code == 302
    (sent,) = fake.sent
    assert sent.body == "Alpha Pharmacy: Please call us about your refill."
    session.expire_all()
    message = session.scalars(select(Message)).one()
    assert (message.purpose, message.body, message.status) == (Purpose.STAFF, sent.body, "queued")
    page = me.get(f"/items/{world['med_a']}").get_data(as_text=True)
    assert "Alpha Pharmacy: Please call us about your refill." in page
    assert "text_patient" in audit_actions(session)


def test_a_too_long_text_is_refused_and_the_typed_words_are_kept(
    app: Flask, world: dict[str, int]
) -> None:
    fake = FakeTransport()
    app.extensions["medsync"].transport = fake
    me = StaffClient.signed_in(app, "pharm@a.org")
    words = "Por favor llámenos: " + "x" * 60
    response = me.post(f"/items/{world['med_a']}/text", {"body": words})
    assert response.status_code == 400
    assert fake.sent == []
    page = response.get_data(as_text=True)
    assert "Too long for one text: 96 characters with the pharmacy name, 70 fit." in page
    assert "Some characters (á) make a text shorter: up to 70 characters instead of 160." in page
    assert f"\n{words}</textarea>" in page  # the words are still in the box


def test_a_text_naming_a_medicine_needs_a_confirmation_without_phi_ok(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    fake = FakeTransport()
    app.extensions["medsync"].transport = fake
    me = StaffClient.signed_in(app, "pharm@a.org")
    words = "Your Metformin is ready for pickup."
    first = me.post(f"/items/{world['med_a']}/text", {"body": words})
    assert first.status_code == 200 and fake.sent == []
    page = first.get_data(as_text=True)
    assert (
        "This text names a medicine (metformin) and this patient has not agreed to medicine "
        "names in texts. Send anyway?"
    ) in page
    assert f"\n{words}</textarea>" in page
    assert 'name="confirm_medicine_names"' in page and "Send anyway</button>" in page

    confirmed = me.post(
        f"/items/{world['med_a']}/text", {"body": words, "confirm_medicine_names": "y"}
    )
    assert confirmed.status_code == 302
    assert [m.body for m in fake.sent] == [f"Alpha Pharmacy: {words}"]
    session.expire_all()
    detail = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "text_patient")
    ).one()
    assert detail == {"outcome": "sent", "medicine_names_confirmed": True}


def test_a_patient_who_allowed_medicine_names_is_texted_without_a_question(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    from store.models import Patient

    patient = session.scalars(select(Patient).where(Patient.external_id == "P1")).one()
    patient.phi_ok = True
    session.commit()
    fake = FakeTransport()
    app.extensions["medsync"].transport = fake
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.post(f"/items/{world['med_a']}/text", {"body": "Your metformina is ready."})
    assert response.status_code == 302 and len(fake.sent) == 1


def test_a_form_without_csrf_token_is_refused_and_changes_nothing(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.client.post(f"/items/{world['med_a']}/claim")
    assert response.status_code == 400
    bad = me.client.post(
        f"/items/{world['med_a']}/resolve",
        data={"note": "x", "outcome": "handled", "csrf_token": "forged"},
    )
    assert bad.status_code == 400
    session.expire_all()
    assert session.get(QueueItem, world["med_a"]).status == QueueStatus.OPEN  # type: ignore[union-attr]


def test_login_is_rate_limited(app: Flask, world: dict[str, int]) -> None:
    attacker = StaffClient(app.test_client(), "pharm@a.org")
    for _ in range(5):
        assert attacker.login("wrong password").status_code == 200
    locked = attacker.login(PASSWORD)
    assert locked.status_code == 200 and b"locked" in locked.data


def test_logout_needs_the_form(app: Flask, world: dict[str, int]) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    assert me.post("/logout").status_code == 302
    assert me.get("/queue").status_code == 302


def test_login_does_not_redirect_off_site(app: Flask, world: dict[str, int]) -> None:
    me = StaffClient(app.test_client(), "pharm@a.org")
    token = me.csrf("/login?next=//evil.example")
    response = me.client.post(
        "/login?next=//evil.example",
        data={"email": me.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/queue"


def test_admin_pages_are_for_admins_only(app: Flask, world: dict[str, int]) -> None:
    for email in ("pharm@a.org", "tech@a.org"):
        me = StaffClient.signed_in(app, email)
        assert me.get("/admin/users").status_code == 403
        assert me.get("/admin/stores").status_code == 403
    admin = StaffClient.signed_in(app, "admin@a.org")
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "tech@a.org" in users and "pharm@b.org" not in users


def test_an_admin_adds_a_user_to_their_store(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    store_a = session.scalars(select(func.min(QueueItem.store_id))).one()
    response = admin.post(
        "/admin/users",
        {
            "email": "new@a.org",
            "role": "technician",
            "stores": store_a,
            "password": "long enough pw",
        },
        page="/admin/users",
    )
    assert response.status_code == 302
    StaffClient.signed_in(app, "new@a.org", "long enough pw")


def test_an_admin_updates_a_store_window_within_bounds(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    from store.models import Store

    admin = StaffClient.signed_in(app, "admin@a.org")
    store = session.scalars(select(Store).where(Store.code == "a")).one()
    form = {
        "name": "Alpha Rx",
        "phone": "(202) 555-0199",
        "timezone": "America/Chicago",
        "send_window": "07:00-19:00",
        "lead_days": "5",
    }
    admin.post(f"/admin/stores/{store.id}", form, page="/admin/stores")
    session.expire_all()
    assert session.get(Store, store.id).name == "Alpha Pharmacy"  # type: ignore[union-attr]
    ok = {**form, "send_window": "08:30-19:30", "reminder_delay_hours": "36"}
    ok["unreachable_days"] = "2"
    assert admin.post(f"/admin/stores/{store.id}", ok, page="/admin/stores").status_code == 302
    session.expire_all()
    updated = session.get(Store, store.id)
    assert updated is not None and (
        updated.name,
        updated.window_start_minute,
        updated.lead_days,
        updated.reminder_delay_hours,
        updated.unreachable_days,
    ) == ("Alpha Rx", 510, 5, 36, 2)
    other = session.scalars(select(Store).where(Store.code == "b")).one()
    assert admin.post(f"/admin/stores/{other.id}", form, page="/admin/stores").status_code == 404


def test_a_refused_store_save_shows_every_error_and_keeps_what_was_typed(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    from store.models import Store

    admin = StaffClient.signed_in(app, "admin@a.org")
    store = session.scalars(select(Store).where(Store.code == "a")).one()
    typed = {
        "name": "Alpha Typed",
        "phone": "(202) 555-0199",
        "timezone": "Mars/Base",
        "send_window": "09:75-19:00",
        "lead_days": "3",
        "unreachable_days": "5",
    }
    response = admin.post(f"/admin/stores/{store.id}", typed, page="/admin/stores")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Not saved: 3 settings need a change" in page
    assert "Unknown timezone; use a name like America/Chicago." in page
    assert "Not a time of day" in page  # not stored as 10:15
    assert "Must not exceed the lead days (3)" in page
    for value in typed.values():
        assert f'value="{value}"' in page
    assert page.count('aria-invalid="true"') == 3
    session.expire_all()
    kept = session.get(Store, store.id)
    assert kept is not None and kept.name == "Alpha Pharmacy" and kept.window_start_minute == 540


def test_upcoming_fills_and_patient_page_are_audited(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    upcoming = me.get("/upcoming?from=2026-12-01&days=14").get_data(as_text=True)
    assert "Ana Lopez" in upcoming and "Bob" not in upcoming
    me.get(f"/patients/{world['patient_a']}")
    assert {"view_upcoming", "view_patient"} <= set(audit_actions(session))


def test_empty_queue_says_so(app: Flask, session: Session) -> None:
    store = make_store(session, "c")
    make_user(session, "solo@c.org", Role.PHARMACIST, store)
    session.commit()
    page = StaffClient.signed_in(app, "solo@c.org").get("/queue").get_data(as_text=True)
    assert "Nothing to clear here" in page


def test_the_patient_page_shows_the_sync_plan(app: Flask, world: dict[str, int]) -> None:
    page = (
        StaffClient.signed_in(app, "pharm@a.org")
        .get(f"/patients/{world['patient_a']}")
        .get_data(as_text=True)
    )
    assert "Sync plan for" in page and "Metformin 500 mg" in page


def test_the_candidates_page_reads_a_fills_export(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    import io

    me = StaffClient.signed_in(app, "pharm@a.org")
    rows = ["patient_id,drug,ingredient,drug_class,fill_date,days_supply"]
    for drug, cls in (
        ("lisinopril", "RASA"),
        ("atorvastatin", "statin"),
        ("metformin", "diabetes"),
    ):
        rows += [f"X1,{drug},,{cls},2026-01-0{n},30" for n in (1, 2)]
    rows += ["X2,lisinopril,,RASA,2026-01-01,30", "X3,bad,,RASA,not-a-date,30"]
    data = {
        "fills": (io.BytesIO("\n".join(rows).encode()), "fills.csv"),
        "start": "2026-01-01",
        "end": "2026-12-31",
        "min_meds": "3",
    }
    response = me.client.post(
        "/candidates",
        data={**data, "csrf_token": me.csrf("/candidates")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "X1" in page and "3 maintenance drugs" in page
    assert "1 row rejected" in page and "row 9: fill_date must be a date" in page
    assert "view_candidates" in audit_actions(session)


# --- The transcript, paged --------------------------------------------------------------------

BODY = re.compile(r"\[m(\d{3})\]")
START = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)


def add_messages(session: Session, patient_id: int, count: int, tag: str = "m") -> list[int]:
    """Give the patient `count` texts "[m000]".. and return their ids, oldest first.

    Two messages share each minute (a question and its answer are written together), so a page
    boundary falls between messages with the same time: the keyset must break ties by id.
    """
    patient = session.get(Patient, patient_id)
    assert patient is not None
    ids = []
    for n in range(count):
        inbound = n % 2 == 1
        ids.append(
            messages.record(
                session,
                now=START + dt.timedelta(minutes=n // 2),
                store_id=patient.store_id,
                patient_id=patient.id,
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                channel=Channel.SMS,
                purpose=None if inbound else Purpose.FIRST,
                from_number=patient.phone if inbound else "+12025550100",
                to_number="+12025550100" if inbound else patient.phone,
                body=f"[{tag}{n:03d}]",
                status="received" if inbound else "delivered",
            )
        )
    session.commit()
    return ids


def shown(page: str) -> list[int]:
    return [int(n) for n in BODY.findall(page)]


def earlier_link(page: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="prev"[^>]*>Earlier messages</a>', page)
    return html.unescape(match.group(1)) if match else None


TRANSCRIPT_PAGES = ["/items/{med_a}", "/patients/{patient_a}"]


@pytest.mark.parametrize("path", TRANSCRIPT_PAGES)
def test_the_transcript_shows_the_latest_page_and_pages_back(
    app: Flask, world: dict[str, int], session: Session, path: str
) -> None:
    ids = add_messages(session, world["patient_a"], 121)
    me = StaffClient.signed_in(app, "pharm@a.org")
    url = path.format(**world)

    first = me.get(url).get_data(as_text=True)
    assert TRANSCRIPT_PAGE_SIZE == 50
    assert shown(first) == list(range(71, 121))  # the latest 50, oldest first
    assert earlier_link(first) == f"{url}?before={ids[71]}#transcript"
    assert "(71 earlier messages not shown)" in first
    assert "Latest messages" not in first

    second = me.get(earlier_link(first) or "").get_data(as_text=True)
    assert shown(second) == list(range(21, 71))
    assert earlier_link(second) == f"{url}?before={ids[21]}#transcript"
    assert "(21 earlier messages not shown)" in second
    assert f'<a href="{url}#transcript">Latest messages</a>' in second

    last = me.get(earlier_link(second) or "").get_data(as_text=True)
    assert shown(last) == list(range(21))
    assert earlier_link(last) is None and "Earlier messages" not in last
    assert "Latest messages" in last

    # Paging from the very first message: an empty page that says so, and the way back.
    before_all = me.get(f"{url}?before={ids[0]}").get_data(as_text=True)
    assert shown(before_all) == [] and "No earlier messages." in before_all
    assert "Latest messages" in before_all


@pytest.mark.parametrize("path", TRANSCRIPT_PAGES)
def test_a_short_transcript_has_no_page_links(
    app: Flask, world: dict[str, int], session: Session, path: str
) -> None:
    add_messages(session, world["patient_a"], TRANSCRIPT_PAGE_SIZE)
    page = StaffClient.signed_in(app, "pharm@a.org").get(path.format(**world))
    text = page.get_data(as_text=True)
    assert shown(text) == list(range(TRANSCRIPT_PAGE_SIZE))
    assert "Earlier messages" not in text and "Latest messages" not in text


@pytest.mark.parametrize("path", TRANSCRIPT_PAGES)
@pytest.mark.parametrize(
    "before", ["", "abc", "0", "-1", "+5", "1.5", " 7", "\uff11", "1e3", str(2**63), "9" * 40]
)
def test_a_before_that_is_not_a_positive_integer_is_a_bad_request(
    app: Flask, world: dict[str, int], session: Session, path: str, before: str
) -> None:
    add_messages(session, world["patient_a"], 3)
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.client.get(path.format(**world), query_string={"before": before})
    assert response.status_code == 400
    assert shown(response.get_data(as_text=True)) == []


@pytest.mark.parametrize("path", TRANSCRIPT_PAGES)
def test_a_before_of_another_patient_or_store_shows_nothing_of_theirs(
    app: Flask, world: dict[str, int], session: Session, path: str
) -> None:
    add_messages(session, world["patient_a"], 60)
    theirs = add_messages(session, world["patient_b"], 60, tag="b")
    store_a = session.get(Patient, world["patient_a"]).store  # type: ignore[union-attr]
    neighbour = make_patient(session, store_a, "P2", first_name="Nia", phone="+12025550144")
    session.commit()
    next_door = add_messages(session, neighbour.id, 60, tag="n")
    me = StaffClient.signed_in(app, "admin@a.org")
    session.expire_all()
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    for before in (theirs[-1], theirs[0], next_door[-1], next_door[0], 10**9):
        response = me.get(f"{path.format(**world)}?before={before}")
        text = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "[b" not in text and "[n" not in text and shown(text) == []
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
    # And the other store's pages stay not found, with or without a cursor.
    for other in ("/items/{item_b}", "/patients/{patient_b}"):
        assert me.get(f"{other.format(**world)}?before={theirs[-1]}").status_code == 404


def test_an_earlier_page_is_audited_with_its_cursor(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    ids = add_messages(session, world["patient_a"], 80)
    me = StaffClient.signed_in(app, "pharm@a.org")
    me.get(f"/items/{world['med_a']}?before={ids[30]}")
    me.get(f"/patients/{world['patient_a']}?before={ids[30]}")
    me.get(f"/patients/{world['patient_a']}")
    session.expire_all()
    views = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(["view_item", "view_patient"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.patient_id, e.detail) for e in views] == [
        ("view_item", world["patient_a"], {"before": ids[30]}),
        ("view_patient", world["patient_a"], {"before": ids[30]}),
        ("view_patient", world["patient_a"], {}),
    ]


def test_the_items_words_stay_on_the_page_when_its_message_is_earlier(
    app: Flask, world: dict[str, int], session: Session
) -> None:
    ids = add_messages(session, world["patient_a"], 120)
    ana = session.get(Patient, world["patient_a"])
    assert ana is not None
    item = queue.add_item(
        session,
        kind=QueueKind.CONCERN,
        store_id=ana.store_id,
        patient=ana,
        message_id=ids[1],
        text="is the new inhaler covered?",
    )
    session.commit()
    me = StaffClient.signed_in(app, "pharm@a.org")
    page = me.get(f"/items/{item}").get_data(as_text=True)
    assert 1 not in shown(page)
    assert '<blockquote class="words">is the new inhaler covered?</blockquote>' in page
    assert "The message this item came from is not on this page" in page
    # On the page that holds it, the note goes away.
    oldest = me.get(f"/items/{item}?before={ids[20]}").get_data(as_text=True)
    assert 1 in shown(oldest) and "not on this page" not in oldest
