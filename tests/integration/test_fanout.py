"""Fan-out in parallel shards, each paged by its own invocations; jobs are planned before enqueued."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest

from subcast.adapters.queues import DeliveryQueue
from subcast.adapters.subscribers import profile_item
from subcast.domain.broadcast import JOB_SIZE, DeliveryJob
from subcast.domain.subscriber import AUDIENCE_SHARDS, audience_shard
from subcast.services import dependencies
from subcast.services.broadcasts import get_broadcast
from subcast.services.fanout import fan_out
from tests.integration.conftest import invoke
from tests.integration.test_delivery import (
    add_subscriber,
    broadcast,
    deliver_everything,
    deliver_until_done,
    fan_out_all,
    one_shard,
    received,
    run,
)


def bodies(stack, queue: str) -> list[dict]:
    """Take every message off a queue (received and deleted); their bodies."""
    messages = []
    while batch := stack.receive(queue):
        messages += batch
        for message in batch:
            stack.sqs.delete_message(QueueUrl=stack.queue(queue), ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


def test_a_due_broadcast_hands_out_one_message_per_shard(stack):
    # Given subscribers in every shard and a broadcast sent now
    for n in range(40):
        add_subscriber(stack, n)
    broadcast_id = broadcast()

    # When the fan-out function takes the broadcast's message
    run(stack, "FanoutFunction", "FanoutQueue")

    # Then no audience was read yet: one message per shard waits, to be fanned out in parallel
    assert stack.depth("DeliveryQueue") == 0
    shards = bodies(stack, "FanoutQueue")
    assert sorted(body["shard"] for body in shards) == [f"{n:02d}" for n in range(AUDIENCE_SHARDS)]
    assert {body["broadcast_id"] for body in shards} == {broadcast_id}


def test_each_shard_invocation_reads_only_its_shard(stack):
    # Given a broadcast handed out into shard messages
    people = [add_subscriber(stack, n) for n in range(60)]
    broadcast()
    run(stack, "FanoutFunction", "FanoutQueue")

    # When one shard message is processed
    [message] = stack.receive("FanoutQueue", 1)
    shard = json.loads(message["Body"])["shard"]
    invoke("FanoutFunction", stack.sqs_event("FanoutQueue", [message]))

    # Then its jobs hold exactly that shard's subscribers, in id order
    jobs = [DeliveryJob.model_validate(body) for body in bodies(stack, "DeliveryQueue")]
    expected = sorted(p.subscriber_id for p in people if audience_shard(p.subscriber_id) == shard)
    assert [r for job in jobs for r in job.subscriber_ids] == expected
    assert {job.shard for job in jobs} == {shard}


def test_a_large_shard_becomes_full_jobs_of_one_hundred(stack):
    # Given 250 subscribers in one shard
    numbers = one_shard(250)
    for n in numbers:
        add_subscriber(stack, n)
    broadcast()

    # When the broadcast is fanned out
    fan_out_all(stack)

    # Then three jobs (100, 100, 50) cover them, disjoint and in order
    jobs = sorted(
        (DeliveryJob.model_validate(body) for body in bodies(stack, "DeliveryQueue")),
        key=lambda job: job.subscriber_ids[0],
    )
    assert [len(job.subscriber_ids) for job in jobs] == [JOB_SIZE, JOB_SIZE, 50]
    flat = [r for job in jobs for r in job.subscriber_ids]
    assert flat == sorted(flat) and len(set(flat)) == 250
    assert [job.after for job in jobs[1:]] == [jobs[0].subscriber_ids[-1], jobs[1].subscriber_ids[-1]]


def test_a_crash_between_planning_and_enqueueing_enqueues_the_same_jobs_again(stack, monkeypatch):
    # Given a shard whose fan-out dies right after writing its plan, before the jobs reach the queue
    people = [add_subscriber(stack, n) for n in one_shard(30)]
    broadcast_id = broadcast()
    run(stack, "FanoutFunction", "FanoutQueue")
    real_send = DeliveryQueue.send

    def dies(self, jobs):
        raise ConnectionError("the invocation died")

    monkeypatch.setattr(DeliveryQueue, "send", dies)
    failed = []
    for _ in range(AUDIENCE_SHARDS):
        failed += run(stack, "FanoutFunction", "FanoutQueue")
    monkeypatch.setattr(DeliveryQueue, "send", real_send)
    assert len(failed) == 1 and stack.depth("DeliveryQueue") == 0

    # When someone joins the shard before the shard's message comes back, and it comes back
    late = add_subscriber(stack, one_shard(31)[-1])
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("FanoutQueue"), ReceiptHandle=failed[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    deliver_everything(stack)

    # Then the planned jobs went out as planned: everyone once, the latecomer not in this broadcast
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    assert late.primary.address not in received(stack)
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.recipients, result.counts.sent) == ("sent", 30, 30)


def test_a_shard_message_delivered_twice_plans_nothing_twice(stack):
    # Given a broadcast whose shard messages are all duplicated (SQS is at-least-once)
    people = [add_subscriber(stack, n) for n in range(50)]
    broadcast_id = broadcast()
    run(stack, "FanoutFunction", "FanoutQueue")
    for body in bodies(stack, "FanoutQueue"):
        for _ in range(2):
            stack.sqs.send_message(QueueUrl=stack.queue("FanoutQueue"), MessageBody=json.dumps(body))

    # When everything runs
    deliver_everything(stack)

    # Then recipients are counted once and each got one message
    assert received(stack) == Counter({p.primary.address: 1 for p in people})
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.recipients, result.counts.sent) == ("sent", 50, 50)


def test_a_shard_out_of_time_continues_in_a_new_invocation(stack):
    # Given one shard of 2,500 subscribers (three pages of the index)
    numbers = one_shard(2500)
    table = stack.deployment.physical["DataTable"]
    for start in range(0, len(numbers), 25):
        requests = [
            {"PutRequest": {"Item": profile_item(subscriber_item(n))}} for n in numbers[start : start + 25]
        ]
        stack.dynamodb.batch_write_item(RequestItems={table: requests})
    broadcast_id = broadcast()
    run(stack, "FanoutFunction", "FanoutQueue")
    bodies(stack, "FanoutQueue")  # the shard messages: this test plays the invocations itself
    shard = audience_shard(f"s{numbers[0]:05d}")

    # When each invocation of that shard has time for one page only
    invocations = 0
    while True:
        invocations += 1
        ticks = itertools.count()
        report = fan_out(
            broadcast_id, shard, store=dependencies.broadcast_store(),
            audience=dependencies.audience_reader(), deliveries=dependencies.delivery_queue(),
            fanout=dependencies.fanout_queue(),
            out_of_time=lambda ticks=ticks: next(ticks) >= 1,
        )  # fmt: skip
        if report.finished:
            break
        # Then the shard hands itself to a new invocation
        assert [b for b in bodies(stack, "FanoutQueue") if b.get("shard") == shard] == [
            {"broadcast_id": broadcast_id, "shard": shard}
        ]

    # Then three invocations did it, and its 2,500 recipients are in 25 jobs and counted once
    assert invocations == 3
    jobs = [DeliveryJob.model_validate(body) for body in bodies(stack, "DeliveryQueue")]
    assert len(jobs) == 25
    assert sorted(r for job in jobs for r in job.subscriber_ids) == sorted(f"s{n:05d}" for n in numbers)
    assert get_broadcast(dependencies.broadcast_store(), broadcast_id).counts.recipients == 2500


def subscriber_item(number: int):
    from datetime import UTC, datetime

    from subcast.domain.messages import Language
    from subcast.domain.subscriber import Channel, ChannelAddress, Subscriber, SubscriberState

    moment = datetime(2026, 11, 1, tzinfo=UTC)
    return Subscriber(
        subscriber_id=f"s{number:05d}",
        state=SubscriberState.ACTIVE,
        addresses=(ChannelAddress(channel=Channel.TELEGRAM, address=str(100_000 + number)),),
        language=Language.EN,
        created_at=moment,
        state_since=moment,
        version=1,
    )


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.mark.parametrize(
    "body", ['{"broadcast_id": "%s", "shard": "99"}', '{"broadcast_id": "%s", "shard": 3}', "%s"]
)
def test_a_message_for_no_real_shard_fails_alone_and_counts_no_shard_as_done(stack, body):
    # Given a broadcast handed out into its shards, and a malformed fan-out message next to them
    for n in range(20):
        add_subscriber(stack, n)
    broadcast_id = broadcast()
    run(stack, "FanoutFunction", "FanoutQueue")
    stack.sqs.send_message(QueueUrl=stack.queue("FanoutQueue"), MessageBody=body.replace("%s", broadcast_id))

    # When everything on the fan-out queue is processed once
    failed = []
    for _ in range(AUDIENCE_SHARDS + 1):
        failed += run(stack, "FanoutFunction", "FanoutQueue")

    # Then only the malformed message failed (to the DLQ after maxReceiveCount), no shard "99" was
    # recorded, and the broadcast went out to everyone
    assert [message["Body"] for message in failed] == [body.replace("%s", broadcast_id)]
    deliver_until_done(stack)
    result = get_broadcast(dependencies.broadcast_store(), broadcast_id)
    assert (result.status, result.counts.recipients, result.counts.sent) == ("sent", 20, 20)
    [item] = [
        i for i in stack.scan() if i["pk"]["S"] == f"BROADCAST#{broadcast_id}" and i["sk"]["S"] == "BROADCAST"
    ]
    assert "99" not in item["shards_done"]["SS"]
