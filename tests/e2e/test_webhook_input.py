"""Malformed and hostile input to /twilio/*: a 4xx or a polite reply, never a 500."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Message, QueueItem
from tests.factories import make_patient, make_store
from tests.twilio_helpers import STORE_NUMBER, TwilioPoster, sid

PATIENT = "+12025550143"


@pytest.fixture(autouse=True)
def patient(session: Session) -> None:
    make_patient(session, make_store(session))
    session.commit()


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/twilio/sms", {"From": PATIENT, "To": STORE_NUMBER, "Body": "hi"}),
        ("/twilio/sms", {"MessageSid": "SM1", "To": STORE_NUMBER, "Body": "hi"}),
        ("/twilio/sms", {"MessageSid": "SM1", "From": "+1" * 30, "To": STORE_NUMBER}),
        ("/twilio/sms/status", {"MessageSid": "SM1"}),
        ("/twilio/sms/status", {"MessageSid": "SM1", "MessageStatus": "sent", "ErrorCode": "x"}),
        (
            "/twilio/voice/status",
            {"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "a"},
        ),
        ("/twilio/voice", {"From": PATIENT, "To": STORE_NUMBER}),
        ("/twilio/voice/gather", {"CallSid": "CA1", "From": PATIENT, "To": STORE_NUMBER}),
        ("/twilio/voice/gather?c=x&v=1", {"CallSid": "CA1", "From": PATIENT, "To": STORE_NUMBER}),
        ("/twilio/voice/record?c=1", {"CallSid": "CA1", "From": PATIENT, "To": STORE_NUMBER}),
    ],
)
def test_missing_or_mistyped_fields_get_400_and_change_nothing(
    session: Session, twilio: TwilioPoster, path: str, form: dict[str, str]
) -> None:
    response = twilio.post(path, form)
    assert response.status_code == 400
    assert count(session, Message) == 0


def test_unknown_conversation_hangs_up(session: Session, twilio: TwilioPoster) -> None:
    form = twilio.call_form(sid("CA"), PATIENT, Digits="1")
    response = twilio.post("/twilio/voice/gather?c=999&v=1", form)
    assert response.status_code == 200 and b"<Hangup" in response.data


def test_a_100kb_text_is_kept_whole_and_answered(session: Session, twilio: TwilioPoster) -> None:
    body = ("my question is about my pills " * 3500)[:100_000]
    response = twilio.sms(PATIENT, body)
    assert response.status_code == 200 and b"<Message>" in response.data
    session.expire_all()
    assert session.scalars(select(QueueItem.text)).one() == body


def test_an_oversized_request_is_refused(twilio: TwilioPoster) -> None:
    response = twilio.sms(PATIENT, "x" * 400_000)
    assert response.status_code == 413


def test_invalid_utf8_is_refused_without_a_500(session: Session, twilio: TwilioPoster) -> None:
    raw = b"MessageSid=SM1&From=%2B12025550143&To=%2B12025550100&Body=\xff\xfe\xc3"
    response = twilio.client.post(
        "/twilio/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "c29tZXRoaW5n"},
    )
    assert response.status_code == 403
    assert count(session, Message) == 0


def test_a_nul_character_is_stored(session: Session, twilio: TwilioPoster) -> None:
    response = twilio.sms(PATIENT, "refill\x00please")
    assert response.status_code == 200
    session.expire_all()
    assert session.scalars(select(Message.body)).first() == "refill\ufffdplease"


def test_a_json_body_without_body_hash_is_refused(session: Session, twilio: TwilioPoster) -> None:
    body = json.dumps({"MessageSid": "SM1", "From": PATIENT, "Body": "hi"})
    signature = twilio.signature(twilio.base + "/twilio/sms", {})
    response = twilio.client.post(
        "/twilio/sms",
        data=body,
        content_type="application/json",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403


def test_a_json_body_with_a_valid_body_hash_is_checked_not_crashed_on(
    session: Session, twilio: TwilioPoster
) -> None:
    body = json.dumps({"MessageSid": "SM1", "From": PATIENT, "Body": "hi"})
    digest = hashlib.sha256(body.encode()).hexdigest()
    path = f"/twilio/sms?bodySHA256={digest}"
    signature = twilio.signature(twilio.base + path, {})
    response = twilio.client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 400  # authentic, but not the form Twilio sends for SMS
    assert count(session, Message) == 0


def test_a_shared_key_signature_is_refused(session: Session, twilio: TwilioPoster) -> None:
    form = {"MessageSid": "SM1", "From": PATIENT, "To": STORE_NUMBER, "Body": "hi"}
    signature = twilio.signature(twilio.base + "/twilio/sms", form)
    response = twilio.client.post(
        "/twilio/sms",
        data=form,
        headers={
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": "key=abc,algorithm=HMAC_SHA256",
        },
    )
    assert response.status_code == 403


def test_signature_uses_the_raw_query_string(session: Session, twilio: TwilioPoster) -> None:
    """Werkzeug decodes request.url; Twilio signs the encoded URL as it was configured."""
    form = twilio.call_form(sid("CA"), PATIENT, Digits="1")
    path = "/twilio/voice/gather?c=999&v=1&x=a%2Fb%7C"
    signed = twilio.signature(twilio.base + path, form)
    response = twilio.post(path, form, signature=signed)
    assert response.status_code == 200


def test_public_base_url_is_what_gets_validated(migrated_url: str) -> None:
    from twilio.request_validator import RequestValidator

    from bot import create_app
    from bot.webhooks import signing_key
    from tests.conftest import TEST_ENV

    app = create_app(
        {**TEST_ENV, "DATABASE_URL": migrated_url, "PUBLIC_BASE_URL": "https://rx.example.org"}
    )
    key = signing_key(app.extensions["medsync"].settings)
    form = {"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "0"}
    client = app.test_client()
    internal = RequestValidator(key).compute_signature("http://localhost/twilio/voice/status", form)
    public = RequestValidator(key).compute_signature(
        "https://rx.example.org/twilio/voice/status", form
    )
    assert (
        client.post(
            "/twilio/voice/status", data=form, headers={"X-Twilio-Signature": internal}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/twilio/voice/status", data=form, headers={"X-Twilio-Signature": public}
        ).status_code
        == 204
    )
    app.extensions["medsync"].db.dispose()
