"""The enroll flow and enrollment changes (SPEC 14), page and API: consent with method, author
and time; medicines reconciled; the anchor with the planner's suggestion; costs; follow-ups;
declined patients never contacted nor asked again; anchor, channel, language, phi_ok, form,
pause and disenrollment, each audited; the API's 400, 404 and 409."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import bot.enrollment
from store.models import (
    AuditEvent,
    Channel,
    Checkin,
    CheckinForm,
    CheckinStatus,
    ConsentMethod,
    ConsentState,
    Direction,
    FollowUp,
    Language,
    Medicine,
    MedType,
    Message,
    Patient,
    Purpose,
    Role,
    Service,
    User,
)
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, ny, tick, walk
from tests.workspace_helpers import StaffClient, make_user

# The flow runs on the real clock; the scheduler parts pin it (bot.enrollment.utcnow is not
# used: the views pass utcnow(), patched where a test needs a fixed day).
TODAY = dt.date.today()


@pytest.fixture
def world(app: Flask, session: Session) -> dict[str, object]:
    a = make_store(session, "a", name="Alpha Pharmacy")
    b = make_store(session, "b", name="Beta Pharmacy", from_number="+12025550177")
    ana = make_patient(
        session,
        a,
        "P1",
        consent_date=None,
        anchor_date=TODAY + dt.timedelta(days=20),
        birth_date=dt.date(1950, 5, 6),
    )
    for medicine in ana.medicines:
        medicine.last_fill_date = TODAY - dt.timedelta(days=20)
    other = make_patient(
        session, b, "P9", first_name="Bob", phone="+12125550100", consent_date=None
    )
    make_user(session, "pharm@a.org", Role.PHARMACIST, a)
    token = make_user(session, "tech@a.org", Role.TECHNICIAN, a)
    session.commit()
    return {"ana": ana.id, "other": other.id, "token": token}


def reload(session: Session, patient_id: object) -> Patient:
    session.expire_all()
    patient = session.get(Patient, patient_id)
    assert patient is not None
    return patient


def actions(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def enroll_form(session: Session, patient_id: object, **overrides: str) -> dict[str, object]:
    patient = reload(session, patient_id)
    form: dict[str, object] = {
        "consent": "accepted",
        "method": "verbal",
        "channel": "sms",
        "language": "es",
        "phi_ok": "yes",
        "anchor_date": (TODAY + dt.timedelta(days=10)).isoformat(),
        "costs_note": "Copays unchanged, $12 total.",
        "services": ["immunizations", "mtm_cmr"],
        "services_note": "Flu shot due",
        "action": "save",
    }
    for medicine in patient.medicines:
        form[f"med_{medicine.id}"] = medicine.med_type.value
    form.update(overrides)
    return form


def test_the_enroll_page_labels_every_control_and_suggests_an_anchor(
    app: Flask, world: dict[str, object]
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    page = html.unescape(me.get(f"/patients/{world['ana']}/enroll").get_data(as_text=True))
    for control in (
        "consent-accepted",
        "consent-declined",
        "method",
        "channel",
        "language",
        "phi_ok",
        "anchor_date",
        "costs_note",
        "services_note",
        "service-immunizations",
        "service-mtm_cmr",
        "service-adherence_packaging",
    ):
        assert f'for="{control}"' in page and f'id="{control}"' in page, control
    assert "The planner suggests" in page
    assert "Short fills for" in page  # the plan of the default date is shown
    assert "Metformin 500 mg" in page


def test_enrolling_records_every_ashp_step(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    patient = reload(session, world["ana"])
    prn = next(m for m in patient.medicines if m.med_type is MedType.PRN)
    form = enroll_form(session, world["ana"], **{f"med_{prn.id}": "maintenance"})
    response = me.post(f"/patients/{world['ana']}/enroll", form, page=f"/patients/{world['ana']}")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    ana = reload(session, world["ana"])
    pharmacist = session.scalars(select(User).where(User.email == "pharm@a.org")).one()
    assert (ana.consent_state, ana.consent_method, ana.consent_by_id) == (
        ConsentState.ACCEPTED,
        ConsentMethod.VERBAL,
        pharmacist.id,
    )
    assert ana.consent_recorded_at is not None and ana.consent_date is not None
    assert (ana.language, ana.phi_ok) == (Language.ES, True)
    assert ana.enrollment is not None
    assert ana.enrollment.anchor_date == TODAY + dt.timedelta(days=10)
    assert ana.enrollment.costs_note == "Copays unchanged, $12 total."
    assert session.get(Medicine, prn.id).med_type is MedType.MAINTENANCE  # type: ignore[union-attr]
    follow_ups = session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
    assert [(f.service, f.note) for f in follow_ups] == [
        (Service.IMMUNIZATIONS, "Flu shot due"),
        (Service.MTM_CMR, "Flu shot due"),
    ]
    assert {"record_consent", "enroll"} <= set(actions(session))

    page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert "Immunizations: Flu shot due" in page and "Medication review (MTM/CMR)" in page
    assert "Accepted (Verbal (in person or by phone)) by pharm@a.org" in page
    done = me.post(
        f"/patients/{world['ana']}/follow-ups/{follow_ups[0].id}/done",
        page=f"/patients/{world['ana']}",
    )
    assert done.status_code == 302
    page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert "Immunizations: Flu shot due" not in page and "Medication review (MTM/CMR)" in page
    assert "follow_up_done" in actions(session)


def test_the_preview_shows_short_fills_for_the_date_typed_and_saves_nothing(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    day = TODAY + dt.timedelta(days=5)
    form = enroll_form(session, world["ana"], anchor_date=day.isoformat(), action="preview")
    page = html.unescape(me.post(f"/patients/{world['ana']}/enroll", form).get_data(as_text=True))
    assert f"Short fills for {day.strftime('%A %B %d')}" in page
    assert 'value="Copays unchanged, $12 total."' not in page  # a textarea keeps it as text
    assert "Copays unchanged, $12 total." in page
    assert reload(session, world["ana"]).consent_state is None


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"consent": ""}, "consent-problem"),
        ({"method": "telepathy"}, "consent-problem"),
        ({"anchor_date": "2020-01-01"}, "anchor_date-error"),
        ({"anchor_date": "soon"}, "anchor_date-error"),
        ({"services": ["spa_day"]}, "Not saved"),
    ],
)
def test_a_bad_answer_is_shown_beside_its_field_and_nothing_is_saved(
    app: Flask,
    world: dict[str, object],
    session: Session,
    overrides: dict[str, object],
    problem: str,
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    form = enroll_form(session, world["ana"], **overrides)  # type: ignore[arg-type]
    response = me.post(f"/patients/{world['ana']}/enroll", form)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert reload(session, world["ana"]).consent_state is None


def test_a_declined_patient_is_never_contacted_nor_offered_enrollment_again(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    form = enroll_form(session, world["ana"], consent="declined", method="written")
    assert me.post(f"/patients/{world['ana']}/enroll", form).status_code == 302
    ana = reload(session, world["ana"])
    assert (ana.consent_state, ana.consent_date) == (ConsentState.DECLINED, None)
    assert session.scalars(select(FollowUp)).all() != []  # services offered are still noted

    patient_page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert "Not offered enrollment again before" in patient_page
    assert f'href="/patients/{world["ana"]}/enroll"' not in patient_page
    quiet = html.unescape(me.get(f"/patients/{world['ana']}/enroll").get_data(as_text=True))
    assert "not offered again before" in quiet and 'id="consent-accepted"' not in quiet
    asked = me.get(f"/patients/{world['ana']}/enroll?patient_asked=1").get_data(as_text=True)
    assert 'id="consent-accepted"' in asked  # the patient may still ask to join

    # The scheduler never texts or calls them, whatever the dates.
    assert ana.enrollment is not None
    start = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    fake = ClockedFake()
    walk(app, fake, start, start + dt.timedelta(days=21), dt.timedelta(hours=8))
    assert fake.contacts == []


def test_the_quiet_period_ends(app: Flask, world: dict[str, object], session: Session) -> None:
    ana = reload(session, world["ana"])
    ana.consent_state, ana.consent_method = ConsentState.DECLINED, ConsentMethod.VERBAL
    days = bot.enrollment.DECLINE_QUIET_DAYS
    ana.consent_recorded_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days + 1)
    session.commit()
    me = StaffClient.signed_in(app, "pharm@a.org")
    page = me.get(f"/patients/{world['ana']}/enroll").get_data(as_text=True)
    assert 'id="consent-accepted"' in page


def test_a_patient_created_by_hand_goes_to_the_enroll_flow(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    store_id = reload(session, world["ana"]).store_id
    form = {
        "store_id": str(store_id),
        "external_id": "N1",
        "first_name": "Nia",
        "last_name": "Long",
        "birth_date": "1955-02-03",
        "phone": "(202) 555-0190",
        "language": "en",
        "channel": "voice",
        "delivery": "pickup",
    }
    response = me.post("/patients/new", form)
    assert response.status_code == 302 and "/enroll" in response.headers["Location"]
    nia = session.scalars(select(Patient).where(Patient.external_id == "N1")).one()
    assert (nia.phone, nia.channel, nia.enrollment) == ("+12025550190", Channel.VOICE, None)
    again = me.post("/patients/new", form)
    assert again.status_code == 400 and "already has a patient N1" in again.get_data(as_text=True)
    bad = me.post("/patients/new", {**form, "external_id": "N2", "phone": "12"})
    assert bad.status_code == 400 and 'id="phone-error"' in bad.get_data(as_text=True)

    enrolled = me.post(
        f"/patients/{nia.id}/enroll",
        {
            "consent": "accepted",
            "method": "written",
            "anchor_date": (TODAY + dt.timedelta(days=12)).isoformat(),
            "action": "save",
        },
    )
    assert enrolled.status_code == 302
    nia = reload(session, nia.id)
    assert nia.enrollment is not None and nia.enrollment.anchor_date == TODAY + dt.timedelta(
        days=12
    )
    assert nia.consent_state is ConsentState.ACCEPTED


def test_another_stores_patient_is_not_found(app: Flask, world: dict[str, object]) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    other = world["other"]
    for path in (f"/patients/{other}/enroll", f"/patients/{other}/enrollment"):
        assert me.get(path).status_code == 404
    assert me.post(f"/patients/{other}/review").status_code == 404


# --- Changes -----------------------------------------------------------------------------------


def consented(session: Session, patient_id: object, anchor: dt.date) -> Patient:
    patient = reload(session, patient_id)
    patient.consent_date = dt.date(2026, 1, 1)
    assert patient.enrollment is not None
    patient.enrollment.anchor_date = anchor
    session.commit()
    return patient


def outreach_of(session: Session, patient_id: object) -> list[str]:
    session.expire_all()
    rows = session.scalars(
        select(Message.purpose)
        .where(Message.patient_id == patient_id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)
    )
    return [str(p) for p in rows]


def test_an_anchor_change_moves_the_open_check_in_without_a_second_text(
    app: Flask, world: dict[str, object], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchor = dt.date(2026, 12, 14)
    consented(session, world["ana"], anchor)
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))
    assert outreach_of(session, world["ana"]) == ["first"]
    monkeypatch.setattr("bot.workspace.patients.utcnow", lambda: ny(2026, 12, 7, 12, 0))
    me = StaffClient.signed_in(app, "pharm@a.org")
    response = me.post(
        f"/patients/{world['ana']}/enrollment",
        {
            "anchor_date": "2026-12-16",
            "channel": "sms",
            "language": "en",
            "phi_ok": "no",
            "checkin_form": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    [checkin] = session.scalars(select(Checkin).where(Checkin.patient_id == world["ana"])).all()
    assert (
        checkin.anchor_date == dt.date(2026, 12, 16) and checkin.status is CheckinStatus.IN_PROGRESS
    )
    walk(app, fake, ny(2026, 12, 7, 13, 0), ny(2026, 12, 8, 12, 0), dt.timedelta(hours=1))
    assert outreach_of(session, world["ana"]) == ["first", "reminder"]  # not a second first
    assert (
        len(session.scalars(select(Checkin).where(Checkin.patient_id == world["ana"])).all()) == 1
    )
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "change_enrollment")
    ).one()
    assert audit.detail["changed"] == ["anchor_date"]


def test_an_anchor_change_before_any_text_makes_the_check_in_again_for_the_new_date(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    consented(session, world["ana"], dt.date(2026, 12, 14))
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 6, 0))  # check-in created, window not open yet
    [checkin] = session.scalars(select(Checkin).where(Checkin.patient_id == world["ana"])).all()
    assert checkin.attempts == 0
    token = world["token"]
    response = app.test_client().post(
        "/api/patients/P1/enrollment",
        json={"anchor_date": "2026-12-28"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    assert (
        session.scalars(select(Checkin).where(Checkin.patient_id == world["ana"])).all() == []
    )  # cancelled, nothing was sent
    walk(app, fake, ny(2026, 12, 7, 9, 0), ny(2026, 12, 21, 8, 0), dt.timedelta(hours=6))
    assert fake.contacts == []  # nothing before the new date's lead time
    tick(app, fake, ny(2026, 12, 21, 9, 0))
    session.expire_all()  # SQLite may give the new row the deleted one's id
    [checkin] = session.scalars(select(Checkin).where(Checkin.patient_id == world["ana"])).all()
    assert checkin.anchor_date == dt.date(2026, 12, 28)
    assert outreach_of(session, world["ana"]) == ["first"]


def test_pause_and_disenroll_through_the_page_are_audited_and_shown(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    consented(session, world["ana"], TODAY + dt.timedelta(days=20))
    me = StaffClient.signed_in(app, "pharm@a.org")
    until = TODAY + dt.timedelta(days=6)
    assert (
        me.post(
            f"/patients/{world['ana']}/enrollment", {"paused_until": until.isoformat()}
        ).status_code
        == 302
    )
    page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert '<span class="status paused">Paused</span>' in page
    assert (
        me.post(f"/patients/{world['ana']}/enrollment", {"action": "end_pause"}).status_code == 302
    )
    assert reload(session, world["ana"]).enrollment.paused_until is None  # type: ignore[union-attr]
    past = me.post(f"/patients/{world['ana']}/enrollment", {"paused_until": TODAY.isoformat()})
    assert past.status_code == 400 and 'id="paused_until-error"' in past.get_data(as_text=True)
    blank = me.post(f"/patients/{world['ana']}/enrollment", {"disenroll_reason": "  "})
    assert blank.status_code == 400
    gone = me.post(f"/patients/{world['ana']}/enrollment", {"disenroll_reason": "Moved to Ohio"})
    assert gone.status_code == 302
    ana = reload(session, world["ana"])
    assert ana.enrollment is not None and not ana.enrollment.active
    assert ana.enrollment.disenroll_reason == "Moved to Ohio"
    page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert '<span class="status disenrolled">Disenrolled</span>' in page and "Moved to Ohio" in page
    changes = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "change_enrollment").order_by(AuditEvent.id)
    ).all()
    assert [c.detail["changed"] for c in changes] == [
        ["paused_until"],
        ["paused_until"],
        ["disenroll_reason"],
    ]


def test_a_disenrolled_patient_gets_nothing_more(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    consented(session, world["ana"], dt.date(2026, 12, 14))
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))
    response = app.test_client().post(
        "/api/patients/P1/enrollment",
        json={"disenroll_reason": "Changed pharmacy"},
        headers={"Authorization": f"Bearer {world['token']}"},
    )
    assert response.status_code == 200 and response.get_json()["status"] == "disenrolled"
    walk(app, fake, ny(2026, 12, 8, 9, 0), ny(2026, 12, 15, 9, 0), dt.timedelta(hours=6))
    assert outreach_of(session, world["ana"]) == ["first"]
    assert session.scalars(
        select(Checkin.status).where(Checkin.patient_id == world["ana"])
    ).all() == [CheckinStatus.EXPIRED]


# --- The API -----------------------------------------------------------------------------------


def post(app: Flask, world: dict[str, object], path: str, body: object):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        path, json=body, headers={"Authorization": f"Bearer {world['token']}"}
    )


def test_the_api_records_consent_and_changes_with_the_pages_rules(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    answer = post(
        app, world, "/api/patients/P1/consent", {"state": "accepted", "method": "electronic"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["consent_state"] == "accepted"
    assert answer.get_json()["status"] == "enrolled"
    until = (TODAY + dt.timedelta(days=9)).isoformat()
    changed = post(
        app,
        world,
        "/api/patients/P1/enrollment",
        {
            "channel": "voice",
            "language": "es",
            "phi_ok": True,
            "checkin_form": "full",
            "paused_until": until,
        },
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert sorted(body["changed"]) == [
        "channel",
        "checkin_form",
        "language",
        "paused_until",
        "phi_ok",
    ]
    assert (body["status"], body["paused_until"], body["checkin_form"]) == ("paused", until, "full")
    ana = reload(session, world["ana"])
    assert (ana.channel, ana.language, ana.phi_ok) == (Channel.VOICE, Language.ES, True)
    assert ana.enrollment is not None and ana.enrollment.checkin_form is CheckinForm.FULL
    back = post(
        app, world, "/api/patients/P1/enrollment", {"checkin_form": None, "paused_until": None}
    )
    assert back.get_json()["status"] == "enrolled" and back.get_json()["checkin_form"] is None
    audited = session.scalars(select(AuditEvent).where(AuditEvent.actor == "api")).all()
    assert {a.action for a in audited} >= {"record_consent", "change_enrollment"}


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("consent", {"state": "maybe", "method": "verbal"}, 400, "state: must be one of"),
        ("consent", {"state": "accepted"}, 400, "method: must be one of"),
        ("consent", {"state": "accepted", "method": "verbal", "x": 1}, 400, "x: unknown field"),
        ("consent", ["accepted"], 400, "JSON object"),
        ("enrollment", {}, 400, "at least one of"),
        ("enrollment", {"anchor_date": "2020-01-01"}, 400, "anchor_date: must be from"),
        ("enrollment", {"anchor_date": 20261207}, 400, "anchor_date: must be a date"),
        ("enrollment", {"channel": "fax"}, 400, "channel: must be one of sms, voice"),
        ("enrollment", {"phi_ok": "maybe"}, 400, "phi_ok: must be true or false"),
        ("enrollment", {"disenroll_reason": ""}, 400, "disenroll_reason: say why"),
        ("enrollment", {"disenroll_reason": "x" * 201}, 400, "at most 200"),
        ("enrollment", {"paused_until": "2099-01-01"}, 400, "paused_until: must be from"),
        ("enrollment", {"colour": "red"}, 400, "colour: unknown field"),
    ],
)
def test_the_api_refuses_bad_fields_with_a_clear_400(
    app: Flask, world: dict[str, object], path: str, body: object, status: int, words: str
) -> None:
    answer = post(app, world, f"/api/patients/P1/{path}", body)
    assert answer.status_code == status
    assert words in answer.get_json()["error"]


def test_the_api_answers_404_for_another_stores_patient_and_409_without_an_enrollment(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    assert (
        post(
            app, world, "/api/patients/P9/consent", {"state": "accepted", "method": "verbal"}
        ).status_code
        == 404
    )
    store_id = reload(session, world["ana"]).store_id
    session.add(
        Patient(
            store_id=store_id,
            external_id="N1",
            first_name="Nia",
            last_name="Long",
            phone="+12025550190",
        )
    )
    session.commit()
    refused = post(
        app, world, "/api/patients/N1/consent", {"state": "accepted", "method": "verbal"}
    )
    assert refused.status_code == 409 and "anchor_date" in refused.get_json()["error"]
    enrolled = post(
        app,
        world,
        "/api/patients/N1/enrollment",
        {"anchor_date": (TODAY + dt.timedelta(days=15)).isoformat()},
    )
    assert enrolled.status_code == 200 and enrolled.get_json()["status"] == "not_consented"
    accepted = post(
        app, world, "/api/patients/N1/consent", {"state": "accepted", "method": "verbal"}
    )
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "enrolled"


def test_review_on_the_roster_lets_outreach_start(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    ana = consented(session, world["ana"], dt.date(2026, 12, 14))
    ana.needs_review = True
    session.commit()
    fake = ClockedFake()
    tick(app, fake, ny(2026, 12, 7, 9, 0))
    assert fake.contacts == []
    me = StaffClient.signed_in(app, "pharm@a.org")
    listed = me.get("/patients?review=1").get_data(as_text=True)
    assert "new from import" in listed and "Approve" in listed
    response = me.post(
        f"/patients/{world['ana']}/review", {"back": "roster"}, page="/patients?review=1"
    )
    assert response.status_code == 302 and "review=1" in response.headers["Location"]
    assert not reload(session, world["ana"]).needs_review
    assert "review_patient" in actions(session)
    tick(app, fake, ny(2026, 12, 7, 10, 0))  # looked at again at once, not tomorrow
    assert outreach_of(session, world["ana"]) == [Purpose.FIRST.value]


def test_enrolling_a_patient_who_texted_stop_says_nothing_is_sent_until_start(
    app: Flask, world: dict[str, object], session: Session
) -> None:
    ana = reload(session, world["ana"])
    ana.opted_out_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    session.commit()
    me = StaffClient.signed_in(app, "pharm@a.org")
    me.post(f"/patients/{world['ana']}/enroll", enroll_form(session, world["ana"]))
    page = html.unescape(me.get(f"/patients/{world['ana']}").get_data(as_text=True))
    assert "nothing is sent until they text START" in page
    assert '<span class="status opted_out">Opted out</span>' in page
    assert reload(session, world["ana"]).opted_out  # staff cannot lift a carrier opt-out
