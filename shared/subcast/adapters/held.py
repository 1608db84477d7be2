"""Snippets held back for a subscriber's quiet hours or digest, and the frequency-cap counters.

- ``SUB#<id>`` / ``HOLD#<broadcast id>``: one held snippet; ``release_at`` is when
  it may go out. While waiting it sits in the sparse ``due`` index (kind
  ``held``); the dispatcher moves ``due_at`` one lease ahead each time it queues
  the release, so a lost release message is queued again, but never every minute.
  ``sending_until`` is the release's per-subscriber barrier.
- ``SUB#<id>`` / ``CAP#<period>``: the broadcasts counted against a frequency
  cap in one local day or week, as a string set: adding the same broadcast
  twice counts it once, so a redelivered job never uses up two slots.

Both live under the subscriber, so erasure removes them with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import cancellation_reasons, client, from_item, is_conditional_failure, to_item

DUE_HELD = "held"
HOLD_TTL = timedelta(days=35)
CAP_TTL = timedelta(days=9)
#: How long a queued release (or a release being sent) keeps others away from the same snippets.
RELEASE_LEASE = timedelta(minutes=10)
#: Held snippets released in one go (one DynamoDB transaction).
MAX_RELEASE = 40


@dataclass(frozen=True)
class HeldSnippet:
    subscriber_id: str
    broadcast_id: str
    reason: str  # quiet_hours | digest
    release_at: datetime


def _hold_key(subscriber_id: str, broadcast_id: str) -> dict[str, Any]:
    return to_item({"pk": f"SUB#{subscriber_id}", "sk": f"HOLD#{broadcast_id}"})


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class HeldStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    # ------------------------------------------------------------- holding
    def hold_write(self, snippet: HeldSnippet) -> dict[str, Any]:
        """The transaction item that holds a snippet (written with the recipient's settlement)."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(
                    {
                        "pk": f"SUB#{snippet.subscriber_id}",
                        "sk": f"HOLD#{snippet.broadcast_id}",
                        "broadcast_id": snippet.broadcast_id,
                        "reason": snippet.reason,
                        "release_at": _utc(snippet.release_at),
                        "due_kind": DUE_HELD,
                        "due_at": _utc(snippet.release_at),
                        "expires_at": int((snippet.release_at + HOLD_TTL).timestamp()),
                    }
                ),
            }
        }

    def hold(self, snippet: HeldSnippet) -> None:
        """Hold a snippet once: holding it again (a job resumed) changes nothing."""
        put = self.hold_write(snippet)["Put"]
        try:
            self.dynamodb.put_item(**put, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

    def due_subscribers(self, now: datetime, limit: int = 1000) -> list[str]:
        """Subscribers with held snippets due, each queued once per lease (it moves their ``due_at``)."""
        subscribers: dict[str, None] = {}
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "due",
            "KeyConditionExpression": "due_kind = :kind AND due_at <= :now",
            "ExpressionAttributeValues": to_item({":kind": DUE_HELD, ":now": _utc(now)}),
        }
        seen = 0
        while seen < limit:
            page = self.dynamodb.query(**query)
            for item in page.get("Items", []):
                values = from_item(item)
                seen += 1
                if self._lease(values, now):
                    subscribers[values["pk"].removeprefix("SUB#")] = None
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return list(subscribers)

    def _lease(self, values: dict[str, Any], now: datetime) -> bool:
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": values["pk"], "sk": values["sk"]}),
                UpdateExpression="SET due_at = :next",
                ConditionExpression="due_at = :seen",
                ExpressionAttributeValues=to_item(
                    {":next": _utc(now + RELEASE_LEASE), ":seen": values["due_at"]}
                ),
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False  # another dispatcher tick took it, or the release already removed it
            raise
        return True

    # ----------------------------------------------------------- releasing
    def held_for(self, subscriber_id: str) -> list[HeldSnippet]:
        """Every snippet held for a subscriber, oldest release first."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :hold)",
            "ExpressionAttributeValues": to_item({":pk": f"SUB#{subscriber_id}", ":hold": "HOLD#"}),
            "ConsistentRead": True,
        }
        while True:
            page = self.dynamodb.query(**query)
            items.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        held = [
            HeldSnippet(
                subscriber_id=subscriber_id,
                broadcast_id=values["broadcast_id"],
                reason=values["reason"],
                release_at=datetime.fromisoformat(values["release_at"]),
            )
            for values in items
        ]
        return sorted(held, key=lambda snippet: (snippet.release_at, snippet.broadcast_id))

    def take(self, snippets: list[HeldSnippet], now: datetime) -> bool:
        """Claim snippets for sending, all or none; False while another release holds any of them."""
        until = _utc(now + RELEASE_LEASE)
        writes = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _hold_key(snippet.subscriber_id, snippet.broadcast_id),
                    "UpdateExpression": "SET sending_until = :until, due_at = :until",
                    "ConditionExpression": "attribute_exists(pk) AND "
                    "(attribute_not_exists(sending_until) OR sending_until < :now)",
                    "ExpressionAttributeValues": to_item({":until": until, ":now": _utc(now)}),
                }
            }
            for snippet in snippets
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and ("ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons):
                return False
            raise
        return True

    def give_back(self, snippets: list[HeldSnippet]) -> None:
        """The send did not happen: let the next release try at once."""
        self._update_each(snippets, "SET due_at = release_at REMOVE sending_until", {})

    def postpone(self, snippets: list[HeldSnippet], release_at: datetime) -> None:
        """Hold longer (the quiet hours began again before the release went out)."""
        self._update_each(
            snippets, "SET release_at = :at, due_at = :at REMOVE sending_until", {":at": _utc(release_at)}
        )

    def _update_each(self, snippets: list[HeldSnippet], update: str, values: dict[str, Any]) -> None:
        """Update held snippets that still exist (one released meanwhile is left alone)."""
        for snippet in snippets:
            try:
                self.dynamodb.update_item(
                    TableName=self.table,
                    Key=_hold_key(snippet.subscriber_id, snippet.broadcast_id),
                    UpdateExpression=update,
                    ConditionExpression="attribute_exists(pk)",
                    **({"ExpressionAttributeValues": to_item(values)} if values else {}),
                )
            except ClientError as error:
                if not is_conditional_failure(error):
                    raise

    def finish(self, snippets: list[HeldSnippet], delivered: list[str]) -> None:
        """Remove released snippets and count, on each broadcast, those delivered; exactly once."""
        writes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _hold_key(snippet.subscriber_id, snippet.broadcast_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
            for snippet in snippets
        ]
        writes += [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"}),
                    "UpdateExpression": "ADD delivered_later :one",
                    "ExpressionAttributeValues": to_item({":one": 1}),
                }
            }
            for broadcast_id in dict.fromkeys(delivered)
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and "ConditionalCheckFailed" in reasons:
                return  # finished by an earlier attempt: counted then
            raise

    # ------------------------------------------------------ frequency caps
    def count_against_cap(
        self, subscriber_id: str, period: str, broadcast_id: str, limit: int, now: datetime
    ) -> bool:
        """Take one of ``limit`` slots of the period for this broadcast; False when they are used up.

        Idempotent: the same broadcast takes the same slot however often it is counted.
        """
        until = now + CAP_TTL
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": f"SUB#{subscriber_id}", "sk": f"CAP#{period}"}),
                UpdateExpression="ADD broadcasts :this SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(broadcasts) OR contains(broadcasts, :id) "
                "OR size(broadcasts) < :limit",
                ExpressionAttributeValues={
                    ":this": {"SS": [broadcast_id]},
                    ":id": {"S": broadcast_id},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(int(until.timestamp()))},
                },
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True

    def uncount(self, subscriber_id: str, period: str, broadcast_id: str) -> None:
        """Give a slot back: the send it was taken for did not happen."""
        self.dynamodb.update_item(
            TableName=self.table,
            Key=to_item({"pk": f"SUB#{subscriber_id}", "sk": f"CAP#{period}"}),
            UpdateExpression="DELETE broadcasts :this",
            ExpressionAttributeValues={":this": {"SS": [broadcast_id]}},
        )
