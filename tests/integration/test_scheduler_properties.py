"""Property: whatever the patients, zones and pass times, outreach stays in the window, under
the caps, and away from patients without consent or who opted out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from store.models import Channel, Store
from tests.conftest import clean_tables
from tests.factories import make_patient, make_store
from tests.integration.scheduler_helpers import ClockedFake, tick

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
# Days around which passes are spread: both US DST changes and an ordinary day.
BASE_DAYS = (dt.date(2026, 11, 1), dt.date(2027, 3, 14), dt.date(2026, 12, 10))


@st.composite
def patients(draw: st.DrawFn, base: dt.date) -> dict[str, object]:
    consent = draw(
        st.one_of(
            st.none(),
            st.integers(-60, 10).map(lambda days: base + dt.timedelta(days=days)),
        )
    )
    return {
        "timezone": draw(st.one_of(st.none(), st.sampled_from(ZONES))),
        "channel": draw(st.sampled_from([Channel.SMS, Channel.VOICE])),
        "consent_date": consent,
        "opted_out": draw(st.booleans()),
        "anchor_date": base + dt.timedelta(days=draw(st.integers(-3, 14))),
        "cycle_days": draw(st.sampled_from([7, 14, 30])),
    }


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    base = draw(st.sampled_from(BASE_DAYS))
    start_minute = draw(st.integers(8 * 60, 12 * 60))
    end_minute = draw(st.integers(start_minute + 30, 20 * 60))
    midnight = dt.datetime.combine(base, dt.time(0), tzinfo=dt.UTC)
    minutes = draw(
        st.lists(st.integers(-8 * 24 * 60, 16 * 24 * 60), min_size=5, max_size=40, unique=True)
    )
    return {
        "store_zone": draw(st.sampled_from(ZONES)),
        "window": (start_minute, end_minute),
        "lead_days": draw(st.integers(3, 7)),
        "patients": draw(st.lists(patients(base), min_size=1, max_size=5)),
        "passes": sorted(midnight + dt.timedelta(minutes=m) for m in minutes),
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_it_never_contacts_outside_the_window_over_the_caps_or_without_consent(
    app: Flask, engine: Engine, session: Session, scenario: dict[str, object]
) -> None:
    clean_tables(engine)
    session.expunge_all()
    start, end = scenario["window"]  # type: ignore[misc]
    store = make_store(
        session,
        timezone=scenario["store_zone"],
        window_start_minute=start,
        window_end_minute=end,
        lead_days=scenario["lead_days"],
    )
    people = {}
    for n, spec in enumerate(scenario["patients"]):  # type: ignore[arg-type]
        phone = f"+1202555{n:04d}"
        patient = make_patient(
            session,
            store,
            f"P{n}",
            phone=phone,
            timezone=spec["timezone"],
            channel=spec["channel"],
            consent_date=spec["consent_date"],
            opted_out_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if spec["opted_out"] else None,
            anchor_date=spec["anchor_date"],
        )
        assert patient.enrollment is not None
        patient.enrollment.cycle_days = spec["cycle_days"]
        people[phone] = spec
    session.commit()

    fake = ClockedFake()
    for now in scenario["passes"]:  # type: ignore[attr-defined]
        tick(app, fake, now)

    check_contacts(fake, store, people)


def check_contacts(fake: ClockedFake, store: Store, people: dict[str, dict[str, object]]) -> None:
    """Assert SPEC 7 on every request the transport saw."""
    by_patient: dict[str, list[dt.datetime]] = defaultdict(list)
    for contact in fake.contacts:
        spec = people[contact.to]
        zone = ZoneInfo(str(spec["timezone"] or store.timezone))
        local = contact.at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        assert store.window_start_minute <= minute, (contact, local)
        assert minute + 5 <= store.window_end_minute, (contact, local)
        assert not spec["opted_out"], contact
        consent = spec["consent_date"]
        assert isinstance(consent, dt.date) and consent <= local.date(), (contact, consent)
        if contact.ok or contact.kind == "call":
            by_patient[contact.to].append(contact.at)
    for phone, times in by_patient.items():
        zone = ZoneInfo(str(people[phone]["timezone"] or store.timezone))
        days = [t.astimezone(zone).date() for t in times]
        assert len(days) == len(set(days)), (phone, times)
        for i, at in enumerate(times):
            in_week = [t for t in times[: i + 1] if at - dt.timedelta(days=7) < t]
            assert len(in_week) <= 3, (phone, times)
