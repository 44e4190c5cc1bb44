"""Sessions that the server can end, the login lock, and where a login may send the browser."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session

from bot import security
from bot.access import LOCK_MINUTES, MAX_FAILED_LOGINS
from store.models import Role, Store, utcnow
from tests.staff_helpers import (
    Chain,
    audit_events,
    make_chain,
    replay,
    session_cookie,
    store_id,
    user,
)
from tests.workspace_helpers import PASSWORD, StaffClient, make_user


@pytest.fixture
def chain(app: Flask, session: Session) -> Chain:
    return make_chain(session)


def opens_the_queue(client: Any) -> bool:
    response = client.get("/queue")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


# --- Sessions end when they should ------------------------------------------------------------


def test_the_session_cookie_is_secure_http_only_and_same_site(app: Flask, chain: Chain) -> None:
    me = StaffClient(app.test_client(), "pharm@a.org")
    response = me.login(PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}


def test_an_old_cookie_gets_the_login_page_after_logout(app: Flask, chain: Chain) -> None:
    me = StaffClient.signed_in(app, "pharm@a.org")
    cookie = session_cookie(me.client)
    assert opens_the_queue(replay(me.client, cookie))
    assert me.post("/logout").status_code == 302
    assert not opens_the_queue(replay(me.client, cookie))


def test_logout_ends_the_users_other_sessions_too(app: Flask, chain: Chain) -> None:
    laptop = StaffClient.signed_in(app, "pharm@a.org")
    counter = StaffClient.signed_in(app, "pharm@a.org")
    laptop.post("/logout")
    assert not opens_the_queue(counter.client)
    assert opens_the_queue(StaffClient.signed_in(app, "pharm@a.org").client)


def test_a_new_password_ends_the_old_sessions(app: Flask, chain: Chain, session: Session) -> None:
    victim = StaffClient.signed_in(app, "pharm@a.org")
    cookie = session_cookie(victim.client)
    admin = StaffClient.signed_in(app, "admin@a.org")
    saved = admin.post(
        "/admin/users",
        {"email": "pharm@a.org", "role": "pharmacist", "stores": chain.a, "password": "a new pw 1"},
        page="/admin/users",
    )
    assert saved.status_code == 302
    assert not opens_the_queue(victim.client)
    assert not opens_the_queue(replay(victim.client, cookie))
    StaffClient.signed_in(app, "pharm@a.org", "a new pw 1")


def test_an_admin_who_changes_their_own_password_stays_signed_in_here_only(
    app: Flask, chain: Chain
) -> None:
    here = StaffClient.signed_in(app, "admin@a.org")
    elsewhere = StaffClient.signed_in(app, "admin@a.org")
    here.post(
        "/admin/users",
        {"email": "admin@a.org", "role": "admin", "stores": chain.a, "password": "a new pw 1"},
        page="/admin/users",
    )
    assert opens_the_queue(here.client)
    assert not opens_the_queue(elsewhere.client)


def test_deactivation_ends_the_sessions(app: Flask, chain: Chain, session: Session) -> None:
    leaver = StaffClient.signed_in(app, "tech@a.org")
    cookie = session_cookie(leaver.client)
    admin = StaffClient.signed_in(app, "admin@a.org")
    tech = user(session, "tech@a.org")
    admin.post(f"/admin/users/{tech.id}/deactivate", page="/admin/users")
    assert not opens_the_queue(replay(leaver.client, cookie))
    assert leaver.login(PASSWORD).status_code == 200  # the form again, not a redirect


def test_a_new_role_applies_to_the_open_session_at_once(
    app: Flask, chain: Chain, session: Session
) -> None:
    """Role and stores are read from the user's row on every request: no cookie keeps old ones."""
    demoted = StaffClient.signed_in(app, "admin@b.org")
    assert demoted.get("/admin/users").status_code == 200
    other = StaffClient.signed_in(app, "admin@b.org")
    other.post(
        "/admin/users",
        {"email": "admin@b.org", "role": "pharmacist", "stores": store_id(session, "b")},
        page="/admin/users",
    )
    assert demoted.get("/admin/users").status_code == 403
    assert opens_the_queue(demoted.client)


@pytest.mark.parametrize("forged", ["1", "1:", ":1", "x:1", "1:x", "1:1:1", "99999999999999:1"])
def test_a_session_id_that_is_not_ours_is_anonymous(app: Flask, chain: Chain, forged: str) -> None:
    from bot.access import _load_session_user

    with app.test_request_context():
        assert _load_session_user(forged) is None


# --- The lock ---------------------------------------------------------------------------------


def test_the_refusal_says_how_long_the_lock_lasts_and_the_same_for_any_email(
    app: Flask, chain: Chain
) -> None:
    answers = set()
    for email in ("pharm@a.org", "nobody@a.org"):
        for _ in range(MAX_FAILED_LOGINS + 1):
            page = StaffClient(app.test_client(), email).login("wrong password")
            answers.add(tuple(re.findall(r'<p class="flash[^>]*>[^<]*</p>', page.get_data(True))))
    [flashes] = answers
    assert len(flashes) == 1 and f"locked for {LOCK_MINUTES} minutes" in flashes[0]


class CountingHasher(PasswordHasher):
    """The tests' cheap hasher, counting verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return bool(super().verify(hash, password))


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(security, "_hasher", counting)
    return counting


@pytest.mark.parametrize(
    "email", ["pharm@a.org", "nobody@a.org", "deactivated@a.org", "locked@a.org"]
)
def test_every_failed_login_costs_one_password_check(
    app: Flask, chain: Chain, session: Session, hasher: CountingHasher, email: str
) -> None:
    """An unknown email must cost what a known one does, or the time tells which exist."""
    a = session.get(Store, chain.a)
    assert a is not None
    make_user(session, "deactivated@a.org", Role.PHARMACIST, a)
    make_user(session, "locked@a.org", Role.PHARMACIST, a)
    session.commit()
    user(session, "deactivated@a.org").active = False
    user(session, "locked@a.org").locked_until = utcnow() + dt.timedelta(minutes=5)
    session.commit()
    hasher.verified = 0
    response = StaffClient(app.test_client(), email).login("wrong password")
    assert response.status_code == 200
    assert hasher.verified == 1


def test_a_locked_account_refuses_even_the_right_password_until_the_lock_runs_out(
    app: Flask, chain: Chain, session: Session
) -> None:
    attacker = StaffClient(app.test_client(), "pharm@a.org")
    for _ in range(MAX_FAILED_LOGINS):
        attacker.login("wrong password")
    assert attacker.login(PASSWORD).status_code == 200
    locked = user(session, "pharm@a.org")
    assert locked.locked_until is not None
    locked.locked_until = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert attacker.login("wrong password").status_code == 200
    assert attacker.login(PASSWORD).status_code == 302
    after = user(session, "pharm@a.org")
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_four_wrong_passwords_then_the_right_one_sign_in(app: Flask, chain: Chain) -> None:
    me = StaffClient(app.test_client(), "pharm@a.org")
    for _ in range(MAX_FAILED_LOGINS - 1):
        me.login("wrong password")
    assert me.login(PASSWORD).status_code == 302


def lock(app: Flask, email: str) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        StaffClient(app.test_client(), email).login("wrong password")


def test_the_staff_page_shows_the_lock_and_an_admin_clears_it(
    app: Flask, chain: Chain, session: Session
) -> None:
    lock(app, "pharm@a.org")
    until = user(session, "pharm@a.org").locked_until
    assert until is not None
    admin = StaffClient.signed_in(app, "admin@a.org")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f"locked until {until:%H:%M} UTC" in page
    pharm = user(session, "pharm@a.org")
    assert admin.post(f"/admin/users/{pharm.id}/unlock", page="/admin/users").status_code == 302
    assert user(session, "pharm@a.org").locked_until is None
    [event] = audit_events(session, "unlock_user")
    assert event.target == "pharm@a.org" and event.detail["locked_until"] == until.isoformat()
    assert "locked until" not in admin.get("/admin/users").get_data(as_text=True)
    StaffClient.signed_in(app, "pharm@a.org")


def test_a_new_password_clears_the_lock(app: Flask, chain: Chain, session: Session) -> None:
    lock(app, "pharm@a.org")
    admin = StaffClient.signed_in(app, "admin@a.org")
    admin.post(
        "/admin/users",
        {"email": "pharm@a.org", "role": "pharmacist", "stores": chain.a, "password": "a new pw 1"},
        page="/admin/users",
    )
    StaffClient.signed_in(app, "pharm@a.org", "a new pw 1")


def test_create_user_with_a_new_password_clears_the_lock(
    app: Flask, chain: Chain, session: Session
) -> None:
    lock(app, "pharm@a.org")
    result = app.test_cli_runner().invoke(
        args=["create-user", "pharm@a.org", "--role", "pharmacist", "--store", "a"],
        input="a new pw 1\na new pw 1\n",
    )
    assert result.exit_code == 0, result.output
    StaffClient.signed_in(app, "pharm@a.org", "a new pw 1")


# --- ?next= -----------------------------------------------------------------------------------

OFF_SITE = [
    "//evil.example",
    "////evil.example/",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\x00/evil.example",
    "/\u2028/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(app: Flask, chain: Chain, target: str) -> None:
    from bot.workspace import _safe_next

    with app.test_request_context():
        assert _safe_next(target) == "/queue"
    if "\x00" in target:
        return  # refused before any view sees it (NUL bytes never reach a form or query value)
    me = StaffClient(app.test_client(), "pharm@a.org")
    response = me.client.post(
        "/login",
        query_string={"next": target},
        data={"email": me.email, "password": PASSWORD, "csrf_token": me.csrf()},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/queue"


@pytest.mark.parametrize("target", ["/items/1", "/upcoming?from=2026-12-01", "/patients/3#top"])
def test_login_follows_next_on_this_site(app: Flask, chain: Chain, target: str) -> None:
    me = StaffClient(app.test_client(), "pharm@a.org")
    response = me.client.post(
        "/login",
        query_string={"next": target},
        data={"email": me.email, "password": PASSWORD, "csrf_token": me.csrf()},
    )
    assert response.headers["Location"] == target
