"""The floor for the webhook benchmark: the least any implementation of the SMS webhook must do.

What SPEC 5.3 and issue 4 require of every reply, written as directly as Python allows: check
the signature, then in one transaction on the raw driver connection (no SQLAlchemy, no ORM)
find the patient with the row locked, read the open conversation, insert the patient's text
and our reply, save the conversation with its version check, commit, and answer with TwiML.
There is no dialog: the reply is a fixed question and the state only gains a counter.

It uses the app's own connection set-up (`store.db.make_engine`: the SQLite writer lock,
WAL and pragmas; the PostgreSQL pool), so the gap between it and the real webhook is our code,
and the gap between it and the bare endpoint is the database and the signature on this machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from store.db import _WriterLockedConnection, make_engine

app = Flask(__name__)
engine = make_engine(os.environ["DATABASE_URL"])
POSTGRES = engine.dialect.name == "postgresql"
URL = os.environ["PUBLIC_BASE_URL"] + "/twilio/sms"
VALIDATOR = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])


def _sql(text: str) -> str:
    return text.replace("?", "%s") if POSTGRES else text


LOOKUP = _sql(
    "SELECT p.id, p.store_id FROM patients p JOIN stores s ON s.id = p.store_id"
    " LEFT JOIN enrollments e ON e.patient_id = p.id"
    " WHERE p.phone = ? AND s.from_number = ? ORDER BY p.id"
    + (" FOR UPDATE OF p" if POSTGRES else "")
)
LATEST = _sql(
    "SELECT c.id, c.version, c.data, c.checkin_id FROM conversations c"
    " WHERE c.patient_id = ? ORDER BY c.done, c.id DESC LIMIT 1"
)
COLUMNS = (
    "store_id, patient_id, checkin_id, direction, channel, from_number, to_number, body,"
    " twilio_sid, status, created_at, updated_at"
)
INSERT = _sql(
    f"INSERT INTO messages ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?,?,?,?,?)"
    " RETURNING id"
)
SAVE = _sql(
    "UPDATE conversations SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?"
)
QUESTION = "Have you missed any doses or had trouble taking your medicines? Reply YES or NO."


@app.post("/twilio/sms")
def sms() -> Response:
    form = request.form
    expected = VALIDATOR.compute_signature(URL, form)
    if expected != request.headers.get("X-Twilio-Signature"):
        return Response(status=403)
    connection: Any = engine.raw_connection()
    try:
        driver = connection.dbapi_connection
        if isinstance(driver, _WriterLockedConnection):
            driver.wait_for_turn()
            driver.execute("BEGIN IMMEDIATE")
        cursor = driver.cursor()
        cursor.execute(LOOKUP, (form["From"], form["To"]))
        patient_id, store_id = cursor.fetchone()
        cursor.execute(LATEST, (patient_id,))
        conversation_id, version, data, checkin_id = cursor.fetchone()
        state = data if POSTGRES else json.loads(data)
        state["turns"] = state.get("turns", 0) + 1
        now: Any = dt.datetime.now(dt.UTC)
        if not POSTGRES:
            now = now.isoformat(sep=" ")
        ours, theirs = form["To"], form["From"]
        cursor.execute(
            INSERT,
            (store_id, patient_id, checkin_id, "inbound", "sms", theirs, ours, form["Body"])
            + (form["MessageSid"], "received", now, now)
            + (store_id, patient_id, checkin_id, "outbound", "sms", ours, theirs, QUESTION)
            + (None, "twiml", now, now),
        )
        cursor.fetchall()
        cursor.execute(SAVE, (json.dumps(state), version + 1, now, conversation_id, version))
        driver.commit()
    finally:
        connection.close()  # back to the pool (a rollback if the commit was not reached)
    response = MessagingResponse()
    response.message(QUESTION)
    return Response(str(response), mimetype="text/xml")
