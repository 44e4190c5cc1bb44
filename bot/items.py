"""Claim, release, take over and resolve a queue item: one set of rules for the pages and the API.

The rules (SPEC 10):

* Which role may resolve which kind is `Staff.may_resolve` (bot/access.py). Nobody may claim
  what they may not resolve: a technician's claim on a clinical item would leave it stuck, as
  nobody else could resolve it and the check-in's reminders would stay paused.
* Only the claimer releases a claim; a pharmacist or an admin may take over anyone's claim.
* Resolving takes an outcome from OUTCOMES (the API may leave it out: DEFAULT_OUTCOME) and a
  note; the claimer resolves, or anyone allowed when nobody holds the item.

Each function checks the caller's role, then the input, then the item's state as the caller
read it, and then makes the change with a conditional UPDATE (store/queue.py), so two people
clicking at once cannot both win. It returns a `Result` that says what happened or why not,
audits what it did, and leaves the commit to the caller. Ending a claim (release, resolve)
makes the check-in due again, so reminders the claim paused resume on the next scheduler pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from store import checkins, queue
from store.audit import record_audit
from store.models import QueueItem, QueueKind, QueueStatus, Role

if TYPE_CHECKING:
    from bot.access import Staff

# What staff say they did, offered by the item page and accepted by the API.
OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "handled": "Handled",
        "profile_updated": "Profile updated",
        "called_patient": "Called the patient",
        "prescriber_contacted": "Prescriber contacted",
        "fill_adjusted": "Fill adjusted",
        "no_action": "No action needed",
    }
)
# SPEC 5.3's resolve body is only {"note": "..."}: a resolution without an outcome gets this one.
DEFAULT_OUTCOME = "handled"
# Outcomes the system records when it resolves an item by itself (never chosen by staff).
RESUBSCRIBED = "resubscribed"
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType(
    {**OUTCOMES, RESUBSCRIBED: "The patient resubscribed (texted START)"}
)
NOTE_MAX_LENGTH = 2000
# Roles that may take over anyone's claim.
TAKE_OVER_ROLES = frozenset({Role.PHARMACIST, Role.ADMIN})


class Refusal(StrEnum):
    """Why an action was refused; the API answers FORBIDDEN 403, CONFLICT 409, INVALID 400."""

    FORBIDDEN = "forbidden"  # the caller's role may not do this
    CONFLICT = "conflict"  # the item's state does not allow it (claimed, resolved, not yours)
    INVALID = "invalid"  # the input: an unknown outcome, a missing or over-long note


@dataclass(frozen=True)
class Result:
    """What happened, in a sentence for the person who asked, or why it did not."""

    message: str
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


class Action(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    TAKE_OVER = "take_over"
    RESOLVE = "resolve"


def _forbidden(message: str) -> Result:
    return Result(message, Refusal.FORBIDDEN)


def _conflict(message: str) -> Result:
    return Result(message, Refusal.CONFLICT)


def _holder(item: QueueItem) -> str:
    return item.claimed_by.email if item.claimed_by else "someone else"


def _state_refusal(item: QueueItem) -> Result:
    """Say why an item is not available, from its current state."""
    if item.status is QueueStatus.RESOLVED:
        return _conflict("This item is already resolved.")
    if item.status is QueueStatus.CLAIMED:
        return _conflict(f"This item is claimed by {_holder(item)}.")
    return _conflict("This item is not claimed.")


# --- What each action needs, before anything changes --------------------------------------------


def _claim_refusal(staff: Staff, item: QueueItem) -> Result | None:
    if not staff.may_resolve(item.kind):
        return _forbidden(_needs_pharmacist(item.kind, "claim"))
    if item.status is not QueueStatus.OPEN:
        return _state_refusal(item)
    return None


def _release_refusal(staff: Staff, item: QueueItem) -> Result | None:
    if item.status is QueueStatus.CLAIMED and item.claimed_by_id != staff.id:
        return _conflict(f"This item is claimed by {_holder(item)}: only they can release it.")
    if item.status is not QueueStatus.CLAIMED:
        return _state_refusal(item)
    return None


def _take_over_refusal(staff: Staff, item: QueueItem) -> Result | None:
    if staff.role not in TAKE_OVER_ROLES:
        return _forbidden("Only a pharmacist or an admin can take over a claim.")
    if item.status is QueueStatus.CLAIMED and item.claimed_by_id == staff.id:
        return _conflict("You hold this item already.")
    if item.status is not QueueStatus.CLAIMED:
        return _state_refusal(item)
    return None


def _resolve_refusal(staff: Staff, item: QueueItem) -> Result | None:
    if not staff.may_resolve(item.kind):
        return _forbidden(_needs_pharmacist(item.kind, "resolve"))
    if item.status is QueueStatus.RESOLVED:
        return _state_refusal(item)
    if item.status is QueueStatus.CLAIMED and item.claimed_by_id != staff.id:
        then = " Take it over first." if staff.role in TAKE_OVER_ROLES else ""
        return _conflict(f"This item is claimed by {_holder(item)}.{then}")
    return None


def _needs_pharmacist(kind: QueueKind, verb: str) -> str:
    return f"A pharmacist resolves {kind.value} items: a technician cannot {verb} them."


_REFUSALS: Mapping[Action, Callable[[Staff, QueueItem], Result | None]] = {
    Action.CLAIM: _claim_refusal,
    Action.RELEASE: _release_refusal,
    Action.TAKE_OVER: _take_over_refusal,
    Action.RESOLVE: _resolve_refusal,
}


def allowed_actions(staff: Staff, item: QueueItem) -> frozenset[Action]:
    """Return what `staff` may do with `item` as it stands (the item page shows these)."""
    return frozenset(
        action for action, refusal in _REFUSALS.items() if refusal(staff, item) is None
    )


# --- The actions ---------------------------------------------------------------------------------


def claim(
    session: Session, staff: Staff, item: QueueItem, now: dt.datetime, *, actor: str
) -> Result:
    """Claim an open item: it is the caller's, and the check-in's reminders pause."""
    refusal = _claim_refusal(staff, item)
    if refusal is not None:
        return refusal
    if not queue.claim(session, item.id, staff.id, now):
        return _lost_race(session, item)
    _audit(session, "claim_item", staff, item, actor)
    session.expire(item)
    return Result("Claimed: automated reminders for this check-in are paused.")


def release(
    session: Session, staff: Staff, item: QueueItem, now: dt.datetime, *, actor: str
) -> Result:
    """Give back one's own claim: the item is open again and reminders may resume."""
    refusal = _release_refusal(staff, item)
    if refusal is not None:
        return refusal
    if not queue.release(session, item.id, staff.id):
        return _lost_race(session, item)
    _claim_ended(session, item, now)
    _audit(session, "release_item", staff, item, actor)
    session.expire(item)
    return Result("Released: the item is open again and automated reminders resume.")


def take_over(
    session: Session, staff: Staff, item: QueueItem, now: dt.datetime, *, actor: str
) -> Result:
    """Take over someone's claim (pharmacists and admins)."""
    refusal = _take_over_refusal(staff, item)
    if refusal is not None:
        return refusal
    assert item.claimed_by_id is not None  # claimed, checked above
    previous = _holder(item)
    if not queue.take_over(session, item.id, staff.id, item.claimed_by_id, now):
        return _lost_race(session, item)
    _audit(session, "take_over_item", staff, item, actor, {"from": previous})
    session.expire(item)
    return Result(f"Taken over from {previous}: the item is yours now.")


def resolve(
    session: Session,
    staff: Staff,
    item: QueueItem,
    now: dt.datetime,
    *,
    note: object,
    outcome: object,
    actor: str,
) -> Result:
    """Resolve with a note and an outcome, as a form or a JSON body carried them."""
    refusal = _resolve_refusal(staff, item)
    if refusal is not None:
        return refusal
    if outcome is None:
        outcome = DEFAULT_OUTCOME
    problem = _resolution_problem(note, outcome)
    if problem is not None:
        return Result(problem, Refusal.INVALID)
    assert isinstance(note, str) and isinstance(outcome, str)  # checked just above
    if not queue.resolve(session, item.id, staff.id, note.strip(), outcome, now):
        return _lost_race(session, item)
    _claim_ended(session, item, now)
    _audit(session, "resolve_item", staff, item, actor, {"outcome": outcome})
    session.expire(item)
    return Result("Resolved.")


def _resolution_problem(note: object, outcome: object) -> str | None:
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        return f"Choose an outcome: one of {', '.join(OUTCOMES)}."
    if not isinstance(note, str) or not note.strip():
        return "Write a note to resolve the item."
    if len(note) > NOTE_MAX_LENGTH:
        return f"The note is too long: at most {NOTE_MAX_LENGTH} characters."
    if "\x00" in note:
        return "The note contains a character that cannot be stored (NUL)."
    return None


def _lost_race(session: Session, item: QueueItem) -> Result:
    """Someone changed the item between the caller's read and the UPDATE: say what it is now."""
    session.refresh(item)
    return _state_refusal(item)


def _claim_ended(session: Session, item: QueueItem, now: dt.datetime) -> None:
    if item.checkin_id is not None:
        checkins.look_again(session, item.checkin_id, now)


def _audit(
    session: Session,
    action: str,
    staff: Staff,
    item: QueueItem,
    actor: str,
    detail: dict[str, object] | None = None,
) -> None:
    record_audit(
        session,
        action,
        actor=actor,
        user_id=staff.id,
        store_id=item.store_id,
        patient_id=item.patient_id,
        target=f"item:{item.id}",
        detail=detail,
    )


# --- Resolved by the system ----------------------------------------------------------------------


def resolve_opt_out_items(
    session: Session, store_id: int, patient_id: int, now: dt.datetime
) -> list[int]:
    """The patient texted START: their opted-out items have nothing left to do. Resolve and
    audit them (actor "twilio"); return their ids."""
    resolved = queue.resolve_patients_items(
        session,
        patient_id,
        QueueKind.OPTED_OUT,
        "The patient texted START and gets refill check-ins again.",
        RESUBSCRIBED,
        now,
    )
    for item_id in resolved:
        record_audit(
            session,
            "resolve_item",
            actor="twilio",
            store_id=store_id,
            patient_id=patient_id,
            target=f"item:{item_id}",
            detail={"outcome": RESUBSCRIBED},
        )
    return resolved
