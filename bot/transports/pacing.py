"""Client-side pacing: at most N requests per second for each key (a sender, or the account)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable


class Pacer:
    """Space requests sharing a key at least 1/rate seconds apart; rate 0 means no pacing.

    Each caller reserves the next free slot under a lock and sleeps outside it, so threads
    sending for other keys are never held up. Pacing is per process: two processes sending
    for the same number each keep their own pace.
    """

    def __init__(
        self,
        rate_per_second: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if rate_per_second < 0:
            raise ValueError("rate_per_second must be 0 (no pacing) or more")
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[Hashable, float] = {}

    def wait(self, key: Hashable) -> float:
        """Block until `key` may send again and return how long that took (in seconds)."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(key, now))
            self._next_slot[key] = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay
