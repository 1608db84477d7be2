"""Opaque page cursors for the publisher API: a DynamoDB LastEvaluatedKey, checked when it comes back."""

from __future__ import annotations

import base64
import json
from typing import Any


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str, keys: set[str]) -> dict[str, Any]:
    """A cursor this API gave out for an index with these key attributes, or ValueError."""
    start = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    if not (
        isinstance(start, dict)
        and set(start) == keys
        and all(isinstance(value, dict) and isinstance(value.get("S"), str) for value in start.values())
    ):
        raise ValueError("not a cursor of this listing")
    return start
