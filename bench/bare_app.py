"""The baseline for the webhook benchmark: a bare Flask endpoint that answers TwiML.

No signature check, no database, no dialog: what Flask, gunicorn and TwiML building cost alone.
"""

from __future__ import annotations

from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)


@app.post("/twilio/sms")
def sms() -> Response:
    response = MessagingResponse()
    response.message(f"Thanks, we got: {request.form.get('Body', '')}")
    return Response(str(response), mimetype="text/xml")
