"""The local stack's TransactWriteItems keeps DynamoDB's all-or-nothing semantics without copying tables."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from infra.local import moto_patches


@pytest.fixture
def table() -> Iterator[tuple[object, str]]:
    original = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = moto_patches.transact_write_items  # type: ignore[method-assign]
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="t",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            )
            client.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
            yield client, "t"
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def items(client, name: str) -> dict[str, dict]:
    return {item["pk"]["S"]: item for item in client.scan(TableName=name)["Items"]}


def test_every_write_of_a_transaction_is_applied(table):
    client, name = table
    client.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": name, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                        "ConditionExpression": "n = :n", "ExpressionAttributeValues": {":one": {"N": "1"},
                                                                                       ":n": {"N": "1"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "b"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )  # fmt: skip
    assert items(client, name) == {"a": {"pk": {"S": "a"}, "n": {"N": "2"}}, "b": {"pk": {"S": "b"}}}


def test_one_failed_condition_writes_nothing_and_says_which(table):
    client, name = table
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "c"}}}},
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "a"}}, "ConditionExpression": "n = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            ]
        )  # fmt: skip
    response = raised.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    reasons = response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert items(client, name) == {"a": {"pk": {"S": "a"}, "n": {"N": "1"}}}


def test_an_item_twice_in_one_transaction_is_refused(table):
    client, name = table
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "a"}}}},
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "a"}}}},
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert items(client, name) == {"a": {"pk": {"S": "a"}, "n": {"N": "1"}}}


def test_a_write_that_fails_after_the_checks_puts_back_what_was_written(table):
    client, name = table
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": "d"}}}},
                {"Update": {"TableName": name, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :text",
                            "ExpressionAttributeValues": {":text": {"S": "not a number"}}}},
            ]
        )  # fmt: skip
    assert items(client, name) == {"a": {"pk": {"S": "a"}, "n": {"N": "1"}}}
