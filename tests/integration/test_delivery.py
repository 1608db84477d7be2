"""Dispatcher, fan-out and sender on the template's queues: each eligible subscriber gets a broadcast once."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from subcast import clock
from subcast.adapters.channels import TemporaryFailure
from subcast.adapters.pacing import RateLimiter
from subcast.adapters.publishing import ApiKey
from subcast.adapters.telegram import TelegramBot
from subcast.domain.broadcast import BroadcastRequest, DeliveryJob
from subcast.domain.subscriber import (
    AUDIENCE_SHARDS,
    Channel,
    Subscriber,
    SubscriberState,
    audience_shard,
)
from subcast.services import dependencies
from subcast.services.broadcasts import cancel_broadcast, create_broadcast, get_broadcast
from subcast.services.delivery import JobIncomplete, Sending, deliver_job
from subcast.services.sending import _pool as delivery_pool
from tests.integration.conftest import invoke

KEY = ApiKey(key_id="test", name="test", scopes=("admin",), created_at=datetime(2026, 1, 1, tzinfo=UTC))


def add_subscriber(
    stack, number: int, state=SubscriberState.ACTIVE, topics=None, reachable=True
) -> Subscriber:
    return stack.add_subscriber(number, state.value, topics, reachable)


def one_shard(count: int, shard: str = "03") -> list[int]:
    """Subscriber numbers whose ids fall into one audience shard: their broadcast is one job."""
    numbers = (n for n in range(100_000) if audience_shard(f"s{n:05d}") == shard)
    return [next(numbers) for _ in range(count)]


def broadcast(text="Breaking: subcast works", topics=(), send_at=None, attributes=None) -> str:
    created, _ = create_broadcast(
        BroadcastRequest(text=text, topics=list(topics), send_at=send_at, attributes=attributes or {}),
        KEY,
        None,
        store=dependencies.broadcast_store(),
        publishing=dependencies.publishing_store(),
        fanout=dependencies.fanout_queue(),
    )
    return created.broadcast_id


def run(stack, logical_id: str, queue: str) -> list[dict[str, Any]]:
    """Process one batch as Lambda would; returns the messages that failed (still on the queue)."""
    messages = stack.receive(queue, 10 if queue == "DeliveryQueue" else 1)
    if not messages:
        return []
    try:
        result = invoke(logical_id, stack.sqs_event(queue, messages))
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    except Exception:
        failed = {message["MessageId"] for message in messages}
    for message in messages:
        if message["MessageId"] not in failed:
            stack.sqs.delete_message(QueueUrl=stack.queue(queue), ReceiptHandle=message["ReceiptHandle"])
    return [message for message in messages if message["MessageId"] in failed]


def fan_out_all(stack) -> None:
    """Start every due broadcast and fan out each of its shards, as the fan-out function's instances would."""
    for _ in range(100):
        run(stack, "FanoutFunction", "FanoutQueue")
        if stack.depth("FanoutQueue") == 0:
            return
    raise AssertionError("fan-out did not settle")


def deliver_everything(stack) -> None:
    fan_out_all(stack)
    for _ in range(200):
        if run(stack, "SenderFunction", "DeliveryQueue") == [] and stack.depth("DeliveryQueue") == 0:
            return
    raise AssertionError("delivery did not settle")


def received(stack) -> Counter[str]:
    return Counter(str(message["chat"]["id"]) for message in stack.bot.sent())


def test_every_active_subscriber_receives_a_broadcast_once(stack):
    # Given 130 active subscribers (two jobs, every audience shard) and people who must not receive it
    active = [add_subscriber(stack, n) for n in range(130)]
    assert len({audience_shard(s.subscriber_id) for s in active}) == AUDIENCE_SHARDS
    for n in range(250, 255):
        add_subscriber(stack, n, SubscriberState.PENDING)
    for n in range(255, 260):
        add_subscriber(stack, n, SubscriberState.CANCELLED)
    for n in range(260, 263):
        add_subscriber(stack, n, reachable=False)

    # When a broadcast is sent now and everything is processed
    broadcast_id = broadcast()
    deliver_everything(stack)

    # Then each active subscriber got it exactly once and nobody else got anything
    assert received(stack) == Counter({s.primary.address: 1 for s in active})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert result.status == "sent"
    assert (result.counts.recipients, result.counts.sent, result.counts.failed, result.counts.skipped) == (
        130,
        130,
        0,
        0,
    )
    assert stack.depth("DeliveryQueue") == 0


def test_topics_reach_those_who_chose_them_and_those_who_did_not_choose(stack):
    # Given subscribers with different topic choices
    sport = add_subscriber(stack, 1, topics=("sport",))
    everything = add_subscriber(stack, 2, topics=None)
    add_subscriber(stack, 3, topics=("politics",))
    dependencies.publishing_store().dynamodb.put_item(
        TableName=stack.deployment.physical["DataTable"],
        Item={"pk": {"S": "TOPICS"}, "sk": {"S": "sport"}, "slug": {"S": "sport"}, "name": {"S": "Sport"},
              "description": {"S": ""}, "created_at": {"S": "2026-11-01T00:00:00+00:00"}},
    )  # fmt: skip

    # When a sport broadcast goes out
    broadcast(topics=["sport"])
    deliver_everything(stack)

    # Then the sport fan and the one who takes everything get it, the politics fan does not
    assert set(received(stack)) == {sport.primary.address, everything.primary.address}


def test_a_job_delivered_twice_sends_nothing_twice_and_counts_once(stack):
    # Given a broadcast fanned out into one job
    people = [add_subscriber(stack, n) for n in one_shard(20)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    [job] = stack.receive("DeliveryQueue")

    # When the same job message is delivered twice (SQS is at-least-once)
    stack.sqs.send_message(QueueUrl=stack.queue("DeliveryQueue"), MessageBody=job["Body"])
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("DeliveryQueue"), ReceiptHandle=job["ReceiptHandle"], VisibilityTimeout=0
    )
    run(stack, "SenderFunction", "DeliveryQueue")
    run(stack, "SenderFunction", "DeliveryQueue")

    # Then every subscriber has one message and the counters are not doubled
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    counts = get_broadcast(dependencies.broadcast_store(), broadcast_id).counts
    assert (counts.recipients, counts.sent) == (20, 20)


def test_a_fault_midway_through_a_chunk_resends_only_what_was_not_sent(stack, monkeypatch):
    # Given a sender whose 8th send fails inside subcast (not a provider answer: a fault of ours)
    people = [add_subscriber(stack, n) for n in one_shard(20)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    real_send = TelegramBot.send_text
    calls = Counter()

    def faulty(self, address, text, parse_mode=None):
        calls["n"] += 1
        if calls["n"] == 8:
            raise SystemError("a bug between two sends")
        return real_send(self, address, text, parse_mode)

    monkeypatch.setattr(TelegramBot, "send_text", faulty)
    [failed] = run(stack, "SenderFunction", "DeliveryQueue")

    # Then the others were sent and recorded, and the job waits for its next delivery
    assert len(stack.bot.sent()) == 19

    # When the job comes back
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("DeliveryQueue"), ReceiptHandle=failed["ReceiptHandle"], VisibilityTimeout=0
    )
    assert run(stack, "SenderFunction", "DeliveryQueue") == []

    # Then everyone has exactly one message and the counts are exact
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent, result.counts.recipients) == ("sent", 20, 20)


class InstanceKilled(BaseException):
    """What the process sees of Lambda killing it: nothing after it runs (not even ``except Exception``)."""


def test_a_sender_killed_mid_chunk_never_sends_anyone_twice(stack, monkeypatch):
    # Given a job of 45 (chunks of 20) and an instance that is killed on its 28th send, in the second chunk
    people = [add_subscriber(stack, n) for n in one_shard(45)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    real_send = TelegramBot.send_text
    calls = Counter()

    def killed(self, address, text, parse_mode=None):
        calls["n"] += 1
        if calls["n"] >= 28:
            raise InstanceKilled  # and from then on the process does nothing at all
        return real_send(self, address, text, parse_mode)

    monkeypatch.setattr(TelegramBot, "send_text", killed)
    [message] = stack.receive("DeliveryQueue")
    job = DeliveryJob.model_validate_json(message["Body"])
    with contextlib.suppress(InstanceKilled):
        deliver_job(job, sending(stack, concurrency=1))
    delivery_pool(1).submit(lambda: None).result()  # the dead instance's queued sends have all failed
    monkeypatch.setattr(TelegramBot, "send_text", real_send)
    assert len(stack.bot.sent()) == 27

    # When the job comes back before the dead instance's lease is over, it waits
    with pytest.raises(JobIncomplete):
        deliver_job(job, sending(stack))
    assert len(stack.bot.sent()) == 27

    # When it comes back after the lease (the queue's visibility timeout is longer than the lease)
    clock.move_to(clock.now() + timedelta(minutes=3))
    deliver_job(job, sending(stack))

    # Then nobody got it twice: the killed chunk is never sent again, and everyone after it got it.
    # Its 20 recipients count as failed (uncertain): 7 of them did get it, but nothing recorded which.
    assert max(received(stack).values()) == 1
    sent_to = set(received(stack))
    ordered = sorted(people, key=lambda p: p.subscriber_id)
    assert {p.primary.address for p in ordered[:27]} <= sent_to
    assert {p.primary.address for p in ordered[40:]} <= sent_to
    assert not {p.primary.address for p in ordered[27:40]} & sent_to
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent, result.counts.failed) == ("sent", 25, 20)
    assert result.counts.reasons == {"failed:uncertain": 20}


def test_stop_after_fan_out_is_honoured_at_send_time(stack):
    # Given a broadcast already fanned out to two subscribers
    stays, leaves = add_subscriber(stack, 1), add_subscriber(stack, 2)
    broadcast_id = broadcast()
    fan_out_all(stack)

    # When one of them stops before the sender runs
    add_subscriber(stack, 2, SubscriberState.CANCELLED)
    run(stack, "SenderFunction", "DeliveryQueue")

    # Then only the other one receives it; the leaver is counted as skipped
    assert set(received(stack)) == {stays.primary.address}
    counts = get_broadcast(dependencies.broadcast_store(), broadcast_id).counts
    assert (counts.sent, counts.skipped) == (1, 1)
    assert leaves.primary.address not in received(stack)


def test_a_blocked_bot_marks_the_channel_unreachable_and_never_retries(stack):
    # Given a subscriber who blocked the bot without us knowing yet
    blocked = add_subscriber(stack, 1)
    fine = add_subscriber(stack, 2)
    stack.bot.block(blocked.primary.address)

    # When a broadcast goes out
    broadcast_id = broadcast()
    deliver_everything(stack)

    # Then the delivery failed as unreachable, the channel is marked so, and the other got it
    counts = get_broadcast(dependencies.broadcast_store(), broadcast_id).counts
    assert (counts.sent, counts.failed) == (1, 1)
    store = dependencies.subscriber_store()
    profiles = {s.subscriber_id: store.get(s.subscriber_id) for s in (blocked, fine)}
    assert profiles[blocked.subscriber_id].primary.reachable is False
    assert profiles[blocked.subscriber_id].state == "active"  # blocking is not unsubscribing
    assert not profiles[blocked.subscriber_id].receives_broadcasts
    sends_to_blocked = [
        c for c in stack.bot.calls("sendMessage") if str(c["chat_id"]) == blocked.primary.address
    ]
    assert len(sends_to_blocked) == 1


def test_a_cancelled_broadcast_in_flight_is_not_sent(stack):
    # Given a broadcast fanned out into jobs
    for n in range(5):
        add_subscriber(stack, n)
    broadcast_id = broadcast()
    fan_out_all(stack)

    # When the publisher cancels it before the sender runs
    cancel_broadcast(dependencies.broadcast_store(), broadcast_id)
    run(stack, "SenderFunction", "DeliveryQueue")

    # Then nobody receives it and it stays cancelled, with everyone counted as skipped
    assert stack.bot.sent() == []
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.skipped) == ("cancelled", 5)


def test_provider_trouble_is_retried_and_nobody_is_lost(stack):
    # Given 10 subscribers and a provider that throttles once and fails twice with 5xx
    people = [add_subscriber(stack, n) for n in range(10)]
    stack.bot.throttle_next(1, retry_after=1)
    stack.bot.fail_next(2, status=502, description="Bad Gateway")

    # When the broadcast is delivered
    broadcast_id = broadcast()
    deliver_everything(stack)

    # Then everyone got it once
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    assert get_broadcast(dependencies.broadcast_store(), broadcast_id).counts.sent == 10


def deliver_until_done(stack, rounds: int = 30) -> int:
    """Run the sender, bringing failed jobs back at once (as their visibility timeout would); rounds used."""
    for attempt in range(1, rounds + 1):
        failed = run(stack, "SenderFunction", "DeliveryQueue")
        for message in failed:
            stack.sqs.change_message_visibility(
                QueueUrl=stack.queue("DeliveryQueue"),
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        if not failed and stack.depth("DeliveryQueue") == 0:
            return attempt
    raise AssertionError("delivery did not settle")


def test_a_5xx_storm_loses_nobody_and_sends_nobody_twice(stack, monkeypatch):
    # Given 45 subscribers in one job and a provider that answers 502 to the next 60 requests
    monkeypatch.setattr("subcast.services.sending.random.uniform", lambda a, b: 0.0)  # no backoff sleeps
    people = [add_subscriber(stack, n) for n in one_shard(45)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    stack.bot.fail_next(60, status=502, description="Bad Gateway")

    # When the job is delivered, and brought back each time it gives up
    rounds = deliver_until_done(stack)

    # Then it took more than one delivery, and in the end everyone has it exactly once
    assert rounds > 1
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent, result.counts.failed) == ("sent", 45, 0)


def test_one_recipient_the_provider_keeps_failing_holds_up_nobody_else(stack, monkeypatch):
    # Given a job of 45 and a provider that answers 502 for one chat, however often it is tried
    monkeypatch.setattr("subcast.services.sending.random.uniform", lambda a, b: 0.0)  # no backoff sleeps
    people = sorted((add_subscriber(stack, n) for n in one_shard(45)), key=lambda p: p.subscriber_id)
    unlucky = people[3].primary.address
    broadcast_id = broadcast()
    fan_out_all(stack)
    real_send = TelegramBot.send_text

    def flaky_for_one(self, address, text, parse_mode=None):
        if address == unlucky:
            raise TemporaryFailure("Telegram sendMessage: HTTP 502")
        return real_send(self, address, text, parse_mode)

    monkeypatch.setattr(TelegramBot, "send_text", flaky_for_one)

    # When the job is delivered
    [failed] = run(stack, "SenderFunction", "DeliveryQueue")

    # Then everyone else has it, and the job waits on the queue for that one recipient
    assert set(received(stack)) == {p.primary.address for p in people} - {unlucky}

    # When the provider recovers and the job comes back
    monkeypatch.setattr(TelegramBot, "send_text", real_send)
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("DeliveryQueue"), ReceiptHandle=failed["ReceiptHandle"], VisibilityTimeout=0
    )
    assert run(stack, "SenderFunction", "DeliveryQueue") == []

    # Then only that recipient was sent to: everyone has exactly one, and the counts are exact
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent, result.counts.failed) == ("sent", 45, 0)


def test_a_429_storm_waits_for_retry_after_and_loses_nobody(stack):
    # Given 30 subscribers and a provider that answers 429 (retry_after 1 s) to the next 12 requests
    people = [add_subscriber(stack, n) for n in one_shard(30)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    stack.bot.throttle_next(12, retry_after=1)

    # When the job is delivered
    deliver_until_done(stack)

    # Then every 429 was waited out and retried: everyone has it exactly once, nobody failed
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent, result.counts.failed) == ("sent", 30, 0)
    schedule = [item for item in stack.scan() if item["pk"]["S"].startswith("RATE#telegram#")]
    assert len(schedule) == 1  # the pause was shared through the bot's one schedule


def test_a_poison_job_fails_alone_and_the_rest_flows(stack):
    # Given a malformed job next to a good one on the delivery queue
    person = add_subscriber(stack, 1)
    broadcast()
    fan_out_all(stack)
    stack.sqs.send_message(QueueUrl=stack.queue("DeliveryQueue"), MessageBody='{"broadcast_id": 1}')

    # When the sender gets both in one batch
    failed = run(stack, "SenderFunction", "DeliveryQueue")

    # Then only the poison message is reported failed (it goes to the DLQ after maxReceiveCount)
    assert [json.loads(message["Body"]) for message in failed] == [{"broadcast_id": 1}]
    assert set(received(stack)) == {person.primary.address}


def test_a_poison_job_ends_in_the_dead_letter_queue(stack):
    # Given a malformed job
    stack.sqs.send_message(QueueUrl=stack.queue("DeliveryQueue"), MessageBody="not json")

    # When it fails as many times as the template's redrive policy allows (then one receive more)
    for _ in range(6):
        for message in run(stack, "SenderFunction", "DeliveryQueue"):
            stack.sqs.change_message_visibility(
                QueueUrl=stack.queue("DeliveryQueue"),
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )

    # Then it has moved to the dead-letter queue
    assert stack.depth("DeliveryQueue") == 0
    assert stack.depth("DeliveryDeadLetterQueue") == 1


def test_a_scheduled_broadcast_waits_for_its_time_and_the_dispatcher_starts_it(stack):
    # Given a subscriber and a broadcast for tomorrow
    person = add_subscriber(stack, 1)
    tomorrow = clock.now() + timedelta(days=1)
    broadcast_id = broadcast(send_at=tomorrow)
    assert stack.depth("FanoutQueue") == 0

    # When the scheduler ticks today
    assert invoke("DispatcherFunction", {"source": "aws.events"}) == {
        "dispatched": 0,
        "resumed": 0,
        "releases": 0,
    }

    # Then nothing happens; and when it ticks after send_at, the broadcast goes out
    clock.move_to(tomorrow + timedelta(seconds=1))
    assert invoke("DispatcherFunction", {"source": "aws.events"}) == {
        "dispatched": 1,
        "resumed": 0,
        "releases": 0,
    }
    deliver_everything(stack)
    assert set(received(stack)) == {person.primary.address}
    assert get_broadcast(dependencies.broadcast_store(), broadcast_id).status == "sent"


def test_fan_out_delivered_twice_adds_no_recipients(stack):
    # Given a broadcast that fanned out
    for n in range(3):
        add_subscriber(stack, n)
    broadcast_id = broadcast()
    fan_out_all(stack)

    # When its fan-out message arrives again
    dependencies.fanout_queue().send([broadcast_id])
    fan_out_all(stack)
    deliver_everything(stack)

    # Then recipients are counted once and each got one message
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.counts.recipients, result.counts.sent) == (3, 3)
    assert max(received(stack).values()) == 1


def sending(stack, **overrides) -> Sending:
    values = {
        "store": dependencies.broadcast_store(),
        "subscribers": dependencies.subscriber_store(),
        "messenger": dependencies.telegram_bot(),
        "pacer": RateLimiter(1000),
        "deliveries": dependencies.delivery_queue(),
        "held": dependencies.held_store(),
        **overrides,
    }
    return Sending(**values)


def test_a_job_running_out_of_time_hands_the_rest_to_a_new_job(stack):
    # Given a job of 10 recipients, sent in chunks of 2, and a sender whose time runs out after 2 chunks
    people = [add_subscriber(stack, n) for n in one_shard(10)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    [message] = stack.receive("DeliveryQueue")
    job = DeliveryJob.model_validate_json(message["Body"])
    clock_calls = iter(range(100))

    # When it is delivered
    tally = deliver_job(job, sending(stack, chunk=2, out_of_time=lambda: next(clock_calls) >= 2))

    # Then 4 were sent and counted, and the same job is queued again to go on from there
    assert tally == Counter({"sent": 4})
    [rest] = stack.receive("DeliveryQueue")
    continuation = DeliveryJob.model_validate_json(rest["Body"])
    assert continuation == job

    # When the new job runs
    deliver_job(continuation, sending(stack))

    # Then everyone has exactly one message and the broadcast is complete
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.sent) == ("sent", 10)


def test_a_wrong_bot_token_stops_the_job_without_failing_anyone(stack, monkeypatch):
    # Given a token the provider refuses (revoked, or rotated without telling subcast)
    people = [add_subscriber(stack, n) for n in one_shard(5)]
    broadcast_id = broadcast()
    fan_out_all(stack)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:revoked")
    dependencies.reset()

    # When the sender runs
    [failed] = run(stack, "SenderFunction", "DeliveryQueue")

    # Then nobody is marked failed, and the job stays on the queue
    counts = get_broadcast(dependencies.broadcast_store(), broadcast_id).counts
    assert (counts.sent, counts.failed) == (0, 0)

    # When the operator fixes the token and the job comes back
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:integration-token")
    dependencies.reset()
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("DeliveryQueue"), ReceiptHandle=failed["ReceiptHandle"], VisibilityTimeout=0
    )
    assert run(stack, "SenderFunction", "DeliveryQueue") == []

    # Then everyone gets it once
    assert received(stack) == Counter({p.primary.address: 1 for p in people})


def test_a_late_blocked_answer_does_not_undo_someone_who_came_back(stack):
    # Given a profile read at version 1, then the person comes back (version 2)
    person = add_subscriber(stack, 1)
    store = dependencies.subscriber_store()
    store.set_reachable(person.subscriber_id, Channel.TELEGRAM, person.primary.address, False)
    store.set_reachable(person.subscriber_id, Channel.TELEGRAM, person.primary.address, True)

    # When a delivery that read version 1 learns the bot was blocked
    store.set_reachable(
        person.subscriber_id, Channel.TELEGRAM, person.primary.address, False, expected_version=1
    )

    # Then the newer "reachable" stands
    assert store.get(person.subscriber_id).primary.reachable
