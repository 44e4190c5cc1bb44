"""Staff texting a patient from an item ("Text the patient", SPEC 10)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

import dialogs
from bot.outreach.links import Defaults, Urls
from bot.outreach.sending import record_send
from bot.transports.base import Outcome, Transport, sender_for_store
from dialogs.phi import named_medicines
from dialogs.sms_rules import (
    GSM7_SINGLE,
    UCS2_SINGLE,
    outside_gsm7,
    single_segment_limit,
    sms_units,
)
from store import messages
from store.models import Channel, Direction, Patient, Purpose, Store


class CannotText(ValueError):
    """Staff may not text this patient, or not this text; the message says why."""


class NamesMedicine(CannotText):
    """The text names the patient's medicines, and the patient has not agreed to that."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(
            f"This text names a medicine ({', '.join(names)}) and this patient has not agreed "
            "to medicine names in texts."
        )


def staff_text_prefix(store: Store) -> str:
    """What starts every text staff write: the pharmacy's name (SPEC 8)."""
    return f"{store.name}: "


def too_long_for_one_text(text: str) -> str:
    """Say, without jargon, how far `text` is over one text message and why the limit is low."""
    units, limit = sms_units(text), single_segment_limit(text)
    reason = f"Too long for one text: {units} characters with the pharmacy name, {limit} fit."
    if limit == GSM7_SINGLE:
        return reason
    shown = ", ".join(outside_gsm7(text)[:5])
    return (
        f"{reason} Some characters ({shown}) make a text shorter: up to {UCS2_SINGLE} "
        f"characters instead of {GSM7_SINGLE}."
    )


def text_patient(
    session: Session,
    patient: Patient,
    body: str,
    now: dt.datetime,
    *,
    checkin_id: int | None,
    transport: Transport,
    urls: Urls,
    defaults: Defaults,
    medicine_names_confirmed: bool = False,
) -> Outcome:
    """Send a staff member's text to a patient; it joins the transcript like any other.

    Like every pharmacy-initiated text it names the pharmacy and fits one segment, and it is
    recorded before it is sent. Patients who opted out or never consented are not texted. A
    text naming one of the patient's medicines, to a patient without `phi_ok`, goes only
    once staff have confirmed it (NamesMedicine otherwise; SPEC 8 and 10).
    """
    if patient.opted_out:
        raise CannotText("The patient opted out of texts; call them instead.")
    if patient.consent_date is None:
        raise CannotText("No outreach consent is recorded for this patient; call them instead.")
    store = patient.store
    words = " ".join(body.split())
    text = staff_text_prefix(store) + words
    if not dialogs.fits_one_segment(text):
        raise CannotText(too_long_for_one_text(text))
    if not patient.phi_ok and not medicine_names_confirmed:
        named = named_medicines(words, [m.name for m in patient.medicines])
        if named:
            raise NamesMedicine(named)
    sender = sender_for_store(store, defaults.sender)
    message_id = messages.record(
        session,
        now=now,
        store_id=store.id,
        patient_id=patient.id,
        checkin_id=checkin_id,
        direction=Direction.OUTBOUND,
        channel=Channel.SMS,
        purpose=Purpose.STAFF,
        from_number=sender.from_number or sender.messaging_service_sid or "",
        to_number=patient.phone,
        body=text,
        status="pending",
    )
    session.commit()
    sent = transport.send_sms(
        to=patient.phone, body=text, sender=sender, status_callback=urls.sms_status
    )
    record_send(session, message_id, patient.id, checkin_id, Channel.SMS, sent, now)
    session.commit()
    return sent.outcome
