"""Staff changes, shared by the admin's Staff page and the operator's commands.

An admin manages only the logins whose stores are all among their own (SPEC 10); the
operator's commands manage every login. Each change is audited with the stores it touched,
before and after. A refused change changes nothing, is audited, and is answered with one
message whatever the reason (another store's login, one shared with other stores, a
deactivated one elsewhere), so the answer never tells which stores or role an address has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.security import hash_password
from store import staff
from store.audit import record_audit
from store.models import ApiToken, Role, Store, User

REFUSED = (
    "That email cannot be saved from your stores: it already has a login that you do not"
    " manage. Ask the operator (flask create-user) if it should work here."
)
NEEDS_PASSWORD = "A new login needs an initial password."
NOT_YOURSELF = "You cannot deactivate your own login."


class StaffChangeRefused(Exception):
    """A change that was not made; the message is for the person who asked."""


@dataclass(frozen=True)
class Actor:
    """Who makes a staff change: an admin (their user id and stores), or the operator's CLI."""

    kind: str  # the audit log's actor: "user" or "cli"
    user_id: int | None = None
    # None for the operator, who manages every login.
    store_ids: frozenset[int] | None = None

    @classmethod
    def admin(cls, user_id: int, store_ids: Collection[int]) -> Actor:
        return cls("user", user_id, frozenset(store_ids))

    def manages(self, user: User) -> bool:
        """An admin manages a login only when every one of its stores is theirs (and it has one)."""
        if self.store_ids is None:
            return True
        ids = {store.id for store in user.stores}
        return bool(ids) and ids <= self.store_ids


OPERATOR = Actor("cli")


@dataclass(frozen=True)
class StaffRow:
    """A line of the Staff page."""

    user: User
    manageable: bool
    locked_until: dt.datetime | None
    tokens: Sequence[ApiToken]


def staff_rows(
    session: Session, actor: Actor, users: Sequence[User], now: dt.datetime
) -> list[StaffRow]:
    tokens = staff.api_tokens_of(session, [user.id for user in users])
    return [
        StaffRow(
            user,
            actor.manages(user),
            user.locked_until if staff.is_locked(user, now) else None,
            tokens[user.id],
        )
        for user in users
    ]


def save_user(
    session: Session,
    actor: Actor,
    email: str,
    role: Role,
    stores: list[Store],
    password: str | None,
) -> tuple[User, bool]:
    """Create a login, or update one the actor manages; a password is optional on update.

    Updating keeps the login's active state (reactivating is its own change) and its tokens.
    A new password ends the login's sessions and clears its lock.
    """
    password = password if password and password.strip() else None
    existing = staff.get_user(session, email)
    if existing is not None and not actor.manages(existing):
        _refuse(session, actor, "save_user", email, existing)
    if actor.store_ids is not None and not {s.id for s in stores} <= actor.store_ids:
        _refuse(session, actor, "save_user", email, existing)
    if existing is None and not password:
        raise StaffChangeRefused(NEEDS_PASSWORD)
    before = _stores_and_role(existing) if existing is not None else {}
    user, created = staff.upsert_user(
        session, email, role, stores, hash_password(password) if password else None
    )
    detail: dict[str, object] = {
        **{f"{key}_before": value for key, value in before.items()},
        **_stores_and_role(user),
        "password_changed": bool(password),
    }
    if not user.active:
        detail["active"] = False
    _audit(session, actor, "create_user" if created else "update_user", user, detail)
    return user, created


def deactivate_user(session: Session, actor: Actor, user: User, now: dt.datetime) -> None:
    """A leaver: no login, no session, no API token (reactivating revives none of them)."""
    _check(session, actor, "deactivate_user", user)
    if user.id == actor.user_id:
        raise StaffChangeRefused(NOT_YOURSELF)
    tokens = staff.api_tokens_of(session, [user.id])[user.id]
    staff.deactivate_user(session, user, now)
    _audit(
        session,
        actor,
        "deactivate_user",
        user,
        {**_stores_and_role(user), "tokens_revoked": [t.prefix for t in tokens]},
    )


def reactivate_user(session: Session, actor: Actor, user: User) -> None:
    _check(session, actor, "reactivate_user", user)
    staff.reactivate_user(session, user)
    _audit(session, actor, "reactivate_user", user, _stores_and_role(user))


def unlock_user(session: Session, actor: Actor, user: User, now: dt.datetime) -> None:
    """Clear a login lock (five wrong passwords) before it runs out."""
    _check(session, actor, "unlock_user", user)
    locked_until = user.locked_until if staff.is_locked(user, now) else None
    staff.unlock_user(session, user)
    _audit(
        session,
        actor,
        "unlock_user",
        user,
        {"locked_until": locked_until.isoformat() if locked_until else None},
    )


def revoke_token(session: Session, actor: Actor, token: ApiToken, now: dt.datetime) -> None:
    _check(session, actor, "revoke_api_token", token.user)
    staff.revoke_api_token(session, token, now)
    _audit(session, actor, "revoke_api_token", token.user, {"token": token.prefix, "id": token.id})


def _check(session: Session, actor: Actor, change: str, user: User) -> None:
    if not actor.manages(user):
        _refuse(session, actor, change, user.email, user)


def _refuse(session: Session, actor: Actor, change: str, email: str, user: User | None) -> None:
    """Audit a refused change (with what the operator needs to know) and raise the refusal."""
    record_audit(
        session,
        "staff_change_refused",
        actor=actor.kind,
        user_id=actor.user_id,
        target=email.strip().lower()[: staff.MAX_EMAIL_LENGTH],
        detail={"change": change, **(_stores_and_role(user) if user is not None else {})},
    )
    raise StaffChangeRefused(REFUSED)


def _stores_and_role(user: User) -> dict[str, object]:
    return {
        "role": user.role.value,
        "store_ids": [store.id for store in user.stores],
        "stores": [store.code for store in user.stores],
    }


def _audit(
    session: Session, actor: Actor, action: str, user: User, detail: dict[str, object]
) -> None:
    record_audit(
        session, action, actor=actor.kind, user_id=actor.user_id, target=user.email, detail=detail
    )
