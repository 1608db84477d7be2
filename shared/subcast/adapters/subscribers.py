"""Subscribers, their addresses, consent records and inbound-message markers in DynamoDB.

Item layout (single table, ``pk``/``sk``):
- ``SUB#<id>`` / ``PROFILE``: the subscriber; carries ``audience_shard`` only
  while they may receive broadcasts (sparse index ``audience``).
- ``SUB#<id>`` / ``CONSENT#<consent_id>``: one consent record per opt-in.
- ``ADDR#<channel>#<address>`` / ``ADDR``: which subscriber an address belongs to.
- ``SUB#<id>`` / ``INBOX#<time>#<message id>``: feedback and messages not understood,
  kept for the publisher (sparse index ``inbox``); a year, or until erasure.
- ``INBOUND#<channel>#<message id>`` / ``INBOUND``: this provider message was
  applied; holds the replies (outbox) until they are sent. Expires after 8 days,
  longer than any provider retries a webhook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import cancellation_reasons, client, from_item, is_conditional_failure, to_item
from subcast.adapters.referrals import credit_write
from subcast.domain.conversation import Inbound, Outcome
from subcast.domain.subscriber import (
    Channel,
    ConsentRecord,
    InboxEntry,
    Subscriber,
    SubscriberState,
    audience_shard,
)

INBOUND_MARKER_TTL = timedelta(days=8)
DUE_RESUME = "resume"
INBOX_TTL = timedelta(days=365)
#: Items under a subscriber that erasure removes (see ``held`` for HOLD# and CAP#).
ERASED_PREFIXES = ("INBOX#", "HOLD#", "CAP#")


class StaleSubscriber(Exception):
    """Someone else changed the subscriber since it was read: read again and redo."""


class AlreadyApplied(Exception):
    """This provider message was applied before (a redelivery)."""


@dataclass(frozen=True)
class OutboxReply:
    channel: Channel
    address: str
    text: str


@dataclass(frozen=True)
class InboundMarker:
    key: dict[str, Any]
    subscriber_id: str | None
    outbox: tuple[OutboxReply, ...]


def _profile_key(subscriber_id: str) -> dict[str, Any]:
    return to_item({"pk": f"SUB#{subscriber_id}", "sk": "PROFILE"})


def _address_key(channel: Channel, address: str) -> dict[str, Any]:
    return to_item({"pk": f"ADDR#{channel.value}#{address}", "sk": "ADDR"})


def _marker_key(inbound: Inbound) -> dict[str, Any]:
    return to_item({"pk": f"INBOUND#{inbound.channel.value}#{inbound.message_id}", "sk": "INBOUND"})


def profile_item(subscriber: Subscriber) -> dict[str, Any]:
    values = subscriber.model_dump(mode="json")
    values["addresses"] = [item.model_dump(mode="json") for item in subscriber.addresses]
    extra: dict[str, Any] = {
        "pk": f"SUB#{subscriber.subscriber_id}",
        "sk": "PROFILE",
        "profile_state": subscriber.state.value,  # index ``subscribers``
    }
    if subscriber.receives_broadcasts:
        extra["audience_shard"] = audience_shard(subscriber.subscriber_id)
    if subscriber.state is SubscriberState.PAUSED and subscriber.paused_until is not None:
        # Sparse index ``due``: the dispatcher ends the pause when this moment comes.
        extra["due_kind"] = DUE_RESUME
        extra["due_at"] = subscriber.paused_until.astimezone(UTC).isoformat()
    return to_item({**values, **extra})


def inbox_item(entry: InboxEntry) -> dict[str, Any]:
    """Under the subscriber (erasure finds it) and in the sparse ``inbox`` index (the publisher reads it)."""
    moment = entry.received_at.astimezone(UTC).isoformat()
    return to_item(
        {
            "pk": f"SUB#{entry.subscriber_id}",
            "sk": f"INBOX#{moment}#{entry.message_id}",
            "inbox_pk": "INBOX",
            "inbox_at": f"{moment}#{entry.message_id}",
            "expires_at": int((entry.received_at + INBOX_TTL).timestamp()),
            **entry.model_dump(mode="json"),
        }
    )


def subscriber_from_item(item: dict[str, Any]) -> Subscriber:
    return Subscriber.model_validate(from_item(item))


class SubscriberStore:
    """Reads and atomically changes what subcast knows about subscribers."""

    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def find_by_address(
        self, channel: Channel, address: str
    ) -> tuple[Subscriber | None, ConsentRecord | None]:
        """The subscriber behind an address, with their current consent record."""
        found = self.dynamodb.get_item(
            TableName=self.table, Key=_address_key(channel, address), ConsistentRead=True
        ).get("Item")
        if not found:
            return None, None
        return self.get_with_consent(from_item(found)["subscriber_id"])

    def get_with_consent(self, subscriber_id: str) -> tuple[Subscriber | None, ConsentRecord | None]:
        """The profile and its current consent record: two item reads, however much history there is."""
        subscriber = self.get(subscriber_id)
        if subscriber is None or subscriber.consent_id is None:
            return subscriber, None
        found = self.dynamodb.get_item(
            TableName=self.table,
            Key=to_item({"pk": f"SUB#{subscriber_id}", "sk": f"CONSENT#{subscriber.consent_id}"}),
            ConsistentRead=True,
        ).get("Item")
        return subscriber, ConsentRecord.model_validate(from_item(found)) if found else None

    def consent_history(self, subscriber_id: str) -> list[ConsentRecord]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :consent)",
            ExpressionAttributeValues=to_item({":pk": f"SUB#{subscriber_id}", ":consent": "CONSENT#"}),
            ConsistentRead=True,
        )
        records = [ConsentRecord.model_validate(from_item(item)) for item in items]
        return sorted(records, key=lambda record: record.requested_at)

    def inbox_of(self, subscriber_id: str) -> list[dict[str, Any]]:
        return self._items_under(subscriber_id, "INBOX#")

    def _items_under(self, subscriber_id: str, prefix: str) -> list[dict[str, Any]]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"SUB#{subscriber_id}", ":prefix": prefix}),
            ConsistentRead=True,
        )
        return [from_item(item) for item in items]

    def export_document(self, subscriber: Subscriber) -> dict[str, Any]:
        """Everything kept about a subscriber, as plain JSON-able data (GDPR Art. 20)."""
        return {
            "subscriber": subscriber.model_dump(mode="json", exclude={"version"}),
            "consent": [
                record.model_dump(mode="json") for record in self.consent_history(subscriber.subscriber_id)
            ],
            "inbox": [
                {name: entry.get(name) for name in ("kind", "text", "received_at")}
                for entry in self.inbox_of(subscriber.subscriber_id)
            ],
            "held_for_later": [
                {name: entry.get(name) for name in ("broadcast_id", "reason", "release_at")}
                for entry in self._items_under(subscriber.subscriber_id, "HOLD#")
            ],
        }

    def erase_personal_items(self, subscriber_id: str) -> None:
        """Delete what a subscriber wrote to the publisher, their held snippets and cap counters.

        Idempotent: run again after a crash. The profile (tombstone) and consent records stay.
        """
        items = self._query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"SUB#{subscriber_id}"}),
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        keys = [item for item in items if item["sk"]["S"].startswith(ERASED_PREFIXES)]
        for start in range(0, len(keys), 25):
            request = {self.table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
            while request:
                request = self.dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def pauses_ending(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of paused subscribers whose pause has ended."""
        response = self.dynamodb.query(
            TableName=self.table,
            IndexName="due",
            KeyConditionExpression="due_kind = :kind AND due_at <= :now",
            ExpressionAttributeValues=to_item({":kind": DUE_RESUME, ":now": now.astimezone(UTC).isoformat()}),
            Limit=limit,
        )
        return [from_item(item)["pk"].removeprefix("SUB#") for item in response.get("Items", [])]

    def replace(self, previous: Subscriber, changed: Subscriber) -> bool:
        """Write ``changed`` if the stored subscriber is still ``previous`` (same version); False if not."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=profile_item(changed.model_copy(update={"version": previous.version + 1})),
                ConditionExpression="version = :version",
                ExpressionAttributeValues=to_item({":version": previous.version}),
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            return False
        return True

    def get(self, subscriber_id: str) -> Subscriber | None:
        """The current profile (strongly consistent)."""
        found = self.dynamodb.get_item(
            TableName=self.table, Key=_profile_key(subscriber_id), ConsistentRead=True
        )
        return subscriber_from_item(found["Item"]) if "Item" in found else None

    def get_many(self, subscriber_ids: list[str], *, consistent: bool = True) -> dict[str, Subscriber]:
        """Current profiles by id, in batches of 100; the missing are left out.

        ``consistent=False`` reads at half the price and may miss a change made in the last second.
        """
        found: dict[str, Subscriber] = {}
        for start in range(0, len(subscriber_ids), 100):
            keys = [
                _profile_key(subscriber_id)
                for subscriber_id in dict.fromkeys(subscriber_ids[start : start + 100])
            ]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": consistent}}
            for attempt in range(8):
                response = self.dynamodb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    subscriber = subscriber_from_item(item)
                    found[subscriber.subscriber_id] = subscriber
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))  # throttled: back off before the rest
            else:
                raise RuntimeError("DynamoDB left profiles unread after eight attempts")
        return found

    def apply(
        self,
        inbound: Inbound,
        outcome: Outcome,
        previous: Subscriber | None,
        replies: tuple[OutboxReply, ...],
        address_hash: str = "",
    ) -> None:
        """Record that ``inbound`` was applied, with all its effects, in one transaction.

        Raises AlreadyApplied for a message applied before, StaleSubscriber when
        the subscriber changed since it was read.
        """
        owner = outcome.subscriber or previous
        marker = {
            **_marker_key(inbound),
            **to_item(
                {
                    "received_at": inbound.received_at.isoformat(),
                    "expires_at": int((inbound.received_at + INBOUND_MARKER_TTL).timestamp()),
                    "subscriber_id": owner.subscriber_id if owner else None,
                    "outbox": [
                        {"channel": reply.channel.value, "address": reply.address, "text": reply.text}
                        for reply in replies
                    ],
                }
            ),
        }
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": marker,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if outcome.subscriber is not None:
            changed = outcome.subscriber.model_copy(
                update={"version": (previous.version + 1) if previous else 1}
            )
            put: dict[str, Any] = {"TableName": self.table, "Item": profile_item(changed)}
            if previous is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
                address = changed.primary
                writes.append(
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                **_address_key(address.channel, address.address),
                                **to_item({"subscriber_id": changed.subscriber_id}),
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                )
            else:
                put["ConditionExpression"] = "version = :version"
                put["ExpressionAttributeValues"] = to_item({":version": previous.version})
            writes.append({"Put": put})
        if outcome.erase and previous is not None:
            # The address goes; a keyed hash of it stays, so it is never messaged again unasked.
            for address in previous.addresses:
                writes.append(
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": _address_key(address.channel, address.address),
                        }
                    }
                )
            writes.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(
                            {
                                "pk": f"SUPPRESS#{address_hash}",
                                "sk": "SUPPRESS",
                                "erased_at": inbound.received_at.isoformat(),
                                "subscriber_id": previous.subscriber_id,
                            }
                        ),
                    }
                }
            )
        if outcome.inbox is not None:
            writes.append({"Put": {"TableName": self.table, "Item": inbox_item(outcome.inbox)}})
        if outcome.credit_referral is not None and outcome.subscriber is not None:
            writes.append(credit_write(self.table, outcome.credit_referral, outcome.subscriber.subscriber_id))
        if outcome.consent is not None:
            consent = outcome.consent
            item = {
                "pk": f"SUB#{consent.subscriber_id}",
                "sk": f"CONSENT#{consent.consent_id}",
                **consent.model_dump(mode="json"),
            }
            writes.append({"Put": {"TableName": self.table, "Item": to_item(item)}})
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
            if reasons[0] == "ConditionalCheckFailed":
                raise AlreadyApplied from error
            if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
                raise StaleSubscriber from error  # read again and redo
            raise

    def marker(self, inbound: Inbound) -> InboundMarker | None:
        found = self.dynamodb.get_item(TableName=self.table, Key=_marker_key(inbound), ConsistentRead=True)
        if "Item" not in found:
            return None
        values = from_item(found["Item"])
        outbox = tuple(
            OutboxReply(Channel(reply["channel"]), reply["address"], reply["text"])
            for reply in values.get("outbox", [])
        )
        return InboundMarker(_marker_key(inbound), values.get("subscriber_id"), outbox)

    def replies_sent(self, inbound: Inbound, at: datetime) -> None:
        """Empty the outbox: the replies are out, and the marker keeps no address or text."""
        self.dynamodb.update_item(
            TableName=self.table,
            Key=_marker_key(inbound),
            UpdateExpression="REMOVE outbox SET replied_at = :at",
            ExpressionAttributeValues=to_item({":at": at.isoformat()}),
        )

    def set_reachable(
        self,
        subscriber_id: str,
        channel: Channel,
        address: str,
        reachable: bool,
        expected_version: int | None = None,
    ) -> None:
        """Mark one address (un)reachable, e.g. after the provider said the bot is blocked.

        With ``expected_version``, nothing changes if the subscriber changed since
        (they may have come back in the meantime: a late "blocked" must not undo that).
        """
        for _attempt in range(5):
            subscriber = self.get(subscriber_id)
            if subscriber is None:
                return
            if expected_version is not None and subscriber.version != expected_version:
                return
            changed = subscriber.with_reachability(channel, address, reachable)
            if changed == subscriber or self.replace(subscriber, changed):
                return
        raise StaleSubscriber(subscriber_id)

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self.dynamodb.query(TableName=self.table, **kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
