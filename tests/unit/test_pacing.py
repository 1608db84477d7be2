"""The token bucket that paces sends, on a fake clock: no sleeping, no wall-clock assertions."""

from __future__ import annotations

from subcast.adapters.pacing import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_sends_at_most_rate_per_second_after_the_burst():
    # Given a 30/s bucket on a fake clock
    time = FakeTime()
    bucket = TokenBucket(30, monotonic=time.monotonic, sleep=time.sleep)

    # When 90 sends are paced
    for _ in range(90):
        bucket.acquire()

    # Then the first 30 go at once and the other 60 take two seconds
    assert round(time.now, 6) == 2.0


def test_a_pause_stops_everyone_for_retry_after():
    time = FakeTime()
    bucket = TokenBucket(10, monotonic=time.monotonic, sleep=time.sleep)
    bucket.pause(5)
    bucket.acquire()
    assert time.now >= 5.0
