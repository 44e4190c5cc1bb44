"""Every transport has exactly the interface callers are written against."""

from __future__ import annotations

import inspect

import pytest

from bot.transports import ConsoleTransport, Sender, Transport, TwilioTransport
from bot.transports.base import sender_for_store
from bot.transports.fake import FakeTransport


@pytest.mark.parametrize("transport", [TwilioTransport, ConsoleTransport, FakeTransport])
@pytest.mark.parametrize("method", ["send_sms", "place_call", "update_call"])
def test_it_matches_the_protocol_signature(transport: type, method: str) -> None:
    expected = inspect.signature(getattr(Transport, method))
    actual = inspect.signature(getattr(transport, method))

    assert actual == expected
    assert isinstance(transport.name, str)


class _Store:
    def __init__(self, from_number: str | None, messaging_service_sid: str | None) -> None:
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid


DEFAULT = Sender("+12025550100", "MG" + "d" * 32)


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (_Store("+12025550101", None), Sender("+12025550101", None)),
        (_Store(None, "MG" + "s" * 32), Sender(None, "MG" + "s" * 32)),
        (_Store("+12025550101", "MG" + "s" * 32), Sender("+12025550101", "MG" + "s" * 32)),
        (_Store(None, None), DEFAULT),
    ],
)
def test_it_uses_the_stores_own_sender_and_never_mixes_in_the_default(
    store: _Store, expected: Sender
) -> None:
    assert sender_for_store(store, DEFAULT) == expected
