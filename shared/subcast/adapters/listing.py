"""The publisher's view of subscribers: pages by state and topic, counts, one subscriber in full.

Addresses (chat ids, phone numbers) are never part of it.
"""

from __future__ import annotations

from typing import Any

from subcast.adapters.aws import client, from_item, to_item
from subcast.adapters.cursors import decode_cursor, encode_cursor
from subcast.domain.subscriber import SubscriberState

LISTED_FIELDS = (
    "subscriber_id",
    "topics",
    "language",
    "timezone",
    "created_at",
    "state_since",
    "paused_until",
)
_CURSOR_KEYS = {"pk", "sk", "profile_state", "subscriber_id"}


class SubscriberListing:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def page(
        self, state: SubscriberState, topic: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Subscribers in ``state`` (receiving ``topic``, if given), ``limit`` at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "subscribers",
            "KeyConditionExpression": "profile_state = :state",
            "ExpressionAttributeValues": to_item({":state": state.value}),
            "Limit": limit,
        }
        if topic:
            # No topic choice means every topic.
            kwargs["FilterExpression"] = "attribute_not_exists(topics) OR contains(topics, :topic)"
            kwargs["ExpressionAttributeValues"] = to_item({":state": state.value, ":topic": topic})
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor, _CURSOR_KEYS)
        response = self.dynamodb.query(**kwargs)
        rows = []
        for item in response.get("Items", []):
            values = from_item(item)
            rows.append({"id": values["subscriber_id"], "state": state.value, **{
                name: values.get(name) for name in LISTED_FIELDS if name != "subscriber_id"
            }})  # fmt: skip
        return rows, encode_cursor(response.get("LastEvaluatedKey"))

    def counts(self) -> dict[str, int]:
        """How many subscribers are in each state (pages through the index: fine for tens of thousands)."""
        totals: dict[str, int] = {}
        for state in SubscriberState:
            total = 0
            kwargs: dict[str, Any] = {}
            while True:
                response = self.dynamodb.query(
                    TableName=self.table,
                    IndexName="subscribers",
                    KeyConditionExpression="profile_state = :state",
                    ExpressionAttributeValues=to_item({":state": state.value}),
                    Select="COUNT",
                    **kwargs,
                )
                total += int(response.get("Count", 0))
                if "LastEvaluatedKey" not in response:
                    break
                kwargs = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
            totals[state.value] = total
        return totals
