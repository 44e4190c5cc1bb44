"""Who is asking: staff logins (Flask-Login), API tokens, roles and store scoping.

A `Staff` is what a request knows about its user: id, role and the ids of their stores. Every
page and API route gets its store ids from here and hands them to store/workspace.py, which
filters every query by them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import flask_login
from flask import Flask, abort, g, jsonify, request
from flask_login import LoginManager, UserMixin, current_user

from bot.extensions import db_session
from bot.security import hash_api_token, verify_password
from store import staff
from store.models import QueueKind, Role, User

# A technician may work these; the rest are clinical and need a pharmacist (or an admin).
TECHNICIAN_KINDS = frozenset(
    {
        QueueKind.PRN_NEED,
        QueueKind.UNREACHABLE,
        QueueKind.INVALID_NUMBER,
        QueueKind.OPTED_OUT,
        QueueKind.CALLBACK_REQUEST,
    }
)
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


@dataclass(frozen=True)
class Staff(UserMixin):  # type: ignore[misc]
    """The signed-in user as a request sees them."""

    id: int
    email: str
    role: Role
    store_ids: tuple[int, ...]

    @classmethod
    def of(cls, user: User) -> Staff:
        return cls(user.id, user.email, user.role, tuple(s.id for s in user.stores))

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_resolve(self, kind: QueueKind) -> bool:
        """Clinical items (medication changes, adherence, health, questions) need a pharmacist."""
        return self.role is not Role.TECHNICIAN or kind in TECHNICIAN_KINDS


def init_app(app: Flask) -> None:
    """Set up session logins."""
    manager = LoginManager(app)
    manager.login_view = "workspace.login"
    manager.login_message = "Please sign in to see the queue."
    manager.session_protection = "strong"

    def load(user_id: str) -> Staff | None:
        user = db_session().get(User, int(user_id)) if user_id.isdigit() else None
        return Staff.of(user) if user is not None and user.active else None

    manager.user_loader(load)


View = TypeVar("View", bound=Callable[..., Any])


def login_required(view: View) -> View:
    """Send anonymous visitors to the login page (Flask-Login's decorator, typed)."""
    return cast(View, flask_login.login_required(view))


def staff_member() -> Staff:
    """Return the signed-in staff member (routes are behind login_required)."""
    user: Staff = current_user._get_current_object()
    return user


def authenticate(email: str, password: str, now: dt.datetime) -> User | None:
    """Check a password, counting failures; a locked account refuses even the right one."""
    session = db_session()
    user = staff.get_user(session, email)
    if user is None or not user.active:
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def api_error(status: int, message: str) -> Any:
    response = jsonify(error=message)
    response.status_code = status
    return response


def token_required(view: View) -> View:
    """Require `Authorization: Bearer TOKEN`; the token's user becomes `g.staff`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return api_error(401, "missing bearer token")
        user = staff.find_api_token(db_session(), hash_api_token(token.strip()), _now())
        if user is None:
            return api_error(401, "invalid token")
        g.staff = Staff.of(user)
        return view(*args, **kwargs)

    return cast(View, wrapper)


def admin_required(view: View) -> View:
    """Refuse non-admins with 403 (the page exists, it is not theirs)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not staff_member().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(View, wrapper)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
