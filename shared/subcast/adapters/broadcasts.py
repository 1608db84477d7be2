"""Broadcasts, their fan-out progress, per-recipient delivery barriers and job tallies.

- ``BROADCAST#<id>`` / ``BROADCAST``: the broadcast with its counters; carries
  ``due_kind``/``due_at`` only while scheduled (sparse index ``due``).
- ``BROADCAST#<id>`` / ``JOB#<job id>``: a delivery job's tally was added to
  the counters (so a redelivered job never counts twice).
- ``DELIVERY#<broadcast id>#<subscriber id>`` / ``DELIVERY``: the barrier that
  makes a broadcast reach each subscriber once. One partition per recipient, so
  a large broadcast never heats a single partition.
- ``IDEM#<key id>#<hash of Idempotency-Key>`` / ``IDEM``: a retried POST finds
  the broadcast it created.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from subcast.domain.broadcast import Broadcast, BroadcastStatus, DeliveryCounts

DUE_BROADCAST = "broadcast"
IDEMPOTENCY_TTL = timedelta(hours=24)
DELIVERY_TTL = timedelta(days=35)
COUNTERS = ("recipients", "sent", "failed", "skipped", "held", "delivered_later", "settled")


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class NotCancellable(Exception):
    def __init__(self, status: BroadcastStatus) -> None:
        super().__init__(status.value)
        self.status = status


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take one recipient of a broadcast."""

    taken: bool
    state: str | None = None  # when not taken: the recorded state (claimed, sent, failed)
    job_id: str | None = None  # when not taken: the job that holds the recipient


def _broadcast_key(broadcast_id: str) -> dict[str, Any]:
    return to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"})


def _delivery_key(broadcast_id: str, subscriber_id: str) -> dict[str, Any]:
    return to_item({"pk": f"DELIVERY#{broadcast_id}#{subscriber_id}", "sk": "DELIVERY"})


def _broadcast_from_item(item: dict[str, Any]) -> Broadcast:
    values = from_item(item)
    values["counts"] = DeliveryCounts(**{name: values.get(name, 0) for name in COUNTERS if name != "settled"})
    return Broadcast.model_validate(values)


class BroadcastStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    # ------------------------------------------------------------ lifecycle
    def create(self, broadcast: Broadcast, idempotency: tuple[str, str] | None, now: datetime) -> Broadcast:
        """Store a new broadcast; with (idempotency id, request hash), a retry returns the first one."""
        values = broadcast.model_dump(mode="json", exclude={"counts"})
        values.update({name: 0 for name in COUNTERS})
        values.update({"pk": f"BROADCAST#{broadcast.broadcast_id}", "sk": "BROADCAST"})
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
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=_broadcast_key(broadcast_id),
                UpdateExpression="SET #status = :cancelled, cancelled_at = :now REMOVE due_kind, due_at",
                ConditionExpression="attribute_exists(pk) AND #status IN (:scheduled, :sending)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {
                        ":cancelled": BroadcastStatus.CANCELLED.value,
                        ":scheduled": BroadcastStatus.SCHEDULED.value,
                        ":sending": BroadcastStatus.SENDING.value,
                        ":now": now.isoformat(),
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            old = item_on_failure(error)
            if not old:
                raise KeyError(broadcast_id) from error
            raise NotCancellable(BroadcastStatus(old["status"])) from error
        return _broadcast_from_item(response["Attributes"])

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

    def fanout_cursor(self, broadcast_id: str) -> str | None:
        found = self.dynamodb.get_item(
            TableName=self.table,
            Key=_broadcast_key(broadcast_id),
            ProjectionExpression="fanout_cursor",
            ConsistentRead=True,
        ).get("Item", {})
        cursor: str | None = from_item(found).get("fanout_cursor")
        return cursor

    def checkpoint(self, broadcast_id: str, before: str | None, after: str, found: int) -> bool:
        """Advance the fan-out cursor and count the recipients found, once per page.

        The condition on the previous cursor makes a replayed page a no-op and
        returns False: another invocation is fanning this broadcast out.
        """
        condition = "fanout_cursor = :before" if before is not None else "attribute_not_exists(fanout_cursor)"
        values: dict[str, Any] = {":after": after, ":found": found}
        if before is not None:
            values[":before"] = before
        return self._update_if(
            broadcast_id, "SET fanout_cursor = :after ADD recipients :found", condition, values
        )

    def finish_fanout(self, broadcast_id: str) -> None:
        retry_on_conflict(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=_broadcast_key(broadcast_id),
                UpdateExpression="SET fanout_done = :true",
                ExpressionAttributeValues=to_item({":true": True}),
            )
        )
        self.complete_if_done(broadcast_id)

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

    # -------------------------------------------------------------- delivery
    def claim(
        self, broadcast_id: str, subscriber_id: str, job_id: str, now: datetime, lease: timedelta
    ) -> Claim:
        """Take a recipient for sending, unless it was sent, failed, or is being sent under a live lease."""
        item = {
            **_delivery_key(broadcast_id, subscriber_id),
            **to_item(
                {
                    "state": "claimed",
                    "job_id": job_id,
                    "lease_until": (now + lease).isoformat(),
                    "expires_at": int((now + DELIVERY_TTL).timestamp()),
                }
            ),
        }
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR (#state = :claimed AND lease_until < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item({":claimed": "claimed", ":now": now.isoformat()}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            old = item_on_failure(error)
            return Claim(taken=False, state=old.get("state"), job_id=old.get("job_id"))
        return Claim(taken=True)

    def settle(
        self,
        broadcast_id: str,
        subscriber_id: str,
        state: str,
        reason: str | None = None,
        *,
        together_with: dict[str, Any] | None = None,
    ) -> None:
        """Record the end of one recipient's delivery: sent, failed, skipped or held (with a reason).

        ``together_with`` is one more transaction item written atomically with it (a held snippet).
        """
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _delivery_key(broadcast_id, subscriber_id),
            "UpdateExpression": "SET #state = :state, reason = :reason REMOVE lease_until",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": to_item({":state": state, ":reason": reason or ""}),
        }
        if together_with is None:
            self.dynamodb.update_item(**update)
        else:
            self.dynamodb.transact_write_items(TransactItems=[{"Update": update}, together_with])

    def release(self, broadcast_id: str, subscriber_id: str) -> None:
        """Give a claimed recipient back (the send did not happen), so a retry may take it at once."""
        self.dynamodb.delete_item(
            TableName=self.table,
            Key=_delivery_key(broadcast_id, subscriber_id),
            ConditionExpression="#state = :claimed",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":claimed": "claimed"}),
        )

    def record_job(self, broadcast_id: str, job_id: str, tally: dict[str, int], now: datetime) -> bool:
        """Add one job's tally to the broadcast's counters, exactly once per job id."""
        counts = {f":{name}": tally.get(name, 0) for name in ("sent", "failed", "skipped", "held")}
        counts[":settled"] = sum(counts.values())
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(
                        {
                            "pk": f"BROADCAST#{broadcast_id}",
                            "sk": f"JOB#{job_id}",
                            "tally": tally,
                            "recorded_at": now.isoformat(),
                            "expires_at": int((now + DELIVERY_TTL).timestamp()),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _broadcast_key(broadcast_id),
                    "UpdateExpression": (
                        "ADD sent :sent, failed :failed, skipped :skipped, held :held, settled :settled"
                    ),
                    "ExpressionAttributeValues": to_item(counts),
                }
            },
        ]
        recorded = True
        try:
            retry_on_conflict(lambda: self.dynamodb.transact_write_items(TransactItems=writes))
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not (reasons and reasons[0] == "ConditionalCheckFailed"):
                raise  # a conflict or throttling that outlived the retries: SQS redelivers the job
            recorded = False  # recorded by an earlier attempt of this job
        # Also on the replay path: the earlier attempt may have died before completing the broadcast.
        self.complete_if_done(broadcast_id)
        return recorded
