"""The console transport (demo mode): prints masked one-liners, records, never dials out."""

from __future__ import annotations

import io
import itertools
import re

import pytest

from bot.transports import ConsoleTransport, Outcome, Sender

PATIENT = "+12025550123"
STORE = Sender("+12025550199")
BODY = "Your refills are due Friday. Reply 1 to confirm."


def test_it_prints_one_line_per_sms_with_the_number_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = ConsoleTransport()

    console.send_sms(to=PATIENT, body=BODY, sender=STORE, status_callback=None)

    out = capsys.readouterr().out
    assert out == f"[console sms] to=+1202…23 from=+12025550199: {BODY}\n"
    assert PATIENT not in out


def test_it_returns_twilio_shaped_sids_and_reads_as_sent() -> None:
    console = ConsoleTransport(stream=io.StringIO())

    sms = console.send_sms(to=PATIENT, body=BODY, sender=STORE, status_callback=None)
    call = console.place_call(to=PATIENT, sender=STORE, url="https://x.org/v", status_callback=None)

    # A printed text is sent (no status callback will ever follow); a call waits for the
    # phone simulator to answer it.
    assert (sms.outcome, sms.status, call.outcome, call.status) == (
        Outcome.SENT,
        "sent",
        Outcome.SENT,
        "queued",
    )
    assert console.sent[0].result == sms
    assert re.fullmatch(r"SM[0-9a-f]{32}", sms.sid or "")
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid or "")
    assert sms.sid != call.sid


def test_it_records_what_it_sent_for_the_phone_simulator() -> None:
    counter = itertools.count(1)
    console = ConsoleTransport(stream=io.StringIO(), new_id=lambda: f"{next(counter):x}")
    service = Sender(None, "MG" + "a" * 32)

    console.send_sms(
        to=PATIENT, body=BODY, sender=service, status_callback="https://x.org/s", validity_period=60
    )
    console.place_call(
        to=PATIENT, sender=STORE, url="https://x.org/v", status_callback="https://x.org/c"
    )
    console.update_call(sid="CA" + "0" * 31 + "2", status="completed")

    sms, call, update = console.sent
    assert (sms.kind, sms.sid, sms.to, sms.body, sms.sender) == (
        "sms",
        "SM" + "0" * 31 + "1",
        PATIENT,
        BODY,
        service,
    )
    assert (sms.status_callback, sms.validity_period) == ("https://x.org/s", 60)
    assert (call.kind, call.sid, call.url, call.machine_detection) == (
        "call",
        "CA" + "0" * 31 + "2",
        "https://x.org/v",
        True,
    )
    assert (update.kind, update.status, update.result and update.result.outcome) == (
        "update_call",
        "completed",
        Outcome.SENT,
    )


def test_it_refuses_what_twilio_would_refuse_and_prints_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = ConsoleTransport()

    call = console.place_call(
        to=PATIENT,
        sender=Sender(None, "MG" + "a" * 32),
        url="https://x.org/v",
        status_callback=None,
    )
    sms = console.send_sms(to=PATIENT, body=BODY, sender=Sender(None), status_callback=None)

    assert (call.outcome, sms.outcome) == (Outcome.FAILED, Outcome.FAILED)
    assert [s.result.outcome for s in console.sent if s.result] == [Outcome.FAILED] * 2
    assert capsys.readouterr().out == ""
