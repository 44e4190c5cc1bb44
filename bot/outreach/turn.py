"""One dialog turn: who it is about (store/turns.py), which dialog, and applying its step.

Every channel ends in `apply_step`: save the new dialog state (a plain `UPDATE ... WHERE version
= seen`, so a lost update is impossible), one queue item per finding (with the reader's reason),
the check-in status and topic summary, the opt-out or opt-in, the language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

import dialogs
from bot import items
from store import checkins, conversations, patients, queue
from store.hours import is_open
from store.models import Channel, CheckinStatus, Delivery, Direction, Language, QueueKind
from store.turns import TurnCheckin, TurnConversation, TurnPatient, TurnStore
from store.validate import display_phone


@dataclass
class Turn:
    """Who a dialog turn is about, as read at its start, and the dialog it runs."""

    store: TurnStore
    patient: TurnPatient
    checkin: TurnCheckin | None
    conversation_id: int | None
    version: int
    channel: Channel
    dialog: dialogs.Dialog

    def message(
        self, direction: Direction, ours: str, body: str | None, **values: object
    ) -> dict[str, object]:
        """Return the columns of a transcript message of this turn."""
        theirs = self.patient.phone
        return {
            "store_id": self.store.id,
            "patient_id": self.patient.id,
            "checkin_id": self.checkin.id if self.checkin else None,
            "direction": direction,
            "channel": self.channel,
            "from_number": theirs if direction is Direction.INBOUND else ours,
            "to_number": ours if direction is Direction.INBOUND else theirs,
            "body": body,
            **values,
        }


def open_turn(
    store: TurnStore,
    patient: TurnPatient,
    checkin: TurnCheckin | None,
    conversation: TurnConversation | None,
    channel: Channel,
) -> Turn:
    """The turn, with the dialog its conversation started with (new ones: the form now)."""
    form = (patient.enrollment.checkin_form if patient.enrollment else None) or store.checkin_form
    started = conversation.data.get("dialog") if conversation else None
    return Turn(
        store=store,
        patient=patient,
        checkin=checkin,
        conversation_id=conversation.id if conversation else None,
        version=conversation.version if conversation else 0,
        channel=channel,
        dialog=dialogs.dialog_named(started, form.value),
    )


def checkin_context(turn: Turn, now: dt.datetime, *, inbound_call: bool = False) -> dialogs.Context:
    """Build what the dialog needs to know about the pharmacy, the patient and the pickup."""
    store, patient, checkin = turn.store, turn.patient, turn.checkin
    if checkin is not None:
        pickup = checkin.anchor_date
    elif patient.enrollment is not None:
        pickup = patient.enrollment.anchor_date
    else:
        pickup = now.date()
    return dialogs.Context(
        pharmacy_name=store.name,
        pharmacy_phone=display_phone(store.phone),
        patient_first_name=patient.first_name,
        pickup_date=pickup,
        channel="voice" if turn.channel is Channel.VOICE else "sms",
        language="es" if patient.language == Language.ES else "en",
        phi_ok=patient.phi_ok,
        inbound_call=inbound_call,
        pharmacy_open=is_open(store.hours, now, store.timezone),
        transfer_number=store.phone,
        shared_phone=patient.shared_phone,
    )


def state_of(
    conversation: TurnConversation | None, turn: Turn, context: dialogs.Context
) -> dialogs.DialogState | None:
    """Return the saved dialog state; an opted-out patient is always 'ended and opted out'."""
    state = dialogs.DialogState.from_json(conversation.data) if conversation else None
    if turn.patient.opted_out:
        base = state or dialogs.DialogState(dialogs.END, context.language, dialog=turn.dialog.name)
        data = {**base.data, "opted_out": True}
        state = replace(base, done=True, data=data)
    return state


def sms_texts(outputs: tuple[dialogs.Output, ...]) -> tuple[str, ...]:
    """Return the texts of the outputs that are said (one SMS, or one <Say>, each)."""
    return tuple(
        output.text
        for output in outputs
        if isinstance(
            output,
            dialogs.Say | dialogs.AskYesNo | dialogs.AskText | dialogs.End | dialogs.Transfer,
        )
    )


_STATUS_OF_OUTCOME = {
    "in_progress": CheckinStatus.IN_PROGRESS,
    "confirmed": CheckinStatus.CONFIRMED,
    "flagged": CheckinStatus.FLAGGED,
    "opted_out": CheckinStatus.OPTED_OUT,
}
# Closed for good: a late reply is read, but the check-in's status stays.
_FINAL = (CheckinStatus.EXPIRED, CheckinStatus.OPTED_OUT)


def apply_step(
    session: Session,
    turn: Turn,
    result: dialogs.Step,
    message_id: int | None,
    now: dt.datetime,
    *,
    via: str,
) -> None:
    """Persist what one dialog step decided; the turn's conversation gets the new version."""
    state = result.state.to_json()
    if turn.conversation_id is None:
        turn.conversation_id, turn.version = conversations.create(
            session,
            patient_id=turn.patient.id,
            checkin_id=turn.checkin.id if turn.checkin else None,
            dialog=turn.dialog.name,
            channel=turn.channel,
            state=state,
        )
    else:
        turn.version = conversations.save_state(
            session, turn.conversation_id, turn.version, state, turn.channel
        )
    patient, checkin = turn.patient, turn.checkin
    for finding in result.findings:
        queue.add_item(
            session,
            kind=QueueKind(finding.kind),
            store_id=patient.store_id,
            patient=patient,
            checkin=checkin,
            message_id=message_id,
            text=finding.text if finding.text is not None else finding.note,
            recording_url=finding.recording_url,
            priority=finding.priority,
            reason=finding.reason,
        )
    if result.opted_out:
        # The number opts out: everyone of the store who shares it (a household).
        _, household = patients.opt_out_number(session, patient.id, now, via=via)
        for other in household:
            queue.add_item(
                session,
                kind=QueueKind.OPTED_OUT,
                store_id=patient.store_id,
                patient=other,
                text="Opted out by a STOP from a phone shared with another patient.",
            )
    if result.opted_in:
        # Resubscribed (START), the whole number as it opted out: the opt-outs' items have
        # nothing left for staff to do.
        for resubscribed in patients.opt_in_number(session, patient.id, now):
            items.resolve_opt_out_items(session, patient.store_id, resubscribed, now)
    if result.delivery is not None:
        patients.set_delivery(session, patient.id, Delivery(result.delivery), now)
    language = Language(result.language)
    if patient.language != language:
        patients.set_language(session, patient.id, language, now)
    if checkin is not None and checkin.status not in _FINAL:
        status = _STATUS_OF_OUTCOME[result.outcome]
        # "in progress" never overwrites an answer already given (a late "call me" is not
        # a reason to reopen a confirmed check-in).
        if status == CheckinStatus.IN_PROGRESS and checkin.status != CheckinStatus.SCHEDULED:
            status = checkin.status
        checkins.record_dialog(
            session,
            checkin.id,
            status if status != checkin.status else None,
            done=result.state.done and checkin.completed_at is None,
            topics=result.topics if result.state.data.get("replied") else None,
            now=now,
        )
