"""Broadcasts from creation to completion, with their delivery counters.

- ``BROADCAST#<id>`` / ``BROADCAST``: the broadcast with its counters; carries
  ``due_kind``/``due_at`` only while scheduled (sparse index ``due``).
- ``FANOUT#<id>#<shard>``: the fan-out of one audience shard (see ``fanouts``);
  ``JOB#<id>#<job id>``: the ledger of one delivery job (see ``deliveries``).
- ``IDEM#<key id>#<hash of Idempotency-Key>`` / ``IDEM``: a retried POST finds
  the broadcast it created.

Every broadcast is in the keys-only index ``broadcasts`` (newest first by creation); its
counters are not projected there, so counting deliveries never writes to the index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import (
    cancellation_reasons,
    client,
    from_item,
    is_conditional_failure,
    item_on_failure,
    retry_on_conflict,
    to_item,
)
from subcast.adapters.deliveries import DeliveryLedger
from subcast.adapters.fanouts import FanoutProgress
from subcast.domain.broadcast import Broadcast, BroadcastStatus, DeliveryCounts

DUE_BROADCAST = "broadcast"
IDEMPOTENCY_TTL = timedelta(hours=24)
COUNTERS = ("recipients", "sent", "failed", "skipped", "held", "delivered_later", "settled")
REASON_PREFIX = "r_"
LISTED = "BROADCAST"  # the one partition of the ``broadcasts`` index
EDITABLE = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)
MAX_PAGES = 5  # index pages read for one listing page when a filter leaves few


class NotEditable(Exception):
    def __init__(self, status: BroadcastStatus) -> None:
        super().__init__(status.value)
        self.status = status


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class NotCancellable(Exception):
    def __init__(self, status: BroadcastStatus) -> None:
        super().__init__(status.value)
        self.status = status


def _broadcast_key(broadcast_id: str) -> dict[str, Any]:
    return to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"})


def _broadcast_from_item(item: dict[str, Any]) -> Broadcast:
    values = from_item(item)
    counts = {name: values.get(name, 0) for name in COUNTERS if name != "settled"}
    # Per-reason counters are flat attributes r_<outcome>_<reason> (ADD needs no map to exist first).
    reasons = {
        name[2:].replace("_", ":", 1): count
        for name, count in values.items()
        if name.startswith(REASON_PREFIX) and count
    }
    values["counts"] = DeliveryCounts(**counts, reasons=reasons)
    return Broadcast.model_validate(values)


class BroadcastStore(DeliveryLedger, FanoutProgress):
    """Broadcasts from creation to completion; job ledgers and shard checkpoints come from the mixins."""

    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    # ------------------------------------------------------------ lifecycle
    def create(self, broadcast: Broadcast, idempotency: tuple[str, str] | None, now: datetime) -> Broadcast:
        """Store a new broadcast; with (idempotency id, request hash), a retry returns the first one."""
        values = broadcast.model_dump(mode="json", exclude={"counts"})
        values.update({name: 0 for name in COUNTERS})
        values.update({"pk": f"BROADCAST#{broadcast.broadcast_id}", "sk": "BROADCAST"})
        values.update(
            {"list_pk": LISTED, "list_at": f"{broadcast.created_at.isoformat()}#{broadcast.broadcast_id}"}
        )
        if broadcast.status is BroadcastStatus.SCHEDULED:
            values.update({"due_kind": DUE_BROADCAST, "due_at": broadcast.send_at.isoformat()})
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(values),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if idempotency:
            idempotency_id, request_hash = idempotency
            writes.insert(
                0,
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": f"IDEM#{idempotency_id}",
                                "sk": "IDEM",
                                "broadcast_id": broadcast.broadcast_id,
                                "request_hash": request_hash,
                                "expires_at": int((now + IDEMPOTENCY_TTL).timestamp()),
                            }
                        ),
                        # DynamoDB's TTL sweep may lag by days: an expired key is free again.
                        "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                        "ExpressionAttributeValues": to_item({":now": int(now.timestamp())}),
                    }
                },
            )
        try:
            retry_on_conflict(lambda: self.dynamodb.transact_write_items(TransactItems=writes))
        except ClientError as error:
            reasons = cancellation_reasons(error)
            # Only the idempotency record's own condition means "this key was used": replay.
            if not (idempotency and reasons and reasons[0] == "ConditionalCheckFailed"):
                raise
            return self._replay(*idempotency)
        return broadcast

    def _replay(self, idempotency_id: str, request_hash: str) -> Broadcast:
        found = self.dynamodb.get_item(
            TableName=self.table,
            Key=to_item({"pk": f"IDEM#{idempotency_id}", "sk": "IDEM"}),
            ConsistentRead=True,
        )["Item"]
        record = from_item(found)
        if record["request_hash"] != request_hash:
            raise IdempotencyConflict(idempotency_id)
        existing = self.get(record["broadcast_id"])
        assert existing is not None, "an idempotency record always names a stored broadcast"
        return existing

    def get(self, broadcast_id: str) -> Broadcast | None:
        found = self.dynamodb.get_item(
            TableName=self.table, Key=_broadcast_key(broadcast_id), ConsistentRead=True
        )
        return _broadcast_from_item(found["Item"]) if "Item" in found else None

    def cancel(self, broadcast_id: str, now: datetime) -> Broadcast:
        """draft, scheduled or sending -> cancelled; NotCancellable otherwise, KeyError if unknown."""
        return self._conditional(
            broadcast_id,
            "SET #status = :cancelled, cancelled_at = :now REMOVE due_kind, due_at",
            {"#status": "status"},
            {":cancelled": BroadcastStatus.CANCELLED.value, ":now": now.isoformat()},
            allowed=(BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING),
            refused=NotCancellable,
        )

    def edit(self, broadcast_id: str, changes: dict[str, Any], expected: BroadcastStatus) -> Broadcast:
        """Change a broadcast still in the ``expected`` (draft or scheduled) state; None removes a field.

        NotEditable when it moved on meanwhile (e.g. started sending).
        """
        names = {f"#{name}": name for name in changes}
        sets = [f"#{name} = :{name}" for name, value in changes.items() if value is not None]
        removes = [f"#{name}" for name, value in changes.items() if value is None]
        values: dict[str, Any] = {f":{name}": value for name, value in changes.items() if value is not None}
        if "send_at" in changes and expected is BroadcastStatus.SCHEDULED:
            sets.append("due_at = :send_at")  # it moves in the due index
        expression = f"SET {', '.join(sets)}" if sets else ""
        if removes:
            expression += f" REMOVE {', '.join(removes)}"
        return self._conditional(broadcast_id, expression.strip(), names, values, allowed=(expected,))

    def schedule(self, broadcast_id: str, send_at: datetime) -> Broadcast:
        """draft -> scheduled for ``send_at``."""
        return self._conditional(
            broadcast_id,
            "SET #status = :scheduled, send_at = :at, due_kind = :kind, due_at = :at",
            {"#status": "status"},
            {
                ":scheduled": BroadcastStatus.SCHEDULED.value,
                ":at": send_at.isoformat(),
                ":kind": DUE_BROADCAST,
            },
            allowed=(BroadcastStatus.DRAFT,),
        )

    def _conditional(
        self,
        broadcast_id: str,
        expression: str,
        names: dict[str, str],
        values: dict[str, Any],
        allowed: tuple[BroadcastStatus, ...] = EDITABLE,
        refused: type[NotEditable | NotCancellable] = NotEditable,
    ) -> Broadcast:
        """A conditional update of a broadcast in one of the ``allowed`` states, returning the result."""
        states = {f":allowed{index}": status.value for index, status in enumerate(allowed)}
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=_broadcast_key(broadcast_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(pk) AND #status IN ({', '.join(states)})",
                ExpressionAttributeNames=names | {"#status": "status"},
                ExpressionAttributeValues=to_item(values | states),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            old = item_on_failure(error)
            if not old:
                raise KeyError(broadcast_id) from error
            raise refused(BroadcastStatus(old["status"])) from error
        return _broadcast_from_item(response["Attributes"])

    def page(
        self, limit: int, cursor: dict[str, Any] | None, wanted: Callable[[Broadcast], bool]
    ) -> tuple[list[Broadcast], dict[str, Any] | None]:
        """Up to ``limit`` broadcasts that ``wanted`` accepts, newest first, and where to go on."""
        found: list[Broadcast] = []
        start = cursor
        for _ in range(MAX_PAGES):
            query: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "broadcasts",
                "KeyConditionExpression": "list_pk = :listed",
                "ExpressionAttributeValues": to_item({":listed": LISTED}),
                "ScanIndexForward": False,
                "Limit": limit - len(found),
            }
            if start:
                query["ExclusiveStartKey"] = start
            response = self.dynamodb.query(**query)
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]
            found.extend(broadcast for broadcast in self._get_many(keys) if wanted(broadcast))
            start = response.get("LastEvaluatedKey")
            if start is None or len(found) >= limit:
                break
        return found, start

    def _get_many(self, keys: list[dict[str, Any]]) -> list[Broadcast]:
        """The broadcasts behind index keys, in the index's order."""
        items: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}} if keys else {}
        while request:
            response = self.dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table, []):
                items[item["pk"]["S"]] = item
            request = response.get("UnprocessedKeys") or {}
        return [_broadcast_from_item(items[key["pk"]["S"]]) for key in keys if key["pk"]["S"] in items]

    def due(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of scheduled broadcasts whose send_at has come."""
        response = self.dynamodb.query(
            TableName=self.table,
            IndexName="due",
            KeyConditionExpression="due_kind = :kind AND due_at <= :now",
            ExpressionAttributeValues=to_item({":kind": DUE_BROADCAST, ":now": now.isoformat()}),
            Limit=limit,
        )
        return [from_item(item)["pk"].removeprefix("BROADCAST#") for item in response.get("Items", [])]

    # --------------------------------------------------------------- fan-out
    def start_sending(self, broadcast_id: str, now: datetime) -> None:
        """scheduled -> sending (no-op when already sending); it leaves the due index."""
        self._update_if(
            broadcast_id,
            "SET #status = :sending, started_at = :now REMOVE due_kind, due_at",
            "#status = :scheduled",
            {
                ":sending": BroadcastStatus.SENDING.value,
                ":scheduled": BroadcastStatus.SCHEDULED.value,
                ":now": now.isoformat(),
            },
        )

    def complete_if_done(self, broadcast_id: str) -> None:
        """sending -> sent once fan-out is over and every recipient is settled."""
        self._update_if(
            broadcast_id,
            "SET #status = :sent",
            "#status = :sending AND fanout_done = :true AND settled >= recipients",
            {":sent": BroadcastStatus.SENT.value, ":sending": BroadcastStatus.SENDING.value, ":true": True},
        )

    def _update_if(self, broadcast_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        """A conditional update of the broadcast; False (not an error) when the condition does not hold."""
        names = {"ExpressionAttributeNames": {"#status": "status"}} if "#status" in update + condition else {}
        try:
            retry_on_conflict(
                lambda: self.dynamodb.update_item(
                    TableName=self.table,
                    Key=_broadcast_key(broadcast_id),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=to_item(values),
                    **names,
                )
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            return False
        return True
