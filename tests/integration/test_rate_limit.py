"""One send schedule per bot, shared through the table by every sender instance (moto, real boto3)."""

from __future__ import annotations

import contextlib
import itertools
import threading

import boto3
import pytest

from infra.fakes.telegram import running
from subcast.adapters.channels import RateLimited
from subcast.adapters.pacing import RateLimiter, SharedRateLimiter
from subcast.adapters.telegram import TelegramBot

TOKEN = "4711:rate-token"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def shared(stack, rate: float, time: FakeTime | None = None) -> SharedRateLimiter:
    """One sender instance's view of the bot's schedule (its own client, as another Lambda would have)."""
    extra = {"clock": time.clock, "sleep": time.sleep} if time else {}
    return SharedRateLimiter(
        boto3.client("dynamodb"), stack.deployment.physical["DataTable"], "telegram", TOKEN, rate, **extra
    )


def test_two_instances_never_get_the_same_slot(stack):
    # Given two sender instances on one 30/s schedule
    time = FakeTime()
    first, second = shared(stack, 30, time), shared(stack, 30, time)

    # When they reserve chunks in turn, each knowing only what it wrote last
    slots = []
    for _ in range(5):
        slots += first.reserve(20)
        slots += second.reserve(20)

    # Then the 200 slots are distinct and at least 1/30 s apart: 30/s together, not 30/s each
    ordered = sorted(slots)
    assert len(set(ordered)) == 200
    assert min(later - earlier for earlier, later in itertools.pairwise(ordered)) >= 1 / 30 - 1e-6


def test_the_schedule_is_one_item_that_names_no_secret(stack):
    shared(stack, 30).reserve(3)
    items = [item for item in stack.scan() if item["pk"]["S"].startswith("RATE#")]
    assert len(items) == 1
    assert TOKEN not in str(items) and TOKEN.split(":")[1] not in str(items)


def test_a_429_seen_by_one_instance_stops_the_other_for_retry_after(stack):
    # Given two instances on one schedule
    time = FakeTime()
    first, second = shared(stack, 30, time), shared(stack, 30, time)
    second.reserve(1)

    # When the first is told 429 with retry_after 7
    first.pause(7)

    # Then the second's next slot is after the pause
    [slot] = second.reserve(1)
    assert slot >= time.now + 7


def test_shared_senders_stay_within_the_providers_limit_and_unshared_ones_do_not(stack):
    # Given a Bot API test server that answers 429 beyond 20 messages/s, and two concurrent senders
    with running(TOKEN, rate_limit_per_second=20) as bot:

        def send_from(limiter: RateLimiter, chats: range) -> None:
            client = TelegramBot(bot.base_url, TOKEN)
            for chat in chats:
                limiter.acquire()
                with contextlib.suppress(RateLimited):  # counted by the server
                    client.send_text(str(chat), "paced")

        def burst(limiters: list[RateLimiter]) -> int:
            before, sent_before = bot.throttled_count, len(bot.sent())
            threads = [
                threading.Thread(target=send_from, args=(limiter, range(index * 1000 + 1, index * 1000 + 41)))
                for index, limiter in enumerate(limiters)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(bot.sent()) == sent_before + 80 - (bot.throttled_count - before)
            return bot.throttled_count - before

        # When both share the schedule in the table, then nothing is refused
        assert burst([shared(stack, 20), shared(stack, 20)]) == 0

        # And when each paces only itself (the old way), the provider refuses some
        assert burst([RateLimiter(20), RateLimiter(20)]) > 0


@pytest.mark.parametrize("rate", [0, -1])
def test_a_rate_must_be_positive(stack, rate):
    with pytest.raises(ValueError):
        shared(stack, rate)
