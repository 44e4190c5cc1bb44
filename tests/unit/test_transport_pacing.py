"""The client-side pacer: spacing per key, no pacing at rate 0, and thread safety."""

from __future__ import annotations

import threading

import pytest

from bot.transports.pacing import Pacer


class FakeTime:
    """A clock that only moves when something sleeps; records every sleep requested."""

    def __init__(self) -> None:
        self.now = 50.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_it_spaces_requests_for_one_key_by_the_interval() -> None:
    time_ = FakeTime()
    pacer = Pacer(2, time_.clock, time_.sleep)

    waits = [pacer.wait("+12025550101") for _ in range(3)]

    assert waits == [0.0, 0.5, 0.5]
    assert time_.sleeps == [0.5, 0.5]


def test_it_keeps_keys_independent() -> None:
    time_ = FakeTime()
    pacer = Pacer(1, time_.clock, time_.sleep)

    pacer.wait("store-a")
    pacer.wait("store-b")
    pacer.wait("store-a")

    assert time_.sleeps == [1.0]


def test_it_does_not_sleep_once_the_interval_has_passed() -> None:
    time_ = FakeTime()
    pacer = Pacer(1, time_.clock, time_.sleep)

    pacer.wait("k")
    time_.now += 0.75
    pacer.wait("k")
    time_.now += 5
    pacer.wait("k")

    assert time_.sleeps == [0.25]


def test_it_never_sleeps_at_rate_zero() -> None:
    time_ = FakeTime()
    pacer = Pacer(0, time_.clock, time_.sleep)

    assert [pacer.wait("k") for _ in range(5)] == [0.0] * 5
    assert time_.sleeps == []


def test_it_refuses_a_negative_rate() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        Pacer(-1, lambda: 0.0, lambda seconds: None)


def test_it_gives_concurrent_senders_distinct_slots() -> None:
    # The clock stands still, so each thread's sleep is exactly how far back in line it is:
    # with a lock every slot is taken once; without one, two threads could share a slot.
    sleeps: list[float] = []
    pacer = Pacer(4, lambda: 50.0, sleeps.append)
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        pacer.wait("account")

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(sleeps) == [0.25 * n for n in range(1, 8)]
