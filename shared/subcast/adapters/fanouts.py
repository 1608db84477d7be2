"""Fan-out progress, one item per audience shard, so the shards of a broadcast run in parallel.

``FANOUT#<broadcast id>#<shard>`` / ``FANOUT``:

- ``cursor``: where the next page of the shard starts (the index's last key, JSON);
- ``plan``: the jobs of the last page, written *before* they are enqueued
  (write-ahead). An invocation that died between the two enqueues the same
  jobs again, with the same ids and recipients, so nobody lands in two jobs;
- ``version``: every step is conditional on it; ``done``: the shard is finished.

``FANOUT#<broadcast id>#<shard>`` / ``ENQUEUED`` holds the version whose plan is
known to be on the queue: a small item of its own, because an update is billed
by the size of the whole item, and the plan is the large part.

Each step also adds the page's recipients to the broadcast's counter in the same
transaction; the last one adds the shard to the broadcast's ``shards_done``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import (
    cancellation_reasons,
    from_item,
    is_conditional_failure,
    retry_on_conflict,
    to_item,
)

FANOUT_TTL = timedelta(days=35)


@dataclass(frozen=True)
class ShardProgress:
    version: int = 0
    cursor: str | None = None  # None: from the start of the shard
    plan: tuple[tuple[str, ...], ...] = field(default=())
    plan_enqueued: bool = True
    done: bool = False


def _shard_key(broadcast_id: str, shard: str) -> dict[str, Any]:
    return to_item({"pk": f"FANOUT#{broadcast_id}#{shard}", "sk": "FANOUT"})


class FanoutProgress:
    """Mixed into ``BroadcastStore``: the shards' checkpoints and the end of the fan-out."""

    table: str
    dynamodb: Any

    def complete_if_done(self, broadcast_id: str) -> None:
        raise NotImplementedError

    def shard_progress(self, broadcast_id: str, shard: str) -> ShardProgress:
        pk = f"FANOUT#{broadcast_id}#{shard}"
        keys = [to_item({"pk": pk, "sk": sk}) for sk in ("FANOUT", "ENQUEUED")]
        request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
        items: dict[str, dict[str, Any]] = {}
        while request:
            response = self.dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table, []):
                items[item["sk"]["S"]] = from_item(item)
            request = response.get("UnprocessedKeys") or {}
        values = items.get("FANOUT")
        if values is None:
            return ShardProgress()
        version = int(values["version"])
        enqueued = int(items.get("ENQUEUED", {}).get("version", 0))
        return ShardProgress(
            version=version,
            cursor=values.get("cursor") or None,
            plan=tuple(tuple(job) for job in values.get("plan") or ()),
            plan_enqueued=not values.get("plan") or enqueued == version,
            done=bool(values.get("done")),
        )

    def plan_page(
        self,
        broadcast_id: str,
        shard: str,
        version: int,
        *,
        cursor: str | None,
        plan: list[list[str]],
        now: datetime,
        shards: int,
    ) -> bool:
        """Write a page's jobs ahead of enqueueing them and move the shard's cursor (None: shard done).

        False when another invocation moved the shard first. Adds the page's
        recipients to the broadcast; the shard's last page also marks it done.
        """
        done = cursor is None
        values: dict[str, Any] = {
            ":next": version + 1,
            ":cursor": cursor or "",
            ":plan": plan,
            ":done": done,
            ":expires": int((now + FANOUT_TTL).timestamp()),
        }
        condition = "attribute_not_exists(pk)" if version == 0 else "version = :version"
        if version:
            values[":version"] = version
        broadcast_update = "ADD recipients :found"
        broadcast_values: dict[str, Any] = {":found": sum(len(job) for job in plan)}
        if done:
            broadcast_update += ", shards_done :shard"
            broadcast_values[":shard"] = {shard}
        writes = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _shard_key(broadcast_id, shard),
                    "UpdateExpression": (
                        "SET version = :next, #cursor = :cursor, #plan = :plan, done = :done,"
                        " expires_at = :expires"
                    ),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#cursor": "cursor", "#plan": "plan"},
                    "ExpressionAttributeValues": to_item(values),
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"}),
                    "UpdateExpression": broadcast_update,
                    "ExpressionAttributeValues": to_item(broadcast_values),
                }
            },
        ]
        try:
            retry_on_conflict(lambda: self.dynamodb.transact_write_items(TransactItems=writes))
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        if done:
            self._finish_if_all_shards(broadcast_id, shards)
        return True

    def plan_enqueued(self, broadcast_id: str, shard: str, version: int, now: datetime) -> None:
        """The plan of ``version`` is on the queue: a later invocation need not enqueue it again."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_item(
                    {
                        "pk": f"FANOUT#{broadcast_id}#{shard}",
                        "sk": "ENQUEUED",
                        "version": version,
                        "expires_at": int((now + FANOUT_TTL).timestamp()),
                    }
                ),
                ConditionExpression="attribute_not_exists(version) OR version < :version",
                ExpressionAttributeValues=to_item({":version": version}),
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

    def _finish_if_all_shards(self, broadcast_id: str, shards: int) -> None:
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"}),
                UpdateExpression="SET fanout_done = :true",
                ConditionExpression="size(shards_done) >= :shards",
                ExpressionAttributeValues=to_item({":true": True, ":shards": shards}),
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            return
        self.complete_if_done(broadcast_id)
