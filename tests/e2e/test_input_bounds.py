"""Out-of-range and malformed values, one by one: a clear 4xx, never a 500 (SPEC 11).

Each case here gave a 500 on SQLite or PostgreSQL before ids and numbers were checked where
they enter (bot/inputs.py) and NUL was refused before the database. The random version of
these is tests/e2e/test_random_input.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import messages, queue
from store.models import Channel, Direction, Message, Purpose, QueueItem, QueueKind, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import STORE_NUMBER, TwilioPoster, sid
from tests.workspace_helpers import StaffClient, make_user

PATIENT = "+12025550143"
TOO_BIG = ("2147483648", "9223372036854775808", "1" * 30)


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    store = make_store(session)
    ana = make_patient(session, store, "P1")
    checkin = make_checkin(session, ana)
    item = queue.add_item(
        session, kind=QueueKind.PRN_NEED, store_id=store.id, patient=ana, checkin=checkin, text="x"
    )
    call = {
        "store_id": store.id,
        "patient_id": ana.id,
        "checkin_id": checkin.id,
        "direction": Direction.OUTBOUND,
        "channel": Channel.VOICE,
        "purpose": Purpose.CALL,
        "from_number": STORE_NUMBER,
        "to_number": PATIENT,
        "body": None,
        "status": "queued",
    }
    token = make_user(session, "pharm@a.org", Role.PHARMACIST, store)
    world = {
        "item": item,
        "patient": ana.id,
        "token": token,
        "call_with_sid": messages.record(session, **call, twilio_sid="CA" + "1" * 32),
        "call_without_sid": messages.record(session, **call),
    }
    session.commit()
    return world


@pytest.fixture
def pharmacist(app: Flask, world: dict[str, object]) -> StaffClient:
    return StaffClient.signed_in(app, "pharm@a.org")


def api(client: FlaskClient, method: str, path: str, token: object, **kw: object):  # type: ignore[no-untyped-def]
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)  # type: ignore[arg-type]


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- Ids in paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("big", TOO_BIG)
@pytest.mark.parametrize("path", ["/items/{}", "/patients/{}"])
def test_an_id_no_row_can_have_is_not_found_on_pages(
    pharmacist: StaffClient, path: str, big: str
) -> None:
    assert pharmacist.get(path.format(big)).status_code == 404


@pytest.mark.parametrize("big", TOO_BIG)
@pytest.mark.parametrize("action", ["claim", "resolve", "text"])
def test_an_id_no_row_can_have_is_not_found_on_item_actions(
    pharmacist: StaffClient, action: str, big: str
) -> None:
    assert pharmacist.post(f"/items/{big}/{action}", {"note": "n"}).status_code == 404


@pytest.mark.parametrize("big", TOO_BIG)
@pytest.mark.parametrize("action", ["claim", "resolve"])
def test_an_id_no_row_can_have_is_not_found_in_the_api(
    app: Flask, world: dict[str, object], action: str, big: str
) -> None:
    response = api(
        app.test_client(), "POST", f"/api/queue/{big}/{action}", world["token"], json={"note": "n"}
    )
    assert response.status_code == 404 and "error" in response.json


@pytest.mark.parametrize("digits", ["١", "１", "²"])
def test_only_ascii_digits_are_ids(
    pharmacist: StaffClient, world: dict[str, object], digits: str
) -> None:
    assert world["item"] == 1  # the row "١" would read as, were it read as a number
    assert pharmacist.get(f"/items/{digits}").status_code == 404


# --- Numbers and dates in queries ---------------------------------------------------------------


@pytest.mark.parametrize("big", TOO_BIG)
def test_a_cursor_no_row_can_have_is_a_400(
    app: Flask, pharmacist: StaffClient, world: dict[str, object], big: str
) -> None:
    assert pharmacist.get(f"/items/{world['item']}?before={big}").status_code == 400
    assert pharmacist.get(f"/patients/{world['patient']}?before={big}").status_code == 400
    response = api(
        app.test_client(), "GET", f"/api/patients/P1/messages?before={big}", world["token"]
    )
    assert response.status_code == 400 and "error" in response.json


@pytest.mark.parametrize("page", ["99999999999999999999", "1000001", "0", "-3", "x", "²"])
def test_a_page_out_of_range_is_a_400(
    app: Flask, pharmacist: StaffClient, world: dict[str, object], page: str
) -> None:
    response = pharmacist.get(f"/queue?page={page}")
    assert response.status_code == 400
    assert "page must be a whole number from 1 to 1000000" in response.get_data(as_text=True)
    response = api(app.test_client(), "GET", f"/api/queue?page={page}", world["token"])
    assert response.status_code == 400
    assert response.json == {"error": "page must be a whole number from 1 to 1000000."}


def test_a_far_page_that_exists_in_range_is_just_empty(pharmacist: StaffClient) -> None:
    assert pharmacist.get("/queue?page=1000000").status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-01", "soon"])
def test_an_upcoming_start_out_of_range_is_a_400(pharmacist: StaffClient, day: str) -> None:
    response = pharmacist.get(f"/upcoming?from={day}")
    assert response.status_code == 400
    assert "from must be a date" in response.get_data(as_text=True)


def test_upcoming_without_a_start_begins_today(pharmacist: StaffClient) -> None:
    assert pharmacist.get("/upcoming?from=").status_code == 200


# --- NUL and other text the database cannot store -----------------------------------------------


def test_nul_in_a_login_email_is_a_400(app: Flask, world: dict[str, object]) -> None:
    visitor = StaffClient(app.test_client(), "pharm\x00@a.org")
    assert visitor.login("whatever").status_code == 400


@pytest.mark.parametrize("path", ["/queue?kind=a%00", "/upcoming?from=%00", "/items/1?before=%00"])
def test_nul_in_a_query_is_a_400(pharmacist: StaffClient, path: str) -> None:
    assert pharmacist.get(path).status_code == 400


def test_nul_in_a_form_is_a_400_and_changes_nothing(
    pharmacist: StaffClient, session: Session, world: dict[str, object]
) -> None:
    form = {"note": "called\x00", "outcome": "handled"}
    assert pharmacist.post(f"/items/{world['item']}/resolve", form).status_code == 400
    session.expire_all()
    assert session.get(QueueItem, world["item"]).resolution_note is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/patients/%00/messages", None),
        ("GET", "/api/queue?kind=%00", None),
        ("POST", "/api/queue/{item}/resolve", {"note": "called\x00"}),
        ("POST", "/api/queue/{item}/resolve", {"note": "ok", "\x00": 1}),
        ("POST", "/api/queue/{item}/resolve", {"note": "half a pair \ud800"}),
    ],
)
def test_nul_anywhere_in_an_api_request_is_a_json_400(
    app: Flask, world: dict[str, object], method: str, path: str, body: object
) -> None:
    response = api(app.test_client(), method, path.format(**world), world["token"], json=body)
    assert response.status_code == 400 and "cannot be stored" in response.json["error"]


def test_json_nested_too_deeply_is_a_400(app: Flask, world: dict[str, object]) -> None:
    response = api(
        app.test_client(),
        "POST",
        f"/api/queue/{world['item']}/resolve",
        world["token"],
        data="[" * 100_000,
        content_type="application/json",
    )
    assert response.status_code == 400


# --- Webhooks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("m", ["²", "¹²", "-1", "0", *TOO_BIG])
def test_a_call_url_with_a_bad_message_id_is_a_400(
    twilio: TwilioPoster, world: dict[str, object], m: str
) -> None:
    form = twilio.call_form(sid("CA"), PATIENT, AnsweredBy="human")
    assert twilio.post(f"/twilio/voice?m={quote(m)}", form).status_code == 400


@pytest.mark.parametrize(
    "query", ["c=2147483648&v=1", "c=1&v=2147483648", "c=%C2%B2&v=1", "c=1&v=-1", "c=1", "v=1"]
)
@pytest.mark.parametrize("action", ["gather", "record"])
def test_a_voice_action_with_a_bad_conversation_is_a_400(
    twilio: TwilioPoster, session: Session, world: dict[str, object], action: str, query: str
) -> None:
    form = twilio.call_form(sid("CA"), PATIENT, Digits="1")
    assert twilio.post(f"/twilio/voice/{action}?{query}", form).status_code == 400
    assert count(session, Message) == 2  # the world's two calls, nothing more


@pytest.mark.parametrize("value", ["2147483648", "-2147483649", "1" * 30, "²"])
def test_status_callback_numbers_out_of_range_are_a_400(
    twilio: TwilioPoster, session: Session, world: dict[str, object], value: str
) -> None:
    message_status = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": value}
    assert twilio.post("/twilio/sms/status", message_status).status_code == 400
    call_status = {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing", "SequenceNumber": value}
    assert twilio.post("/twilio/voice/status", call_status).status_code == 400


def test_a_call_sid_already_held_by_another_call_is_hung_up_on(
    twilio: TwilioPoster, session: Session, world: dict[str, object]
) -> None:
    """The call placed as `call_without_sid` (Twilio's answer lost) is fetched with the SID
    of another call: the request contradicts the transcript; nothing changes."""
    form = twilio.call_form("CA" + "1" * 32, PATIENT, AnsweredBy="human")
    response = twilio.post(f"/twilio/voice?m={world['call_without_sid']}", form)
    assert response.status_code == 200
    assert ET.fromstring(response.data).find("Hangup") is not None
    session.expire_all()
    assert session.get(Message, world["call_without_sid"]).twilio_sid is None  # type: ignore[union-attr]


def test_the_first_fetch_of_a_call_whose_sid_was_lost_notes_its_sid(
    twilio: TwilioPoster, session: Session, world: dict[str, object]
) -> None:
    call_sid = sid("CA")
    form = twilio.call_form(call_sid, PATIENT, AnsweredBy="human")
    response = twilio.post(f"/twilio/voice?m={world['call_without_sid']}", form)
    assert response.status_code == 200 and b"<Gather" in response.data
    session.expire_all()
    assert session.get(Message, world["call_without_sid"]).twilio_sid == call_sid  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/twilio/sms", "MessageSid"),
        ("/twilio/sms", "From"),
        ("/twilio/sms", "To"),
        ("/twilio/sms", "MessagingServiceSid"),
        ("/twilio/sms/status", "MessageStatus"),
        ("/twilio/voice", "CallSid"),
        ("/twilio/voice", "AnsweredBy"),
        ("/twilio/voice/message", "RecordingUrl"),
        ("/twilio/voice/message", "RecordingSid"),
        ("/twilio/voice/status", "CallStatus"),
    ],
)
def test_nul_in_a_webhook_field_other_than_the_patients_words_is_a_400(
    twilio: TwilioPoster, session: Session, world: dict[str, object], path: str, field: str
) -> None:
    form = {
        **twilio.call_form(sid("CA"), PATIENT, inbound=True, CallStatus="ringing"),
        "MessageSid": sid("SM"),
        "MessageStatus": "delivered",
        "Body": "hello",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
        "RecordingSid": sid("RE"),
    }
    form[field] = "A\x00B"
    assert twilio.post(path, form).status_code == 400
    assert count(session, Message) == 2


def test_nul_in_the_query_of_a_webhook_is_a_400(twilio: TwilioPoster) -> None:
    form = twilio.call_form(sid("CA"), PATIENT, Digits="1")
    assert twilio.post("/twilio/voice/gather?c=1&v=1&x=%00", form).status_code == 400


@pytest.mark.parametrize(
    "words", ["refill\x00please", "\x00", "é ñ 中文 😀 \u202e", "<Response>&amp;", "\ufffd"]
)
def test_odd_characters_in_a_text_never_lose_the_patients_words(
    twilio: TwilioPoster, session: Session, world: dict[str, object], words: str
) -> None:
    """SPEC 11: the words are kept (NUL, which PostgreSQL cannot hold, as U+FFFD)."""
    response = twilio.sms(PATIENT, words)
    assert response.status_code == 200
    session.expire_all()
    inbound = session.scalars(select(Message).where(Message.direction == Direction.INBOUND))
    assert [m.body for m in inbound] == [words.replace("\x00", "\ufffd")]


def test_nul_in_speech_and_transcriptions_is_kept_as_a_replacement_character(
    twilio: TwilioPoster, session: Session, world: dict[str, object]
) -> None:
    call_sid = sid("CA")
    answered = twilio.post(
        f"/twilio/voice?m={world['call_without_sid']}",
        twilio.call_form(call_sid, PATIENT, AnsweredBy="human"),
    )
    gather = ET.fromstring(answered.data).find("Gather")
    assert gather is not None
    action = gather.attrib["action"].removeprefix("http://localhost")
    form = twilio.call_form(call_sid, PATIENT, SpeechResult="my\x00 inhaler", Confidence="0.9")
    assert twilio.post(action, form).status_code == 200
    session.expire_all()
    heard = session.scalars(select(Message.body).where(Message.direction == Direction.INBOUND))
    assert list(heard) == ["my\ufffd inhaler"]
