"""Registered feeds in DynamoDB. Fetching and reading them lives in :mod:`.feed_fetcher`.

- ``FEED#<id>`` / ``FEED``: the feed with its polling state and ``seen``, the digests of the
  entries already posted or passed over (newest last, bounded). While active it sits in the
  sparse ``due`` index (kind ``feed``) at ``due_at``, normally its ``next_poll_at``; a poller
  that claims it moves ``due_at`` one lease ahead and sets ``poll_token``, so overlapping
  scheduler ticks poll a feed once, and a poller that died frees it when the lease ends.
  A paused feed leaves the index.
- ``FEEDS`` / ``<id>``: one small item per feed for listing without a scan.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import cancellation_reasons, client, from_item, is_conditional_failure, to_item
from subcast.adapters.feed_fetcher import (
    FeedFetcher,
    Fetched,
    FetchFailed,
    ParsedFeed,
    Unreadable,
    parse_feed,
)
from subcast.domain.feeds import Feed

__all__ = [
    "DUE_FEED",
    "POLL_LEASE",
    "DueFeed",
    "FeedFetcher",
    "FeedStore",
    "FetchFailed",
    "Fetched",
    "ParsedFeed",
    "Unreadable",
    "parse_feed",
]

DUE_FEED = "feed"
LISTED = "FEEDS"
#: How long a claimed feed stays with its poller (a fetch gives up after 10 s; posting is quick).
POLL_LEASE = timedelta(minutes=10)
#: What a poll rewrites; the rest (id, topics, mode, creation) never changes while polling.
_POLLED = (
    "url",
    "title",
    "etag",
    "last_modified",
    "failures",
    "last_error",
    "status",
    "last_polled_at",
    "last_success_at",
    "next_poll_at",
    "items_posted",
)


@dataclass(frozen=True)
class DueFeed:
    """A feed claimed for one poll: its state then, the entries it has seen, the claim's token."""

    feed: Feed
    seen: tuple[str, ...]
    token: str


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _feed_key(feed_id: str) -> dict[str, Any]:
    return to_item({"pk": f"FEED#{feed_id}", "sk": "FEED"})


def _feed_from(values: dict[str, Any]) -> Feed:
    return Feed.model_validate(values)


class FeedStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def create(self, feed: Feed) -> None:
        values = feed.model_dump(mode="json")
        values.update({"pk": f"FEED#{feed.feed_id}", "sk": "FEED", "seen": []})
        if feed.status == "active":
            values.update({"due_kind": DUE_FEED, "due_at": _utc(feed.next_poll_at)})
        listed = {"pk": LISTED, "sk": feed.feed_id, "created_at": feed.created_at.isoformat()}
        self.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for item in (values, listed)
            ]
        )

    def get(self, feed_id: str) -> Feed | None:
        found = self.dynamodb.get_item(TableName=self.table, Key=_feed_key(feed_id), ConsistentRead=True)
        return _feed_from(from_item(found["Item"])) if "Item" in found else None

    def all_feeds(self) -> list[Feed]:
        """Every feed, oldest registration first (a deployment has tens, not thousands)."""
        ids: list[str] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": LISTED}),
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            page = self.dynamodb.query(**query)
            ids.extend(from_item(item)["sk"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        feeds: list[Feed] = []
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [_feed_key(feed_id) for feed_id in ids[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.dynamodb.batch_get_item(RequestItems=request)
                feeds.extend(
                    _feed_from(from_item(item)) for item in response["Responses"].get(self.table, [])
                )
                request = response.get("UnprocessedKeys") or {}
        return sorted(feeds, key=lambda feed: (feed.created_at, feed.feed_id))

    def delete(self, feed_id: str) -> bool:
        """Remove a feed (a poll in flight then records nothing); False when there was none."""
        writes = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _feed_key(feed_id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Delete": {"TableName": self.table, "Key": to_item({"pk": LISTED, "sk": feed_id})}},
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def resume(self, feed_id: str, now: datetime) -> Feed | None:
        """A paused (or failing) feed active again, polled at the next tick, its failures forgotten."""
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=_feed_key(feed_id),
                UpdateExpression="SET #status = :active, failures = :zero, next_poll_at = :now, "
                "due_kind = :kind, due_at = :now REMOVE last_error, poll_token",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":active": "active", ":zero": 0, ":now": _utc(now), ":kind": DUE_FEED}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return None
            raise
        return _feed_from(from_item(response["Attributes"]))

    # ------------------------------------------------------------- polling
    def due(self, now: datetime, limit: int = 50) -> list[DueFeed]:
        """Active feeds whose next poll has come, each claimed for ``POLL_LEASE`` (another
        poller meanwhile does not get it)."""
        claimed: list[DueFeed] = []
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "due",
            "KeyConditionExpression": "due_kind = :kind AND due_at <= :now",
            "ExpressionAttributeValues": to_item({":kind": DUE_FEED, ":now": _utc(now)}),
        }
        while len(claimed) < limit:
            page = self.dynamodb.query(**query)
            for item in page.get("Items", []):
                taken = self._claim(from_item(item), now)
                if taken is not None:
                    claimed.append(taken)
                if len(claimed) >= limit:
                    break
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return claimed

    def _claim(self, keys: dict[str, Any], now: datetime) -> DueFeed | None:
        token = secrets.token_hex(8)
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": keys["pk"], "sk": keys["sk"]}),
                UpdateExpression="SET due_at = :lease, poll_token = :token",
                ConditionExpression="due_at = :seen AND #status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {
                        ":lease": _utc(now + POLL_LEASE),
                        ":token": token,
                        ":seen": keys["due_at"],
                        ":active": "active",
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return None  # another poller took it, or it was paused or deleted meanwhile
            raise
        values = from_item(response["Attributes"])
        return DueFeed(_feed_from(values), tuple(values.get("seen") or ()), token)

    def record_poll(self, claim: DueFeed, feed: Feed, seen: tuple[str, ...]) -> bool:
        """Store what a poll learnt and release the claim; False (nothing written) when the
        claim was lost: the feed was deleted, or the lease ran out and another poller took it."""
        values = {name: value for name, value in feed.model_dump(mode="json").items() if name in _POLLED}
        values["seen"] = list(seen)
        sets = [f"#{name} = :{name}" for name, value in values.items() if value is not None]
        removes = [f"#{name}" for name, value in values.items() if value is None] + ["poll_token"]
        if feed.status == "active":
            sets += ["due_kind = :due_kind", "due_at = :due_at"]
            values |= {"due_kind": DUE_FEED, "due_at": _utc(feed.next_poll_at)}
        else:
            removes += ["due_kind", "due_at"]
        names = {f"#{name}": name for name in values if name not in ("due_kind", "due_at")}
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=_feed_key(feed.feed_id),
                UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                ConditionExpression="poll_token = :token",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(
                    {f":{name}": value for name, value in values.items() if value is not None}
                    | {":token": claim.token}
                ),
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return False
            raise
        return True
