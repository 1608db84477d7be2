"""The send schedule (GCRA) and the per-chat spacing on a fake clock: no sleeping, no wall-clock checks."""

from __future__ import annotations

import itertools

import pytest

from subcast.adapters.pacing import ChatSpacing, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_slots_are_spaced_one_over_the_rate_and_never_handed_out_twice():
    # Given a 30/s schedule
    time = FakeTime()
    limiter = RateLimiter(30, clock=time.clock, sleep=time.sleep)

    # When two senders reserve 20 and 10 slots one after the other
    first, second = limiter.reserve(20), limiter.reserve(10)

    # Then the slots follow each other at 1/30 s, the second sender's after the first's
    slots = first + second
    assert slots[0] == time.now
    assert all(abs((later - earlier) - 1 / 30) < 1e-9 for earlier, later in itertools.pairwise(slots))


def test_ninety_sends_at_thirty_per_second_take_three_seconds():
    time = FakeTime()
    limiter = RateLimiter(30, clock=time.clock, sleep=time.sleep)
    start = time.now
    for _ in range(90):
        limiter.acquire()
    # the 90th goes out at 89/30 s: the sends span three seconds at the rate, never faster
    assert round(time.now - start, 6) == round(89 / 30, 6)


def test_an_idle_schedule_does_not_save_up_a_burst():
    time = FakeTime()
    limiter = RateLimiter(10, clock=time.clock, sleep=time.sleep)
    limiter.reserve(5)
    time.now += 60  # a minute of nothing
    slots = limiter.reserve(3)
    assert slots == [time.now, time.now + 0.1, time.now + 0.2]


def test_a_pause_stops_everyone_for_retry_after():
    time = FakeTime()
    limiter = RateLimiter(10, clock=time.clock, sleep=time.sleep)
    limiter.pause(5)
    start = time.now
    limiter.acquire()
    assert time.now - start == pytest.approx(5.0)


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_one_chat_gets_at_most_one_message_a_second_others_are_not_held_up():
    # Given a one-second spacing per chat
    time = FakeTime()
    spacing = ChatSpacing(1.0, clock=time.clock, sleep=time.sleep)

    # When chat A gets two messages and chat B one, back to back
    spacing.wait("A")
    spacing.wait("B")
    spacing.wait("A")

    # Then only A's second message waited, for a second
    assert time.slept == [pytest.approx(1.0)]


def test_the_spacing_forgets_the_oldest_chats_beyond_its_capacity():
    time = FakeTime()
    spacing = ChatSpacing(1.0, capacity=2, clock=time.clock, sleep=time.sleep)
    for chat in ("A", "B", "C"):
        spacing.wait(chat)
    spacing.wait("A")  # forgotten: no wait
    assert time.slept == []
