"""Read the local stack's state out of moto, and put a saved state back into a new stack.

Both are read from the moto backend this process hosts (the stack's ThreadedMotoServer runs here):
a Scan through the server takes seconds for a few thousand items (3.4 s for 5,000 on this machine,
0.05 s from the backend), and handlers wait while a snapshot is read; ReceiveMessage would hide the
messages, and cannot see the ones a handler holds (in flight). What is saved goes back through the
API: BatchWriteItem for items, SendMessageBatch for messages, in their order, FIFO messages with
their group and deduplication ids.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from infra.local.state_files import QueueState, SavedState, Snapshot, TableState, Unreadable, encode_item
from infra.provision import Deployment
from infra.template import load_template
from subcast import clock


@dataclass(frozen=True)
class Resources:
    """The template's tables and queues as this run created them, by logical id."""

    tables: dict[str, str]  # logical id -> table name
    queues: dict[str, str]  # logical id -> queue URL


def resources_of(deployment: Deployment) -> Resources:
    """The tables and queues template.yaml declares, with the physical names moto gave them."""
    kinds = {name: resource["Type"] for name, resource in load_template()["Resources"].items()}
    tables = [name for name, kind in kinds.items() if kind == "AWS::DynamoDB::Table"]
    queues = [name for name, kind in kinds.items() if kind == "AWS::SQS::Queue"]
    return Resources(
        tables={name: deployment.physical[name] for name in tables},
        queues={name: deployment.queue_url(name) for name in queues},
    )


def capture(resources: Resources, dynamodb: Any, region: str) -> Snapshot:
    """Everything the stack holds: each table's items, each queue's messages, a moved clock."""
    tables = {name: _table(dynamodb, table) for name, table in resources.tables.items()}
    queues = {
        name: QueueState(_is_fifo(url), _messages(url, region)) for name, url in resources.queues.items()
    }
    return Snapshot(tables, queues, clock.now().isoformat() if clock.is_moved() else None)


def key_schema(dynamodb: Any, table: str) -> list[list[str]]:
    """A table's primary key as [[attribute, HASH|RANGE, S|N|B], ...]."""
    return _key_schema(dynamodb.describe_table(TableName=table)["Table"])


def _key_schema(description: dict[str, Any]) -> list[list[str]]:
    types = {item["AttributeName"]: item["AttributeType"] for item in description["AttributeDefinitions"]}
    return [
        [part["AttributeName"], part["KeyType"], types[part["AttributeName"]]]
        for part in description["KeySchema"]
    ]


def _table(dynamodb: Any, name: str) -> TableState:
    from moto.dynamodb.models import dynamodb_backends

    description = dynamodb.describe_table(TableName=name)["Table"]
    _, region, account = description["TableArn"].split(":")[2:5]
    table = dynamodb_backends[account][region].get_table(name)
    for _attempt in range(5):  # a write that slips in (not from a handler) changes the dict under us
        try:
            items = [item.to_json()["Attributes"] for item in table.all_items()]
            return TableState(_key_schema(description), items)
        except RuntimeError:
            continue
    raise RuntimeError(f"{name} kept changing while it was read")


@dataclass
class Restored:
    """What a start loaded, and what it could not: ``skipped`` lines say what and why, ``aside`` holds
    the files and refused records to keep under rejected/ (relative path -> file or lines)."""

    items: int = 0
    messages: int = 0
    in_flight: int = 0
    clock: datetime | None = None
    skipped: list[str] = field(default_factory=list)
    aside: dict[str, Path | list[dict[str, Any]]] = field(default_factory=dict)


def restore(saved: SavedState, resources: Resources, dynamodb: Any, sqs: Any) -> Restored:
    """Load what fits the tables and queues of this run; say plainly what does not, and why."""
    done = Restored()
    _restore_tables(saved, resources, dynamodb, done)
    _restore_queues(saved, resources, sqs, done)
    if saved.clock:
        try:
            done.clock = clock.move_to(datetime.fromisoformat(saved.clock))
        except ValueError as error:
            done.skipped.append(f"clock: {saved.clock!r} is not a moment ({error}); real time")
    return done


def _restore_tables(saved: SavedState, resources: Resources, dynamodb: Any, done: Restored) -> None:
    for name, table in saved.tables.items():
        where = f"tables/{name}.jsonl"
        if isinstance(table, Unreadable):
            done.skipped.append(f"table {name}: {table.reason}; it starts empty")
            done.aside[where] = table.path
        elif name not in resources.tables:
            count = len(table.items)
            done.skipped.append(f"table {name}: no longer in template.yaml; {count} items not loaded")
            done.aside[where] = saved.directory / where
        elif (now := key_schema(dynamodb, resources.tables[name])) != table.key:
            done.skipped.append(
                f"table {name}: its key changed from {_key(table.key)} to {_key(now)}; "
                f"{len(table.items)} items not loaded, it starts empty"
            )
            done.aside[where] = saved.directory / where
        else:
            refused = _load_items(dynamodb, resources.tables[name], table.items)
            done.items += len(table.items) - len(refused)
            if refused:
                done.skipped.append(f"table {name}: the table refused {len(refused)} items ({refused[0][1]})")
                done.aside[f"tables/{name}.refused.jsonl"] = [encode_item(item) for item, _ in refused]


def _restore_queues(saved: SavedState, resources: Resources, sqs: Any, done: Restored) -> None:
    for name, queue in saved.queues.items():
        where = f"queues/{name}.jsonl"
        if isinstance(queue, Unreadable):
            done.skipped.append(f"queue {name}: {queue.reason}; it starts empty")
            done.aside[where] = queue.path
        elif name not in resources.queues or _is_fifo(resources.queues[name]) != queue.fifo:
            why = "no longer in template.yaml" if name not in resources.queues else "FIFO or not changed"
            done.skipped.append(f"queue {name}: {why}; {len(queue.messages)} messages not sent again")
            done.aside[where] = saved.directory / where
        else:
            refused_messages = _send_messages(sqs, resources.queues[name], queue)
            done.messages += len(queue.messages) - len(refused_messages)
            done.in_flight += sum(1 for message in queue.messages if message.get("in_flight"))
            if refused_messages:
                done.skipped.append(f"queue {name}: {len(refused_messages)} messages refused")
                done.aside[f"queues/{name}.refused.jsonl"] = refused_messages


def _key(key: list[list[str]]) -> str:
    return "/".join(f"{name}({kind})" for name, _, kind in key) or "none"


def _is_fifo(queue_url: str) -> bool:
    return queue_url.endswith(".fifo")


def _messages(queue_url: str, region: str) -> list[dict[str, Any]]:
    from moto.sqs.models import sqs_backends

    account, name = urlsplit(queue_url).path.strip("/").split("/")[-2:]
    queue = sqs_backends[account][region].get_queue(name)
    return [
        {
            "body": message.body,
            "group_id": message.group_id,
            "deduplication_id": message.deduplication_id,
            "attributes": {key: _attribute(value) for key, value in message.message_attributes.items()},
            "in_flight": not message.visible,
            "receive_count": message.approximate_receive_count,
        }
        for message in list(queue._messages)  # a copy: moto replaces the list as messages go
    ]


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    kept = {key: item for key, item in value.items() if key in ("DataType", "StringValue", "BinaryValue")}
    if isinstance(kept.get("BinaryValue"), bytes):
        kept["BinaryValue"] = base64.b64encode(kept["BinaryValue"]).decode()
    return kept


def _load_items(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Write the items; returns the ones the table refused, each with DynamoDB's reason."""
    refused = []
    for start in range(0, len(items), 25):
        chunk = items[start : start + 25]
        try:
            pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        except (ClientError, BotoCoreError):
            for item in chunk:  # one by one, to keep every item the table does take
                try:
                    dynamodb.put_item(TableName=table, Item=item)
                except (ClientError, BotoCoreError) as error:
                    refused.append((item, str(error)))
    return refused


def _send_messages(sqs: Any, queue_url: str, queue: QueueState) -> list[dict[str, Any]]:
    """Send the messages again in their order; returns the ones SQS refused."""
    entries, used = [], set()
    for index, message in enumerate(queue.messages):
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["body"]}
        attributes = {name: dict(value) for name, value in (message.get("attributes") or {}).items()}
        for value in attributes.values():
            if "BinaryValue" in value:
                value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        if attributes:
            entry["MessageAttributes"] = attributes
        if queue.fifo:
            entry["MessageGroupId"] = message.get("group_id") or "restored"
            # An id used twice (minutes apart) was two messages; sending both again within the
            # deduplication window would silently keep only the first.
            dedup = message.get("deduplication_id") or f"restored-{index}"
            if dedup in used:
                dedup = f"{dedup[:100]}-restored-{index}"
            entry["MessageDeduplicationId"] = dedup
            used.add(entry["MessageDeduplicationId"])
        entries.append((entry, message))
    refused: list[dict[str, Any]] = []
    for start in range(0, len(entries), 10):
        chunk = entries[start : start + 10]
        try:
            answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=[entry for entry, _ in chunk])
            failed = {failure["Id"] for failure in answer.get("Failed", [])}
        except (ClientError, BotoCoreError):
            failed = {entry["Id"] for entry, _ in chunk}
        refused.extend(message for entry, message in chunk if entry["Id"] in failed)
    return refused
