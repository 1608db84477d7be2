"""Topics and publisher API keys in DynamoDB.

- ``TOPICS`` / ``<slug>``: one item per topic (a deployment has tens, not millions).
- ``APIKEY#<sha256 of the key>`` / ``APIKEY``: a key is stored only as its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from subcast.adapters.aws import client, from_item, is_conditional_failure, to_item
from subcast.adapters.cursors import decode_cursor, encode_cursor
from subcast.domain.broadcast import Topic


class TopicExists(Exception):
    pass


class ApiKey(BaseModel):
    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime


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

    def topics(self) -> list[Topic]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            response = self.dynamodb.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_item({":pk": "TOPICS"}),
                **kwargs,
            )
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return [Topic.model_validate(from_item(item)) for item in items]
            kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    def save_api_key(self, key_hash: str, key: ApiKey) -> None:
        """Store a key by its hash; saving the same key again keeps the first record."""
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=to_item({"pk": f"APIKEY#{key_hash}", "sk": "APIKEY", **key.model_dump(mode="json")}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise

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
