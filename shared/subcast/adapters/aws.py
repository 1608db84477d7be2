"""boto3 clients, built once per process and reused across invocations."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=10)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def client(service: str) -> Any:
    """A boto3 client (endpoint from AWS_ENDPOINT_URL when the local stack sets it)."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests that start a new moto between cases)."""
    client.cache_clear()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Python values to a DynamoDB item; None values are left out (DynamoDB has no use for them)."""
    return {key: _serializer.serialize(_plain(value)) for key, value in values.items() if value is not None}


def to_value(value: Any) -> Any:
    return _serializer.serialize(_plain(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _native(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    return value


def _native(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_native(item) for item in value]
    if isinstance(value, dict):
        return {key: _native(item) for key, item in value.items()}
    if isinstance(value, set):
        return {_native(item) for item in value}
    return value


def is_conditional_failure(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def item_on_failure(error: Exception) -> dict[str, Any]:
    """The item a failed conditional write returned (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    item = getattr(error, "response", {}).get("Item")
    return from_item(item) if isinstance(item, dict) else {}
