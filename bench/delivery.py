"""Delivery at scale, measured against the local stack (``python -m bench.delivery`` or ``make bench``).

For N subscribers and a provider limit L, with a Bot API test server that answers
429 beyond L messages a second (in this process, outside the stack's), two runs of
the same broadcast on fresh stacks: one timed, one metered (the meter reads moto
around every call and would slow the timed run):

1. saturation: achieved sends per second / L, from the first to the last send,
   with the 429s, lost and duplicated messages counted at the test server;
   and the test server's own capacity (no limit, 16 threads) measured in the same run;
2. cost: the AWS requests of the delivery counted from the handlers' real boto3
   calls by the local stack's meter (``SUBCAST_LOCAL_METERING=1``), in DynamoDB
   read/write units, SQS requests and Lambda invocations and GB-seconds, at list
   prices, per million deliveries;
3. fan-out overhead: subcast's fan-out of the same audience, shard by shard in one
   thread (no parallelism helps it), over the wall time of the calls it cannot avoid
   (the index queries and the batch sends of the same jobs), on the same moto.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from infra.fakes.telegram import running
from infra.local import process

TOKEN = "4711:bench-token"
SECRET = "bench-webhook-secret"
API_KEY = f"sc_bench_{secrets.token_urlsafe(32)}"

# List prices (us-east-1, on-demand), USD.
SQS_PER_REQUEST = 0.40 / 1e6
DYNAMODB_PER_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_PER_READ_UNIT = 0.125 / 1e6
LAMBDA_PER_INVOCATION = 0.20 / 1e6
LAMBDA_PER_GB_SECOND = 0.0000166667


@dataclass
class DeliveryFigures:
    subscribers: int
    rate: float
    capacity: float
    seconds: float
    achieved: float
    sent: int
    lost: int
    duplicates: int
    throttled: int
    requests: int
    costs: dict[str, float]  # USD per million deliveries, by item
    units: dict[str, float]  # per delivery
    fanout_seconds: float
    floor_seconds: float
    handler_seconds: dict[str, float]  # billed handler time per delivery, by function
    details: dict[str, float]  # USD per million deliveries by function and operation

    @property
    def saturation(self) -> float:
        return self.achieved / self.rate

    @property
    def cost_per_million(self) -> float:
        return sum(self.costs.values())

    @property
    def fanout_overhead(self) -> float:
        return self.fanout_seconds / self.floor_seconds


def server_capacity(threads: int = 16, seconds: float = 2.0) -> float:
    """sendMessage calls a second the Bot API test server answers with no limit, from ``threads`` clients."""
    with running(TOKEN) as bot:
        url = f"{bot.base_url}/bot{TOKEN}/sendMessage"
        deadline = time.monotonic() + seconds
        counts = Counter()

        def blast(index: int) -> None:
            n = 0
            while time.monotonic() < deadline:
                body = json.dumps({"chat_id": 1000 + index, "text": "capacity"}).encode()
                request = urllib.request.Request(url, data=body, method="POST")
                request.add_header("Content-Type", "application/json")
                urllib.request.urlopen(request).read()
                n += 1
            counts[index] = n

        workers = [threading.Thread(target=blast, args=(index,)) for index in range(threads)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sum(counts.values()) / (time.monotonic() - started)


def aws(endpoint: str) -> tuple[Any, Any]:
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
    )
    return session.client("dynamodb", endpoint_url=endpoint), session.client("sqs", endpoint_url=endpoint)


def seed(dynamodb: Any, table: str, count: int) -> list[str]:
    """``count`` active Telegram subscribers with real-looking ids, written in batches; their chat ids."""
    from subcast.adapters.subscribers import profile_item
    from subcast.domain.messages import Language
    from subcast.domain.subscriber import Channel, ChannelAddress, Subscriber, SubscriberState

    moment = datetime(2026, 11, 1, tzinfo=UTC)
    chats, requests = [], []
    for number in range(count):
        chat = str(7_000_000_000 + number)
        chats.append(chat)
        subscriber = Subscriber(
            subscriber_id=secrets.token_hex(10),  # as the command path makes them
            state=SubscriberState.ACTIVE,
            addresses=(ChannelAddress(channel=Channel.TELEGRAM, address=chat),),
            language=Language.EN,
            created_at=moment,
            state_since=moment,
            version=1,
        )
        requests.append({"PutRequest": {"Item": profile_item(subscriber)}})
    for start in range(0, len(requests), 25):
        batch = {table: requests[start : start + 25]}
        while batch:
            batch = dynamodb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
    return chats


@dataclass
class Run:
    """One broadcast to every seeded subscriber through a fresh local stack."""

    first: float
    last: float
    received: Counter[str]
    chats: list[str]
    throttled: int
    requests: int
    report: dict[str, Any]
    fanout: tuple[float, float] = (0.0, 0.0)


def run_once(subscribers: int, rate: float, *, metering: bool) -> Run:
    """Seed, (without metering) measure the fan-out, then send one broadcast and watch it arrive."""
    with running(TOKEN, rate_limit_per_second=rate) as bot:
        stack = process.start(
            {
                "TELEGRAM_API_BASE": bot.base_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "TELEGRAM_MESSAGES_PER_SECOND": str(rate),
                "SUBCAST_BOOTSTRAP_API_KEY": API_KEY,
                "SUBCAST_LOCAL_METERING": "1" if metering else "",
            }
        )
        try:
            _, health = stack.request("GET", "/_local/health")
            dynamodb, sqs = aws(health["aws_endpoint"])
            [table] = dynamodb.list_tables()["TableNames"]
            chats = seed(dynamodb, table, subscribers)
            fanout = (
                (0.0, 0.0) if metering else fanout_overhead(health["aws_endpoint"], table, sqs, subscribers)
            )
            headers = {"Authorization": f"Bearer {API_KEY}"}
            if metering:
                stack.request("POST", "/_local/metering/reset")
            status, created = stack.request(
                "POST", "/v1/broadcasts", {"text": "Breaking: subcast measured"}, headers
            )
            assert status in (200, 201, 202), created
            first, last = _watch(bot, subscribers)
            _wait_settled(stack, created["id"], headers)
            report: dict[str, Any] = {"aws": {}, "lambda": {}}
            if metering:
                _, report = stack.request("GET", "/_local/metering")
        finally:
            stack.stop()
        received = Counter(str(message["chat"]["id"]) for message in bot.sent())
        return Run(first, last, received, chats, bot.throttled_count, bot.request_count, report, fanout)


def measure(subscribers: int = 5000, rate: float = 100.0) -> DeliveryFigures:
    """Two runs: timing without the meter (it slows moto), then the same delivery metered for its cost."""
    capacity = server_capacity()
    timed = run_once(subscribers, rate, metering=False)
    metered = run_once(subscribers, rate, metering=True)
    sent = sum(timed.received.values())
    costs, units, handler_seconds = _costs(metered.report, sum(metered.received.values()))
    runs = (timed, metered)
    return DeliveryFigures(
        subscribers=subscribers,
        rate=rate,
        capacity=capacity,
        seconds=timed.last - timed.first,
        achieved=(sent - 1) / (timed.last - timed.first) if timed.last > timed.first else 0.0,
        sent=sent,
        lost=sum(len(set(run.chats) - set(run.received)) for run in runs),
        duplicates=sum(count - 1 for run in runs for count in run.received.values()),
        throttled=sum(run.throttled for run in runs),
        requests=sum(run.requests for run in runs),
        costs=costs,
        units=units,
        fanout_seconds=timed.fanout[0],
        floor_seconds=timed.fanout[1],
        handler_seconds=handler_seconds,
        details=_details(metered.report, sum(metered.received.values())),
    )


def _watch(bot: Any, expected: int, timeout: float = 1800.0) -> tuple[float, float]:
    """When the first and the last of ``expected`` messages reached the test server."""
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        count = bot.sent_count  # a counter: copying the sent list every poll would slow the server
        moment = time.monotonic()
        if count and first is None:
            first = moment
        if count >= expected:
            assert first is not None
            return first, moment
        time.sleep(0.01)
    raise TimeoutError(f"only {bot.sent_count} of {expected} messages arrived")


def _wait_settled(stack: Any, broadcast_id: str, headers: dict[str, str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = stack.request("GET", f"/v1/broadcasts/{broadcast_id}", None, headers)
        if body.get("status") == "sent":
            return
        time.sleep(0.2)
    raise TimeoutError(f"the broadcast did not complete: {body}")


def _costs(
    report: dict[str, Any], deliveries: int
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """USD per million deliveries by item; units per delivery; billed handler seconds per delivery."""
    read_units = write_units = sqs_requests = 0.0
    for function, services in report["aws"].items():
        for operation, tally in services.get("dynamodb", {}).items():
            read_units += tally["read_units"]
            write_units += tally["write_units"]
            del operation
        for operation, tally in services.get("sqs", {}).items():
            if function == "event_source" and operation == "ReceiveMessage":
                continue  # counted below: one per batch handed to a function; idle polls are not deliveries
            sqs_requests += tally["billed_requests"]
    lambdas = report["lambda"]
    invocations = sum(item["invocations"] for item in lambdas.values())
    queue_invocations = sum(
        item["invocations"] for name, item in lambdas.items() if name in ("FanoutFunction", "SenderFunction")
    )
    sqs_requests += queue_invocations  # the event source's receive that brought each batch
    gb_seconds = sum(item["gb_seconds"] for item in lambdas.values())
    per = 1e6 / max(1, deliveries)
    costs = {
        "sqs": sqs_requests * SQS_PER_REQUEST * per,
        "dynamodb_writes": write_units * DYNAMODB_PER_WRITE_UNIT * per,
        "dynamodb_reads": read_units * DYNAMODB_PER_READ_UNIT * per,
        "lambda_invocations": invocations * LAMBDA_PER_INVOCATION * per,
        "lambda_duration": gb_seconds * LAMBDA_PER_GB_SECOND * per,
    }
    units = {
        "sqs_requests": sqs_requests / deliveries,
        "write_units": write_units / deliveries,
        "read_units": read_units / deliveries,
        "invocations": invocations / deliveries,
        "gb_seconds": gb_seconds / deliveries,
    }
    handler_seconds = {
        name: item["billed_duration_ms"] / 1000 / deliveries
        for name, item in lambdas.items()
        if item["invocations"]
    }
    return costs, units, handler_seconds


def _details(report: dict[str, Any], deliveries: int) -> dict[str, float]:
    """USD per million deliveries for each function's operations (DynamoDB units, SQS requests)."""
    per = 1e6 / max(1, deliveries)
    found: dict[str, float] = {}
    for function, services in report["aws"].items():
        for operation, tally in services.get("dynamodb", {}).items():
            cost = tally["read_units"] * DYNAMODB_PER_READ_UNIT
            cost += tally["write_units"] * DYNAMODB_PER_WRITE_UNIT
            found[f"{function} dynamodb {operation}"] = cost * per
        for operation, tally in services.get("sqs", {}).items():
            found[f"{function} sqs {operation}"] = tally["billed_requests"] * SQS_PER_REQUEST * per
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def fanout_overhead(endpoint: str, table: str, sqs: Any, subscribers: int) -> tuple[float, float]:
    """(subcast's fan-out, the calls it cannot avoid) in seconds, one thread, the same moto, fresh queues."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    from subcast.adapters.audience import AudienceReader
    from subcast.adapters.aws import reset_clients
    from subcast.adapters.broadcasts import BroadcastStore
    from subcast.adapters.queues import DeliveryQueue, FanoutQueue
    from subcast.clock import now
    from subcast.domain.broadcast import Broadcast, BroadcastStatus
    from subcast.services.fanout import PAGE_SIZE, SHARDS, fan_out

    reset_clients()
    store, audience = BroadcastStore(table), AudienceReader(table)
    created = now()
    broadcast = Broadcast(
        broadcast_id=f"b_bench{uuid.uuid4().hex[:10]}",
        text="fan-out measured",
        topics=(),
        send_at=created,
        status=BroadcastStatus.SCHEDULED,
        created_at=created,
        created_by="bench",
    )
    store.create(broadcast, None, created)
    store.start_sending(broadcast.broadcast_id, created)

    def fresh_queue() -> str:
        url: str = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        return url

    deliveries, handout = DeliveryQueue(fresh_queue()), FanoutQueue(fresh_queue())
    started = time.perf_counter()
    for shard in SHARDS:
        fan_out(
            broadcast.broadcast_id,
            shard,
            store=store,
            audience=audience,
            deliveries=deliveries,
            fanout=handout,
        )
    fanout_seconds = time.perf_counter() - started

    # The floor: the same pages of the index and the same job messages, ten to a request.
    floor_queue = DeliveryQueue(fresh_queue())
    started = time.perf_counter()
    jobs = []
    for shard in SHARDS:
        start: dict[str, Any] | None = None
        while True:
            members, start = audience.page(shard, start, PAGE_SIZE)
            ids = sorted(member.subscriber_id for member in members)
            jobs += [
                _raw_job(broadcast.broadcast_id, shard, ids[i : i + 100]) for i in range(0, len(ids), 100)
            ]
            if not start:
                break
    floor_queue.send(jobs)
    floor_seconds = time.perf_counter() - started
    recipients = store.get(broadcast.broadcast_id)
    assert recipients is not None and recipients.counts.recipients == subscribers, recipients
    store.cancel(broadcast.broadcast_id, now())  # its jobs went to a scratch queue
    return fanout_seconds, floor_seconds


def _raw_job(broadcast_id: str, shard: str, ids: list[str]) -> Any:
    from subcast.domain.broadcast import delivery_job

    return delivery_job(broadcast_id, shard, None, ids)


def report(figures: DeliveryFigures) -> str:
    f = figures
    lines = [
        f"delivery: {f.subscribers:,} subscribers, provider limit L = {f.rate:.0f} msg/s "
        f"(test server capacity without a limit: {f.capacity:.0f} msg/s)",
        f"  saturation (sends/s / L):            {f.saturation:.3f}  "
        f"({f.achieved:.1f} msg/s over {f.seconds:.1f} s)",
        f"  lost / duplicated (both runs):       {f.lost} / {f.duplicates}",
        f"  429 answers (both runs):             {f.throttled} of {f.requests} requests "
        f"({100 * f.throttled / max(1, f.requests):.2f} %)",
        f"  AWS cost per million deliveries:     ${f.cost_per_million:.3f}  ("
        + ", ".join(f"{name} ${value:.3f}" for name, value in f.costs.items())
        + ")",
        "  per delivery:                        "
        + ", ".join(f"{name} {value:.4f}" for name, value in f.units.items()),
        "  billed handler time per delivery:    "
        + ", ".join(f"{name} {value * 1000:.2f} ms" for name, value in f.handler_seconds.items()),
        f"  fan-out overhead:                    {f.fanout_overhead:.2f}  "
        f"(fan-out {f.fanout_seconds:.2f} s / minimum calls {f.floor_seconds:.2f} s)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0, help="the provider's limit L, messages a second")
    parser.add_argument("--details", action="store_true", help="also the cost of each function's operations")
    args = parser.parse_args()
    figures = measure(args.subscribers, args.rate)
    print(report(figures))
    if args.details:
        for name, cost in figures.details.items():
            if cost >= 0.001:
                print(f"    {name:<52} ${cost:.3f} per million")


if __name__ == "__main__":
    main()
