"""A patient's text: record it, run the dialog, answer (POST /twilio/sms)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

import dialogs
from bot import metrics
from bot.outreach.links import Defaults
from bot.outreach.turn import apply_step, checkin_context, open_turn, sms_texts, state_of
from store import conversations, messages, patients, queue
from store.models import Channel, Direction, Purpose, QueueKind
from store.validate import display_phone


@dataclass(frozen=True)
class InboundSms:
    sid: str
    from_number: str
    to_number: str
    body: str
    messaging_service_sid: str | None = None


def handle_inbound_sms(
    session: Session, sms: InboundSms, now: dt.datetime, defaults: Defaults
) -> tuple[str, ...]:
    """Record a patient's text, run the dialog, and return the texts to answer with.

    A second delivery of the same MessageSid fails on the unique SID (the caller then answers
    nothing): checking first would cost a query on every message.
    """
    store, patient = patients.find_inbound_parties(
        session, sms.to_number, sms.messaging_service_sid, sms.from_number, defaults.store_code
    )
    if store is None:
        raise LookupError("no store configured")
    if patient is None:
        return (_answer_unknown_number(session, sms, store.id, store.name, store.phone, now),)
    conversation, checkin = conversations.latest_for_patient(session, patient.id)
    turn = open_turn(store, patient, checkin, conversation, Channel.SMS)
    context = checkin_context(turn, now)
    state = state_of(conversation, turn, context)
    result = dialogs.step(turn.dialog, state, dialogs.Reply(text=sms.body), context)
    answers = sms_texts(result.outputs)
    # The patient's text and our answers in one INSERT, before the step's effects: its queue
    # items point at the patient's text.
    inbound_id = messages.record_exchange(
        session,
        now=now,
        inbound=turn.message(
            Direction.INBOUND, sms.to_number, sms.body, twilio_sid=sms.sid, status="received"
        ),
        replies=[
            turn.message(
                Direction.OUTBOUND, sms.to_number, answer, purpose=Purpose.REPLY, status="twiml"
            )
            for answer in answers
        ],
    )
    apply_step(session, turn, result, inbound_id, now, via="sms")
    metrics.count_reply(Channel.SMS.value)
    return answers


def _answer_unknown_number(
    session: Session, sms: InboundSms, store_id: int, name: str, phone: str, now: dt.datetime
) -> str:
    """Kept for staff; the answer names the pharmacy and its number, nothing about anyone."""
    answer = dialogs.unknown_number_reply(name, display_phone(phone), "en")
    inbound = {
        "store_id": store_id,
        "patient_id": None,
        "direction": Direction.INBOUND,
        "channel": Channel.SMS,
        "from_number": sms.from_number,
        "to_number": sms.to_number,
        "body": sms.body,
        "twilio_sid": sms.sid,
        "status": "received",
    }
    reply = {
        **inbound,
        "direction": Direction.OUTBOUND,
        "purpose": Purpose.REPLY,
        "from_number": sms.to_number,
        "to_number": sms.from_number,
        "body": answer,
        "twilio_sid": None,
        "status": "twiml",
    }
    inbound_id = messages.record_exchange(session, now=now, inbound=inbound, replies=[reply])
    queue.add_item(
        session, kind=QueueKind.CONCERN, store_id=store_id, message_id=inbound_id, text=sms.body
    )
    return answer
