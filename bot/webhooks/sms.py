"""POST /twilio/sms and /twilio/sms/status."""

from __future__ import annotations

from flask import Response
from sqlalchemy.exc import IntegrityError

from bot import outreach, render
from bot.extensions import db_session
from bot.webhooks import bp, defaults, field, int_field, twilio_request, twiml, words
from store import messages
from store.models import utcnow


@bp.post("/sms")
@twilio_request
def inbound_sms() -> Response:
    """Answer a patient's text.

    Twilio posts e.g. MessageSid=SM..., From=+12025550143, To=+12025550100, Body=yes.
    """
    sms = outreach.InboundSms(
        sid=field("MessageSid"),
        from_number=field("From", max_len=20),
        to_number=field("To", max_len=20),
        body=words("Body"),
        messaging_service_sid=field("MessagingServiceSid", required=False) or None,
    )
    session = db_session()
    try:
        answers = outreach.handle_inbound_sms(session, sms, utcnow(), defaults())
        session.commit()
    except IntegrityError:
        session.rollback()
        if messages.get_by_sid(session, sms.sid) is None:
            raise  # not a second delivery of this message: a real error, Twilio will retry
        answers = ()  # the same MessageSid delivered twice: answered the first time
    return twiml(render.sms_twiml(answers))


@bp.post("/sms/status")
@twilio_request
def sms_status() -> Response:
    """Apply a delivery status; statuses never move backwards (MessageSid, MessageStatus)."""
    session = db_session()
    outreach.handle_message_status(
        session,
        field("MessageSid"),
        field("MessageStatus", max_len=20).lower(),
        int_field("ErrorCode"),
        utcnow(),
    )
    session.commit()
    return Response(status=204)
