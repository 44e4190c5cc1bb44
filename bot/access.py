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
from werkzeug.wrappers import Response

from bot.extensions import db_session
from bot.security import hash_api_token, spend_a_password_check, verify_password
from store import staff
from store.audit import record_audit
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
# The same words whatever the reason, so that they tell nothing about the email.
LOGIN_REFUSED = (
    f"Wrong email or password. After {MAX_FAILED_LOGINS} wrong passwords in a row an account is"
    f" locked for {LOCK_MINUTES} minutes; an admin can unlock it sooner on the Staff page."
)
# Answers that refuse a signed-in user or a valid token; each one goes to the audit log.
REFUSED_STATUSES = frozenset({403, 404})


@dataclass(frozen=True)
class Staff(UserMixin):  # type: ignore[misc]
    """The signed-in user as a request sees them."""

    id: int
    email: str
    role: Role
    store_ids: tuple[int, ...]
    # The users.session_version this session was signed in with (see `init_app`).
    session_version: int = 1

    @classmethod
    def of(cls, user: User) -> Staff:
        return cls(
            user.id, user.email, user.role, tuple(s.id for s in user.stores), user.session_version
        )

    def get_id(self) -> str:
        """What the session cookie carries: the user id and the session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_resolve(self, kind: QueueKind) -> bool:
        """Clinical items (medication changes, adherence, health, questions) need a pharmacist."""
        return self.role is not Role.TECHNICIAN or kind in TECHNICIAN_KINDS


def init_app(app: Flask) -> None:
    """Set up session logins, and the audit of refused requests."""
    manager = LoginManager(app)
    manager.login_view = "workspace.login"
    manager.login_message = "Please sign in to see the queue."
    manager.session_protection = "strong"
    manager.user_loader(_load_session_user)
    app.after_request(_audit_refusal)


def _load_session_user(session_id: str) -> Staff | None:
    """The user of a session cookie "<user id>:<session version>", if that session still holds.

    Every request reads the user's row, so a new role or store applies at once; a bumped
    session version (logout, new password, deactivation: `store.staff.end_sessions`) turns
    every older cookie, in any worker, into an anonymous visitor.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 9 or len(version) > 9:
        return None  # not a cookie we signed (ids and versions fit a 32-bit integer)
    user = db_session().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return Staff.of(user)


View = TypeVar("View", bound=Callable[..., Any])


def login_required(view: View) -> View:
    """Send anonymous visitors to the login page (Flask-Login's decorator, typed)."""
    return cast(View, flask_login.login_required(view))


def staff_member() -> Staff:
    """Return the signed-in staff member (routes are behind login_required)."""
    user: Staff = current_user._get_current_object()
    return user


def authenticate(email: str, password: str, now: dt.datetime) -> User | None:
    """Check a password; a locked account refuses even the right one.

    The attempt is counted and committed before the password is checked, so however many
    workers take guesses at once, at most MAX_FAILED_LOGINS are checked before the lock. Every
    refusal (unknown email, deactivated, locked, wrong password) costs one Argon2 check.
    """
    session = db_session()
    user = staff.get_user(session, email)
    if user is None or not user.active:
        spend_a_password_check(password)
        return None
    reserved = staff.reserve_login_attempt(
        session,
        user.id,
        now,
        limit=MAX_FAILED_LOGINS,
        lock_for=dt.timedelta(minutes=LOCK_MINUTES),
    )
    # Commit the count (or nothing) now: holding the row lock through Argon2 would queue every
    # other attempt on this login behind this one.
    session.commit()
    if not reserved:
        spend_a_password_check(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    staff.record_login(session, user, now)
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
        session = db_session()
        user = staff.find_api_token(session, hash_api_token(token.strip()), _now())
        if user is None:
            record_audit(
                session,
                "api_token_refused",
                actor="api",
                target=_printable(token.strip()[:12]),
                detail=_request_detail(401),
            )
            session.commit()
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


def _audit_refusal(response: Response) -> Response:
    """Write each 403 and 404 answered to a known user or token to the audit log.

    Role checks (403) and another store's or a missing item or patient (404) end here, in
    pages and API alike, whichever way the view refused (abort or a returned answer). A
    refused request changes nothing: whatever it left in its transaction is rolled back.
    Anonymous requests and URLs that match no page (typos, a browser's /favicon.ico, missing
    static files) are not recorded: they refuse nobody anything.
    """
    if response.status_code not in REFUSED_STATUSES:
        return response
    if request.url_rule is None or request.endpoint == "static":
        return response
    api_staff: Staff | None = g.get("staff")
    who = api_staff or (current_user if current_user.is_authenticated else None)
    if who is None:
        return response
    session = db_session()
    session.rollback()
    record_audit(
        session,
        "access_refused",
        actor="api" if api_staff else "user",
        user_id=who.id,
        target=_printable(request.path)[:255],
        detail=_request_detail(response.status_code),
    )
    session.commit()
    return response


def _request_detail(status: int) -> dict[str, object]:
    return {"status": status, "method": request.method, "endpoint": request.endpoint}


def _printable(text: str) -> str:
    """Drop control characters (NUL above all, which PostgreSQL refuses in text)."""
    return "".join(c for c in text if c.isprintable())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
