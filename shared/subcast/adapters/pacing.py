"""Pace sends to a provider's rate limit within one process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a second, bursts of at most ``burst``; ``pause`` stops everyone (after a 429)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._updated = monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                current = self._monotonic()
                self._tokens = min(self.burst, self._tokens + (current - self._updated) * self.rate)
                self._updated = current
                wait = max(self._paused_until - current, 0.0)
                # Tolerance: refills are float sums and may land a hair below a whole token.
                if wait == 0.0 and self._tokens >= 1 - 1e-9:
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                if wait == 0.0:
                    wait = max((1 - self._tokens) / self.rate, 1e-6)
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._monotonic() + seconds)
            self._tokens = 0.0
