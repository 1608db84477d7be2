"""Referral credits: ``REFERRAL#<code>`` / ``REFERRAL`` holds the set of subscriber ids that joined
through a code. The credit is written in the same transaction as the confirmation (see
``SubscriberStore.apply``), so it happens exactly once; a set counts each person once."""

from __future__ import annotations

from typing import Any

from subcast.adapters.aws import client, from_item, to_item


def referral_key(code: str) -> dict[str, Any]:
    return to_item({"pk": f"REFERRAL#{code}", "sk": "REFERRAL"})


def credit_write(table: str, code: str, subscriber_id: str) -> dict[str, Any]:
    """The transaction item that credits ``subscriber_id`` to ``code``."""
    return {
        "Update": {
            "TableName": table,
            "Key": referral_key(code),
            "UpdateExpression": "ADD joined :who",
            "ExpressionAttributeValues": {":who": {"SS": [subscriber_id]}},
        }
    }


class ReferralStore:
    def __init__(self, table_name: str) -> None:
        self.table = table_name
        self.dynamodb = client("dynamodb")

    def joined(self, code: str, owner_id: str) -> int:
        """How many people subscribed through ``code`` (its owner never counts)."""
        found = self.dynamodb.get_item(TableName=self.table, Key=referral_key(code), ConsistentRead=True)
        joined: set[str] = from_item(found.get("Item", {})).get("joined") or set()
        return len(joined - {owner_id})

    def erase(self, code: str) -> None:
        """Forget who joined through an erased subscriber's code (idempotent)."""
        self.dynamodb.delete_item(TableName=self.table, Key=referral_key(code))
