"""How many SQL statements a pass spends per batch of due check-ins (a count, never a
timing)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler.jobs import PassReport, run_pass
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import DEFAULTS, URLS, ClockedFake, ny

ANCHOR = dt.date(2026, 12, 14)
DUE = 20
WORKERS = 4  # texts handed over and sent at once: one wave
# Per batch (scheduler/batch.py): the two due-row queries and the claim (3); lock the patients
# with their check-ins, stores and enrollments (1); their histories (1); their conversations
# (1); record the texts (1), the new conversations (1) and the saved ones (1), the attempts
# (1), the looks that send nothing (1); Twilio's answers (1) and the next looks (1).
PER_BATCH = 13
# Per wave of WORKERS texts: hand them over (OUTBOX -> pending, unless the patient wrote).
PER_WAVE = 1
# Per pass: register the pass and forget it at the end (2), on PostgreSQL the pass's advisory
# lock taken, its siblings' locks listed, and the lock given back (3), roll anchors (1), list
# and create the check-ins (3), the welcome step's page (1), the medicines that may need a
# renewal request (1), the fills marked ready (1), the last batch's two due-row queries, empty
# (2), with room for one more.
PER_PASS = 15
# Nothing is read or written per check-in any more (it was 9 statements a texted check-in):
# one statement per check-in coming back would add DUE and break the bound.
BOUND = PER_PASS + PER_BATCH + PER_WAVE * -(-DUE // WORKERS)
assert BOUND < PER_PASS + DUE


@contextmanager
def counted(app: Flask) -> Iterator[Counter[str]]:
    """Count the statements the app's engine runs, by their first words."""
    engine = app.extensions["medsync"].db.engine
    seen: Counter[str] = Counter()

    def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "UPDATE scheduler_passes" in statement:
            return  # the heartbeat: every few seconds of wall clock, not per check-in
        seen[re.sub(r"\s+", " ", statement)[:150]] += 1

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _patients(session: Session) -> None:
    store = make_store(session)
    for n in range(DUE):
        make_patient(session, store, f"P{n}", phone=f"+1202555{n:04d}", anchor_date=ANCHOR)
    session.commit()


def test_a_pass_spends_a_bounded_number_of_statements_per_due_checkin(
    app: Flask, session: Session
) -> None:
    """Texts 20 first texts, then 20 reminders a day later, counting the statements of each."""
    _patients(session)
    fake = ClockedFake()

    def tick(now: dt.datetime) -> PassReport:
        fake.now = now
        sessions = app.extensions["medsync"].db.sessions
        return run_pass(
            sessions, now, transport=fake, urls=URLS, defaults=DEFAULTS, workers=WORKERS
        )

    with counted(app) as first:
        report = tick(ny(2026, 12, 7, 9, 0))
    assert report.texts == DUE
    with counted(app) as reminder:
        report = tick(ny(2026, 12, 8, 9, 0))
    assert report.texts == DUE
    if os.environ.get("SHOW_STATEMENTS"):
        for name, seen in (("first", first), ("reminder", reminder)):
            print(f"\n{name}: {sum(seen.values())} statements")
            for statement, count in seen.most_common():
                print(f"{count:5d}  {statement}")
    assert sum(first.values()) <= BOUND
    assert sum(reminder.values()) <= BOUND
