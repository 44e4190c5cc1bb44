"""One mapping of Twilio error codes (bot/transports/errors.py), and every user agrees with it:
the REST transport, the policy's attempts, and no module with a copy of its own."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from bot.transports import twilio as twilio_transport
from bot.transports.base import Outcome
from bot.transports.errors import TWILIO_ERRORS, TwilioError, twilio_error
from scheduler import policy

ROOT = Path(__file__).resolve().parents[2]
# Codes that mean nothing special: a generic failure, recorded with its code.
OTHER_CODES = (21612, 30003, 30005, 30007, 21611, 20003)
EVERY_CODE = (*TWILIO_ERRORS, *OTHER_CODES)
SEND_OUTCOME = {
    TwilioError.OPTED_OUT: Outcome.OPTED_OUT,
    TwilioError.INVALID_NUMBER: Outcome.INVALID_NUMBER,
    TwilioError.RETRYABLE: Outcome.FAILED,  # after the retries
    TwilioError.OTHER: Outcome.FAILED,
}


def test_the_mapping_holds_the_codes_spec_9_and_twilio_md_name() -> None:
    assert dict(TWILIO_ERRORS) == {
        21610: TwilioError.OPTED_OUT,
        21211: TwilioError.INVALID_NUMBER,
        21614: TwilioError.INVALID_NUMBER,
        30006: TwilioError.INVALID_NUMBER,
        20429: TwilioError.RETRYABLE,
    }
    assert twilio_error(None) is None
    assert all(twilio_error(code) is TwilioError.OTHER for code in OTHER_CODES)


@pytest.mark.parametrize("code", EVERY_CODE)
def test_the_transport_maps_a_code_as_the_mapping_says(code: int) -> None:
    meaning = twilio_error(code)
    assert meaning is not None
    assert twilio_transport._outcome_for(400, code) is SEND_OUTCOME[meaning]
    assert twilio_transport._rate_limited(400, code) == (meaning is TwilioError.RETRYABLE)


@pytest.mark.parametrize("code", EVERY_CODE)
def test_the_policy_reads_a_code_as_the_mapping_says(code: int) -> None:
    at = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    for channel in policy.Channel:
        attempt = policy.Attempt(channel, at, "failed", code)
        assert attempt.invalid_number == (twilio_error(code) is TwilioError.INVALID_NUMBER)


def _code_literals(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
        and node.value in EVERY_CODE
    ]


def test_no_module_keeps_a_copy_of_the_codes() -> None:
    mapping = ROOT / "bot" / "transports" / "errors.py"
    # The demo makes one patient's number fail as Twilio would: data, not a rule.
    data = {ROOT / "bot" / "demo.py"}
    sources = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "scheduler").rglob("*.py")]
    copies = {
        str(path.relative_to(ROOT)): codes
        for path in sources
        if path != mapping and path not in data and (codes := _code_literals(path))
    }
    assert copies == {}
