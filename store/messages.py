"""The transcript: every message and call, in and out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import Direction, Message, table_of, utcnow

_TABLE = table_of(Message)
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_INSERT_EXCHANGE = insert(_TABLE).returning(_TABLE.c.id, _TABLE.c.direction)

# Twilio's message lifecycle; a status callback may arrive out of order, so a status only
# replaces one of lower rank (a late "sent" never overwrites "delivered").
_MESSAGE_RANK = {
    # Our own: "pending" is recorded but not yet handed to Twilio; "unknown" was handed over
    # but the answer was lost (a timeout). Either may be settled by a status callback.
    "pending": 0,
    "unknown": 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}


def record(session: Session, *, now: dt.datetime | None = None, **values: Any) -> int:
    """Append a message to the transcript, dated `now` (the caller's clock), and return its id.

    A plain INSERT, not the ORM unit of work: the webhooks write two messages per reply, and
    this is most of what a reply costs.
    """
    return int(session.execute(_INSERT, _row(now, values)).scalar_one())


def record_once(
    session: Session, twilio_sid: str, *, now: dt.datetime | None = None, **values: Any
) -> int | None:
    """Append a message with Twilio SID `twilio_sid` unless one is already there; return its
    id, or None when the SID was recorded before (a repeated delivery).

    `ON CONFLICT DO NOTHING` on the unique SID: a second delivery arriving at the same time
    waits for the first to commit and then inserts nothing, so no check-then-insert race.
    """
    dialect = session.get_bind().dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert_into(_TABLE)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(_TABLE.c.id)
    )
    found = session.execute(statement, _row(now, {**values, "twilio_sid": twilio_sid})).scalar()
    return None if found is None else int(found)


def _row(now: dt.datetime | None, values: dict[str, Any]) -> dict[str, Any]:
    now = now or utcnow()
    row = {"created_at": now, "updated_at": now, "twilio_sid": None, "recording_url": None}
    row |= {"purpose": None, "error_code": None, "sequence_number": None, "checkin_id": None}
    return row | values


def record_exchange(
    session: Session,
    *,
    now: dt.datetime | None = None,
    inbound: dict[str, Any],
    replies: Sequence[dict[str, Any]],
) -> int:
    """Append an inbound message and our replies to it in one INSERT; return the inbound's id.

    The rows go in that order, so the transcript (ordered by id) reads question, answer.
    `inbound` must have direction INBOUND and the replies OUTBOUND.
    """
    rows = [_row(now, inbound), *(_row(now, reply) for reply in replies)]
    result = session.execute(_INSERT_EXCHANGE, rows).all()
    return int(next(row.id for row in result if row.direction is Direction.INBOUND))


def set_send_result(
    session: Session, message_id: int, sid: str | None, status: str, error_code: int | None
) -> None:
    """Store Twilio's answer to a send we recorded as pending."""
    values: dict[str, Any] = {"status": status, "error_code": error_code, "updated_at": utcnow()}
    if sid:
        values["twilio_sid"] = sid
    session.execute(update(_TABLE).where(_TABLE.c.id == message_id).values(**values))


def record_checkin_messages(
    session: Session, rows: Sequence[dict[str, Any]], now: dt.datetime
) -> dict[int, int]:
    """Append one message for each of several check-ins in one INSERT; return the new ids by
    check-in id (keyed, so the order of RETURNING does not matter: SQLite's is not defined)."""
    if not rows:
        return {}
    statement = insert(_TABLE).returning(_TABLE.c.id, _TABLE.c.checkin_id)
    result = session.execute(statement, [_row(now, row) for row in rows])
    return {int(row.checkin_id): int(row.id) for row in result}


_SET_RESULT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message"))
    .values(
        status=bindparam("new_status"),
        error_code=bindparam("code"),
        twilio_sid=func.coalesce(bindparam("sid"), _TABLE.c.twilio_sid),
        updated_at=bindparam("at"),
    )
)


def set_send_results(
    session: Session, results: Sequence[tuple[int, str | None, str, int | None]]
) -> None:
    """`set_send_result` for many messages (id, sid, status, error code), in one statement."""
    if not results:
        return
    at = utcnow()
    session.execute(
        _SET_RESULT,
        [
            {"message": i, "sid": sid, "new_status": status, "code": code, "at": at}
            for i, sid, status, code in results
        ],
    )


def get_by_sid(session: Session, sid: str) -> Message | None:
    """Return the message or call with Twilio SID `sid`, or None."""
    return session.scalars(select(Message).where(Message.twilio_sid == sid)).one_or_none()


def advance_status(message: Message, status: str, error_code: int | None) -> bool:
    """Move `message` to `status` unless that would go backwards; tell whether it moved."""
    new = _MESSAGE_RANK.get(status)
    if new is None:
        return False
    old = _MESSAGE_RANK.get(message.status, -1)
    if new < old or (new == old and message.status == status):
        return False
    message.status = status
    if error_code is not None:
        message.error_code = error_code
    return True


def apply_call_event(message: Message, status: str, sequence: int | None) -> bool:
    """Apply a call-progress event if it is newer than the last one applied."""
    if sequence is None:  # not a call-progress event: order unknown, keep the latest
        if message.status == status:
            return False
    elif message.sequence_number is not None and sequence <= message.sequence_number:
        return False
    else:
        message.sequence_number = sequence
    message.status = status
    return True
