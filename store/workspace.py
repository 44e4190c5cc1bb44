"""Read queries behind the pharmacist workspace and the JSON API.

Every query takes the caller's store ids: store isolation is applied here, in one place, so a
page or an API route cannot forget it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from store.models import (
    Checkin,
    Message,
    Patient,
    QueueItem,
    QueueKind,
    QueueStatus,
    Store,
    User,
)
from store.validate import MAX_INTEGER, whole_number

ACTIVE = (QueueStatus.OPEN, QueueStatus.CLAIMED)


@dataclass(frozen=True)
class QueuePage:
    items: Sequence[QueueItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _queue_filter(
    store_ids: Collection[int], statuses: Collection[QueueStatus], kind: QueueKind | None
) -> list[ColumnElement[bool]]:
    # Statuses are rendered as literals: a partial index on "status IN ('open', 'claimed')"
    # is only used when the query says so in the same words (SQLite; PostgreSQL's generic
    # plans too).
    literal_statuses: BindParameter[QueueStatus] = bindparam(
        "statuses", list(statuses), expanding=True, literal_execute=True
    )
    conditions: list[ColumnElement[bool]] = [
        QueueItem.store_id.in_(store_ids),
        QueueItem.status.in_(literal_statuses),
    ]
    if kind is not None:
        conditions.append(QueueItem.kind == kind)
    return conditions


def list_queue(
    session: Session,
    store_ids: Collection[int],
    *,
    statuses: Collection[QueueStatus] = ACTIVE,
    kind: QueueKind | None = None,
    page: int = 1,
    per_page: int = 50,
    total: int | None = None,
) -> QueuePage:
    """Return one page of queue items: high priority first, then soonest anchor date, then age
    (SPEC 10: an "ER for chest pain" item must not wait behind a week of routine ones).

    `total` may be passed when the caller already counted (the queue page counts per kind).
    Items without a fill date (messages from unknown numbers) sort, within their priority,
    where the database puts NULL: last on PostgreSQL, first on SQLite; forcing one order would
    stop an index from giving the order. ix_queue_items_active_order (migration 0004) is in
    the old order (anchor date, then priority), so the database sorts a store's active items
    for each page until an index in this order replaces it (docs/benchmarks.md, "Queue order").
    """
    where = _queue_filter(store_ids, statuses, kind)
    if total is None:
        total = session.scalar(select(func.count()).select_from(QueueItem).where(*where)) or 0
    items = session.scalars(
        select(QueueItem)
        .where(*where)
        # Loaded after the page is chosen: a join would be made for every active item first.
        .options(selectinload(QueueItem.patient), selectinload(QueueItem.store))
        .options(selectinload(QueueItem.claimed_by))
        .order_by(
            QueueItem.priority,
            QueueItem.anchor_date,
            QueueItem.created_at,
            QueueItem.id,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return QueuePage(items, int(total), page, per_page)


def count_by_kind(
    session: Session, store_ids: Collection[int], statuses: Collection[QueueStatus] = ACTIVE
) -> dict[QueueKind, int]:
    """Count the queue's items with one of `statuses`, per kind (kinds without any are left out)."""
    rows = session.execute(
        select(QueueItem.kind, func.count())
        .where(*_queue_filter(store_ids, statuses, None))
        .group_by(QueueItem.kind)
    ).all()
    return {QueueKind(kind): int(count) for kind, count in rows}


def get_item(session: Session, store_ids: Collection[int], item_id: int) -> QueueItem | None:
    """Return the item if it belongs to one of `store_ids` (None looks the same as missing)."""
    return session.scalars(
        select(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.store_id.in_(store_ids))
        .options(
            joinedload(QueueItem.patient),
            joinedload(QueueItem.store),
            joinedload(QueueItem.checkin),
        )
    ).one_or_none()


def get_checkin(session: Session, store_ids: Collection[int], checkin_id: int) -> Checkin | None:
    """Return the check-in if it belongs to one of `store_ids` (None looks the same as missing)."""
    return session.scalars(
        select(Checkin)
        .where(Checkin.id == checkin_id, Checkin.store_id.in_(store_ids))
        .options(joinedload(Checkin.patient), joinedload(Checkin.store))
    ).one_or_none()


def transcript(session: Session, patient_id: int, limit: int = 500) -> list[Message]:
    """Return the patient's latest messages, both directions and channels, oldest first."""
    newest_first = session.scalars(
        select(Message)
        .where(Message.patient_id == patient_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(newest_first))


def message_cursor(raw: str | None) -> int | None:
    """Parse a `?before=<message id>` cursor: None when absent; ValueError unless it is a
    positive whole number in the id range (no signs, spaces or non-ASCII digits)."""
    if raw is None:
        return None
    return whole_number(raw, 1, MAX_INTEGER)


@dataclass(frozen=True)
class TranscriptPage:
    """One page of a patient's transcript, oldest first, and how many messages precede it."""

    messages: Sequence[Message]
    earlier: int
    before: int | None

    @property
    def oldest_id(self) -> int | None:
        return self.messages[0].id if self.messages else None


def _earlier_than(created_at: dt.datetime, message_id: int) -> ColumnElement[bool]:
    # Keyset on (created_at, id), the transcript's order. The plain `created_at <=` bound is
    # what lets both databases range-scan ix_messages_patient_id_created_at.
    return and_(
        Message.created_at <= created_at,
        or_(
            Message.created_at < created_at,
            and_(Message.created_at == created_at, Message.id < message_id),
        ),
    )


def transcript_page(
    session: Session,
    store_ids: Collection[int],
    patient_id: int,
    *,
    before: int | None = None,
    per_page: int = 50,
) -> TranscriptPage | None:
    """Return the patient's latest `per_page` messages, or those just before message `before`.

    Keyset pagination: `before` is the id of the oldest message of the page the reader saw.
    Every query is filtered by the patient and the caller's stores, so a `before` that is not
    one of this patient's messages (another patient's, another store's, or none) finds no
    cursor and the result is None: the caller answers with an error and nothing is shown.
    """
    mine = (Message.patient_id == patient_id, Message.store_id.in_(store_ids))
    query = select(Message).where(*mine)
    if before is not None:
        cursor = session.execute(
            select(Message.created_at, Message.id).where(Message.id == before, *mine)
        ).one_or_none()
        if cursor is None:
            return None
        query = query.where(_earlier_than(cursor.created_at, cursor.id))
    newest_first = session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(per_page)
    ).all()
    earlier = 0
    if len(newest_first) == per_page:
        oldest = newest_first[-1]
        earlier = (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(*mine, _earlier_than(oldest.created_at, oldest.id))
            )
            or 0
        )
    return TranscriptPage(list(reversed(newest_first)), int(earlier), before)


def open_items_of(
    session: Session, patient_id: int, *, except_id: int | None = None
) -> Sequence[QueueItem]:
    """Return the patient's other open or claimed items."""
    query = select(QueueItem).where(
        QueueItem.patient_id == patient_id, QueueItem.status.in_(ACTIVE)
    )
    if except_id is not None:
        query = query.where(QueueItem.id != except_id)
    return session.scalars(query.order_by(QueueItem.created_at)).all()


def find_patients(
    session: Session, store_ids: Collection[int], external_id: str
) -> Sequence[Patient]:
    """Return the patients with this PMS id in the caller's stores (one per store at most)."""
    return session.scalars(
        select(Patient)
        .where(Patient.external_id == external_id, Patient.store_id.in_(store_ids))
        .options(joinedload(Patient.store))
        .order_by(Patient.store_id)
    ).all()


def get_patient(session: Session, store_ids: Collection[int], patient_id: int) -> Patient | None:
    """Return the patient (by primary key) if it belongs to one of `store_ids`."""
    return session.scalars(
        select(Patient).where(Patient.id == patient_id, Patient.store_id.in_(store_ids))
    ).one_or_none()


def list_checkins(
    session: Session, store_ids: Collection[int], start: dt.date, end: dt.date
) -> Sequence[Checkin]:
    """Return the check-ins with an anchor date in [start, end], soonest first."""
    return session.scalars(
        select(Checkin)
        .where(
            Checkin.store_id.in_(store_ids),
            Checkin.anchor_date >= start,
            Checkin.anchor_date <= end,
        )
        .options(joinedload(Checkin.patient))
        .order_by(Checkin.anchor_date, Checkin.id)
    ).all()


def checkins_of(session: Session, patient_id: int) -> Sequence[Checkin]:
    """Return the patient's check-ins, newest first."""
    return session.scalars(
        select(Checkin).where(Checkin.patient_id == patient_id).order_by(Checkin.anchor_date.desc())
    ).all()


def list_users(session: Session, store_ids: Collection[int]) -> Sequence[User]:
    """Return the staff of the caller's stores."""
    return (
        session.scalars(
            select(User)
            .where(User.stores.any(Store.id.in_(store_ids)))
            .options(joinedload(User.stores))
            .order_by(User.email)
        )
        .unique()
        .all()
    )


def list_stores(session: Session, store_ids: Collection[int]) -> Sequence[Store]:
    return session.scalars(select(Store).where(Store.id.in_(store_ids)).order_by(Store.code)).all()
