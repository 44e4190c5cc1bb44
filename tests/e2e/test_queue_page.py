"""The queue page (SPEC 10): high priority first, counts that follow the status filter, every
kind filterable, patient names linking to the patient, and who holds a claim."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.workspace import KIND_LABELS
from store import queue
from store.models import Patient, QueueKind, Role, User, utcnow
from tests.factories import make_checkin, make_patient, make_store
from tests.workspace_helpers import StaffClient, make_user

TODAY = dt.date(2026, 12, 2)


class _Table(HTMLParser):
    """The queue table's cells (text) and links, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[list[str]] = []
        self.headers: list[str] = []
        self._cell: list[str] | None = None
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
            self.links.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []
        elif self._in_table and tag == "a":
            self.links[-1].append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            (self.headers if tag == "th" else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table(html: str) -> _Table:
    parsed = _Table()
    parsed.feed(html)
    parsed.rows = [r for r in parsed.rows if r]  # the header row holds <th> only
    parsed.links = [links for links in parsed.links if links]
    return parsed


@pytest.fixture
def pharmacy(session: Session) -> dict[str, int]:
    """23 items of one store: 22 routine ones due soon, and an ER visit due in three weeks."""
    store = make_store(session)
    make_user(session, "pharm@x.test", Role.PHARMACIST, store)
    ids: dict[str, int] = {}
    for n in range(22):
        patient = make_patient(
            session,
            store,
            f"P{n}",
            first_name=f"Pat{n}",
            phone=f"+1202555{n:04d}",
            anchor_date=TODAY + dt.timedelta(days=1 + n % 5),
        )
        ids[f"routine{n}"] = queue.add_item(
            session,
            kind=QueueKind.PRN_NEED if n % 2 else QueueKind.ADHERENCE,
            store_id=store.id,
            patient=patient,
            checkin=make_checkin(session, patient),
            text=f"routine {n}",
        )
    far = TODAY + dt.timedelta(days=21)
    ann = make_patient(
        session, store, "ER", first_name="Ann", phone="+12025559999", anchor_date=far
    )
    ids["er"] = queue.add_item(
        session,
        kind=QueueKind.HEALTH_CHANGE,
        store_id=store.id,
        patient=ann,
        checkin=make_checkin(session, ann),
        text="I was in the ER for chest pain",
        priority=1,
    )
    ids["ann"] = ann.id
    session.commit()
    return ids


def test_high_priority_items_come_first_then_the_soonest_fill(
    app: Flask, pharmacy: dict[str, int]
) -> None:
    me = StaffClient.signed_in(app, "pharm@x.test")
    rows = table(me.get("/queue").get_data(as_text=True)).rows
    assert len(rows) == 23
    assert rows[0][3] == "I was in the ER for chest pain"
    fill_dates = [dt.datetime.strptime(f"{r[0]} 2026", "%a %b %d %Y").date() for r in rows[1:]]
    assert fill_dates == sorted(fill_dates)
    # The API lists the same order.
    token = "msb_test_pharm@x.test"
    listed = app.test_client().get("/api/queue", headers={"Authorization": f"Bearer {token}"})
    assert [i["text"] for i in listed.json["items"]][:2] == [
        "I was in the ER for chest pain",
        "routine 0",
    ]


def test_patient_names_link_to_the_patient_and_claims_show_who_holds_them(
    app: Flask, pharmacy: dict[str, int], session: Session
) -> None:
    pharm = session.query(User).filter_by(email="pharm@x.test").one()
    queue.claim(session, pharmacy["er"], pharm.id, utcnow())
    session.commit()
    parsed = table(StaffClient.signed_in(app, "pharm@x.test").get("/queue").get_data(as_text=True))
    assert parsed.headers == [
        "Fill date",
        "Kind",
        "Patient",
        "What they said",
        "Status",
        "Claimed by",
    ]
    er_row, er_links = parsed.rows[0], parsed.links[0]
    assert er_row[2] == "Ann Lopez" and f"/patients/{pharmacy['ann']}" in er_links
    assert (er_row[4], er_row[5]) == ("claimed", "pharm@x.test")
    assert (parsed.rows[1][4], parsed.rows[1][5]) == ("open", "—")
    for links in parsed.links:
        patient = next(link for link in links if link.startswith("/patients/"))
        assert re.fullmatch(r"/patients/\d+", patient)


def kind_counts(html: str) -> dict[str, str]:
    nav = html.split('aria-label="Filter by kind"')[1].split("</nav>")[0]
    found = re.findall(r'<a href="[^"]*"[^>]*>([^<]+?) <span class="count">(\d+)</span></a>', nav)
    return dict(found)


def test_kind_counts_follow_the_status_filter_and_every_kind_stays_filterable(
    app: Flask, pharmacy: dict[str, int], session: Session
) -> None:
    me = StaffClient.signed_in(app, "pharm@x.test")
    pharm = session.query(User).filter_by(email="pharm@x.test").one()
    for n in (1, 3, 5):  # three as-needed requests resolved
        queue.resolve(session, pharmacy[f"routine{n}"], pharm.id, "done", "handled", utcnow())
    session.commit()

    active = me.get("/queue").get_data(as_text=True)
    counts = kind_counts(active)
    assert set(counts) == {"All", *KIND_LABELS.values()}  # every kind, even with none open
    assert (counts["All"], counts["As-needed request"], counts["Adherence"]) == ("20", "8", "11")
    assert counts["Medication change"] == "0"

    resolved = me.get("/queue?status=resolved").get_data(as_text=True)
    counts = kind_counts(resolved)
    assert (counts["All"], counts["As-needed request"], counts["Adherence"]) == ("3", "3", "0")
    assert 'id="active-count" aria-label="20 items to clear">20<' in resolved  # still active
    assert len(table(resolved).rows) == 3

    # A kind with nothing in it is still a filter, and says so.
    empty = me.get("/queue?kind=med_change").get_data(as_text=True)
    assert "Nothing to clear here" in empty
    assert 'href="/queue?status=active&amp;kind=med_change" aria-current="true"' in empty


def test_the_unknown_number_has_no_patient_link(app: Flask, session: Session) -> None:
    store = make_store(session)
    make_user(session, "pharm@x.test", Role.PHARMACIST, store)
    queue.add_item(session, kind=QueueKind.CONCERN, store_id=store.id, text="who is this?")
    session.commit()
    parsed = table(StaffClient.signed_in(app, "pharm@x.test").get("/queue").get_data(as_text=True))
    assert parsed.rows[0][2] == "Unknown number"
    assert not any(link.startswith("/patients/") for link in parsed.links[0])
    assert session.query(Patient).count() == 0
