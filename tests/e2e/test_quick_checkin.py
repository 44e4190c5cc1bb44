"""The quick check-in (SPEC 6, issue 12) through the real signed webhooks: what the patient
texts or says, and what the pharmacist then sees in the queue, the API and the item page."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.fake import FakeTransport
from store.models import Checkin, CheckinStatus, Language, Message, Purpose, QueueItem, Role
from tests.e2e.test_voice_checkin import Call
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster, sid
from tests.workspace_helpers import StaffClient, make_user

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
PATIENT = "+12025550143"
DEFAULTS = outreach.Defaults(store_code="main", sender=Sender(None, None))
URLS = outreach.Urls("http://localhost")
# A Monday morning in New York; the store is open 09:00-19:00 on weekdays.
OPEN = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
HOURS = "Mon-Fri 09:00-19:00"


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    return [m.text or "" for m in ET.fromstring(response.data).iter("Message")]


def start(session: Session, language: Language = Language.EN, **store: object) -> Checkin:
    shop = make_store(session, **store)
    checkin = make_checkin(session, make_patient(session, shop, language=language))
    session.commit()
    outreach.send_checkin_sms(
        session,
        checkin,
        Purpose.FIRST,
        NOW,
        transport=FakeTransport(),
        urls=URLS,
        defaults=DEFAULTS,
    )
    return checkin


def items(session: Session) -> list[tuple[str, str | None]]:
    session.expire_all()
    rows = session.scalars(select(QueueItem).order_by(QueueItem.id))
    return [(i.kind.value, i.text) for i in rows]


def checkin_now(session: Session, checkin: Checkin) -> Checkin:
    session.expire_all()
    found = session.get(Checkin, checkin.id)
    assert found is not None
    return found


@pytest.mark.parametrize(("language", "no"), [(Language.EN, "no"), (Language.ES, "nada")])
def test_a_patient_with_nothing_new_is_confirmed_after_one_text(
    session: Session, twilio: TwilioPoster, language: Language, no: str
) -> None:
    checkin = start(session, language)
    first = session.scalars(select(Message.body).where(Message.purpose == Purpose.FIRST)).one()
    assert first and ("Reply NO or tell us" in first or "Responda NO" in first)
    (answer,) = texts(twilio.sms(PATIENT, no))
    assert "We'll have your refills" in answer or "Tendremos sus resurtidos" in answer
    found = checkin_now(session, checkin)
    assert found.status == CheckinStatus.CONFIRMED and items(session) == []
    assert set((found.topics or {}).values()) == {"none"}


@pytest.mark.parametrize(
    "words",
    [
        "I stopped taking metformin",
        "dr changed my bp pill",
        "new med eliquis",
        "They added a water pill",
        "doctor took me off glipizide",
        "dejé de tomar la metformina",
    ],
)
def test_a_change_written_without_yes_is_a_medication_change_item(
    session: Session, twilio: TwilioPoster, words: str
) -> None:
    checkin = start(session)
    texts(twilio.sms(PATIENT, words))
    texts(twilio.sms(PATIENT, "no"))  # nothing else: and the change is not lost
    assert items(session) == [("med_change", words)]
    item = session.scalars(select(QueueItem)).one()
    assert item.reason and "medication change" in item.reason
    found = checkin_now(session, checkin)
    assert found.status == CheckinStatus.FLAGGED
    assert (found.topics or {})["med_change"] == "reported"


def test_i_dont_know_is_never_read_as_no(session: Session, twilio: TwilioPoster) -> None:
    checkin = start(session)
    (asked_again,) = texts(twilio.sms(PATIENT, "I don't know"))
    assert "If nothing is new, reply NO" in asked_again
    assert checkin_now(session, checkin).status == CheckinStatus.IN_PROGRESS


def test_no_changes_but_a_hospital_stay_is_a_high_priority_item(
    session: Session, twilio: TwilioPoster
) -> None:
    checkin = start(session)
    words = "No changes. I was in the hospital last week though"
    texts(twilio.sms(PATIENT, words))
    item = session.scalars(select(QueueItem)).one()
    assert (item.kind.value, item.text, item.priority) == ("health_change", words, 1)
    assert checkin_now(session, checkin).status == CheckinStatus.FLAGGED


def test_a_smiley_and_k_go_to_a_person_with_both_messages(
    session: Session, twilio: TwilioPoster
) -> None:
    start(session)
    texts(twilio.sms(PATIENT, "🙂👍"))
    texts(twilio.sms(PATIENT, "k"))
    assert items(session) == [("needs_human", "🙂👍\nk")]  # never a med_change with "k"


def test_the_api_and_the_item_page_show_the_topics_and_why(
    app: Flask, session: Session, twilio: TwilioPoster
) -> None:
    checkin = start(session)
    texts(twilio.sms(PATIENT, "I stopped taking metformin"))
    texts(twilio.sms(PATIENT, "no thanks"))
    store = checkin_now(session, checkin).store
    token = make_user(session, "pat@main.test", Role.PHARMACIST, store)
    session.commit()
    client = app.test_client()
    answer = client.get(
        f"/api/checkins/{checkin.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert answer["id"] == checkin.id and answer["status"] == "flagged"
    assert answer["topics"] == {
        "med_change": "reported",
        "adherence": "none",
        "prn_need": "none",
        "health_change": "none",
        "concern": "none",
    }
    listed = client.get(
        f"/api/checkins?anchor_date={checkin.anchor_date.isoformat()}",
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    assert listed["items"][0]["topics"] == answer["topics"]
    assert (
        client.get(
            "/api/checkins/2147483647", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )
    item = session.scalars(select(QueueItem)).one()
    page = StaffClient.signed_in(app, "pat@main.test").get(f"/items/{item.id}")
    html = page.get_data(as_text=True)
    assert "Why this item: read as a medication change because it says" in html
    assert "What the check-in covered" in html and "Missed doses or side effects" in html


@pytest.mark.parametrize(
    ("language", "words", "then", "chosen"),
    [
        (Language.EN, "deliver please", "no", "delivery"),
        (Language.ES, "entregar a domicilio por favor", "nada", "delivery"),
        (Language.ES, "no gracias, voy a recoger", None, "pickup"),
    ],
)
def test_the_patient_chooses_pickup_or_delivery_in_the_conversation(
    session: Session,
    twilio: TwilioPoster,
    language: Language,
    words: str,
    then: str | None,
    chosen: str,
) -> None:
    checkin = start(session, language)
    answers = texts(twilio.sms(PATIENT, words))
    if then is not None:
        assert "deliver" in answers[0] or "entregaremos" in answers[0]  # noted, asked again
        texts(twilio.sms(PATIENT, then))
    found = checkin_now(session, checkin)
    assert found.patient.delivery.value == chosen
    assert found.status == CheckinStatus.CONFIRMED and items(session) == []


# --- Voice -----------------------------------------------------------------------------------


def call(
    session: Session, twilio: TwilioPoster, language: Language = Language.EN, **store: object
) -> tuple[Call, Checkin]:
    shop = make_store(session, **store)
    checkin = make_checkin(session, make_patient(session, shop, language=language))
    session.commit()
    fake = FakeTransport()
    outreach.place_checkin_call(session, checkin, NOW, transport=fake, urls=URLS, defaults=DEFAULTS)
    (placed,) = fake.sent
    answered = Call(twilio, placed.sid)
    answered.post(placed.url or "", AnsweredBy="human")
    return answered, checkin


@pytest.mark.parametrize("language", [Language.EN, Language.ES])
def test_by_voice_one_keypress_after_the_identity_check_confirms(
    session: Session, twilio: TwilioPoster, language: Language
) -> None:
    answered, checkin = call(session, twilio, language)
    assert "Ana" in answered.said and "refill" not in answered.said.lower()
    answered.press("1")  # it is Ana
    answered.press("1")  # nothing has changed
    assert answered.hung_up
    assert checkin_now(session, checkin).status == CheckinStatus.CONFIRMED
    spoken = session.scalars(
        select(Message.body).where(Message.direction == "inbound").order_by(Message.id)
    ).all()
    assert spoken == ["pressed 1: this is the patient", "pressed 1: nothing has changed"]


def test_someone_else_hears_only_the_pharmacy_and_its_number(
    session: Session, twilio: TwilioPoster
) -> None:
    answered, checkin = call(session, twilio)
    answered.press("2")
    assert answered.hung_up and "(202) 555-0199" in answered.said
    assert "refill" not in answered.said.lower()
    assert checkin_now(session, checkin).status == CheckinStatus.IN_PROGRESS


def test_pressing_0_in_opening_hours_rings_the_pharmacy(
    session: Session, twilio: TwilioPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.webhooks.voice.utcnow", lambda: OPEN)
    answered, _ = call(session, twilio, hours=HOURS)
    answered.press("1")
    answered.press("0")
    dial = answered.twiml.find("Dial") if answered.twiml is not None else None
    assert dial is not None and (dial.text or "").strip() == "+12025550199"
    # Nobody picks up at the pharmacy: the caller leaves a message for a call back.
    answered.post(dial.attrib["action"], DialCallStatus="no-answer")
    assert "no one could answer" in answered.said
    answered.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE5")
    assert items(session) == [("callback_request", None)]
    item = session.scalars(select(QueueItem)).one()
    assert item.recording_url and item.recording_url.endswith("RE5")


def test_pressing_0_when_closed_takes_a_message(
    session: Session, twilio: TwilioPoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.webhooks.voice.utcnow", lambda: OPEN.replace(hour=2))  # 21:00 NY
    answered, _ = call(session, twilio, hours=HOURS)
    answered.press("1")
    answered.press("0")
    assert answered.twiml is not None and answered.twiml.find("Dial") is None
    assert "The pharmacy is closed right now" in answered.said
    answered.record("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE6")
    assert [kind for kind, _ in items(session)] == ["callback_request"]


def test_an_inbound_caller_is_greeted_as_one(session: Session, twilio: TwilioPoster) -> None:
    start(session)
    inbound = Call(twilio, sid("CA"), inbound=True)
    inbound.post("http://localhost/twilio/voice")
    assert "Thank you for calling" in inbound.said and "calling for" not in inbound.said
