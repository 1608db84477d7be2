"""Topics and publisher API keys in DynamoDB.

- ``TOPICS`` / ``<slug>``: one item per topic (a deployment has tens, not millions).
- ``APIKEY#<sha256 of the key>`` / ``APIKEY``: a key is stored only as its hash (authentication).
- ``APIKEYS`` / ``<key id>``: the same key for listing and revoking, with its last use; the hash
  lets a revocation reach the record above.
- ``SETTINGS`` / ``PUBLISHER``: the publisher's settings for the deployment (its frequency cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from subcast.adapters.aws import cancellation_reasons, client, from_item, is_conditional_failure, to_item
from subcast.adapters.cursors import decode_cursor, encode_cursor
from subcast.domain.preferences import CapPeriod, FrequencyCap
from subcast.domain.topics import Topic


class TopicExists(Exception):
    pass


class ApiKey(BaseModel):
    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyNotFound(Exception):
    pass


@dataclass(frozen=True)
class PublisherSettings:
    """What the publisher set for the whole deployment; ``updated_at`` is None when it never was."""

    frequency_cap: FrequencyCap | None = None  # at most this many broadcasts per subscriber and period
    updated_at: datetime | None = None


SETTINGS_KEY = {"pk": "SETTINGS", "sk": "PUBLISHER"}

#: A key's last use is written at most this often (one write per key and interval, not per request).
LAST_USED_RESOLUTION = timedelta(minutes=5)


class PublishingStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def create_topic(self, topic: Topic) -> None:
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_item({"pk": "TOPICS", "sk": topic.slug, **topic.model_dump(mode="json")}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                raise TopicExists(topic.slug) from error
            raise

    def update_topic(self, slug: str, changes: dict[str, Any]) -> Topic | None:
        """Set the given fields (None removes an optional one); None when there is no such topic."""
        if not changes:
            return next((topic for topic in self.topics() if topic.slug == slug), None)
        names = {f"#{name}": name for name in changes}
        sets = [f"#{name} = :{name}" for name, value in changes.items() if value is not None]
        removes = [f"#{name}" for name, value in changes.items() if value is None]
        expression = (f"SET {', '.join(sets)} " if sets else "") + (
            f"REMOVE {', '.join(removes)}" if removes else ""
        )
        values = {f":{name}": value for name, value in changes.items() if value is not None}
        return self._update_topic(slug, expression.strip(), names, values)

    def archive_topic(self, slug: str, now: datetime) -> Topic | None:
        return self._update_topic(
            slug, "SET archived_at = if_not_exists(archived_at, :now)", {}, {":now": now.isoformat()}
        )

    def _update_topic(
        self, slug: str, expression: str, names: dict[str, str], values: dict[str, Any]
    ) -> Topic | None:
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": "TOPICS", "sk": slug}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_NEW",
                **({"ExpressionAttributeNames": names} if names else {}),
                **({"ExpressionAttributeValues": to_item(values)} if values else {}),
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return None
            raise
        return Topic.model_validate(from_item(response["Attributes"]))

    def topics(self) -> list[Topic]:
        return [Topic.model_validate(from_item(item)) for item in self._query_all("TOPICS")]

    def _query_all(self, partition: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            response = self.dynamodb.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_item({":pk": partition}),
                ConsistentRead=True,
                **kwargs,
            )
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def save_api_key(self, key_hash: str, key: ApiKey) -> None:
        """Store a key by its hash, and in the list; saving the same key again keeps the first record."""
        values = key.model_dump(mode="json", exclude={"last_used_at"})
        writes = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": f"APIKEY#{key_hash}", "sk": "APIKEY", **values}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": "APIKEYS", "sk": key.key_id, "key_hash": key_hash, **values}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if cancellation_reasons(error) is None:
                raise

    def api_keys(self) -> list[ApiKey]:
        items = self._query_all("APIKEYS")
        return [ApiKey.model_validate(from_item(item)) for item in items]

    def revoke_api_key(self, key_id: str, now: datetime) -> ApiKey:
        """Revoke a key for good; revoking it again changes nothing. KeyNotFound for an unknown id."""
        listed = self.dynamodb.get_item(
            TableName=self.table, Key=to_item({"pk": "APIKEYS", "sk": key_id}), ConsistentRead=True
        ).get("Item")
        if listed is None:
            raise KeyNotFound(key_id)
        record = from_item(listed)
        if record.get("revoked_at"):
            return ApiKey.model_validate(record)
        moment = {":now": now.isoformat()}
        writes = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": to_item(key),
                    "UpdateExpression": "SET revoked_at = if_not_exists(revoked_at, :now)",
                    "ExpressionAttributeValues": to_item(moment),
                }
            }
            for key in (
                {"pk": "APIKEYS", "sk": key_id},
                {"pk": f"APIKEY#{record['key_hash']}", "sk": "APIKEY"},
            )
        ]
        self.dynamodb.transact_write_items(TransactItems=writes)
        return ApiKey.model_validate({**record, "revoked_at": now})

    def key_used(self, key: ApiKey, now: datetime) -> None:
        """Note a key's use, at most once per ``LAST_USED_RESOLUTION``."""
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=to_item({"pk": "APIKEYS", "sk": key.key_id}),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(last_used_at) OR last_used_at < :stale)",
                ExpressionAttributeValues=to_item(
                    {":now": now.isoformat(), ":stale": (now - LAST_USED_RESOLUTION).isoformat()}
                ),
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

    def publisher_settings(self, consistent: bool = True) -> PublisherSettings:
        """The publisher's settings; the defaults (no cap) when they were never saved."""
        found = self.dynamodb.get_item(
            TableName=self.table, Key=to_item(SETTINGS_KEY), ConsistentRead=consistent
        ).get("Item")
        if found is None:
            return PublisherSettings()
        values = from_item(found)
        cap = values.get("frequency_cap")
        return PublisherSettings(
            FrequencyCap(cap["count"], CapPeriod(cap["period"])) if cap else None,
            datetime.fromisoformat(values["updated_at"]) if values.get("updated_at") else None,
        )

    def frequency_cap(self) -> FrequencyCap | None:
        """The publisher's cap, read eventually consistent: half the cost of a consistent read, and a
        change usually shows within a second."""
        return self.publisher_settings(consistent=False).frequency_cap

    def save_publisher_settings(self, settings: PublisherSettings) -> None:
        """Replace the settings as a whole (the last write wins: each one is complete)."""
        cap = settings.frequency_cap
        values = {
            "frequency_cap": {"count": cap.count, "period": cap.period.value} if cap else None,
            "updated_at": settings.updated_at.isoformat() if settings.updated_at else None,
        }
        self.dynamodb.put_item(TableName=self.table, Item=to_item({**SETTINGS_KEY, **values}))

    def inbox(self, limit: int = 50, cursor: str | None = None) -> InboxPage:
        return inbox_page(self.dynamodb, self.table, limit, cursor)

    def api_key(self, key_hash: str) -> ApiKey | None:
        found = self.dynamodb.get_item(
            TableName=self.table, Key=to_item({"pk": f"APIKEY#{key_hash}", "sk": "APIKEY"})
        )
        if "Item" not in found:
            return None
        return ApiKey.model_validate(from_item(found["Item"]))


class InboxPage(BaseModel):
    entries: list[dict[str, Any]]
    next_cursor: str | None


def inbox_page(dynamodb: Any, table: str, limit: int, cursor: str | None) -> InboxPage:
    """Inbox entries, newest first, ``limit`` at a time; ``cursor`` continues a previous page."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "inbox",
        "KeyConditionExpression": "inbox_pk = :inbox",
        "ExpressionAttributeValues": to_item({":inbox": "INBOX"}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = decode_cursor(cursor, {"pk", "sk", "inbox_pk", "inbox_at"})
    response = dynamodb.query(**kwargs)
    entries = [
        {name: from_item(item).get(name) for name in ("subscriber_id", "kind", "text", "received_at")}
        for item in response.get("Items", [])
    ]
    return InboxPage(entries=entries, next_cursor=encode_cursor(response.get("LastEvaluatedKey")))
