"""What AWS would bill for one API call: DynamoDB on-demand request units by item size, SQS requests.

DynamoDB (on-demand) bills a read request unit per 4 KB of item read by a strongly consistent
read (half for an eventually consistent one, twice for a transactional one), and a write
request unit per 1 KB written (twice inside a transaction). Sizes follow DynamoDB's rules
("Item sizes and formats" in the developer guide) and are computed from the wire format of the
items (``{"S": ...}``, ``{"N": ...}``, ...). The full stored item counts, not the attributes a
projection returns, so the caller supplies an ``ItemStore`` that tells the size of an item as
stored, before and after a write.

SQS bills one request per API call, and one more per started 64 KB of payload beyond the first.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024
SQS_CHUNK_BYTES = 64 * 1024

Item = Mapping[str, Mapping[str, Any]]  # an item in DynamoDB's wire format


# ---------------------------------------------------------------------------- item sizes
def number_size(text: str) -> int:
    """A number takes one byte per two significant digits, plus one (plus one if negative)."""
    mantissa = text.strip().lower().split("e")[0]
    negative = mantissa.startswith("-")
    digits = mantissa.lstrip("+-").replace(".", "").strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1 + (1 if negative else 0)


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    try:  # base64 text, as in the JSON on the wire (and as moto stores it)
        return len(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return len(str(value).encode())


def value_size(value: Mapping[str, Any]) -> int:
    """The size of one attribute value, without its name."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return number_size(str(content))
    if kind == "B":
        return _binary_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(member).encode()) for member in content)
    if kind == "NS":
        return sum(number_size(str(member)) for member in content)
    if kind == "BS":
        return sum(_binary_size(member) for member in content)
    if kind == "L":  # 3 bytes for the list, 1 per element
        return 3 + sum(1 + value_size(member) for member in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(member) for name, member in content.items())
    raise ValueError(f"not a DynamoDB attribute value: {kind}")


def item_size(item: Item | None) -> int:
    """The sum of the attribute names' UTF-8 lengths and the values' sizes."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    """Read request units for one item (or one Query/Scan page) of ``size`` bytes: at least one 4 KB."""
    units = float(max(1, math.ceil(size / READ_UNIT_BYTES)))
    if transactional:
        return 2 * units
    return units if consistent else units / 2


def write_units(size: int, transactional: bool = False) -> float:
    """Write request units for one item of ``size`` bytes: at least one 1 KB."""
    units = float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))
    return 2 * units if transactional else units


# ---------------------------------------------------------------------------- DynamoDB calls
class ItemStore(Protocol):
    """Sizes of items as stored: ``None`` when it cannot tell, 0 when there is no such item."""

    def size(self, region: str, table: str, key: Item) -> int | None: ...

    def key_of(self, region: str, table: str, item: Item) -> Item | None: ...


@dataclass
class Units:
    read: float = 0.0
    write: float = 0.0


@dataclass
class Write:
    """One item a write call touches, with its size as stored before the call."""

    kind: str  # put, update, delete, check
    table: str
    key: Item | None
    new_size: int = 0  # the item written (put)
    before: int = 0
    transactional: bool = False


#: Errors that DynamoDB still bills: the condition was evaluated against the stored item.
BILLED_ERRORS = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})


def planned_writes(operation: str, params: Mapping[str, Any], region: str, store: ItemStore) -> list[Write]:
    """The items a write call will touch, each with its size before the call (read before sending)."""
    writes: list[Write] = []

    def add(kind: str, table: str, key: Item | None, new: Item | None, transactional: bool) -> None:
        if kind == "put" and new is not None:
            key = store.key_of(region, table, new)
        writes.append(Write(kind, table, key, item_size(new) if kind == "put" else 0, 0, transactional))

    if operation == "PutItem":
        add("put", params["TableName"], None, params.get("Item"), False)
    elif operation in ("UpdateItem", "DeleteItem"):
        kind = "update" if operation == "UpdateItem" else "delete"
        add(kind, params["TableName"], params.get("Key"), None, False)
    elif operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    add("put", table, None, request["PutRequest"].get("Item"), False)
                elif "DeleteRequest" in request:
                    add("delete", table, request["DeleteRequest"].get("Key"), None, False)
    elif operation == "TransactWriteItems":
        kinds = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}
        for entry in params.get("TransactItems", []):
            for name, kind in kinds.items():
                if name in entry:
                    action = entry[name]
                    add(kind, action["TableName"], action.get("Key"), action.get("Item"), True)
    for write in writes:
        if write.key is not None:
            write.before = store.size(region, write.table, write.key) or 0
    return writes


def write_call_units(writes: list[Write], region: str, store: ItemStore, failed: bool) -> Units:
    """Write units of a call that went through, or failed on its condition (which bills too).

    An update bills the larger of the item before and after it (the after size is read once the
    call returned); a put the larger of the old and the new item; a delete the old item; a
    ConditionCheck in a transaction bills as a transactional write of the checked item. A write
    whose condition failed bills the stored item (at least one unit), as DynamoDB does.
    """
    total = 0.0
    for write in writes:
        size = write.before
        if failed:
            pass
        elif write.kind == "put":
            size = max(write.before, write.new_size)
        elif write.kind == "update" and write.key is not None:
            size = max(write.before, store.size(region, write.table, write.key) or 0)
        total += write_units(size, write.transactional)
    return Units(write=total)


def read_call_units(
    operation: str,
    params: Mapping[str, Any],
    parsed: Mapping[str, Any],
    region: str,
    store: ItemStore,
    scanned_size: int | None = None,
) -> Units:
    """Read units of GetItem, BatchGetItem, TransactGetItems, Query and Scan.

    Point reads bill the stored item's full size (``store``; the returned item when the store
    cannot tell), at least one unit even for a missing item. Query and Scan bill the items they
    read before any filter, summed and rounded up once per call: ``scanned_size`` when the caller
    measured it, else the returned items (exact when there was no filter and no projection).
    """
    if operation == "GetItem":
        size = store.size(region, params["TableName"], params["Key"])
        if size is None:
            size = item_size(parsed.get("Item"))
        return Units(read=read_units(size, bool(params.get("ConsistentRead"))))
    if operation == "BatchGetItem":
        total = 0.0
        returned = parsed.get("Responses", {})
        unprocessed = parsed.get("UnprocessedKeys", {})
        for table, request in params.get("RequestItems", {}).items():
            consistent = bool(request.get("ConsistentRead"))
            skipped = unprocessed.get(table, {}).get("Keys", [])
            keys = [key for key in request.get("Keys", []) if key not in skipped]
            sizes = [store.size(region, table, key) for key in keys]
            if any(size is None for size in sizes):
                found = [item_size(item) for item in returned.get(table, [])]
                sizes = [*found, *[0] * max(0, len(keys) - len(found))]
            total += sum(read_units(size or 0, consistent) for size in sizes)
        return Units(read=total)
    if operation == "TransactGetItems":
        total = 0.0
        for entry in params.get("TransactItems", []):
            get = entry.get("Get", {})
            size = store.size(region, get.get("TableName", ""), get.get("Key", {}))
            total += read_units(size or 0, consistent=True, transactional=True)
        return Units(read=total)
    if operation in ("Query", "Scan"):
        if scanned_size is None:
            scanned_size = sum(item_size(item) for item in parsed.get("Items", []))
        # A GSI cannot be read consistently (DynamoDB refuses ConsistentRead there), an LSI can.
        return Units(read=read_units(scanned_size, bool(params.get("ConsistentRead"))))
    return Units()


def needs_rescan(params: Mapping[str, Any]) -> bool:
    """Whether a Query/Scan answer hides items it read: a filter, a projection or a count."""
    hiding = ("FilterExpression", "QueryFilter", "ScanFilter", "ProjectionExpression", "AttributesToGet")
    return any(name in params for name in hiding) or params.get("Select") in ("COUNT", "SPECIFIC_ATTRIBUTES")


# ---------------------------------------------------------------------------- SQS calls
def _message_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    size = len(body.encode())
    for name, value in (attributes or {}).items():
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode())
        if value.get("StringValue") is not None:
            size += len(str(value["StringValue"]).encode())
        if value.get("BinaryValue") is not None:
            size += _binary_size(value["BinaryValue"])
    return size


def sqs_payload(operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> int:
    """Bytes of message payload a call carries (sent, or received)."""
    if operation == "SendMessage":
        return _message_size(params.get("MessageBody", ""), params.get("MessageAttributes"))
    if operation == "SendMessageBatch":
        return sum(
            _message_size(entry.get("MessageBody", ""), entry.get("MessageAttributes"))
            for entry in params.get("Entries", [])
        )
    if operation == "ReceiveMessage":
        return sum(
            _message_size(message.get("Body", ""), message.get("MessageAttributes"))
            for message in parsed.get("Messages", [])
        )
    return 0


def sqs_billed_requests(operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> int:
    """One request per call, one per started 64 KB chunk of payload."""
    return max(1, math.ceil(sqs_payload(operation, params, parsed) / SQS_CHUNK_BYTES))
