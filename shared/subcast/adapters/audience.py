"""Pages of the people a broadcast may reach, read from the sparse ``audience`` index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subcast.adapters.aws import client, from_item, to_item


@dataclass(frozen=True)
class AudienceMember:
    subscriber_id: str
    topics: tuple[str, ...] | None


class AudienceReader:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def page(
        self, shard: str, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[AudienceMember], dict[str, Any] | None]:
        """Up to ``limit`` active subscribers of a shard after ``start``, and the next start (None: done)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "audience",
            "KeyConditionExpression": "audience_shard = :shard",
            "ExpressionAttributeValues": to_item({":shard": shard}),
            "ProjectionExpression": "subscriber_id, topics",
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = self.dynamodb.query(**kwargs)
        members = []
        for item in response.get("Items", []):
            values = from_item(item)
            topics = values.get("topics")
            members.append(
                AudienceMember(values["subscriber_id"], tuple(topics) if topics is not None else None)
            )
        return members, response.get("LastEvaluatedKey")
