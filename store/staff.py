"""Stores, staff users and API tokens: created by the operator's commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import ApiToken, Role, Store, User


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


def get_user(session: Session, email: str) -> User | None:
    """Return the user with `email` (case-insensitive), or None."""
    return session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def upsert_user(
    session: Session, email: str, role: Role, stores: list[Store], password_hash: str
) -> tuple[User, bool]:
    """Create or update a staff login; tell whether it was created."""
    user = get_user(session, email)
    created = user is None
    if user is None:
        user = User(email=email.strip().lower())
        session.add(user)
    user.role = role
    user.password_hash = password_hash
    user.stores = list(stores)
    user.active = True
    session.flush()
    return user, created


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
