"""A status callback acts on a Twilio error code as the one mapping (bot/transports/errors.py)
says: opted out, invalid number (30006 "landline or unreachable carrier" too), or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outreach
from bot.transports.base import Sender
from bot.transports.errors import TWILIO_ERRORS, TwilioError
from bot.transports.fake import FakeTransport
from store.models import Message, Patient, Purpose, QueueItem
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import TwilioPoster

NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.UTC)
ITEMS = {
    TwilioError.OPTED_OUT: ["opted_out"],
    TwilioError.INVALID_NUMBER: ["invalid_number"],
    TwilioError.RETRYABLE: [],
}


@pytest.mark.parametrize("code", sorted(TWILIO_ERRORS))
def test_a_status_callback_acts_on_a_code_as_the_mapping_says(
    session: Session, twilio: TwilioPoster, code: int
) -> None:
    checkin = make_checkin(session, make_patient(session, make_store(session)))
    session.commit()
    outreach.send_checkin_sms(
        session,
        checkin,
        Purpose.FIRST,
        NOW,
        transport=FakeTransport(),
        urls=outreach.Urls("http://localhost"),
        defaults=outreach.Defaults(store_code="main", sender=Sender(None, None)),
    )
    message = session.scalars(select(Message)).one()
    assert twilio.sms_status(message.twilio_sid or "", "undelivered", code).status_code == 204
    twilio.sms_status(message.twilio_sid or "", "undelivered", code)  # delivered twice
    session.expire_all()
    kinds = [i.kind.value for i in session.scalars(select(QueueItem).order_by(QueueItem.id))]
    assert kinds == ITEMS[TWILIO_ERRORS[code]]
    patient = session.scalars(select(Patient)).one()
    assert patient.opted_out == (TWILIO_ERRORS[code] is TwilioError.OPTED_OUT)
