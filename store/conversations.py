"""Conversations: the saved dialog state of a check-in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from store.models import (
    Channel,
    Checkin,
    Conversation,
    table_of,
    utcnow,
)
from store.turns import TurnCheckin, TurnConversation


class StaleConversation(RuntimeError):
    """The conversation changed since it was read (a concurrent step got there first)."""


_TABLE = table_of(Conversation)
_CHECKINS = table_of(Checkin)

# Built once: the webhook runs this on every message. Plain columns, not entities: see
# store/patients.py.
_LATEST = (
    select(
        _TABLE.c.id,
        _TABLE.c.version,
        _TABLE.c.data,
        _CHECKINS.c.id.label("checkin_id"),
        _CHECKINS.c.status,
        _CHECKINS.c.anchor_date,
        _CHECKINS.c.completed_at,
    )
    .select_from(_TABLE)
    .outerjoin(_CHECKINS, _CHECKINS.c.id == _TABLE.c.checkin_id)
    .where(_TABLE.c.patient_id == bindparam("patient_id"))
    .order_by(_TABLE.c.done, _TABLE.c.id.desc())
    .limit(1)
)


def latest_for_patient(
    session: Session, patient_id: int
) -> tuple[TurnConversation | None, TurnCheckin | None]:
    """Return the patient's open conversation (else their latest one) and its check-in.

    Call it with the patient's row locked (patients.find_inbound_parties): then no other turn
    can change what it returns before this transaction ends.
    """
    row = session.execute(_LATEST, {"patient_id": patient_id}).first()
    if row is None:
        return None, None
    conversation = TurnConversation(row.id, row.version, row.data)
    if row.checkin_id is None:
        return conversation, None
    checkin = TurnCheckin(row.checkin_id, row.status, row.anchor_date, row.completed_at)
    return conversation, checkin


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


def create_many(
    session: Session, rows: Sequence[tuple[int, int | None, str, Channel, dict[str, Any]]]
) -> None:
    """`create` for many conversations (patient, check-in, dialog, channel, state) in one
    statement, each at version 1."""
    if not rows:
        return
    now = utcnow()
    session.execute(
        insert(_TABLE),
        [
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
            }
            for patient_id, checkin_id, dialog, channel, state in rows
        ],
    )


def save_states(
    session: Session, saves: Sequence[tuple[int, int, dict[str, Any], Channel]]
) -> None:
    """`save_state` for many conversations (id, seen version, state, channel) in one
    statement; raise StaleConversation unless every one of them was still at its version."""
    if not saves:
        return
    now = utcnow()
    result = session.execute(
        _SAVE,
        [
            {
                "conversation_id": conversation_id,
                "seen": seen,
                "data": state,
                "node": state["node"],
                "done": state["done"],
                "channel": channel,
                "next_version": seen + 1,
                "now": now,
            }
            for conversation_id, seen, state, channel in saves
        ],
    )
    if result.rowcount != len(saves):  # type: ignore[attr-defined]
        raise StaleConversation("a conversation of the batch changed since it was read")


def for_checkins(session: Session, checkin_ids: Sequence[int]) -> dict[int, TurnConversation]:
    """The latest conversation of each check-in that has one (`for_checkin` for a batch)."""
    if not checkin_ids:
        return {}
    rows = session.execute(
        select(_TABLE.c.id, _TABLE.c.version, _TABLE.c.data, _TABLE.c.checkin_id)
        .where(_TABLE.c.checkin_id.in_(list(checkin_ids)))
        .order_by(_TABLE.c.id)
    )
    return {row.checkin_id: TurnConversation(row.id, row.version, row.data) for row in rows}
