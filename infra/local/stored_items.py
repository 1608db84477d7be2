"""What the meter reads about stored items without being counted: sizes, and what a Query/Scan read.

Both stand outside the metered calls: item sizes come straight from the moto backend this process
hosts (the local stack's server, or ``mock_aws`` in tests), and a Query/Scan whose answer hides what
it read is read again on a client of its own, which no meter watches.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3

from infra.local.billing import Item, item_size

_KEPT = (
    "TableName",
    "IndexName",
    "KeyConditionExpression",
    "KeyConditions",
    "ExclusiveStartKey",
    "ScanIndexForward",
    "ConsistentRead",
    "Segment",
    "TotalSegments",
)


class MotoItemStore:
    """Item sizes read from the moto backend of this process (the stack's server, or ``mock_aws``)."""

    def __init__(self, account_id: str | None = None) -> None:
        self.account_id = account_id

    def _backend(self, region: str) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account_id or DEFAULT_ACCOUNT_ID][region]

    def size(self, region: str, table: str, key: Item) -> int | None:
        try:
            item = self._backend(region).get_item(table, dict(key))
        except Exception:  # no moto here, no such table, a key moto cannot read: cannot tell
            return None
        if item is None:
            return 0
        return item_size({name: value.to_regular_json() for name, value in item.attrs.items()})

    def key_of(self, region: str, table: str, item: Item) -> Item | None:
        try:
            found = self._backend(region).get_table(table)
        except Exception:
            return None
        names = [found.hash_key_attr, found.range_key_attr]
        return {name: item[name] for name in names if name and name in item}


class Rescans:
    """Measures the items a Query/Scan read before its filter, projection or count hid them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def scanned_size(
        self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any], region: str, url: str
    ) -> int | None:
        """The same call again without what hides the items, limited to the count it read; None on failure."""
        scanned = int(parsed.get("ScannedCount", 0))
        if scanned == 0:
            return 0
        request: dict[str, Any] = {name: params[name] for name in _KEPT if name in params}
        # Only the placeholders the key condition uses: DynamoDB refuses unused ones.
        expression = str(params.get("KeyConditionExpression", ""))
        for parameter, pattern in (("ExpressionAttributeNames", "#"), ("ExpressionAttributeValues", ":")):
            used = set(re.findall(pattern + r"[A-Za-z0-9_]+", expression))
            if used:
                request[parameter] = {
                    name: value for name, value in params[parameter].items() if name in used
                }
        request["Limit"] = scanned
        parts = urlsplit(url)
        client = self._client(region, f"{parts.scheme}://{parts.netloc}")
        try:
            page = (client.query if operation == "Query" else client.scan)(**request)
        except Exception:
            return None
        return sum(item_size(item) for item in page.get("Items", []))

    def _client(self, region: str, endpoint: str) -> Any:
        with self._lock:
            client = self._clients.get((region, endpoint))
            if client is None:  # a session of its own: never watched, never counted
                client = boto3.session.Session(region_name=region).client("dynamodb", endpoint_url=endpoint)
                self._clients[(region, endpoint)] = client
            return client
