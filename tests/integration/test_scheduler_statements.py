"""How many SQL statements a pass spends per due check-in (a count, never a timing)."""

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

from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, ny, tick

ANCHOR = dt.date(2026, 12, 14)
DUE = 20
# Per texted check-in: read it with its store and its locked patient (1); read its history:
# attempts, the patient's recent outreach and replies, staff claims (1); the send reads the
# patient again under the lock, so consent is as of now whatever the caller read (1); the
# conversation (1); record the text and the dialog state (2: INSERT message, INSERT or UPDATE
# conversation); the attempt on the check-in (1); then, after the commit and the send,
# Twilio's answer (1) and the next look (1). Was 17, then 10 with a claim per row.
PER_CHECKIN = 9
# Per pass: forget dead passes, register this one and forget it at the end (3; on PostgreSQL
# also the siblings' locks listed, this pass's lock taken and given back: 3 more), roll
# anchors (1), list and create the check-ins and mark their enrollments (3), the welcomes due
# (1), the medicines that may need a renewal request (1), the fills marked ready (1), per batch
# the two due-row queries and one claim of the whole batch, the last batch empty and
# unclaimed (5).
PER_PASS = 18


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
    with counted(app) as first:
        report = tick(app, fake, ny(2026, 12, 7, 9, 0))
    assert report.texts == DUE
    with counted(app) as reminder:
        report = tick(app, fake, ny(2026, 12, 8, 9, 0))
    assert report.texts == DUE
    if os.environ.get("SHOW_STATEMENTS"):
        for name, seen in (("first", first), ("reminder", reminder)):
            print(f"\n{name}: {sum(seen.values())} statements")
            for statement, count in seen.most_common():
                print(f"{count:5d}  {statement}")
    assert sum(first.values()) <= PER_CHECKIN * DUE + PER_PASS
    assert sum(reminder.values()) <= PER_CHECKIN * DUE + PER_PASS
