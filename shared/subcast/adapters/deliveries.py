"""The per-recipient delivery barriers of broadcasts and the job tallies that feed their counters.

- ``DELIVERY#<broadcast id>#<subscriber id>`` / ``DELIVERY``: the barrier that
  makes a broadcast reach each subscriber once. One partition per recipient, so
  a large broadcast never heats a single partition.
- ``BROADCAST#<id>`` / ``JOB#<job id>``: a delivery job's tally was added to
  the counters (so a redelivered job never counts twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import (
    cancellation_reasons,
    is_conditional_failure,
    item_on_failure,
    retry_on_conflict,
    to_item,
)

DELIVERY_TTL = timedelta(days=35)


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to take one recipient of a broadcast."""

    taken: bool
    state: str | None = None  # when not taken: the recorded state (claimed, sent, failed)
    job_id: str | None = None  # when not taken: the job that holds the recipient
    reason: str | None = None  # when not taken and settled: why it was skipped, failed or held


def _delivery_key(broadcast_id: str, subscriber_id: str) -> dict[str, Any]:
    return to_item({"pk": f"DELIVERY#{broadcast_id}#{subscriber_id}", "sk": "DELIVERY"})


class DeliveryLedger:
    """Mixed into ``BroadcastStore``: claims, settlements and tallies of recipients."""

    table: str
    dynamodb: Any

    def complete_if_done(self, broadcast_id: str) -> None:
        """Provided by ``BroadcastStore``: sending -> sent once every recipient is settled."""
        raise NotImplementedError

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
            return Claim(
                taken=False,
                state=old.get("state"),
                job_id=old.get("job_id"),
                reason=old.get("reason") or None,
            )
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
        """Add one job's tally to the broadcast's counters, exactly once per job id.

        ``tally`` counts outcomes (``sent``) and outcomes by reason (``skipped:cap``).
        """
        counts = {f":{name}": tally.get(name, 0) for name in ("sent", "failed", "skipped", "held")}
        counts[":settled"] = sum(counts.values())
        by_reasons = sorted((key, count) for key, count in tally.items() if ":" in key and count)
        names = {f"#r{index}": "r_" + key.replace(":", "_", 1) for index, (key, _) in enumerate(by_reasons)}
        counts.update({f":r{index}": count for index, (_, count) in enumerate(by_reasons)})
        by_reason = "".join(f", #r{index} :r{index}" for index in range(len(by_reasons)))
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
                    "Key": to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"}),
                    "UpdateExpression": (
                        "ADD sent :sent, failed :failed, skipped :skipped, held :held, settled :settled"
                        + by_reason
                    ),
                    "ExpressionAttributeValues": to_item(counts),
                    **({"ExpressionAttributeNames": names} if names else {}),
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
