"""Conversations: the saved dialog state of a check-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from store.models import (
    Channel,
    Checkin,
    CheckinStatus,
    Conversation,
    table_of,
    utcnow,
)


class StaleConversation(RuntimeError):
    """The conversation changed since it was read (a concurrent step got there first)."""


_TABLE = table_of(Conversation)

# Built once: the webhook runs this on every message.
_LATEST = (
    select(Conversation, Checkin)
    .outerjoin(Checkin, Checkin.id == Conversation.checkin_id)
    .where(Conversation.patient_id == bindparam("patient_id"))
    .order_by(Conversation.done, Conversation.id.desc())
    .limit(1)
)


def latest_for_patient(
    session: Session, patient_id: int
) -> tuple[Conversation | None, Checkin | None]:
    """Return the patient's open conversation (else their latest one) and its check-in."""
    row = session.execute(_LATEST, {"patient_id": patient_id}).first()
    return (row[0], row[1]) if row else (None, None)


def for_checkin(session: Session, checkin_id: int) -> Conversation | None:
    """Return the conversation of a check-in, if it has started."""
    query = select(Conversation).where(Conversation.checkin_id == checkin_id)
    return session.scalars(query.order_by(Conversation.id.desc()).limit(1)).first()


def create(
    session: Session,
    *,
    patient_id: int,
    checkin_id: int | None,
    dialog: str,
    channel: Channel,
    state: dict[str, Any],
) -> tuple[int, int]:
    """Start a conversation with `state`; return its id and version."""
    now = utcnow()
    conversation_id = session.execute(
        insert(_TABLE).returning(_TABLE.c.id),
        {
            "patient_id": patient_id,
            "checkin_id": checkin_id,
            "dialog": dialog,
            "channel": channel,
            "node": state["node"],
            "data": state,
            "done": state["done"],
            "version": 1,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    return int(conversation_id), 1


_SAVE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("conversation_id"), _TABLE.c.version == bindparam("seen"))
    .values(
        data=bindparam("data"),
        node=bindparam("node"),
        done=bindparam("done"),
        channel=bindparam("channel"),
        version=bindparam("next_version"),
        updated_at=bindparam("now"),
    )
)


def save_state(
    session: Session,
    conversation_id: int,
    seen_version: int,
    state: dict[str, Any],
    channel: Channel,
) -> int:
    """Save a new dialog state if nobody else did since `seen_version`; return the new version.

    The patient's row lock already serializes steps; the version check makes a lost update
    impossible even if some path forgot to take it.
    """
    result = session.execute(
        _SAVE,
        {
            "conversation_id": conversation_id,
            "seen": seen_version,
            "data": state,
            "node": state["node"],
            "done": state["done"],
            "channel": channel,
            "next_version": seen_version + 1,
            "now": utcnow(),
        },
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleConversation(
            f"conversation {conversation_id} changed since version {seen_version}"
        )
    return seen_version + 1


def set_checkin_status(
    session: Session, checkin_id: int, status: CheckinStatus, *, done: bool, now: dt.datetime
) -> None:
    """Record the check-in status a dialog step reached; a finished one needs no more outreach."""
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if done:
        values |= {"next_attempt_at": None, "completed_at": now}
    table = table_of(Checkin)
    session.execute(update(table).where(table.c.id == checkin_id).values(**values))
