"""Tracked links: ``BROADCAST#<id>`` / ``LINK#<hash>`` holds the URL and its click count."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import client, from_item, is_conditional_failure, to_item
from subcast.domain.links import link_hash


def _key(broadcast_id: str, hashed: str) -> dict[str, Any]:
    return to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": f"LINK#{hashed}"})


class LinkStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def save(self, broadcast_id: str, urls: list[str]) -> None:
        """Register a broadcast's links (again: counts already made stay)."""
        for url in urls:
            try:
                self.dynamodb.put_item(
                    TableName=self.table,
                    Item={**_key(broadcast_id, link_hash(url)), **to_item({"url": url, "clicks": 0})},
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as error:
                if not is_conditional_failure(error):
                    raise

    def click(self, broadcast_id: str, hashed: str) -> str | None:
        """Count one click and return where it goes; None for a link that was never registered."""
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=_key(broadcast_id, hashed),
                UpdateExpression="ADD clicks :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=to_item({":one": 1}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return None
            raise
        url: str = from_item(response["Attributes"])["url"]
        return url

    def clicks(self, broadcast_id: str) -> dict[str, int]:
        """Clicks per URL of one broadcast."""
        response = self.dynamodb.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :link)",
            ExpressionAttributeValues=to_item({":pk": f"BROADCAST#{broadcast_id}", ":link": "LINK#"}),
        )
        return {
            values["url"]: values.get("clicks", 0) for values in map(from_item, response.get("Items", []))
        }
