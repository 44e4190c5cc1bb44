"""The admin's Staff page: an admin manages only their own stores' logins (SPEC 10), ends a
leaver's access, unlocks, revokes API tokens; every change audited with the stores it touched."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.security import verify_password
from bot.staff_admin import REFUSED
from store.models import ApiToken, Role, Store
from tests.staff_helpers import Chain, audit_events, make_chain, store_id, user
from tests.workspace_helpers import PASSWORD, StaffClient, make_user

NEW_PASSWORD = "attacker's password"


@pytest.fixture
def chain(app: Flask, session: Session) -> Chain:
    return make_chain(session)


def api(app: Flask, token: str, path: str = "/api/queue") -> int:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code


def save(admin: StaffClient, email: str, role: str, stores: int | list[int], password: str = ""):  # type: ignore[no-untyped-def]
    return admin.client.post(
        "/admin/users",
        data={
            "email": email,
            "role": role,
            "stores": stores,
            "password": password,
            "csrf_token": admin.csrf("/admin/users"),
        },
        follow_redirects=True,
    )


def row_of(page: str, email: str) -> str:
    """The Staff table's row of `email`."""
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")
    return next(row for row in rows if f'<td data-label="Email">{email}</td>' in row)


def flashes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<p class="flash [^"]*" role="[^"]*">([^<]*)</p>', response.get_data(True))


# --- Takeover -------------------------------------------------------------------------------


@pytest.mark.parametrize("victim", ["pharm@b.org", "admin@b.org", "both@ab.org", "gone@b.org"])
def test_an_admin_cannot_take_over_a_login_of_another_store(
    app: Flask, chain: Chain, session: Session, victim: str
) -> None:
    """Another store's login, one shared with another store, or a deactivated one elsewhere:
    the same refusal, nothing changed, the audit log says who tried."""
    b = session.get(Store, chain.b)
    assert b is not None
    make_user(session, "gone@b.org", Role.PHARMACIST, b)
    session.commit()
    user(session, "gone@b.org").active = False
    session.commit()
    before = user(session, victim)
    hash_before, role_before = before.password_hash, before.role
    stores_before = [s.code for s in before.stores]
    admin = StaffClient.signed_in(app, "admin@a.org")

    response = save(admin, victim.upper(), "admin", chain.a, NEW_PASSWORD)

    assert flashes(response) == [REFUSED]
    after = user(session, victim)
    assert (after.password_hash, after.role, [s.code for s in after.stores]) == (
        hash_before,
        role_before,
        stores_before,
    )
    assert after.active == (victim != "gone@b.org")
    assert not verify_password(after.password_hash, NEW_PASSWORD)
    if after.active:
        assert api(app, chain.tokens.get(victim, "")) == 200
        StaffClient.signed_in(app, victim)
    [refusal] = audit_events(session, "staff_change_refused")
    assert refusal.user_id == user(session, "admin@a.org").id and refusal.target == victim
    assert refusal.detail["stores"] == stores_before


def test_the_refusal_tells_nothing_about_the_login(app: Flask, chain: Chain) -> None:
    """One answer for another store's pharmacist, admin, shared login: no role, store, state."""
    admin = StaffClient.signed_in(app, "admin@a.org")
    answers = {
        victim: save(admin, victim, "technician", chain.a).get_data(True)
        for victim in ("pharm@b.org", "admin@b.org", "both@ab.org")
    }
    pages = {re.sub(r'name="csrf_token"[^>]*>', "", page) for page in answers.values()}
    assert len(pages) == 1
    page = pages.pop()
    assert "Beta" not in page and "pharm@b.org" not in page and "admin@b.org" not in page


def test_the_staff_list_marks_shared_logins_as_not_manageable(app: Flask, chain: Chain) -> None:
    page = StaffClient.signed_in(app, "admin@a.org").get("/admin/users").get_data(True)
    row = row_of(page, "both@ab.org")
    assert "the operator manages it" in row and "Deactivate" not in row
    assert "pharm@b.org" not in page


# --- Updates ----------------------------------------------------------------------------------


def test_an_admin_changes_a_role_without_a_new_password(
    app: Flask, chain: Chain, session: Session
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    response = save(admin, "tech@a.org", "pharmacist", chain.a)
    assert flashes(response) == ["tech@a.org updated."]
    assert user(session, "tech@a.org").role is Role.PHARMACIST
    StaffClient.signed_in(app, "tech@a.org", PASSWORD)
    [update] = audit_events(session, "update_user")
    assert update.detail["role_before"] == "technician" and update.detail["role"] == "pharmacist"
    assert update.detail["stores_before"] == ["a"] and update.detail["stores"] == ["a"]
    assert update.detail["store_ids"] == [chain.a]
    assert update.detail["password_changed"] is False


def test_a_new_login_needs_a_password(app: Flask, chain: Chain, session: Session) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    assert flashes(save(admin, "new@a.org", "technician", chain.a)) == [
        "A new login needs an initial password."
    ]
    created = save(admin, "new@a.org", "technician", chain.a, "long enough pw")
    assert flashes(created) == ["new@a.org created."]
    StaffClient.signed_in(app, "new@a.org", "long enough pw")
    [event] = audit_events(session, "create_user")
    assert event.detail["stores"] == ["a"] and event.detail["role"] == "technician"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("x" * 90 + "@a.org" + "x" * 160 + ".org", "long enough pw", "at most 254 characters"),
        ("not an email", "long enough pw", "Enter an email address"),
        ("two@@a.org", "long enough pw", "Enter an email address"),
        ("a@b", "long enough pw", "Enter an email address"),
        ("new@a.org", "short", "at least 10 characters"),
        ("new@a.org", "p" * 201, "at most 200 characters"),
        ("new@a.org", "          ", "A new login needs an initial password"),
    ],
)
def test_bad_user_input_gets_a_message(
    app: Flask, chain: Chain, session: Session, email: str, password: str, message: str
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    response = save(admin, email, "technician", chain.a, password)
    assert response.status_code == 200
    assert message in response.get_data(True)
    assert audit_events(session, "create_user") == []


def test_a_long_email_of_97_characters_is_a_login(
    app: Flask, chain: Chain, session: Session
) -> None:
    email = "a" * 85 + "@example.org"
    assert len(email) == 97
    admin = StaffClient.signed_in(app, "admin@a.org")
    assert flashes(save(admin, email, "technician", chain.a, "long enough pw")) == [
        f"{email} created."
    ]
    assert email in admin.get("/admin/users").get_data(True)
    StaffClient.signed_in(app, email, "long enough pw")


def test_resaving_a_deactivated_login_does_not_revive_it_or_its_tokens(
    app: Flask, chain: Chain, session: Session
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    tech = user(session, "tech@a.org")
    admin.post(f"/admin/users/{tech.id}/deactivate", page="/admin/users")
    response = save(admin, "tech@a.org", "pharmacist", chain.a, "a new pw 12")
    assert "stays deactivated" in flashes(response)[0]
    assert user(session, "tech@a.org").active is False
    assert api(app, chain.tokens["tech@a.org"]) == 401
    assert StaffClient(app.test_client(), "tech@a.org").login("a new pw 12").status_code == 200


# --- Leavers, tokens --------------------------------------------------------------------------


def test_an_admin_ends_a_leavers_access_and_can_reactivate(
    app: Flask, chain: Chain, session: Session
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    tech = user(session, "tech@a.org")
    response = admin.post(f"/admin/users/{tech.id}/deactivate", page="/admin/users")
    assert response.status_code == 302
    assert user(session, "tech@a.org").active is False
    assert api(app, chain.tokens["tech@a.org"]) == 401
    assert StaffClient(app.test_client(), "tech@a.org").login(PASSWORD).status_code == 200
    assert "deactivated" in admin.get("/admin/users").get_data(True)
    [event] = audit_events(session, "deactivate_user")
    assert event.target == "tech@a.org" and event.detail["stores"] == ["a"]
    assert event.detail["tokens_revoked"] == [chain.tokens["tech@a.org"][:12]]

    admin.post(f"/admin/users/{tech.id}/reactivate", page="/admin/users")
    StaffClient.signed_in(app, "tech@a.org")
    assert api(app, chain.tokens["tech@a.org"]) == 401  # revoked for good
    assert [e.target for e in audit_events(session, "reactivate_user")] == ["tech@a.org"]


def test_an_admin_cannot_deactivate_themselves(app: Flask, chain: Chain, session: Session) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    me = user(session, "admin@a.org")
    admin.post(f"/admin/users/{me.id}/deactivate", page="/admin/users")
    assert user(session, "admin@a.org").active is True
    assert admin.get("/admin/users").status_code == 200


@pytest.mark.parametrize("change", ["deactivate", "reactivate", "unlock"])
@pytest.mark.parametrize("email", ["pharm@b.org", "both@ab.org"])
def test_another_stores_login_is_not_found(
    app: Flask, chain: Chain, session: Session, change: str, email: str
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    victim = user(session, email)
    response = admin.post(f"/admin/users/{victim.id}/{change}", page="/admin/users")
    missing = admin.post(f"/admin/users/{victim.id + 1000}/{change}", page="/admin/users")
    assert response.status_code == missing.status_code == 404
    assert user(session, email).active is True
    assert api(app, chain.tokens[email]) == 200


def test_the_staff_page_lists_and_revokes_api_tokens(
    app: Flask, chain: Chain, session: Session
) -> None:
    assert api(app, chain.tokens["pharm@a.org"]) == 200  # now it has been used
    admin = StaffClient.signed_in(app, "admin@a.org")
    page = admin.get("/admin/users").get_data(True)
    row = row_of(page, "pharm@a.org")
    assert "msb_test_pha…" in row and "last used " in row and "created " in row
    token = session.query(ApiToken).filter_by(user_id=user(session, "pharm@a.org").id).one()
    assert admin.post(f"/admin/tokens/{token.id}/revoke", page="/admin/users").status_code == 302
    assert api(app, chain.tokens["pharm@a.org"]) == 401
    assert "msb_test_pha…" not in row_of(admin.get("/admin/users").get_data(True), "pharm@a.org")
    [event] = audit_events(session, "revoke_api_token")
    assert event.target == "pharm@a.org" and event.detail["token"] == "msb_test_pha"


def test_another_stores_token_cannot_be_revoked(app: Flask, chain: Chain, session: Session) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    theirs = session.query(ApiToken).filter_by(user_id=user(session, "pharm@b.org").id).one()
    assert admin.post(f"/admin/tokens/{theirs.id}/revoke", page="/admin/users").status_code == 404
    assert admin.post("/admin/tokens/99999/revoke", page="/admin/users").status_code == 404
    assert api(app, chain.tokens["pharm@b.org"]) == 200


def test_a_technician_or_pharmacist_cannot_use_the_staff_actions(
    app: Flask, chain: Chain, session: Session
) -> None:
    tech = user(session, "tech@a.org")
    for email in ("pharm@a.org", "tech@a.org"):
        me = StaffClient.signed_in(app, email)
        assert me.post(f"/admin/users/{tech.id}/deactivate").status_code == 403
    assert user(session, "tech@a.org").active is True


def test_an_admin_of_both_stores_manages_a_shared_login(
    app: Flask, chain: Chain, session: Session
) -> None:
    a, b = store_id(session, "a"), store_id(session, "b")
    stores = [s for s in user(session, "both@ab.org").stores]
    make_user(session, "chain@ab.org", Role.ADMIN, *stores)
    session.commit()
    admin = StaffClient.signed_in(app, "chain@ab.org")
    assert flashes(save(admin, "both@ab.org", "technician", [a, b])) == ["both@ab.org updated."]
    assert user(session, "both@ab.org").role is Role.TECHNICIAN
