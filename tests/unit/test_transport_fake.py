"""The fake transport other tests use: predictable SIDs, scripted failures, a record."""

from __future__ import annotations

from bot.transports import Outcome, Sender
from bot.transports.fake import FakeTransport

CAROL = "+12025550123"
DAVE = "+12025550124"
STORE = Sender("+12025550199")


def sms(fake: FakeTransport, to: str, body: str = "hello") -> Outcome:
    return fake.send_sms(to=to, body=body, sender=STORE, status_callback=None).outcome


def test_it_accepts_with_predictable_sids() -> None:
    fake = FakeTransport()

    first = fake.send_sms(to=CAROL, body="a", sender=STORE, status_callback=None)
    second = fake.place_call(to=CAROL, sender=STORE, url="https://x.org/v", status_callback=None)

    assert (first.sid, first.status) == ("SM" + "0" * 31 + "1", "queued")
    assert second.sid == "CA" + "0" * 31 + "2"


def test_it_fails_the_next_request_as_scripted_then_recovers() -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.OPTED_OUT, code=21610)

    result = fake.send_sms(to=CAROL, body="a", sender=STORE, status_callback=None)

    assert (result.outcome, result.error_code, result.status, result.sid) == (
        Outcome.OPTED_OUT,
        21610,
        "failed",
        None,
    )
    assert sms(fake, CAROL) is Outcome.SENT


def test_it_fails_only_the_number_a_script_names() -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.INVALID_NUMBER, code=21211, to=DAVE)

    assert [sms(fake, CAROL), sms(fake, DAVE), sms(fake, DAVE)] == [
        Outcome.SENT,
        Outcome.INVALID_NUMBER,
        Outcome.SENT,
    ]


def test_it_lists_only_accepted_messages_per_number() -> None:
    fake = FakeTransport()
    fake.fail_next(Outcome.UNKNOWN)
    sms(fake, CAROL, "lost")
    sms(fake, CAROL, "one")
    sms(fake, DAVE, "two")

    assert fake.messages_to(CAROL) == ["one"]
    assert [s.body for s in fake.sent] == ["lost", "one", "two"]
    assert fake.sent[0].result is not None and fake.sent[0].result.status == "unknown"


def test_it_refuses_a_call_without_a_from_number_like_the_real_one() -> None:
    fake = FakeTransport()

    result = fake.place_call(
        to=CAROL, sender=Sender(None, "MG" + "a" * 32), url="https://x.org/v", status_callback=None
    )

    assert result.outcome is Outcome.FAILED
    assert [c.result for c in fake.calls_to(CAROL)] == [result]
