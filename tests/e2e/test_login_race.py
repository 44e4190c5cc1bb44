"""Guesses at one login from many workers at once: no more than five are ever checked."""

from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session

from bot import security
from bot.access import MAX_FAILED_LOGINS
from store.models import Role, utcnow
from tests.factories import make_store
from tests.staff_helpers import user
from tests.workspace_helpers import PASSWORD, StaffClient, make_user

GUESSERS = 16


class SlowCountingHasher(PasswordHasher):
    """The tests' cheap hasher, counting the passwords it checks and taking a moment for each,
    as production Argon2 does (about 0.1 s): the window in which other guesses arrive."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.checked: list[str] = []  # the hashes checked against
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checked.append(hash if isinstance(hash, str) else hash.decode())
        time.sleep(0.05)
        return bool(super().verify(hash, password))


@pytest.mark.postgres_only
def test_concurrent_wrong_passwords_lock_the_account_after_five_checks(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(session, "pharm@main.org", Role.PHARMACIST, make_store(session))
    session.commit()
    hasher = SlowCountingHasher()
    monkeypatch.setattr(security, "_hasher", hasher)
    guessers = [StaffClient(app.test_client(), "pharm@main.org") for _ in range(GUESSERS)]
    tokens = [guesser.csrf() for guesser in guessers]
    barrier = threading.Barrier(GUESSERS)
    statuses: list[int] = []

    def guess(n: int) -> None:
        barrier.wait()
        response = guessers[n].client.post(
            "/login",
            data={"email": "pharm@main.org", "password": f"guess {n}", "csrf_token": tokens[n]},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == [200] * GUESSERS
    locked = user(session, "pharm@main.org")
    against_the_password = [h for h in hasher.checked if h == locked.password_hash]
    assert len(against_the_password) == MAX_FAILED_LOGINS
    assert len(hasher.checked) == GUESSERS  # the other eleven cost a throwaway check
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    assert StaffClient(app.test_client(), "pharm@main.org").login(PASSWORD).status_code == 200
