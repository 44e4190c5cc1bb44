"""Stores, staff users and API tokens: created by the operator's commands."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from store.models import ApiToken, Role, Store, User

# The users.email column's size, and RFC 5321's limit on an address.
MAX_EMAIL_LENGTH = 254
# One @, something on each side, a dot in the domain, no spaces or control characters: enough to
# catch typos and pasted garbage; the login itself is the real check.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")


@dataclass(frozen=True)
class StoreFields:
    name: str
    phone: str
    timezone: str
    from_number: str | None = None
    messaging_service_sid: str | None = None


def get_store(session: Session, code: str) -> Store | None:
    """Return the store with `code`, or None."""
    return session.scalars(select(Store).where(Store.code == code)).one_or_none()


def upsert_store(session: Session, code: str, values: StoreFields) -> tuple[Store, bool]:
    """Create the store `code` or update it in place; tell whether it was created."""
    store = get_store(session, code)
    created = store is None
    if store is None:
        store = Store(code=code)
        session.add(store)
    store.name = values.name
    store.phone = values.phone
    store.timezone = values.timezone
    if values.from_number is not None:
        store.from_number = values.from_number
    if values.messaging_service_sid is not None:
        store.messaging_service_sid = values.messaging_service_sid
    session.flush()
    return store, created


def ensure_store(session: Session, code: str, values: StoreFields) -> Store:
    """Return the store `code`, creating it from `values` when missing (never overwriting)."""
    store = get_store(session, code)
    if store is None:
        store, _ = upsert_store(session, code, values)
    return store


def normalize_email(raw: str) -> str | None:
    """Return `raw` as a stored login email (trimmed, lower case), or None when it is not one."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or _EMAIL.fullmatch(email) is None:
        return None
    return email


def get_user(session: Session, email: str) -> User | None:
    """Return the user with `email` (case-insensitive), or None."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        return None
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def upsert_user(
    session: Session, email: str, role: Role, stores: list[Store], password_hash: str | None
) -> tuple[User, bool]:
    """Create or update a staff login; tell whether it was created.

    A new login needs a password hash; an existing one keeps its password when `password_hash`
    is None. Saving never reactivates a deactivated login: that is `reactivate_user`, on purpose.
    """
    user = get_user(session, email)
    created = user is None
    if user is None:
        if password_hash is None:
            raise ValueError("a new login needs a password")
        user = User(
            email=email.strip().lower(), password_hash=password_hash, active=True, session_version=1
        )
        session.add(user)
    user.role = role
    user.stores = list(stores)
    session.flush()
    if password_hash is not None and not created:
        set_password(session, user, password_hash)
    return user, created


def set_password(session: Session, user: User, password_hash: str) -> None:
    """Give `user` a new password: clear any lock and end the sessions of the old one."""
    user.password_hash = password_hash
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    end_sessions(session, user)


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every session cookie of `user`, in every worker (logout, new password, leaver).

    The cookie carries the version it was signed with (bot/access.py); one UPDATE bumps it, so
    two bumps at once both count.
    """
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["session_version"])


def deactivate_user(session: Session, user: User, now: dt.datetime) -> None:
    """End a leaver's access: no login, no session, no API token (reactivating revives none)."""
    user.active = False
    session.flush()
    revoke_api_tokens(session, user, now)
    end_sessions(session, user)


def reactivate_user(session: Session, user: User) -> None:
    """Let a deactivated login sign in again (with its password; its old tokens stay revoked)."""
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def unlock_user(session: Session, user: User) -> None:
    """Clear a login lock before it runs out (the admin's button)."""
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def is_locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def reserve_login_attempt(
    session: Session, user_id: int, now: dt.datetime, *, limit: int, lock_for: dt.timedelta
) -> bool:
    """Count one password attempt *before* it is checked; False when the account is locked.

    One UPDATE, atomic in every database and across workers: each concurrent attempt gets its
    own number, the `limit`-th one locks the account, and later ones match no row and are
    refused unchecked. So at most `limit` guesses are ever checked per lock period. A lock that
    has run out counts from one again; a successful login resets the count
    (`record_login`).
    """
    unlocked = or_(User.locked_until.is_(None), User.locked_until <= now)
    # Column references in SET are the row's values before this UPDATE, in SQLite and PostgreSQL.
    count = case((User.locked_until.is_not(None), 0), else_=User.failed_logins) + 1
    reserved = session.execute(
        update(User)
        .where(User.id == user_id, User.active.is_(True), unlocked)
        .values(failed_logins=count, locked_until=case((count >= limit, now + lock_for)))
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return reserved is not None


def record_login(session: Session, user: User, now: dt.datetime) -> None:
    """A right password: the attempts counted so far are forgiven."""
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["failed_logins", "locked_until", "last_login_at"])


def add_api_token(session: Session, user: User, token_hash: str, prefix: str) -> ApiToken:
    """Store a new token digest for `user`."""
    token = ApiToken(user_id=user.id, token_hash=token_hash, prefix=prefix)
    session.add(token)
    session.flush()
    return token


def find_api_token(session: Session, token_hash: str, now: dt.datetime) -> User | None:
    """Return the active user owning the unrevoked token with `token_hash`, noting its use."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if token is None or not token.user.active:
        return None
    token.last_used_at = now
    return token.user


def api_tokens_of(session: Session, user_ids: Collection[int]) -> dict[int, list[ApiToken]]:
    """The unrevoked tokens of these users, newest first, by user id."""
    tokens: dict[int, list[ApiToken]] = {user_id: [] for user_id in user_ids}
    for token in session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id.in_(list(user_ids)), ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())
    ):
        tokens[token.user_id].append(token)
    return tokens


def all_api_tokens_of(session: Session, user: User) -> Sequence[ApiToken]:
    """Every token `user` ever had, revoked ones included, oldest first (the CLI's list)."""
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()


def find_tokens(session: Session, id_or_prefix: str) -> Sequence[ApiToken]:
    """Unrevoked tokens with this id or this shown prefix (`list-api-tokens` prints both)."""
    wanted = id_or_prefix.strip()
    if wanted.isdigit() and len(wanted) < 10:
        by_id = session.get(ApiToken, int(wanted))
        return [by_id] if by_id is not None and by_id.revoked_at is None else []
    if not wanted or len(wanted) > 12:
        return []
    return session.scalars(
        select(ApiToken)
        .where(ApiToken.prefix == wanted, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()


def revoke_api_token(session: Session, token: ApiToken, now: dt.datetime) -> None:
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()


def revoke_api_tokens(session: Session, user: User, now: dt.datetime) -> None:
    """Revoke every token of `user` that is still valid."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
