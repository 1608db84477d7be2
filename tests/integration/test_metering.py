"""The meter's botocore hooks, counting real boto3 calls against an in-process moto."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from infra.local.metering import EVENT_SOURCE, UNATTRIBUTED, Meter, metering_enabled
from infra.local.stored_items import MotoItemStore

REGION = "us-east-1"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def session(aws) -> boto3.session.Session:
    """A session of the test's own: hooks on it never leak into other tests' clients."""
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def table(session) -> str:
    session.client("dynamodb").create_table(
        TableName="metered",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return "metered"


def key(sk: str) -> dict:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def test_metering_is_on_only_when_asked():
    assert not metering_enabled({})
    assert not metering_enabled({"SUBCAST_LOCAL_METERING": "0"})
    assert metering_enabled({"SUBCAST_LOCAL_METERING": "1"})


def test_the_item_store_reads_sizes_from_moto(session, table):
    session.client("dynamodb").put_item(TableName=table, Item={**key("a"), "v": {"S": "x" * 10}})
    store = MotoItemStore()
    assert store.size(REGION, table, key("a")) == (2 + 1) + (2 + 1) + (1 + 10)
    assert store.size(REGION, table, key("missing")) == 0
    assert store.size(REGION, "no-such-table", key("a")) is None
    assert store.key_of(REGION, table, {**key("a"), "v": {"S": "x"}}) == key("a")


def test_calls_are_counted_per_function_with_the_units_dynamodb_would_bill(session, table):
    # Given a meter on the session the "handler" clients come from
    meter = Meter()
    meter.watch_events(session.events, None)
    dynamodb, sqs = session.client("dynamodb"), session.client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    meter.reset()  # the set-up above is not the handler's doing

    # When a function writes a 3 KB item, updates it, fails a condition, reads it and queries with a filter
    with meter.invocation("SenderFunction", 256):
        dynamodb.put_item(TableName=table, Item={**key("a"), "blob": {"S": "x" * 3000}})
        dynamodb.update_item(
            TableName=table,
            Key=key("a"),
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "5"}},
        )
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName=table, Item=key("a"), ConditionExpression="attribute_not_exists(pk)")
        dynamodb.get_item(TableName=table, Key=key("a"), ProjectionExpression="pk", ConsistentRead=True)
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            FilterExpression="n = :none",
            ExpressionAttributeValues={":p": {"S": "p"}, ":none": {"N": "6"}},
        )
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "1", "MessageBody": "x" * 70_000}])

    # Then each call is counted under the function, with DynamoDB's units
    report = meter.report()
    calls = report["aws"]["SenderFunction"]
    assert calls["dynamodb"]["PutItem"] == {"requests": 2, "errors": 1, "read_units": 0.0, "write_units": 6.0}
    assert calls["dynamodb"]["UpdateItem"]["write_units"] == 3.0  # 3,013 bytes after
    assert calls["dynamodb"]["GetItem"]["read_units"] == 1.0  # the full item, not the projection
    assert calls["dynamodb"]["Query"]["read_units"] == 0.5  # the filtered-out item was read
    assert calls["sqs"]["SendMessageBatch"]["billed_requests"] == 2  # 70,000 bytes: two 64 KB chunks
    assert report["totals"]["handlers"]["dynamodb"]["requests"] == 5
    assert set(report["aws"]) == {"SenderFunction"}
    # And the invocation is billed for its duration
    invoked = report["lambda"]["SenderFunction"]
    assert invoked["invocations"] == 1 and invoked["memory_mb"] == 256 and invoked["billed_duration_ms"] >= 1
    assert report["totals"]["lambda"]["invocations"] == 1


def test_the_pollers_client_counts_as_event_source_and_other_sessions_not_at_all(session, table):
    # Given a meter on the handlers' session and on a poller's client made from a session of its own
    meter = Meter()
    meter.watch_events(session.events, None)
    poller_sqs = boto3.session.Session(region_name=REGION).client("sqs")
    meter.watch_client(poller_sqs, EVENT_SOURCE)
    queue = poller_sqs.create_queue(QueueName="events")["QueueUrl"]
    unwatched = boto3.session.Session(region_name=REGION).client("dynamodb")
    meter.reset()

    # When the poller receives, a thread outside any invocation writes, and provisioning-like code calls
    poller_sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    worker = threading.Thread(
        target=lambda: session.client("dynamodb").put_item(TableName=table, Item=key("t"))
    )
    worker.start()
    worker.join()
    unwatched.put_item(TableName=table, Item=key("u"))

    # Then the receive is the event source's, the thread's write unattributed, the rest unseen
    report = meter.report()
    assert report["aws"][EVENT_SOURCE]["sqs"]["ReceiveMessage"]["requests"] == 1
    assert report["aws"][UNATTRIBUTED]["dynamodb"]["PutItem"]["write_units"] == 1.0
    assert report["totals"]["event_source"]["sqs"]["billed_requests"] == 1
    assert report["totals"]["handlers"]["dynamodb"]["requests"] == 1


def test_the_default_session_is_watched_until_unwatched(aws, table):
    # Given a meter on boto3's default session (the handlers' clients)
    meter = Meter()
    meter.watch_default_session()
    try:
        client = boto3.client("dynamodb", region_name=REGION)
        with meter.invocation("CommandsFunction", 128):
            client.get_item(TableName=table, Key=key("none"))
    finally:
        meter.unwatch()
    # Then the call was counted, and clients made afterwards are not watched
    boto3.client("dynamodb", region_name=REGION).get_item(TableName=table, Key=key("none"))
    assert meter.report()["aws"]["CommandsFunction"]["dynamodb"]["GetItem"]["requests"] == 1
    assert meter.report()["totals"]["handlers"]["dynamodb"]["read_units"] == 0.5


def test_reset_starts_from_zero(session, table):
    meter = Meter()
    meter.watch_events(session.events, None)
    with meter.invocation("ApiFunction", 128):
        session.client("dynamodb").get_item(TableName=table, Key=key("a"))
    meter.reset()
    report = meter.report()
    assert report["aws"] == {} and report["lambda"] == {}
    assert report["totals"]["lambda"]["invocations"] == 0
