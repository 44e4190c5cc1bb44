"""Post Twilio-shaped webhook forms, signed the way Twilio signs them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from bot.webhooks import signing_key

STORE_NUMBER = "+12025550100"


def sid(prefix: str) -> str:
    """Return a new random Twilio-shaped SID (SM..., CA..., RE...)."""
    return prefix + uuid.uuid4().hex


class TwilioPoster:
    """A test client for the /twilio/* routes that signs like Twilio."""

    base = "http://localhost"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.key = signing_key(app.extensions["medsync"].settings)

    def signature(self, url: str, form: dict[str, str]) -> str:
        return str(RequestValidator(self.key).compute_signature(url, form))

    def post(
        self, path: str, form: dict[str, str], *, signature: str | None = None, **kw: Any
    ) -> TestResponse:
        """POST `form` to `path` (which may carry a query string), signed unless told."""
        if signature is None:
            signature = self.signature(self.base + path, form)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.client.post(path, data=form, headers=headers, **kw)

    def sms(
        self, from_: str, body: str, *, to: str = STORE_NUMBER, message_sid: str | None = None
    ) -> TestResponse:
        form = {
            "MessageSid": message_sid or sid("SM"),
            "AccountSid": "AC" + "0" * 32,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
            "FromCity": "",
            "FromState": "",
        }
        form["SmsSid"] = form["SmsMessageSid"] = form["MessageSid"]
        return self.post("/twilio/sms", form)

    def sms_status(
        self, message_sid: str, status: str, error_code: int | None = None
    ) -> TestResponse:
        form = {
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": "AC" + "0" * 32,
            "To": "+12025550143",
            "From": STORE_NUMBER,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return self.post("/twilio/sms/status", form)

    def call_form(
        self, call_sid: str, patient: str, *, inbound: bool = False, **extra: str
    ) -> dict[str, str]:
        form = {
            "CallSid": call_sid,
            "AccountSid": "AC" + "0" * 32,
            "From": patient if inbound else STORE_NUMBER,
            "To": STORE_NUMBER if inbound else patient,
            "Direction": "inbound" if inbound else "outbound-api",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }
        form.update(extra)
        return form
