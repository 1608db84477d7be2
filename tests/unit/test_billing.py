"""What AWS would bill for a call: DynamoDB item sizes and request units, SQS requests (pure rules)."""

from __future__ import annotations

import pytest

from infra.local.billing import (
    item_size,
    needs_rescan,
    number_size,
    planned_writes,
    read_call_units,
    read_units,
    sqs_billed_requests,
    write_call_units,
    write_units,
)

REGION = "us-east-1"


class FakeItems:
    """Stored item sizes by partition key, as the meter reads them from moto."""

    def __init__(self, sizes: dict[str, int] | None = None) -> None:
        self.sizes = dict(sizes or {})

    def size(self, region, table, key):
        return self.sizes.get(key["pk"]["S"], 0)

    def key_of(self, region, table, item):
        return {"pk": item["pk"]}


# ------------------------------------------------------------------ item sizes
def test_a_string_attribute_is_its_name_plus_its_utf8_bytes():
    # The developer guide's own example: {"pk": "a" * 10} is 12 bytes.
    assert item_size({"pk": {"S": "a" * 10}}) == 12
    assert item_size({"név": {"S": "ü"}}) == 4 + 2


@pytest.mark.parametrize(
    ("number", "size"),
    [("1", 2), ("12", 2), ("123", 3), ("1234", 3), ("100", 2), ("0.001", 2), ("-12", 3), ("1.5e10", 2)],
)
def test_a_number_is_one_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


def test_booleans_nulls_binaries_and_sets():
    assert item_size({"b": {"BOOL": True}, "n": {"NULL": True}}) == 2 + 2
    assert item_size({"raw": {"B": b"\x00\x01\x02"}}) == 3 + 3
    assert item_size({"raw": {"B": "AAEC"}}) == 3 + 3  # base64 on the wire counts its raw bytes
    assert item_size({"ss": {"SS": ["ab", "cde"]}}) == 2 + 5
    assert item_size({"ns": {"NS": ["1", "123"]}}) == 2 + 2 + 3


def test_lists_and_maps_take_three_bytes_and_one_per_element():
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "7"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_units_round_up_per_item_with_one_at_least():
    assert write_units(0) == 1 and write_units(1024) == 1 and write_units(1025) == 2
    assert write_units(1025, transactional=True) == 4
    assert read_units(1, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(100, consistent=False, transactional=True) == 2


# ------------------------------------------------------------------ writes
def test_a_put_bills_the_larger_of_the_old_and_the_new_item():
    # Given a stored item of 3,000 bytes
    items = FakeItems({"a": 3000})
    params = {"TableName": "t", "Item": {"pk": {"S": "a"}, "v": {"S": "x"}}}
    # When it is replaced by a small one
    writes = planned_writes("PutItem", params, REGION, items)
    # Then the old size is billed
    assert write_call_units(writes, REGION, items, failed=False).write == 3


def test_an_update_bills_the_larger_of_before_and_after():
    items = FakeItems({"a": 900})
    writes = planned_writes("UpdateItem", {"TableName": "t", "Key": {"pk": {"S": "a"}}}, REGION, items)
    items.sizes["a"] = 2100  # what the update made of it
    assert write_call_units(writes, REGION, items, failed=False).write == 3


def test_a_failed_condition_still_bills_the_stored_item():
    items = FakeItems({"a": 1500})
    params = {"TableName": "t", "Item": {"pk": {"S": "a"}, "big": {"S": "x" * 5000}}}
    writes = planned_writes("PutItem", params, REGION, items)
    assert write_call_units(writes, REGION, items, failed=True).write == 2
    # and a missing item still costs one unit
    missing = planned_writes("DeleteItem", {"TableName": "t", "Key": {"pk": {"S": "zz"}}}, REGION, items)
    assert write_call_units(missing, REGION, items, failed=True).write == 1


def test_a_transaction_bills_each_item_twice_condition_checks_included():
    items = FakeItems({"a": 100, "b": 1500})
    params = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}, "v": {"S": "x"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "b"}}}},
        ]
    }
    writes = planned_writes("TransactWriteItems", params, REGION, items)
    assert write_call_units(writes, REGION, items, failed=False).write == 2 + 2 + 4


def test_a_batch_write_bills_each_item():
    items = FakeItems({"gone": 2048})
    params = {
        "RequestItems": {
            "t": [
                {"PutRequest": {"Item": {"pk": {"S": "p"}, "v": {"S": "x" * 1100}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "gone"}}}},
            ]
        }
    }
    writes = planned_writes("BatchWriteItem", params, REGION, items)
    assert write_call_units(writes, REGION, items, failed=False).write == 2 + 2


# ------------------------------------------------------------------ reads
def test_a_get_bills_the_stored_item_not_the_projection():
    items = FakeItems({"a": 9000})
    params = {"TableName": "t", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "pk"}
    answer = {"Item": {"pk": {"S": "a"}}}
    assert read_call_units("GetItem", params, answer, REGION, items).read == 1.5  # 3 x 4 KB, halved
    consistent = {**params, "ConsistentRead": True}
    assert read_call_units("GetItem", consistent, answer, REGION, items).read == 3


def test_a_batch_get_rounds_each_item_up():
    items = FakeItems({"a": 10, "b": 5000})
    params = {
        "RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ConsistentRead": True}}
    }
    assert read_call_units("BatchGetItem", params, {"Responses": {}}, REGION, items).read == 1 + 2


def test_a_query_bills_the_sum_of_what_it_read_rounded_once():
    # Given three 2 KB items returned by an eventually consistent query (a GSI, say)
    answer = {"Items": [{"pk": {"S": "a"}, "v": {"S": "x" * 2045}}] * 3, "ScannedCount": 3}
    params = {"TableName": "t", "IndexName": "due", "KeyConditionExpression": "pk = :p"}
    # Then 6 KB read is two 4 KB units, halved
    assert read_call_units("Query", params, answer, REGION, FakeItems()).read == 1
    # And what a filter dropped is billed too, when measured
    units = read_call_units("Query", params, {"Items": []}, REGION, FakeItems(), scanned_size=20_000)
    assert units.read == 2.5
    # And an empty answer still costs one unit
    assert read_call_units("Query", params, {"Items": []}, REGION, FakeItems()).read == 0.5


def test_filters_projections_and_counts_hide_what_a_query_read():
    assert needs_rescan({"FilterExpression": "a = :b"})
    assert needs_rescan({"ProjectionExpression": "pk"})
    assert needs_rescan({"Select": "COUNT"})
    assert not needs_rescan({"KeyConditionExpression": "pk = :p", "Select": "ALL_ATTRIBUTES"})


# ------------------------------------------------------------------ SQS
def test_sqs_bills_a_request_per_call_and_per_started_64_kb():
    assert sqs_billed_requests("DeleteMessageBatch", {}, {}) == 1
    assert sqs_billed_requests("ReceiveMessage", {}, {"Messages": []}) == 1
    assert sqs_billed_requests("SendMessage", {"MessageBody": "x" * 65_536}, {}) == 1
    assert sqs_billed_requests("SendMessage", {"MessageBody": "x" * 65_537}, {}) == 2
    batch = {"Entries": [{"MessageBody": "x" * 40_000}] * 10}  # 400,000 bytes
    assert sqs_billed_requests("SendMessageBatch", batch, {}) == 7
    received = {"Messages": [{"Body": "x" * 60_000, "MessageAttributes": {"k": {"DataType": "String"}}}] * 2}
    assert sqs_billed_requests("ReceiveMessage", {}, received) == 2
