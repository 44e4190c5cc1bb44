"""Property: whatever values reach a route, the answer is never a 5xx (SPEC 11).

Random, correctly signed Twilio forms go to every /twilio/* route, and random query values, path
ids and form fields to every other route (signed in as an admin, or with an API token). The
routes are read from the app's URL map, so a route added later is covered without a change here.
Values include huge and negative numbers, superscript and other non-ASCII digits, NUL, any
unicode, empty strings and the ids of real rows, so both the validation and the code behind it
are reached. Examples are derandomized: the suite is fast and CI sees the same inputs each run.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from bot.transports.fake import FakeTransport
from store import conversations, messages, queue
from store.models import Channel, Direction, Message, Purpose, QueueKind, Role
from tests.factories import make_checkin, make_patient, make_store
from tests.twilio_helpers import STORE_NUMBER, TwilioPoster, sid
from tests.workspace_helpers import StaffClient, make_user

PATIENT = "+12025550143"
KNOWN_SID = "CA" + "1" * 32  # the SID of a call already in the transcript

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: the database keeps what earlier examples did, so a shrunk example would
    # not fail the same way; the assertion message names the request that failed.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Numbers at and around every bound that matters (PostgreSQL INTEGER, SQLite INTEGER, the
# 4300-digit limit of int()), and strings that look like numbers to one check and not another.
BOUNDARY_NUMBERS = st.sampled_from(
    [
        "0",
        "-1",
        "1",
        "2147483647",
        "2147483648",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "1" * 40,
        "9" * 5000,
        "1e3",
        "1.5",
        " 1",
        "+1",
        "1_000",
        "0x10",
        "²",  # str.isdigit says yes, int() says no
        "¹²",
        "١٢",  # Arabic-Indic digits: int() reads them
        "１",  # a fullwidth one
    ]
)
ANY_NUMBER = st.integers(-(2**70), 2**70).map(str)
ODD_TEXT = st.sampled_from(
    ["", "\x00", "a\x00b", "\ufffd", "😀", "\u202e", "%00", "<b>", "' OR 1=1 --", "null", " "]
)
ANY_TEXT = st.text(max_size=30)  # any code point but surrogates, NUL included


def anything(*sensible: str) -> st.SearchStrategy[str]:
    """A value for a field: one a real client would send, a number, odd text or any text."""
    choices = [BOUNDARY_NUMBERS, ODD_TEXT, ANY_NUMBER, ANY_TEXT]
    if sensible:
        choices.insert(0, st.sampled_from(sensible))
    return st.one_of(*choices)


def no_5xx(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:300]!r}"


def routes(app: Flask, prefix: str) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(prefix) and rule.endpoint != "static"
    ]


# --- The world the random values can point into ------------------------------------------------


# A variable of a rule as written: "<int:item_id>", "<patient_id>".
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@st.composite
def paths(draw: st.DrawFn, rule: Rule, ids: list[int]) -> str:
    """The rule's path with its variables filled, URL-quoted: ids for <int:...> (real ones,
    huge or odd numbers), anything for the others (url_for would refuse most of them)."""

    def value(variable: re.Match[str]) -> str:
        if variable.group(1) == "int":
            raw = draw(st.one_of(st.sampled_from(ids).map(str), BOUNDARY_NUMBERS, ANY_NUMBER))
        else:
            raw = draw(anything("P1", "P9"))
        return quote(raw, safe="")

    return VARIABLE.sub(value, rule.rule)


@pytest.fixture
def world(app: Flask, session: Session) -> dict[str, Any]:
    """The default store and another, a patient in each with a check-in, an item, two calls
    (one without a SID) and a conversation."""
    a = make_store(session)  # "main": the default store, as `db upgrade` creates it
    b = make_store(session, "b", from_number="+12025550177")
    ana = make_patient(session, a, "P1", channel=Channel.VOICE)
    bob = make_patient(session, b, "P9", first_name="Bob", phone="+12125550100")
    checkin = make_checkin(session, ana)
    make_checkin(session, bob)
    item = queue.add_item(
        session, kind=QueueKind.PRN_NEED, store_id=a.id, patient=ana, checkin=checkin, text="x"
    )
    call_values = {
        "store_id": a.id,
        "patient_id": ana.id,
        "checkin_id": checkin.id,
        "direction": Direction.OUTBOUND,
        "channel": Channel.VOICE,
        "purpose": Purpose.CALL,
        "from_number": STORE_NUMBER,
        "to_number": PATIENT,
        "body": None,
        "status": "queued",
    }
    # One call with a SID, one without (Twilio's answer to the create was lost).
    with_sid = messages.record(session, **call_values, twilio_sid=KNOWN_SID)
    without_sid = messages.record(session, **call_values)
    conversation, version = conversations.create(
        session,
        patient_id=ana.id,
        checkin_id=checkin.id,
        dialog="checkin",
        channel=Channel.VOICE,
        state={"node": "start", "language": "en", "data": {}, "done": False},
    )
    admin_token = make_user(session, "admin@a.org", Role.ADMIN, a)
    session.commit()
    app.extensions["medsync"].transport = FakeTransport()
    return {
        "ids": [item, ana.id, bob.id, a.id, with_sid, without_sid, conversation, checkin.id],
        "messages": [str(with_sid), str(without_sid)],
        "conversation": (str(conversation), str(version)),
        "token": admin_token,
    }


# --- /twilio/* ----------------------------------------------------------------------------------


@st.composite
def twilio_forms(draw: st.DrawFn) -> dict[str, str]:
    fields = {
        "MessageSid": anything(sid("SM"), "SM1"),  # drawn again and again: duplicates too
        "From": anything(PATIENT, STORE_NUMBER, "+12125550100"),
        "To": anything(STORE_NUMBER, PATIENT, "+12025550177"),
        "Body": anything("yes", "no", "STOP", "START", "help", "my inhaler\x00please"),
        "MessagingServiceSid": anything("MG" + "0" * 32),
        "MessageStatus": anything("sent", "delivered", "failed", "undelivered"),
        "ErrorCode": anything("21610", "21211", "30003"),
        "CallSid": anything(KNOWN_SID, sid("CA")),
        "CallStatus": anything("ringing", "in-progress", "completed"),
        "SequenceNumber": anything("0", "1", "2"),
        "Direction": anything("inbound", "outbound-api"),
        "AnsweredBy": anything("human", "machine_start", "fax", "unknown"),
        "Digits": anything("1", "2", "0", "9", "#"),
        "SpeechResult": anything("yes", "no", "call me"),
        "Confidence": anything("0.9", "0.1", "NaN", "inf"),
        "RecordingUrl": anything("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"),
        "RecordingSid": anything("RE" + "2" * 32, sid("RE")),
        "TranscriptionText": anything("I need my inhaler"),
    }
    form = {}
    for name, values in fields.items():
        if draw(st.integers(0, 4)):  # most fields present, each sometimes missing
            form[name] = draw(values)
    return form


@st.composite
def voice_queries(draw: st.DrawFn, world: dict[str, Any]) -> str:
    conversation, version = world["conversation"]
    query = {
        "m": anything(*world["messages"]),
        "c": anything(conversation),
        "v": anything(version, "0", "99"),
        "timeout": anything("1"),
    }
    chosen = {k: draw(v) for k, v in query.items() if draw(st.booleans())}
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in chosen.items())


@EXAMPLES
@given(data=st.data())
def test_random_signed_webhooks_never_get_a_5xx(
    app: Flask, session: Session, world: dict[str, Any], twilio: TwilioPoster, data: st.DataObject
) -> None:
    for rule in routes(app, "twilio."):
        form = data.draw(twilio_forms())
        query = data.draw(voice_queries(world))
        path = rule.rule + (f"?{query}" if query else "")
        first_delivery = _kept_words(session, form) is None
        response = twilio.post(path, form)
        no_5xx(response, f"POST {path} {form!r}")
        if rule.endpoint == "twilio.inbound_sms" and response.status_code == 200:
            # SPEC 11: a text that was answered is in the transcript, word for word (a NUL,
            # which PostgreSQL cannot store, stands as U+FFFD). A repeated SID is kept once.
            kept = _kept_words(session, form)
            assert kept is not None, form
            if first_delivery:
                assert kept == form.get("Body", "").replace("\x00", "\ufffd"), form


def _kept_words(session: Session, form: dict[str, str]) -> str | None:
    """The body stored under the form's MessageSid, None when there is none."""
    message_sid = form.get("MessageSid", "")
    if "\x00" in message_sid:  # refused by the webhook, and unaskable on PostgreSQL
        return None
    session.expire_all()
    return session.scalars(
        select(Message.body).where(Message.twilio_sid == message_sid)
    ).one_or_none()


# --- Pages and the API --------------------------------------------------------------------------

QUERY_NAMES = (
    "page",
    "per_page",
    "status",
    "kind",
    "before",
    "from",
    "to",
    "days",
    "anchor_date",
    "store",
    "next",
    "q",
)
FORM_NAMES = (
    "email",
    "password",
    "note",
    "outcome",
    "body",
    "role",
    "stores",
    "name",
    "phone",
    "timezone",
    "window",
    "lead_days",
    "start",
    "end",
    "min_meds",
)
SENSIBLE = {
    "page": ("1", "2"),
    "status": ("open", "claimed", "resolved", "active"),
    "kind": ("prn_need", "med_change"),
    "from": ("2026-12-01", "9999-12-31", "0001-01-01"),
    "to": ("2026-12-31", "2026-11-30", "2029-01-01"),
    "days": ("14", "1", "62"),
    "anchor_date": ("2026-12-07", "9999-12-31"),
    "next": ("/queue", "////evil.example/"),
    "email": ("admin@a.org", "new@a.org"),
    "outcome": ("handled",),
    "role": ("pharmacist", "admin"),
    "window": ("09:00-19:00", "09:75-19:00"),
    "lead_days": ("3", "7"),
    "start": ("2026-01-01",),
    "end": ("2026-12-31",),
    "timezone": ("America/Chicago",),
}


@st.composite
def values_for(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    return {name: draw(anything(*SENSIBLE.get(name, ()))) for name in chosen}


def _request(client: Any, rule: Rule, path: str, draw_from: st.DataObject, **kw: Any) -> Any:
    query = draw_from.draw(values_for(QUERY_NAMES))
    if "GET" in rule.methods:  # type: ignore[operator]
        return client.get(path, query_string=query, **kw)
    return client.post(path, query_string=query, **kw)


@EXAMPLES
@given(data=st.data())
def test_random_queries_and_ids_on_pages_never_get_a_5xx(
    app: Flask, world: dict[str, Any], data: st.DataObject
) -> None:
    admin = StaffClient.signed_in(app, "admin@a.org")
    csrf = admin.csrf("/queue")
    pages = ("workspace.", "devphone.", "health.", "reports.", "metrics.")
    for rule in [rule for prefix in pages for rule in routes(app, prefix)]:
        if rule.endpoint == "workspace.logout":
            continue  # would sign the client out for the rest of the example
        path = data.draw(paths(rule, world["ids"]))
        form: dict[str, Any] = {**data.draw(values_for(FORM_NAMES)), "csrf_token": csrf}
        uploads = ("workspace.candidates", "reports.page")
        if rule.endpoint in uploads and data.draw(st.booleans()):
            form["fills"] = (io.BytesIO(data.draw(st.binary(max_size=200))), "fills.csv")
        response = _request(admin.client, rule, path, data, data=form)
        no_5xx(response, f"{rule.endpoint} {path} {form!r}")


@EXAMPLES
@given(data=st.data(), email=anything("admin@a.org"), password=ANY_TEXT)
def test_random_logins_never_get_a_5xx(
    app: Flask, world: dict[str, Any], data: st.DataObject, email: str, password: str
) -> None:
    visitor = StaffClient(app.test_client(), email)
    form = {"email": email, "password": password, "csrf_token": visitor.csrf("/login")}
    no_5xx(visitor.client.post("/login", data=form), f"login {form!r}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)


@EXAMPLES
@given(data=st.data())
def test_random_queries_ids_and_bodies_on_the_api_never_get_a_5xx(
    app: Flask, world: dict[str, Any], data: st.DataObject
) -> None:
    client = app.test_client()
    auth = {"Authorization": f"Bearer {world['token']}"}
    for rule in routes(app, "api.") + routes(app, "reports_api."):
        path = data.draw(paths(rule, world["ids"]))
        body = data.draw(
            st.one_of(
                st.fixed_dictionaries({"note": anything("called"), "outcome": anything("handled")}),
                JSON_VALUES,
            )
        )
        response = _request(client, rule, path, data, json=body, headers=auth)
        no_5xx(response, f"{rule.endpoint} {path} {body!r}")


def test_every_route_is_covered(app: Flask) -> None:
    """The groups above reach every route the app has (a new blueprint needs a group here)."""
    groups = (
        "twilio.",
        "workspace.",
        "devphone.",
        "health.",
        "api.",
        "reports.",
        "reports_api.",
        "metrics.",
    )
    assert {r.endpoint.split(".")[0] + "." for r in routes(app, "")} <= set(groups)
