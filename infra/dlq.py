"""`make dlq` and `make redrive QUEUE=<name>`: what waits in the dead-letter queues, and sending it back.

list     each dead-letter queue's depth and its first messages: id, times, receive count, size
         and the kind of job. Never personal data: command bodies hold addresses and message
         text, so only their keys are shown. Peeking hides messages for a moment, then makes
         them visible again at once.
redrive  sends messages back to the queue they failed from, then deletes them from the
         dead-letter queue: a crash in between leaves a duplicate (the consumers are
         idempotent), never a loss.

The queues are the deployed stack's resources, named by template.yaml's RedrivePolicy. Against
the local stack, point boto3 at its moto with AWS_ENDPOINT_URL (GET /_local/health shows it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from infra.operator import arguments, session
from infra.template import dead_letter_queues

PEEK_SECONDS = 20  # how long `list` hides what it reads; it shows them again right after
MOVE_SECONDS = 60  # a redrive that dies mid-batch leaves these messages hidden this long
WAIT_SECONDS = 1  # long polling: an empty short poll may only mean "not on the servers asked"
# SQS accepts, then silently drops, a FIFO message whose deduplication id it saw in the last five
# minutes: reusing the original's id that soon would lose the message (commands can fail into the
# dead-letter queue in about five minutes). A minute more for clocks.
DEDUPLICATION_MEMORY_SECONDS = 6 * 60
#: Values worth showing in a summary; every other value (addresses, text) is shown as its key only.
SHOWN_VALUES = {"fanout": {"broadcast_id", "shard"}, "delivery": {"broadcast_id", "job_id", "shard"}}
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


@dataclass(frozen=True)
class QueuePair:
    name: str
    source_url: str
    dead_letter_url: str
    fifo: bool


class NotDeployed(Exception):
    """The stack, or a queue the template names, is not there."""


def deployed_queues(aws: Any, stack_name: str) -> dict[str, QueuePair]:
    """Each dead-letter queue of template.yaml, with its source, by the stack's physical ids (URLs)."""
    physical: dict[str, str] = {}
    try:
        pages = (
            aws.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
        )
        for page in pages:
            for resource in page["StackResourceSummaries"]:
                physical[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
    except ClientError as error:
        raise NotDeployed(f"stack {stack_name}: {error.response['Error'].get('Message', error)}") from error
    pairs = {}
    for dlq in dead_letter_queues():
        if not physical.get(dlq.source) or not physical.get(dlq.queue):
            raise NotDeployed(f"stack {stack_name} has no {dlq.source} and {dlq.queue}; deploy template.yaml")
        pairs[dlq.name] = QueuePair(dlq.name, physical[dlq.source], physical[dlq.queue], dlq.fifo)
    return pairs


def message_count(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def depth(sqs: Any, url: str) -> tuple[int, int]:
    """(waiting, in flight), both approximate as SQS counts them."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def receive(sqs: Any, url: str, count: int, hide_for: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=min(10, count),
        VisibilityTimeout=hide_for,
        WaitTimeSeconds=WAIT_SECONDS,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    return messages


def show_again(sqs: Any, url: str, messages: list[dict[str, Any]]) -> int:
    """Make messages visible at once; returns how many SQS refused (they reappear by themselves later)."""
    return _in_tens(sqs.change_message_visibility_batch, url, messages, VisibilityTimeout=0)


def delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> int:
    """Delete received messages; returns how many SQS refused."""
    return _in_tens(sqs.delete_message_batch, url, messages)


def _in_tens(call: Any, url: str, messages: list[dict[str, Any]], **per_entry: Any) -> int:
    refused = 0
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], **per_entry}
            for index, message in enumerate(messages[start : start + 10])
        ]
        refused += len(call(QueueUrl=url, Entries=entries).get("Failed", []))
    return refused


# ---------------------------------------------------------------------------------------- list


def summary(name: str, body: str) -> str:
    """The body's keys; values only where SHOWN_VALUES allows, and lists as their length."""
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict):
        return f"JSON {type(data).__name__}"
    shown = SHOWN_VALUES.get(name, set())
    parts = []
    for key, value in sorted(data.items()):
        label = key if _SAFE_KEY.fullmatch(key) else "?"
        if key in shown and isinstance(value, str) and _SAFE_VALUE.fullmatch(value):
            parts.append(f"{label}={value}")
        elif shown and isinstance(value, list):
            parts.append(f"{label}[{len(value)}]")
        else:
            parts.append(label)
    return " ".join(parts) or "{}"


def _when(milliseconds: str | None) -> str:
    if not milliseconds:
        return "-"
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def describe(name: str, message: dict[str, Any]) -> str:
    attributes = message.get("Attributes", {})
    return (
        f"  {message['MessageId']}  sent {_when(attributes.get('SentTimestamp'))}"
        f"  first received {_when(attributes.get('ApproximateFirstReceiveTimestamp'))}"
        f"  receives {attributes.get('ApproximateReceiveCount', '?')}"
        f"  {len(message['Body'].encode())} B  {summary(name, message['Body'])}"
    )


def list_queue(sqs: Any, pair: QueuePair, limit: int) -> None:
    waiting, in_flight = depth(sqs, pair.dead_letter_url)
    where = queue_name(pair.dead_letter_url)
    if waiting == 0 and in_flight == 0:
        print(f"{pair.name}: empty ({where})")
        return
    print(f"{pair.name}: {waiting} waiting, {in_flight} in flight ({where})")
    peeked: list[dict[str, Any]] = []
    try:
        while len(peeked) < min(limit, waiting):
            batch = receive(sqs, pair.dead_letter_url, min(limit, waiting) - len(peeked), PEEK_SECONDS)
            if not batch:
                break
            peeked.extend(batch)
    finally:
        refused = show_again(sqs, pair.dead_letter_url, peeked)
    for message in peeked:
        print(describe(pair.name, message))
    if len(peeked) < waiting:
        print(f"  ... {waiting - len(peeked)} more not shown")
    if refused:
        print(f"  ({refused} stay hidden for up to {PEEK_SECONDS} s)")


# ------------------------------------------------------------------------------------- redrive


def deduplication_id(message: dict[str, Any], now: float) -> str:
    """The original's id once SQS has forgotten it, else one derived from the message id.

    Both are the same on every run, so a redrive run again after a crash is deduplicated.
    """
    attributes = message.get("Attributes", {})
    original = attributes.get("MessageDeduplicationId")
    sent = attributes.get("SentTimestamp")
    if original and sent and now - int(sent) / 1000 > DEDUPLICATION_MEMORY_SECONDS:
        return str(original)
    return f"redrive-{message['MessageId']}"


def resend_entry(index: int, message: dict[str, Any], fifo: bool, now: float) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = {
        key: {field: value[field] for field in ("DataType", "StringValue", "BinaryValue") if field in value}
        for key, value in message.get("MessageAttributes", {}).items()
    }
    if attributes:
        entry["MessageAttributes"] = attributes
    trace = message.get("Attributes", {}).get("AWSTraceHeader")
    if trace:
        entry["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    if fifo:
        entry["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
        entry["MessageDeduplicationId"] = deduplication_id(message, now)
    return entry


def check_pairing(sqs: Any, pair: QueuePair) -> None:
    """Refuse to move anything unless the deployed source really fails into this dead-letter queue."""
    arn = sqs.get_queue_attributes(QueueUrl=pair.dead_letter_url, AttributeNames=["QueueArn"])["Attributes"]
    source = sqs.get_queue_attributes(QueueUrl=pair.source_url, AttributeNames=["RedrivePolicy"])[
        "Attributes"
    ]
    target = json.loads(source.get("RedrivePolicy", "{}")).get("deadLetterTargetArn")
    if target != arn["QueueArn"]:
        raise NotDeployed(
            f"{queue_name(pair.source_url)} does not fail into {queue_name(pair.dead_letter_url)}"
        )


def redrive(sqs: Any, pair: QueuePair, limit: int | None, dry_run: bool) -> bool:
    """Move up to ``limit`` messages (default: as many as were waiting at the start); False if some failed."""
    check_pairing(sqs, pair)
    waiting, in_flight = depth(sqs, pair.dead_letter_url)
    source, dead_letter = queue_name(pair.source_url), queue_name(pair.dead_letter_url)
    budget = waiting if limit is None else limit
    if waiting == 0 and in_flight == 0:
        print(f"{pair.name}: nothing to move, {dead_letter} is empty")
        return True
    if dry_run:
        planned = min(budget, waiting)
        print(f"{pair.name}: would move {planned} of {message_count(waiting)} waiting back to {source}")
        print(f"  dry run: nothing changed ({in_flight} in flight)")
        return True
    moved = 0
    while moved < budget:
        batch = receive(sqs, pair.dead_letter_url, budget - moved, MOVE_SECONDS)
        if not batch:
            break
        now = time.time()
        entries = [resend_entry(index, message, pair.fifo, now) for index, message in enumerate(batch)]
        response = sqs.send_message_batch(QueueUrl=pair.source_url, Entries=entries)
        sent = [batch[int(item["Id"])] for item in response.get("Successful", [])]
        unsent = [batch[int(item["Id"])] for item in response.get("Failed", [])]
        # Only what the source accepted is deleted: at-least-once, never a loss.
        moved += len(sent)
        undeleted = delete(sqs, pair.dead_letter_url, sent)
        if unsent or undeleted:
            show_again(sqs, pair.dead_letter_url, unsent)
            print(
                f"{pair.name}: moved {message_count(moved)} back to {source}, then stopped", file=sys.stderr
            )
            for item in response.get("Failed", []):
                print(f"  not sent: {item.get('Code')} {item.get('Message', '')}", file=sys.stderr)
            if undeleted:
                print(
                    f"  {undeleted} sent but not deleted: a later redrive sends them again", file=sys.stderr
                )
            return False
    left, hidden = depth(sqs, pair.dead_letter_url)
    still = f"{left} left in {dead_letter}" + (f", {hidden} in flight" if hidden else "")
    print(f"{pair.name}: moved {message_count(moved)} back to {source} ({still})")
    return True


# ---------------------------------------------------------------------------------------- main


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    names = [dlq.name for dlq in dead_letter_queues()]
    parser = argparse.ArgumentParser(
        prog="python -m infra.dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    # Each command takes --stack-name and --region (and -h) from the shared operator parser.
    listing = commands.add_parser(
        "list", parents=[arguments("")], add_help=False, help="peek, change nothing"
    )
    listing.add_argument("--queue", type=str.lower, choices=names, help="one queue (default: all)")
    listing.add_argument("--max", type=_positive, default=10, help="messages shown per queue (default 10)")
    moving = commands.add_parser("redrive", parents=[arguments("")], add_help=False, help="send back")
    moving.add_argument("--queue", type=str.lower, choices=names, required=True)
    moving.add_argument("--max", type=_positive, help="at most this many (default: all waiting at the start)")
    moving.add_argument("--dry-run", action="store_true", help="only say what would move")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    aws = session(options.region)
    sqs = aws.client("sqs")
    try:
        pairs = deployed_queues(aws, options.stack_name)
        if options.command == "list":
            for name, pair in pairs.items():
                if options.queue in (None, name):
                    list_queue(sqs, pair, options.max)
            return 0
        return 0 if redrive(sqs, pairs[options.queue], options.max, options.dry_run) else 1
    except NotDeployed as error:
        print(f"dlq: {error}", file=sys.stderr)
        return 2
    except ClientError as error:
        print(f"dlq: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
