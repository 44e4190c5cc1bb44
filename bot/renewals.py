"""Renewal requests (SPEC 13): record that one went to the prescriber, and the answer.

* **Sent.** Anyone on the store's staff may fax or phone the request and record it (a
  technician's daily work); it stamps `renewal_sent_at` on each open item, again if resent.
* **Answered.** The answer (approved, denied, changed) resolves the item through
  bot/items.py, so the same role rules apply (a pharmacist resolves `renewal_needed`), with
  the same conditional UPDATE against a second click. Approved or changed needs the refills
  the prescriber authorized (1 to 99): they become the medicine's `refills_remaining`, which
  the fill-day list reads; a change also needs a note saying what changed.

Each change is audited; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import items
from store import renewals
from store.audit import record_audit
from store.models import QueueItem, QueueKind, RenewalAnswer
from store.validate import whole_number

if TYPE_CHECKING:
    from bot.access import Staff

MAX_REFILLS = 99
SENT_VIA = MappingProxyType({"fax": "Fax", "phone": "Phone"})
ANSWER_LABELS = MappingProxyType(
    {
        RenewalAnswer.APPROVED: "Approved",
        RenewalAnswer.DENIED: "Denied",
        RenewalAnswer.CHANGED: "Changed (new dose, quantity or medicine)",
    }
)
OUTCOME = "prescriber_contacted"  # bot/items.py OUTCOMES


def mark_sent(
    session: Session,
    staff: Staff,
    rows: Sequence[renewals.RenewalRow],
    via: object,
    now: dt.datetime,
    *,
    actor: str,
) -> items.Result:
    """Record that the request for these renewal items went to the prescriber by `via`."""
    if not isinstance(via, str) or via not in SENT_VIA:
        return items.Result("Say how the request went: fax or phone.", items.Refusal.INVALID)
    changed = renewals.mark_sent(session, [row.item_id for row in rows], now)
    by_id = {row.item_id: row for row in rows}
    for item_id in changed:
        record_audit(
            session,
            "renewal_sent",
            actor=actor,
            user_id=staff.id,
            store_id=by_id[item_id].store_id,
            patient_id=by_id[item_id].patient_id,
            target=f"item:{item_id}",
            detail={"via": via},
        )
    if not changed:
        return items.Result("Nothing to send: these requests are answered.", items.Refusal.CONFLICT)
    return items.Result(f"Recorded: {len(changed)} request(s) sent by {via}.")


def parse_refills(answer: RenewalAnswer, raw: object) -> int | None:
    """The refills of an answer: 1 to 99 when approved or changed, none when denied;
    ValueError with a sentence for the form otherwise."""
    text = raw.strip() if isinstance(raw, str) else ""
    if answer is RenewalAnswer.DENIED:
        if text not in ("", "0"):
            raise ValueError("A denied renewal has no refills: leave Refills empty.")
        return None
    try:
        return whole_number(text, 1, MAX_REFILLS)
    except ValueError:
        raise ValueError(
            f"Write the refills the prescriber authorized: a whole number from 1 to {MAX_REFILLS}."
        ) from None


def record_answer(
    session: Session,
    staff: Staff,
    item: QueueItem,
    now: dt.datetime,
    *,
    answer: object,
    refills: object,
    note: object,
    actor: str,
) -> items.Result:
    """Resolve a renewal item with the prescriber's answer and set the medicine's refills."""
    if item.kind is not QueueKind.RENEWAL_NEEDED:
        return items.Result("This item is not a renewal request.", items.Refusal.INVALID)
    if not isinstance(answer, str) or answer not in RenewalAnswer._value2member_map_:
        return items.Result(
            "Choose the prescriber's answer: approved, denied or changed.", items.Refusal.INVALID
        )
    chosen = RenewalAnswer(answer)
    try:
        count = parse_refills(chosen, refills)
    except ValueError as problem:
        return items.Result(str(problem), items.Refusal.INVALID)
    words = note.strip() if isinstance(note, str) else ""
    if chosen is RenewalAnswer.CHANGED and not words:
        return items.Result("Say in the note what the prescriber changed.", items.Refusal.INVALID)
    summary = f"Renewal {chosen.value}" + (f": {count} refills." if count else ".")
    result = items.resolve(
        session,
        staff,
        item,
        now,
        note=f"{summary} {words}".strip(),
        outcome=OUTCOME,
        actor=actor,
    )
    if not result.ok:
        return result
    medicine_id = renewals.record_answer(session, item.id, chosen, count)
    record_audit(
        session,
        "renewal_answer",
        actor=actor,
        user_id=staff.id,
        store_id=item.store_id,
        patient_id=item.patient_id,
        target=f"item:{item.id}",
        detail={"answer": chosen.value, "refills": count, "medicine_id": medicine_id},
    )
    return items.Result(f"{summary} The item is resolved.")
