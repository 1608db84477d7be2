"""The local stack keeps its state in a data folder: what one run leaves, the next finds; what no longer
fits the template, or no longer reads, is said at start-up and kept aside, never dropped in silence."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.fakes.updates import message_update
from infra.local.persistence import StateKeeper, data_folder, state_line
from infra.local.stack import LocalStack
from infra.local.state_files import QueueState, Snapshot, TableState, read_snapshot, write_snapshot
from subcast import clock
from subcast.services import dependencies
from tests.waiting import wait_for

CHAT = 424242
DATA_KEY = [["pk", "HASH", "S"], ["sk", "RANGE", "S"]]


def call(
    stack: LocalStack, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.base_url}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    secret = stack.sandbox_config()["secret_token"]
    request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def replies(stack: LocalStack) -> list[str]:
    return [message["text"] for message in stack.bot_api.sent(str(CHAT), 0)]


@pytest.fixture
def start_stack() -> Iterator[Callable[[Path | None], LocalStack]]:
    """Start in-process stacks one after the other, each on a moto as empty as a new process's."""
    from moto.moto_api._internal.models import moto_api_backend

    saved_environment = dict(os.environ)
    running: list[LocalStack] = []

    def start(folder: Path | None) -> LocalStack:
        for stack in running:
            stop(stack)
        # A stack writes its settings into os.environ, where the next one would take them for yours
        os.environ.clear()
        os.environ.update(saved_environment)
        moto_api_backend.reset()
        stack = LocalStack(port=0, data_dir=folder)
        stack.start()
        running.append(stack)
        return stack

    def stop(stack: LocalStack) -> None:
        if not stack.stop_event.is_set():
            stack.stop()

    yield start
    for stack in running:
        stop(stack)
    os.environ.clear()
    os.environ.update(saved_environment)
    dependencies.reset()


def test_a_second_run_finds_what_the_first_left(start_stack, tmp_path):
    # Given a stack on a data folder, with a subscriber, a topic and a broadcast scheduled for tomorrow
    first = start_stack(tmp_path)
    key = first.bootstrap_key
    call(first, "POST", "/webhooks/telegram", message_update(1, CHAT, "/start"))
    wait_for(lambda: len(replies(first)) == 1)
    call(first, "POST", "/webhooks/telegram", message_update(2, CHAT, "YES"))
    wait_for(lambda: len(replies(first)) == 2)
    assert call(first, "POST", "/v1/topics", {"slug": "sport", "name": "Sport"}, key)[0] == 201
    tomorrow = clock.now() + timedelta(days=1)
    status, broadcast = call(
        first, "POST", "/v1/broadcasts", {"text": "Kept overnight", "send_at": tomorrow.isoformat()}, key
    )
    assert status == 201 and broadcast["status"] == "scheduled"
    # And messages no poller takes: one waiting in a dead-letter queue, and of two FIFO messages
    # the first held by a reader (in flight) when the stack stops
    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    delivery_dlq = first.deployment.queue_url("DeliveryDeadLetterQueue")
    commands_dlq = first.deployment.queue_url("CommandsDeadLetterQueue")
    sqs.send_message(QueueUrl=delivery_dlq, MessageBody='{"job": "waiting"}')
    for number in (1, 2):
        sqs.send_message(
            QueueUrl=commands_dlq,
            MessageBody=f"command {number}",
            MessageGroupId="chat-7",
            MessageDeduplicationId=f"update-{number}",
        )
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=commands_dlq)["Messages"]] == ["command 1"]
    # And a clock moved forward by an hour
    moved_to = clock.now() + timedelta(hours=1)
    assert call(first, "POST", "/_local/clock", {"now": moved_to.isoformat()})[0] == 200

    # When it stops and a new stack starts on the same folder
    first.stop()
    clock.move_to(None)
    second = start_stack(tmp_path)

    # Then the same bootstrap key works, and the topic, the subscriber and the broadcast are there
    assert second.bootstrap_key == key and second.bootstrap_kept_in == tmp_path / "bootstrap-key"
    assert call(second, "GET", "/v1/topics", key=key)[1]["topics"][0]["slug"] == "sport"
    listed = call(second, "GET", "/v1/subscribers", key=key)[1]
    assert listed["counts"]["active"] == 1
    assert call(second, "GET", f"/v1/broadcasts/{broadcast['id']}", key=key)[1]["status"] == "scheduled"
    assert any(line.startswith("loaded the snapshot") for line in second.state_report)
    assert not any(line.startswith("!") for line in second.state_report), second.state_report
    # And the clock stands where it stood
    assert clock.is_moved() and moved_to <= clock.now() < tomorrow
    # And every queued message is back, the one that was in flight included, in order, in its group
    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    waiting = sqs.receive_message(QueueUrl=second.deployment.queue_url("DeliveryDeadLetterQueue"))
    assert [m["Body"] for m in waiting["Messages"]] == ['{"job": "waiting"}']
    commands = sqs.receive_message(
        QueueUrl=second.deployment.queue_url("CommandsDeadLetterQueue"),
        MaxNumberOfMessages=10,
        AttributeNames=["MessageGroupId"],
    )["Messages"]
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in commands] == [
        ("command 1", "chat-7"),
        ("command 2", "chat-7"),
    ]

    # When the clock reaches the broadcast's time
    call(second, "POST", "/_local/clock", {"now": (tomorrow + timedelta(minutes=1)).isoformat()})

    # Then the subscriber of the first run receives it
    wait_for(lambda: "Kept overnight" in replies(second))


def test_changes_are_saved_while_the_stack_runs(start_stack, tmp_path):
    # Given a running stack on a data folder
    stack = start_stack(tmp_path)

    # When a topic is created, and the stack is not stopped
    call(stack, "POST", "/v1/topics", {"slug": "news", "name": "News"}, stack.bootstrap_key)

    # Then a snapshot holding it appears by itself (what a crash would leave)
    def saved_topic() -> bool:
        saved = read_snapshot(tmp_path)
        table = saved.tables["DataTable"] if saved else None
        return isinstance(table, TableState) and any(item["sk"] == {"S": "news"} for item in table.items)

    assert wait_for(saved_topic)


def test_a_stack_without_a_data_folder_keeps_nothing(start_stack, tmp_path, monkeypatch):
    # Given no data folder (SUBCAST_DATA_DIR set empty)
    monkeypatch.chdir(tmp_path)
    assert data_folder({"SUBCAST_DATA_DIR": ""}) is None
    stack = start_stack(None)

    # When something is created and the stack stops
    call(stack, "POST", "/v1/topics", {"slug": "gone", "name": "Gone"}, stack.bootstrap_key)
    stack.stop()

    # Then nothing was written, and start-up said so
    assert list(tmp_path.iterdir()) == []
    assert stack.keeper is None and "in memory only" in state_line(None, None)


def load(folder: Path, deployment: Any) -> StateKeeper:
    keeper = StateKeeper(folder, "us-east-1")
    assert keeper.claim() is None
    keeper.load(deployment, None)
    return keeper


def item(pk: str, sk: str = "A") -> dict[str, Any]:
    """An item with a value of every DynamoDB type, binary ones nested too."""
    return {
        "pk": {"S": pk},
        "sk": {"S": sk},
        "blob": {"B": b"\x00\xff"},
        "count": {"N": "12.5"},
        "flags": {"SS": ["a", "b"]},
        "sizes": {"NS": ["1", "2"]},
        "blobs": {"BS": [b"\x01", b"\x02"]},
        "nested": {
            "M": {"inner": {"B": b"\x03"}, "list": {"L": [{"N": "1"}, {"BOOL": True}, {"NULL": True}]}}
        },
    }


def test_what_no_longer_fits_the_template_is_said_and_kept_aside(stack, tmp_path):
    # Given a snapshot from an older template: a table since removed, a table whose key has changed,
    # and a queue since removed, next to a queue that still fits
    write_snapshot(
        tmp_path,
        Snapshot(
            tables={
                "OldTable": TableState([["id", "HASH", "S"]], [{"id": {"S": "1"}}]),
                "DataTable": TableState([["id", "HASH", "S"]], [{"id": {"S": "2"}}]),
            },
            queues={
                "GoneQueue": QueueState(False, [{"body": "lost?"}]),
                "FanoutQueue": QueueState(False, [{"body": "still fits"}]),
            },
        ),
    )

    # When a stack of today's template loads it
    keeper = load(tmp_path, stack.deployment)

    # Then start-up names each mismatch, loads what fits, and keeps the rest under rejected/
    report = "\n".join(keeper.report)
    assert "! table OldTable: no longer in template.yaml; 1 items not loaded" in report
    assert "! table DataTable: its key changed from id(S) to pk(S)/sk(S)" in report
    assert "! queue GoneQueue: no longer in template.yaml; 1 messages not sent again" in report
    assert "1 queued messages" in report
    assert stack.depth("FanoutQueue") == 1
    assert stack.scan() == []
    (rejected,) = (tmp_path / "rejected").iterdir()
    kept = sorted(str(path.relative_to(rejected)) for path in rejected.rglob("*.jsonl"))
    assert kept == ["queues/GoneQueue.jsonl", "tables/DataTable.jsonl", "tables/OldTable.jsonl"]
    keeper.close()


def test_a_corrupted_table_file_starts_that_table_empty_and_says_so(stack, tmp_path):
    # Given a snapshot whose table file was cut short, next to an intact queue file
    write_snapshot(
        tmp_path,
        Snapshot(
            tables={"DataTable": TableState(DATA_KEY, [item("P#1"), item("P#2")])},
            queues={"FanoutQueue": QueueState(False, [{"body": "intact"}])},
        ),
    )
    table_file = tmp_path / "snapshot" / "tables" / "DataTable.jsonl"
    table_file.write_text(table_file.read_text()[:-20])

    # When a stack loads it
    keeper = load(tmp_path, stack.deployment)

    # Then the table starts empty with a clear reason, the queue is loaded, and the file is kept
    report = "\n".join(keeper.report)
    assert "! table DataTable: line 2 is not JSON" in report and "it starts empty" in report
    assert stack.scan() == [] and stack.depth("FanoutQueue") == 1
    assert len(list((tmp_path / "rejected").rglob("DataTable.jsonl"))) == 1
    keeper.close()


def test_an_unreadable_manifest_starts_empty_and_keeps_the_snapshot(stack, tmp_path):
    # Given a snapshot whose manifest is not JSON
    write_snapshot(tmp_path, Snapshot(tables={"DataTable": TableState(DATA_KEY, [item("P#1")])}, queues={}))
    (tmp_path / "snapshot" / "manifest.json").write_text("{broken")

    # When a stack loads it
    keeper = load(tmp_path, stack.deployment)

    # Then it starts empty, says why, and keeps the snapshot aside
    assert keeper.report[0].startswith("! could not read the snapshot")
    assert stack.scan() == []
    assert len(list((tmp_path / "rejected").rglob("manifest.json"))) == 1
    keeper.close()


def test_a_saved_state_comes_back_item_for_item(stack, tmp_path):
    # Given items with binary values, and FIFO messages one of which a reader holds
    table = stack.deployment.physical["DataTable"]
    for number in (1, 2, 3):
        stack.dynamodb.put_item(TableName=table, Item=item(f"P#{number}"))
    queue = stack.queue("CommandsQueue")
    for number, group in ((1, "a"), (2, "b"), (3, "a")):
        stack.sqs.send_message(
            QueueUrl=queue,
            MessageBody=f"m{number}",
            MessageGroupId=group,
            MessageDeduplicationId=f"d{number}",
        )
    stack.receive("CommandsQueue", 1)
    saver = load(tmp_path, stack.deployment)
    assert saver.save(wait=1.0)
    saver.close()

    # When the items and messages are gone, and the snapshot is loaded again
    for number in (1, 2, 3):
        stack.dynamodb.delete_item(TableName=table, Key={"pk": {"S": f"P#{number}"}, "sk": {"S": "A"}})
    stack.sqs.purge_queue(QueueUrl=queue)
    keeper = load(tmp_path, stack.deployment)

    # Then every item is back as it was, and every message in its group's order
    assert sorted(stack.scan(), key=lambda found: found["pk"]["S"]) == [item(f"P#{n}") for n in (1, 2, 3)]
    received = stack.receive("CommandsQueue")
    assert sorted((m["Attributes"]["MessageGroupId"], m["Body"]) for m in received) == [
        ("a", "m1"),
        ("a", "m3"),
        ("b", "m2"),
    ]
    assert "1 had been in flight" in keeper.report[0]
    keeper.close()


def test_one_data_folder_serves_one_stack_at_a_time(tmp_path):
    # Given a stack holding a data folder
    first = StateKeeper(tmp_path, "us-east-1")
    assert first.claim() is None

    # When a second one asks for it
    problem = StateKeeper(tmp_path, "us-east-1").claim()

    # Then it is told who has it
    assert problem is not None and f"in use by another local stack (pid {os.getpid()})" in problem
    first.close()
    assert StateKeeper(tmp_path, "us-east-1").claim() is None


def test_a_crash_half_way_through_a_swap_leaves_a_complete_snapshot(tmp_path):
    # Given a complete new snapshot written, and the crash before it was renamed into place
    write_snapshot(tmp_path, Snapshot(tables={"DataTable": TableState(DATA_KEY, [item("P#1")])}, queues={}))
    (tmp_path / "snapshot").rename(tmp_path / "snapshot.new")

    # When the folder is read
    saved = read_snapshot(tmp_path)

    # Then the new snapshot is found whole
    assert saved is not None and saved.tables["DataTable"] == TableState(DATA_KEY, [item("P#1")])
    assert datetime.fromisoformat(saved.saved_at).tzinfo == UTC
