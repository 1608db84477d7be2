"""`make bench`: the local stack as a subprocess, measured from outside like a person would see it.

Foundation figures:
- start-up: seconds from `python -m infra.local` to /_local/health answering 200;
- reply latency: webhook POST -> the bot's reply reaching the Bot API test server,
  over N STATUS messages from one subscriber (median and p95), and the same
  figure as a ratio against the floor measured in the same run on the same
  moto: one FIFO send + receive + delete and the DynamoDB reads and the
  transaction a command cannot avoid, plus one sendMessage to the test server.
- parser throughput (bench/parser.py, alone: `python -m bench.parser` or `--only parser`);
- delivery at scale (bench/delivery.py, alone: `python -m bench.delivery` or `--only delivery`):
  saturation of the provider's rate, cost per million deliveries, fan-out overhead.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import boto3

from bench import delivery as delivery_bench
from bench import parser as parser_bench
from infra.fakes.telegram import FakeBotApi, running
from infra.fakes.updates import message_update
from infra.local import process

TOKEN = "4711:bench-token"
SECRET = "bench-webhook-secret"


def wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.002)
    raise TimeoutError("no reply")


def floor_latency(endpoint: str, bot: FakeBotApi, samples: int) -> float:
    """The unavoidable work of one command, on the same moto and test server, without subcast around it."""
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    sqs, dynamodb = (
        session.client("sqs", endpoint_url=endpoint),
        session.client("dynamodb", endpoint_url=endpoint),
    )
    queue = sqs.create_queue(
        QueueName=f"floor-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    table = f"floor-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    import urllib.request

    timings = []
    for n in range(samples):
        started = time.perf_counter()
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageGroupId="g", MessageDeduplicationId=str(n))
        message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]
        key = {"pk": {"S": f"k{n}"}, "sk": {"S": "s"}}
        dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"k{n}"}},
        )
        dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": key}}])
        request = urllib.request.Request(
            f"{bot.base_url}/bot{TOKEN}/sendMessage", data=b'{"chat_id": 1, "text": "x"}', method="POST"
        )
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request).read()
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET r = :r",
            ExpressionAttributeValues={":r": {"S": "x"}},
        )
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--status-messages", type=int, default=20)
    parser.add_argument(
        "--only", choices=("stack", "parser", "delivery"), help="run one section (default: all)"
    )
    parser.add_argument("--subscribers", type=int, default=5000, help="delivery: audience size N")
    parser.add_argument("--rate", type=float, default=100.0, help="delivery: the provider's limit L, msg/s")
    args = parser.parse_args()
    if args.only == "parser":
        print(parser_bench.report(parser_bench.measure()))
        return
    if args.only == "delivery":
        print(delivery_bench.report(delivery_bench.measure(args.subscribers, args.rate)))
        return

    with running(TOKEN) as bot:
        stack = process.start(
            {
                "TELEGRAM_API_BASE": bot.base_url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
            }
        )
        try:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            chat, update_id = 5550001, 1
            for text in ("/start", "YES"):
                before = len(bot.sent(chat))
                stack.request("POST", "/webhooks/telegram", message_update(update_id, chat, text), headers)
                wait(lambda before=before: len(bot.sent(chat)) > before)
                update_id += 1
            latencies = []
            for _ in range(args.status_messages):
                before = len(bot.sent(chat))
                started = time.perf_counter()
                stack.request(
                    "POST", "/webhooks/telegram", message_update(update_id, chat, "STATUS"), headers
                )
                wait(lambda before=before: len(bot.sent(chat)) > before)
                latencies.append(time.perf_counter() - started)
                update_id += 1
            _, health = stack.request("GET", "/_local/health")
            floor = floor_latency(health["aws_endpoint"], bot, args.status_messages)
        finally:
            stack.stop()
    median = statistics.median(latencies)
    p95 = sorted(latencies)[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"start-up until /_local/health is 200:      {stack.healthy_after:.2f} s")
    label = f"webhook -> reply, {len(latencies)} STATUS messages:"
    print(f"{label:<44}median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"floor (same moto + Bot API, minimum calls): median {floor * 1000:.0f} ms")
    print(f"reply latency / floor:                      {median / floor:.2f}")
    if args.only is None:
        print(parser_bench.report(parser_bench.measure()))
        print(delivery_bench.report(delivery_bench.measure(args.subscribers, args.rate)))


if __name__ == "__main__":
    main()
