"""The Twilio transport (SPEC 9): exact REST requests, error mapping, retries and pacing.

Twilio is never called: `responses` answers at the requests layer, under the SDK.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from bot.config import Settings
from bot.transports import ConsoleTransport, Outcome, Sender, TwilioTransport, make_transport

ACCOUNT = "AC" + "0123456789abcdef" * 2
TOKEN = "auth-token-never-logged"
TWILIO = "https://api.twilio.com"
STAGING = "http://127.0.0.1:8099"
PATIENT = "+12025550123"
STORE_NUMBER = "+12025550199"
SERVICE = "MG" + "f" * 32
SMS_ID = "SM" + "1" * 32
CALL_ID = "CA" + "2" * 32
BODY = "Hi Carol, your refills at Main Street Pharmacy are due Friday. Reply 1 to confirm."
STATUS_URL = "https://pharmacy.example.org/twilio/sms/status"
VOICE_URL = "https://pharmacy.example.org/twilio/voice"
CALL_STATUS_URL = "https://pharmacy.example.org/twilio/voice/status"

# Copied from Twilio's OpenAPI spec (see the file's _source) so CI needs nothing outside the repo.
API = json.loads((Path(__file__).with_name("twilio_api_params.json")).read_text())


def messages_url(base: str = TWILIO) -> str:
    return f"{base}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def calls_url(base: str = TWILIO) -> str:
    return f"{base}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"


def call_url(sid: str = CALL_ID) -> str:
    return f"{TWILIO}/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json"


def created(sid: str = SMS_ID, status: str = "queued", **extra: Any) -> dict[str, Any]:
    return {"sid": sid, "status": status, "error_code": None, "error_message": None, **extra}


def form(call: Any) -> dict[str, list[str]]:
    """Parse a recorded request body, keeping repeated keys such as StatusCallbackEvent."""
    return parse_qs(call.request.body, keep_blank_values=True)


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": "", "status": status}


class FakeTime:
    """A clock that only moves when something sleeps; records every sleep requested."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def make(time_: FakeTime) -> Callable[..., TwilioTransport]:
    def build(**overrides: Any) -> TwilioTransport:
        options: dict[str, Any] = {
            "sleep": time_.sleep,
            "clock": time_.clock,
            "rand": lambda: 1.0,  # no jitter: pauses are exactly 1, 2, 4 s
            "calls_per_second": 0,
            **overrides,
        }
        return TwilioTransport(ACCOUNT, TOKEN, **options)

    return build


@pytest.fixture
def twilio(make: Callable[..., TwilioTransport]) -> TwilioTransport:
    return make()


def send(transport: TwilioTransport, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "to": PATIENT,
        "body": BODY,
        "sender": Sender(STORE_NUMBER),
        "status_callback": STATUS_URL,
        **overrides,
    }
    return transport.send_sms(**options)


def call(transport: TwilioTransport, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "to": PATIENT,
        "sender": Sender(STORE_NUMBER),
        "url": VOICE_URL,
        "status_callback": CALL_STATUS_URL,
        **overrides,
    }
    return transport.place_call(**options)


# --- requests on the wire -------------------------------------------------------------------


def test_it_posts_an_sms_to_the_messages_endpoint_with_basic_auth(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), json=created(), status=201)

    result = send(twilio, validity_period=4 * 3600)

    assert result.outcome is Outcome.SENT
    assert (result.sid, result.status, result.error_code) == (SMS_ID, "queued", None)
    request = api.calls[0].request
    assert request.url == messages_url()
    expected_auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    assert form(api.calls[0]) == {
        "To": [PATIENT],
        "From": [STORE_NUMBER],
        "Body": [BODY],
        "StatusCallback": [STATUS_URL],
        "ValidityPeriod": ["14400"],
    }


def test_it_always_passes_an_explicit_http_timeout(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), json=created(), status=201)

    send(twilio)

    assert api.calls[0].request.req_kwargs["timeout"] == 10.0


def test_it_sends_to_the_configured_api_base_url(
    tmp_path: Path, api: responses.RequestsMock
) -> None:
    settings = Settings.from_env(
        {
            "SECRET_KEY": "s",
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE_URL": STAGING,
        },
        tmp_path,
    )
    api.post(messages_url(STAGING), json=created(), status=201)
    api.post(calls_url(STAGING), json=created(CALL_ID), status=201)
    transport = make_transport(settings, sleep=lambda s: None, clock=lambda: 0.0)

    assert isinstance(transport, TwilioTransport)
    assert send(transport).outcome is Outcome.SENT
    assert call(transport).outcome is Outcome.SENT
    assert [c.request.url for c in api.calls] == [messages_url(STAGING), calls_url(STAGING)]


def test_it_ignores_twilio_edge_and_region_from_the_shell(
    monkeypatch: pytest.MonkeyPatch, twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    # Client(environment={}) would still read these: an empty mapping falls back to os.environ.
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    api.post(messages_url(), json=created(), status=201)

    assert send(twilio).outcome is Outcome.SENT
    assert api.calls[0].request.url == messages_url()


def test_it_uses_the_messaging_service_instead_of_the_from_number(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), json=created(status="accepted"), status=201)

    result = send(twilio, sender=Sender(STORE_NUMBER, SERVICE))

    assert (result.outcome, result.status) == (Outcome.SENT, "accepted")
    sent = form(api.calls[0])
    assert sent["MessagingServiceSid"] == [SERVICE]
    assert "From" not in sent


def test_it_leaves_out_the_optional_sms_fields_it_was_not_given(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), json=created(), status=201)

    send(twilio, status_callback=None)

    assert set(form(api.calls[0])) == {"To", "From", "Body"}


def test_it_caps_the_validity_period_at_twilios_maximum(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), json=created(), status=201)

    send(twilio, validity_period=7 * 24 * 3600)

    assert form(api.calls[0])["ValidityPeriod"] == ["36000"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"validity_period": 0}, "validity_period must be 1..36000"),
        ({"sender": Sender(None, None)}, "no sender"),
    ],
)
def test_it_refuses_an_sms_it_cannot_request_without_calling_twilio(
    twilio: TwilioTransport,
    api: responses.RequestsMock,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    result = send(twilio, **overrides)

    assert result.outcome is Outcome.FAILED
    assert result.error_message is not None and reason in result.error_message
    assert len(api.calls) == 0


def test_it_places_a_call_with_status_events_and_synchronous_amd(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(calls_url(), json=created(CALL_ID), status=201)

    result = call(twilio)

    assert (result.outcome, result.sid, result.status) == (Outcome.SENT, CALL_ID, "queued")
    assert api.calls[0].request.url == calls_url()
    assert form(api.calls[0]) == {
        "To": [PATIENT],
        "From": [STORE_NUMBER],
        "Url": [VOICE_URL],
        "Method": ["POST"],
        "Timeout": ["30"],
        "StatusCallback": [CALL_STATUS_URL],
        "StatusCallbackMethod": ["POST"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "MachineDetection": ["DetectMessageEnd"],
    }


def test_it_asks_for_asynchronous_amd_when_given_an_amd_callback(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(calls_url(), json=created(CALL_ID), status=201)

    call(twilio, amd_status_callback=CALL_STATUS_URL, timeout_seconds=900)

    sent = form(api.calls[0])
    assert sent["MachineDetection"] == ["DetectMessageEnd"]
    assert sent["AsyncAmd"] == ["true"]  # lowercase: the API takes the strings true/false
    assert sent["AsyncAmdStatusCallback"] == [CALL_STATUS_URL]
    assert sent["AsyncAmdStatusCallbackMethod"] == ["POST"]
    assert sent["Timeout"] == ["600"]


def test_it_leaves_out_machine_detection_when_not_asked(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(calls_url(), json=created(CALL_ID), status=201)

    call(twilio, machine_detection=False, amd_status_callback=CALL_STATUS_URL)

    sent = form(api.calls[0])
    assert not {"MachineDetection", "AsyncAmd", "AsyncAmdStatusCallback"} & set(sent)


def test_it_refuses_a_call_from_a_messaging_service_alone(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    result = call(twilio, sender=Sender(None, SERVICE))

    assert result.outcome is Outcome.FAILED
    assert result.error_message is not None and "no from number" in result.error_message
    assert len(api.calls) == 0


def test_it_hangs_up_a_call(twilio: TwilioTransport, api: responses.RequestsMock) -> None:
    api.post(call_url(), json=created(CALL_ID, status="completed"), status=200)

    result = twilio.update_call(sid=CALL_ID, status="completed")

    assert (result.outcome, result.sid, result.status) == (Outcome.SENT, CALL_ID, "completed")
    assert form(api.calls[0]) == {"Status": ["completed"]}


def test_it_redirects_a_live_call_to_new_twiml(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    twiml = "<Response><Say>Please call Main Street Pharmacy.</Say><Hangup/></Response>"
    api.post(call_url(), json=created(CALL_ID, status="in-progress"), status=200)

    result = twilio.update_call(sid=CALL_ID, twiml=twiml)

    assert result.outcome is Outcome.SENT
    assert form(api.calls[0]) == {"Twiml": [twiml]}


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"twiml": "<Response/>", "url": VOICE_URL}, {"status": "busy"}],
)
def test_it_refuses_a_call_update_twilio_would_reject(
    twilio: TwilioTransport, api: responses.RequestsMock, kwargs: dict[str, str]
) -> None:
    assert twilio.update_call(sid=CALL_ID, **kwargs).outcome is Outcome.FAILED
    assert len(api.calls) == 0


@pytest.mark.parametrize(
    ("operation", "url", "do"),
    [
        ("create_message", messages_url(), lambda t: send(t, validity_period=600)),
        (
            "create_message",
            messages_url(),
            lambda t: send(t, sender=Sender(STORE_NUMBER, SERVICE)),
        ),
        ("create_call", calls_url(), lambda t: call(t)),
        ("create_call", calls_url(), lambda t: call(t, amd_status_callback=CALL_STATUS_URL)),
        ("update_call", call_url(), lambda t: t.update_call(sid=CALL_ID, status="completed")),
        ("update_call", call_url(), lambda t: t.update_call(sid=CALL_ID, url=VOICE_URL)),
        ("update_call", call_url(), lambda t: t.update_call(sid=CALL_ID, twiml="<Response/>")),
    ],
)
def test_it_only_sends_parameters_the_api_defines(
    twilio: TwilioTransport,
    api: responses.RequestsMock,
    operation: str,
    url: str,
    do: Callable[[TwilioTransport], Any],
) -> None:
    api.post(url, json=created(CALL_ID), status=201)

    do(twilio)

    sent = set(form(api.calls[0]))
    assert sent <= set(API[operation]["parameters"]), sent - set(API[operation]["parameters"])
    assert set(API[operation]["required"]) <= sent


# --- error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, 21610, Outcome.OPTED_OUT),
        (400, 21211, Outcome.INVALID_NUMBER),
        (400, 21614, Outcome.INVALID_NUMBER),
        # Not on Twilio's recommended allow-list: recorded as a plain failure.
        (400, 21612, Outcome.FAILED),
        (400, 21611, Outcome.FAILED),
        (401, 20003, Outcome.FAILED),
    ],
)
def test_it_maps_twilio_error_codes_without_retrying(
    twilio: TwilioTransport,
    api: responses.RequestsMock,
    time_: FakeTime,
    status: int,
    code: int,
    outcome: Outcome,
) -> None:
    message = f"The 'To' number {PATIENT} is not valid for this request."
    api.post(messages_url(), json=twilio_error(code, message, status), status=status)

    result = send(twilio)

    assert (result.outcome, result.sid, result.status) == (outcome, None, "failed")
    assert result.error_code == code
    assert result.error_message is not None and "is not valid" in result.error_message
    assert "2025550123" not in result.error_message
    assert len(api.calls) == 1
    assert time_.sleeps == []


def test_it_maps_errors_of_calls_the_same_way(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(calls_url(), json=twilio_error(21211, "Invalid 'To' Phone Number"), status=400)

    result = call(twilio)

    assert (result.outcome, result.error_code) == (Outcome.INVALID_NUMBER, 21211)


def test_it_retries_a_rate_limit_with_backoff_then_sends(
    make: Callable[..., TwilioTransport], api: responses.RequestsMock, time_: FakeTime
) -> None:
    jitter = iter([0.0, 1.0])
    twilio = make(rand=lambda: next(jitter))
    limited = twilio_error(20429, "Too Many Requests", 429)
    api.post(messages_url(), json=limited, status=429)
    api.post(messages_url(), json=limited, status=429)
    api.post(messages_url(), json=created(), status=201)

    result = send(twilio)

    assert (result.outcome, result.sid) == (Outcome.SENT, SMS_ID)
    assert len(api.calls) == 3
    # Equal jitter: half of 1 s (jitter 0), then the whole of 2 s (jitter 1).
    assert time_.sleeps == [0.5, 2.0]


def test_it_gives_up_after_four_rate_limited_tries(
    twilio: TwilioTransport, api: responses.RequestsMock, time_: FakeTime
) -> None:
    api.post(messages_url(), json=twilio_error(20429, "Too Many Requests", 429), status=429)

    result = send(twilio)

    assert (result.outcome, result.error_code) == (Outcome.FAILED, 20429)
    assert len(api.calls) == 4
    assert time_.sleeps == [1.0, 2.0, 4.0]


def test_it_retries_a_bare_http_429_too(
    twilio: TwilioTransport, api: responses.RequestsMock, time_: FakeTime
) -> None:
    api.post(messages_url(), body="slow down", status=429, content_type="text/plain")
    api.post(messages_url(), json=created(), status=201)

    assert send(twilio).outcome is Outcome.SENT
    assert len(api.calls) == 2
    assert time_.sleeps == [1.0]


def test_it_never_retries_after_a_read_timeout(
    twilio: TwilioTransport, api: responses.RequestsMock, time_: FakeTime
) -> None:
    api.post(messages_url(), body=requests.exceptions.ReadTimeout("read timed out"))

    result = send(twilio)

    assert (result.outcome, result.sid, result.status) == (Outcome.UNKNOWN, None, "unknown")
    assert len(api.calls) == 1
    assert time_.sleeps == []


def test_it_treats_a_connection_dropped_mid_request_as_unknown(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    dropped = requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    )
    api.post(calls_url(), body=dropped)

    result = call(twilio)

    assert result.outcome is Outcome.UNKNOWN
    assert len(api.calls) == 1


def test_it_fails_without_retrying_on_a_connect_timeout(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), body=requests.exceptions.ConnectTimeout("connect timed out"))

    result = send(twilio)

    assert result.outcome is Outcome.FAILED
    assert result.error_message == "not sent: ConnectTimeout"
    assert len(api.calls) == 1


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port: int = listener.getsockname()[1]
    return port


def test_it_fails_as_not_sent_when_the_connection_is_refused(
    make: Callable[..., TwilioTransport],
) -> None:
    # A real refused connection (no `responses`), to pin how requests reports it.
    twilio = make(api_base_url=f"http://127.0.0.1:{_closed_port()}")

    result = send(twilio)

    assert (result.outcome, result.status) == (Outcome.FAILED, "failed")
    assert result.error_message == "not sent: ConnectionError"


def test_it_treats_a_non_json_503_as_unknown(
    twilio: TwilioTransport, api: responses.RequestsMock, time_: FakeTime
) -> None:
    api.post(messages_url(), body="<html>Service Unavailable</html>", status=503)

    result = send(twilio)

    assert (result.outcome, result.status, result.error_code) == (Outcome.UNKNOWN, "unknown", 503)
    assert len(api.calls) == 1
    assert time_.sleeps == []


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [(400, 21610, Outcome.OPTED_OUT), (500, 20500, Outcome.UNKNOWN), (400, 21606, Outcome.FAILED)],
)
def test_it_maps_a_problem_details_body_like_a_legacy_error(
    twilio: TwilioTransport,
    api: responses.RequestsMock,
    status: int,
    code: int,
    outcome: Outcome,
) -> None:
    problem = {
        "type": f"https://www.twilio.com/docs/errors/{code}",
        "title": "Request refused",
        "status": status,
        "code": code,
        "detail": f"Cannot send to {PATIENT}",
    }
    api.post(messages_url(), json=problem, status=status)

    result = send(twilio)

    assert (result.outcome, result.error_code) == (outcome, code)
    assert result.error_message == "Request refused: Cannot send to [number]"


def test_it_retries_a_problem_details_rate_limit(
    twilio: TwilioTransport, api: responses.RequestsMock, time_: FakeTime
) -> None:
    problem = {"type": "about:blank", "title": "Too Many Requests", "status": 429, "code": 20429}
    api.post(calls_url(), json=problem, status=429)
    api.post(calls_url(), json=created(CALL_ID), status=201)

    assert call(twilio).outcome is Outcome.SENT
    assert time_.sleeps == [1.0]


def test_it_treats_an_unreadable_success_body_as_unknown(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(messages_url(), body="created, probably", status=201)

    result = send(twilio)

    assert result.outcome is Outcome.UNKNOWN
    assert len(api.calls) == 1


def test_it_reports_a_message_twilio_failed_at_once(
    twilio: TwilioTransport, api: responses.RequestsMock
) -> None:
    api.post(
        messages_url(),
        json=created(status="failed", error_code=30007, error_message="Carrier filtered"),
        status=201,
    )

    result = send(twilio)

    assert (result.outcome, result.sid, result.error_code) == (Outcome.FAILED, SMS_ID, 30007)


# --- logging ------------------------------------------------------------------------------


def test_it_keeps_bodies_numbers_and_secrets_out_of_the_logs(
    twilio: TwilioTransport, api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.post(messages_url(), json=created(), status=201)
    api.post(messages_url(), json=twilio_error(21211, f"Invalid 'To' {PATIENT}"), status=400)
    api.post(messages_url(), body=requests.exceptions.ReadTimeout(f"timeout {PATIENT}"))
    api.post(calls_url(), body="<html>oops</html>", status=502)

    send(twilio)
    send(twilio)
    send(twilio)
    call(twilio)

    logged = caplog.text
    assert "invalid_number" in logged and "code=21211" in logged  # the log is useful...
    for secret in (BODY, "Carol", PATIENT, "2025550123", TOKEN, ACCOUNT):
        assert secret not in logged  # ...and says nothing it should not


# --- pacing -------------------------------------------------------------------------------


def test_it_paces_calls_for_the_whole_account(
    make: Callable[..., TwilioTransport], api: responses.RequestsMock, time_: FakeTime
) -> None:
    twilio = make(calls_per_second=1)
    api.post(calls_url(), json=created(CALL_ID), status=201)

    call(twilio, sender=Sender("+12025550101"))
    call(twilio, sender=Sender("+12025550102"))  # another store: the account limit still holds

    assert time_.sleeps == [1.0]
    assert len(api.calls) == 2


def test_it_paces_messages_per_sender(
    make: Callable[..., TwilioTransport], api: responses.RequestsMock, time_: FakeTime
) -> None:
    twilio = make(messages_per_second=2)
    api.post(messages_url(), json=created(), status=201)

    send(twilio, sender=Sender("+12025550101"))
    send(twilio, sender=Sender("+12025550102", SERVICE))
    send(twilio, sender=Sender("+12025550101"))

    assert time_.sleeps == [0.5]


def test_it_does_not_pace_messages_by_default(
    make: Callable[..., TwilioTransport], api: responses.RequestsMock, time_: FakeTime
) -> None:
    twilio = make()
    api.post(messages_url(), json=created(), status=201)

    for _ in range(3):
        send(twilio)

    assert time_.sleeps == []


# --- construction -------------------------------------------------------------------------


def test_it_gives_each_thread_its_own_client(twilio: TwilioTransport) -> None:
    clients: list[object] = []
    worker = threading.Thread(target=lambda: clients.append(twilio.client()))
    worker.start()
    worker.join()

    assert twilio.client() is twilio.client()
    assert clients[0] is not twilio.client()


def test_it_builds_the_transport_the_settings_name(tmp_path: Path) -> None:
    base = {"SECRET_KEY": "s", "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}
    real = make_transport(Settings.from_env({**base, "TWILIO_MESSAGES_PER_SECOND": "4"}, tmp_path))
    demo = make_transport(Settings.from_env({**base, "MEDSYNC_TRANSPORT": "console"}, tmp_path))

    assert isinstance(real, TwilioTransport)
    assert (real.sms_pacer.interval, real.call_pacer.interval) == (0.25, 1.0)
    assert real.api_base_url == TWILIO
    assert isinstance(demo, ConsoleTransport)
    assert (real.name, demo.name) == ("twilio", "console")


def test_proxy_settings_are_read_from_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY and NO_PROXY hold as they were when the client was built; requests does
    not read os.environ again on every send (it cost a sixth of a send's CPU)."""
    from bot.transports.twilio import RebasedHttpClient

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxied, direct = RebasedHttpClient(TWILIO), RebasedHttpClient(STAGING)
    assert proxied.proxy["https"] == "http://proxy.example.org:3128"
    assert "https" not in direct.proxy and "http" not in direct.proxy  # NO_PROXY: our stand-in
    for client in (proxied, direct):
        assert client.session.trust_env is False
    monkeypatch.setenv("HTTPS_PROXY", "http://elsewhere.example.org:3128")
    settings = proxied.session.merge_environment_settings(TWILIO, proxied.proxy, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example.org:3128"
