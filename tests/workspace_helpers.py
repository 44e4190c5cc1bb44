"""Staff personas and a test client that logs in and posts forms with their CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bot.security import hash_api_token, hash_password
from store import staff
from store.models import Role, Store

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_user(session: Session, email: str, role: Role, *stores: Store) -> str:
    """Create a login; return an API token for it."""
    user, _ = staff.upsert_user(session, email, role, list(stores), hash_password(PASSWORD))
    token = f"msb_test_{email}"
    staff.add_api_token(session, user, hash_api_token(token), token[:12])
    return token


@dataclass
class StaffClient:
    """A browser-like client for one staff member."""

    client: FlaskClient
    email: str

    @classmethod
    def signed_in(cls, app: Flask, email: str, password: str = PASSWORD) -> StaffClient:
        me = cls(app.test_client(), email)
        response = me.login(password)
        assert response.status_code == 302, response.data[:500]
        return me

    def csrf(self, path: str = "/login") -> str:
        match = _TOKEN.search(self.client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, password: str) -> TestResponse:
        token = self.csrf("/login")
        return self.client.post(
            "/login", data={"email": self.email, "password": password, "csrf_token": token}
        )

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, page: str = "/queue"
    ) -> TestResponse:
        """Post a form the way a browser would: with the CSRF token of a page it loaded."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf(page)})
