"""boto3 clients, built once per process and reused across invocations."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

T = TypeVar("T")

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


def error_code(error: Exception) -> str:
    code: str = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code


def is_conditional_failure(error: Exception) -> bool:
    """A single-item write whose condition did not hold (not a transaction: see ``cancellation_reasons``)."""
    return error_code(error) == "ConditionalCheckFailedException"


def cancellation_reasons(error: Exception) -> list[str] | None:
    """Per-item reason codes of a cancelled transaction ("None", "ConditionalCheckFailed",
    "TransactionConflict", ...); None when the error is not a cancelled transaction."""
    if error_code(error) != "TransactionCanceledException":
        return None
    reasons = getattr(error, "response", {}).get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


#: Contention on one item that is worth retrying at once (botocore's own retries skip these).
CONFLICT_CODES = frozenset(
    {"TransactionConflictException", "TransactionConflict", "TransactionInProgressException"}
)


def is_conflict(error: Exception) -> bool:
    reasons = cancellation_reasons(error)
    if reasons is not None:
        return "TransactionConflict" in reasons and "ConditionalCheckFailed" not in reasons
    return error_code(error) in CONFLICT_CODES


def retry_on_conflict(call: Callable[[], T], attempts: int = 6) -> T:
    """Run a DynamoDB write again, with jittered backoff, while it collides with a concurrent transaction."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as error:
            if not is_conflict(error) or attempt == attempts - 1:
                raise
            time.sleep(min(1.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
    raise AssertionError("unreachable")


def item_on_failure(error: Exception) -> dict[str, Any]:
    """The item a failed conditional write returned (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    item = getattr(error, "response", {}).get("Item")
    return from_item(item) if isinstance(item, dict) else {}
