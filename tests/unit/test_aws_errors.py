"""Reading DynamoDB's errors: which cancelled writes mean 'done before' and which 'try again'."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from subcast.adapters import aws


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def test_cancellation_reasons_are_read_per_item():
    assert aws.cancellation_reasons(cancelled("ConditionalCheckFailed", "None")) == [
        "ConditionalCheckFailed",
        "None",
    ]
    assert (
        aws.cancellation_reasons(ClientError({"Error": {"Code": "ValidationException"}}, "PutItem")) is None
    )


def test_a_conflict_is_retried_until_it_goes_through(monkeypatch):
    # Given a write that collides twice with a concurrent transaction
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    outcomes = [cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"), "ok"]

    def write():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # When it is run with retry_on_conflict
    # Then it succeeds on the third attempt
    assert aws.retry_on_conflict(write) == "ok"


def test_a_failed_condition_is_not_a_conflict_and_is_not_retried():
    calls = []

    def write():
        calls.append(1)
        raise cancelled("ConditionalCheckFailed", "TransactionConflict")

    with pytest.raises(ClientError):
        aws.retry_on_conflict(write)
    assert len(calls) == 1


def test_a_conflict_on_a_single_item_write_is_retried(monkeypatch):
    # Given an UpdateItem that meets a transaction in progress once
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    conflicts = [ClientError({"Error": {"Code": "TransactionConflictException"}}, "UpdateItem")]

    def write():
        if conflicts:
            raise conflicts.pop()
        return "ok"

    # Then it is retried and goes through
    assert aws.retry_on_conflict(write) == "ok"
