"""`make dlq` and `make redrive` on template.yaml in moto: messages that really failed, moved back exactly."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from infra import dlq
from infra.template import dead_letter_queues
from subcast.adapters.queues import CommandQueue, inbound_to_json
from subcast.domain.conversation import Inbound, InboundKind
from subcast.domain.subscriber import Channel
from subcast.services import dependencies

CHAT = "730012345"
TEXT = "call me on +44 7700 900123 please"
MAX_RECEIVE_COUNT = 5  # template.yaml's RedrivePolicy


@pytest.fixture(autouse=True)
def _no_long_polling(monkeypatch):
    # An empty answer from moto is final; waiting a second for it only slows the tests down.
    monkeypatch.setattr(dlq, "WAIT_SECONDS", 0)


def run(*argv: str) -> int:
    return dlq.main([*argv, "--region", "us-east-1"])


def command(update_id: int, chat: str = CHAT, text: str = TEXT) -> Inbound:
    moment = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    return Inbound(InboundKind.MESSAGE, Channel.TELEGRAM, chat, str(update_id), moment, text)


def enqueue(stack, logical_id: str, bodies: list[dict]) -> None:
    """Jobs as the fan-out and the sender's producers write them (JSON, ids only), ten to a request."""
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(index), "MessageBody": json.dumps(body)}
            for index, body in enumerate(bodies[start : start + 10])
        ]
        stack.sqs.send_message_batch(QueueUrl=stack.queue(logical_id), Entries=entries)


def fail_until_dead(stack, logical_id: str) -> None:
    """A consumer that keeps failing: received beyond maxReceiveCount, SQS moves each message on."""
    for _ in range(50):
        if stack.depth(logical_id) == 0:
            return
        stack.sqs.receive_message(
            QueueUrl=stack.queue(logical_id), MaxNumberOfMessages=10, VisibilityTimeout=0
        )
    raise AssertionError(f"{logical_id} never emptied into its dead-letter queue")


def attributes(stack, logical_id: str) -> dict[str, str]:
    return stack.sqs.get_queue_attributes(
        QueueUrl=stack.queue(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]


def look(stack, logical_id: str) -> list[dict]:
    """Receive, then make visible again at once: what is there, with its attributes, left in place."""
    messages = stack.receive(logical_id)
    for message in messages:
        stack.sqs.change_message_visibility(
            QueueUrl=stack.queue(logical_id), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


def drain(stack, logical_id: str) -> list[dict]:
    messages = []
    while batch := stack.receive(logical_id):
        messages.extend(batch)
        for message in batch:
            stack.sqs.delete_message(QueueUrl=stack.queue(logical_id), ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_the_template_pairs_each_queue_with_its_dead_letter_queue():
    pairs = {(d.name, d.source, d.queue, d.fifo) for d in dead_letter_queues()}
    assert pairs == {
        ("commands", "CommandsQueue", "CommandsDeadLetterQueue", True),
        ("fanout", "FanoutQueue", "FanoutDeadLetterQueue", False),
        ("delivery", "DeliveryQueue", "DeliveryDeadLetterQueue", False),
    }


def test_list_shows_what_failed_without_personal_data_and_leaves_it_in_place(stack, capsys):
    # Given a command, a fan-out and two delivery jobs that failed five times each
    dependencies.command_queue().send(command(1001))
    enqueue(stack, "FanoutQueue", [{"broadcast_id": "b-2026-launch", "shard": "07"}])
    job = {"broadcast_id": "b-2026-launch", "job_id": "job0042", "subscriber_ids": ["s00001", "s00002"]}
    enqueue(stack, "DeliveryQueue", [job, {"release": ["s00003"]}])
    for source in ("CommandsQueue", "FanoutQueue", "DeliveryQueue"):
        fail_until_dead(stack, source)

    # When the operator runs `make dlq`
    assert run("list") == 0

    # Then each queue shows its depth and a line per message: ids, times, receives, size and job kind
    out = capsys.readouterr().out
    assert "commands: 1 waiting, 0 in flight" in out
    assert "fanout: 1 waiting" in out and "delivery: 2 waiting" in out
    assert f"receives {MAX_RECEIVE_COUNT + 1}" in out and " B  " in out and "sent 20" in out
    assert "broadcast_id=b-2026-launch shard=07" in out
    assert "broadcast_id=b-2026-launch job_id=job0042 subscriber_ids[2]" in out
    assert "release[1]" in out
    # And a command shows only its keys: no chat id, no text, no subscriber ids
    assert "address channel client_language kind message_id received_at text" in out
    assert CHAT not in out and "7700" not in out and "call me" not in out and "s00001" not in out
    # And nothing is hidden or lost by looking
    for dead_letter, count in (("CommandsDeadLetterQueue", 1), ("FanoutDeadLetterQueue", 1)):
        assert attributes(stack, dead_letter) == {
            "ApproximateNumberOfMessages": str(count),
            "ApproximateNumberOfMessagesNotVisible": "0",
        }
    assert len(stack.receive("DeliveryDeadLetterQueue")) == 2


def test_list_of_one_queue_shows_at_most_max_messages(stack, capsys):
    enqueue(stack, "FanoutQueue", [{"broadcast_id": f"b{number}"} for number in range(12)])
    fail_until_dead(stack, "FanoutQueue")

    assert run("list", "--queue", "FanOut", "--max", "3") == 0

    out = capsys.readouterr().out
    assert out.count("broadcast_id=") == 3 and "9 more not shown" in out
    assert "commands" not in out and "delivery" not in out
    assert attributes(stack, "FanoutDeadLetterQueue")["ApproximateNumberOfMessages"] == "12"


def message_ids_by_person(messages: list[dict]) -> dict[str, list[str]]:
    people: dict[str, list[str]] = {}
    for message in messages:
        body = json.loads(message["Body"])
        people.setdefault(message["Attributes"]["MessageGroupId"], []).append(body["message_id"])
    return people


def test_redrive_sends_failed_commands_back_in_their_groups_and_order(stack, capsys):
    # Given two people's commands (one FIFO group each) that failed into the dead-letter queue
    for inbound in (command(2001), command(2002, chat="730099999", text="STOP"), command(2003, text="HELP")):
        dependencies.command_queue().send(inbound)
    fail_until_dead(stack, "CommandsQueue")
    before = look(stack, "CommandsDeadLetterQueue")

    # When the operator redrives the commands queue
    assert run("redrive", "--queue", "commands") == 0

    # Then all three are back on the commands queue: same bodies, same groups, each person's in order
    assert "commands: moved 3 messages back to subcast-commands.fifo" in capsys.readouterr().out
    assert stack.depth("CommandsDeadLetterQueue") == 0
    back = drain(stack, "CommandsQueue")
    assert sorted(m["Body"] for m in back) == sorted(m["Body"] for m in before)
    assert message_ids_by_person(back) == message_ids_by_person(before)
    assert len(message_ids_by_person(back)) == 2
    # And, having failed within SQS's deduplication memory, they carry a new id that SQS will not drop
    assert {m["Attributes"]["MessageDeduplicationId"] for m in back} == {
        f"redrive-{m['MessageId']}" for m in before
    }


def test_redrive_of_more_than_a_batch_of_commands_keeps_order_and_attributes(stack, capsys):
    # Given twelve commands of two people on the dead-letter queue, one with a message attribute
    dead_letter = CommandQueue(stack.queue("CommandsDeadLetterQueue"), b"integration-hash-key")
    for update_id in range(3001, 3012):
        dead_letter.send(command(update_id, chat=CHAT if update_id % 3 else "730099999"))
    inbound = command(3012)
    stack.sqs.send_message(
        QueueUrl=stack.queue("CommandsDeadLetterQueue"),
        MessageBody=inbound_to_json(inbound),
        MessageGroupId=dead_letter.group_of(inbound.channel, inbound.address),
        MessageDeduplicationId="telegram-3012",
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "replay"}},
    )

    # When the operator redrives them
    assert run("redrive", "--queue", "commands") == 0

    # Then all twelve are back, each person's in the order they wrote, and the attribute kept
    assert "commands: moved 12 messages back to" in capsys.readouterr().out
    back = drain(stack, "CommandsQueue")
    people = message_ids_by_person(back)
    assert sorted(people.values(), key=len) == [
        ["3003", "3006", "3009"],
        ["3001", "3002", "3004", "3005", "3007", "3008", "3010", "3011", "3012"],
    ]
    assert [m["MessageAttributes"] for m in back if "MessageAttributes" in m] == [
        {"origin": {"DataType": "String", "StringValue": "replay"}}
    ]


def test_redrive_of_a_standard_queue_moves_every_message_in_batches_with_its_attributes(stack, capsys):
    # Given 23 delivery jobs that failed, and one put on the dead-letter queue with an attribute
    jobs = [{"broadcast_id": "b1", "job_id": f"j{n}", "subscriber_ids": [f"s{n:05d}"]} for n in range(23)]
    enqueue(stack, "DeliveryQueue", jobs)
    fail_until_dead(stack, "DeliveryQueue")
    stack.sqs.send_message(
        QueueUrl=stack.queue("DeliveryDeadLetterQueue"),
        MessageBody=json.dumps(jobs[0]),
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "replay"}},
    )

    # When the operator redrives it
    assert run("redrive", "--queue", "delivery") == 0

    # Then all 24 are back, bodies unchanged, and the attribute kept
    assert "delivery: moved 24 messages back to" in capsys.readouterr().out
    assert stack.depth("DeliveryDeadLetterQueue") == 0
    back = drain(stack, "DeliveryQueue")
    assert sorted(m["Body"] for m in back) == sorted(json.dumps(job) for job in [*jobs, jobs[0]])
    assert [m["MessageAttributes"] for m in back if "MessageAttributes" in m] == [
        {"origin": {"DataType": "String", "StringValue": "replay"}}
    ]


def test_a_dry_run_changes_nothing(stack, capsys):
    enqueue(stack, "FanoutQueue", [{"broadcast_id": "b1"}, {"broadcast_id": "b2"}])
    fail_until_dead(stack, "FanoutQueue")
    counts = {
        m["MessageId"]: int(m["Attributes"]["ApproximateReceiveCount"])
        for m in look(stack, "FanoutDeadLetterQueue")
    }

    assert run("redrive", "--queue", "fanout", "--dry-run") == 0

    out = capsys.readouterr().out
    assert "would move 2 of 2 messages waiting" in out and "nothing changed" in out
    assert stack.depth("FanoutQueue") == 0
    assert attributes(stack, "FanoutDeadLetterQueue")["ApproximateNumberOfMessages"] == "2"
    # Not even received: each receive count went up by this check's own receive only
    again = {
        m["MessageId"]: int(m["Attributes"]["ApproximateReceiveCount"])
        for m in stack.receive("FanoutDeadLetterQueue")
    }
    assert again == {message_id: count + 1 for message_id, count in counts.items()}


def test_max_bounds_how_many_move(stack, capsys):
    enqueue(stack, "FanoutQueue", [{"broadcast_id": f"b{number}"} for number in range(15)])
    fail_until_dead(stack, "FanoutQueue")

    assert run("redrive", "--queue", "fanout", "--max", "4") == 0

    assert "fanout: moved 4 messages back to" in capsys.readouterr().out
    assert stack.depth("FanoutQueue") == 4 and stack.depth("FanoutDeadLetterQueue") == 11


def test_an_empty_dead_letter_queue_says_so(stack, capsys):
    assert run("list", "--queue", "delivery") == 0
    assert run("redrive", "--queue", "delivery") == 0

    out = capsys.readouterr().out
    assert "delivery: empty" in out and "nothing to move" in out


def test_an_unknown_queue_is_refused_with_exit_code_2_and_nothing_moves(stack, capsys):
    enqueue(stack, "FanoutQueue", [{"broadcast_id": "b1"}])
    fail_until_dead(stack, "FanoutQueue")

    with pytest.raises(SystemExit) as refused:
        run("redrive", "--queue", "fan-out")

    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'fan-out'" in err and "fanout" in err
    assert stack.depth("FanoutDeadLetterQueue") == 1 and stack.depth("FanoutQueue") == 0


def test_a_stack_that_is_not_deployed_is_refused_with_exit_code_2(stack, capsys):
    assert dlq.main(["list", "--stack-name", "nowhere", "--region", "us-east-1"]) == 2
    assert "dlq: stack nowhere" in capsys.readouterr().err


def test_a_crash_between_send_and_delete_leaves_a_duplicate_not_a_loss(stack, monkeypatch):
    # Given a delivery job in the dead-letter queue, and a redrive that dies after sending it back
    enqueue(stack, "DeliveryQueue", [{"release": ["s00001"]}])
    fail_until_dead(stack, "DeliveryQueue")

    def crash(*_args):
        raise ConnectionError("the operator's laptop went to sleep")

    monkeypatch.setattr(dlq, "delete", crash)
    with pytest.raises(ConnectionError):
        run("redrive", "--queue", "delivery")

    # Then the job is in both queues: delivered twice at worst (the sender is idempotent), never lost
    assert stack.depth("DeliveryQueue") == 1 and stack.depth("DeliveryDeadLetterQueue") == 1


def test_the_original_deduplication_id_is_reused_once_sqs_has_forgotten_it():
    sent = time.time() - 3600
    message = {
        "MessageId": "m-1",
        "Attributes": {"MessageDeduplicationId": "telegram-2001", "SentTimestamp": str(int(sent * 1000))},
    }

    assert dlq.deduplication_id(message, now=sent + dlq.DEDUPLICATION_MEMORY_SECONDS + 1) == "telegram-2001"
    assert dlq.deduplication_id(message, now=sent + 200) == "redrive-m-1"
    assert dlq.deduplication_id({"MessageId": "m-2", "Attributes": {}}, now=sent) == "redrive-m-2"
