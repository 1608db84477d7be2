"""Quiet hours, digests, frequency caps, keyword filters and alerts, applied when a broadcast is sent.

The real dispatcher, fan-out and sender handlers on the template's queues and
table (moto), the Bot API test server recording what each chat received.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from subcast import clock
from subcast.adapters.subscribers import profile_item
from subcast.domain.preferences import (
    Alert,
    CapPeriod,
    Digest,
    DigestMode,
    Filters,
    FrequencyCap,
    QuietHours,
)
from subcast.domain.subscriber import Subscriber, SubscriberState
from subcast.services import dependencies
from subcast.services.broadcasts import get_broadcast
from tests.integration.conftest import invoke
from tests.integration.test_commands import profile, say
from tests.integration.test_delivery import broadcast, deliver_everything, fan_out_all, run

LATE_EVENING = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # subscribers here live in UTC (English default)


@pytest.fixture
def at_late_evening() -> Iterator[None]:
    clock.move_to(LATE_EVENING)
    yield
    clock.move_to(None)


def subscriber_with(stack, number: int, **settings: Any) -> Subscriber:
    """An active subscriber with the given preferences, written straight into the table (set-up)."""
    subscriber = stack.add_subscriber(number).model_copy(update=settings)
    stack.dynamodb.put_item(TableName=stack.deployment.physical["DataTable"], Item=profile_item(subscriber))
    return subscriber


def send(text: str, topics: tuple[str, ...] = (), attributes: dict[str, Any] | None = None) -> str:
    return broadcast(text, topics, attributes=attributes)


def add_topic(slug: str) -> None:
    from subcast.domain.topics import TopicRequest
    from subcast.services.topics import create_topic

    create_topic(dependencies.publishing_store(), TopicRequest(slug=slug, name=slug.title()))


def tick_and_release(stack) -> dict[str, Any]:
    """One scheduler tick, then the sender works through the release jobs it queued."""
    result = invoke("DispatcherFunction", {"source": "aws.events"})
    for _ in range(20):
        if run(stack, "SenderFunction", "DeliveryQueue") == [] and stack.depth("DeliveryQueue") == 0:
            break
    return result


def texts_to(stack, subscriber: Subscriber) -> list[str]:
    chat = subscriber.primary.address
    return [message["text"] for message in stack.bot.sent() if str(message["chat"]["id"]) == chat]


def counts(broadcast_id: str) -> dict[str, int]:
    return get_broadcast(dependencies.broadcast_store(), broadcast_id).counts.model_dump()


# ------------------------------------------------------------------ quiet hours
def test_quiet_hours_hold_a_snippet_until_they_end_then_it_arrives_once(stack, at_late_evening):
    # Given one subscriber in quiet hours (22-07 UTC, it is 23:00) and one without
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    owl = subscriber_with(stack, 2)

    # When a broadcast goes out now
    broadcast_id = send("Night news")
    deliver_everything(stack)

    # Then only the owl has it; the sleeper's copy is held and the broadcast is complete
    assert texts_to(stack, owl) == ["Night news"]
    assert texts_to(stack, sleeper) == []
    assert counts(broadcast_id) | {} == {
        "recipients": 2, "sent": 1, "failed": 0, "skipped": 0, "held": 1, "delivered_later": 0,
        "reasons": {"held:quiet_hours": 1},
    }  # fmt: skip
    assert get_broadcast(dependencies.broadcast_store(), broadcast_id).status.value == "sent"

    # When the scheduler ticks during the quiet hours, nothing is released
    clock.move_to(datetime(2026, 11, 25, 6, 59, tzinfo=UTC))
    assert tick_and_release(stack)["releases"] == 0
    assert texts_to(stack, sleeper) == []

    # When the quiet hours are over and the scheduler ticks (twice)
    clock.move_to(datetime(2026, 11, 25, 7, 0, 30, tzinfo=UTC))
    assert tick_and_release(stack)["releases"] == 1
    assert tick_and_release(stack)["releases"] == 0

    # Then the snippet arrives once, as it was written, and is counted as delivered later
    assert texts_to(stack, sleeper) == ["Night news"]
    assert counts(broadcast_id)["delivered_later"] == 1


def test_a_release_delivered_twice_sends_once(stack, at_late_evening):
    # Given a held snippet whose release job SQS delivers twice
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    send("Held once")
    deliver_everything(stack)
    clock.move_to(datetime(2026, 11, 25, 7, 1, tzinfo=UTC))
    invoke("DispatcherFunction", {"source": "aws.events"})
    [message] = stack.receive("DeliveryQueue")
    event = stack.sqs_event("DeliveryQueue", [message])

    # When the sender handles the same message twice
    first = invoke("SenderFunction", event)
    second = invoke("SenderFunction", event)

    # Then the snippet went out once and neither attempt failed
    assert first == second == {"batchItemFailures": []}
    assert texts_to(stack, sleeper) == ["Held once"]


def test_several_snippets_held_overnight_arrive_as_one_message(stack, at_late_evening):
    # Given three broadcasts during someone's quiet hours
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    for text in ("First", "Second", "Third"):
        send(text)
        deliver_everything(stack)

    # When the quiet hours end
    clock.move_to(datetime(2026, 11, 25, 7, 5, tzinfo=UTC))
    tick_and_release(stack)

    # Then one message holds all three, in the order they were sent
    [message] = texts_to(stack, sleeper)
    assert message.index("First") < message.index("Second") < message.index("Third")
    assert message.startswith("While your quiet hours were on")


def test_what_no_longer_applies_at_release_is_dropped(stack, at_late_evening):
    # Given two held snippets; then the sleeper filters one of them out, and another person stops
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    leaver = subscriber_with(stack, 2, quiet_hours=QuietHours(time(22), time(7)))
    kept, filtered = send("Kept"), send("Werbung: a deal")
    deliver_everything(stack)
    deliver_everything(stack)
    table = stack.deployment.physical["DataTable"]
    choosy = sleeper.model_copy(update={"filters": Filters(exclude=("werbung",)), "version": 2})
    gone = leaver.model_copy(update={"state": SubscriberState.CANCELLED, "version": 2})
    for changed in (choosy, gone):
        stack.dynamodb.put_item(TableName=table, Item=profile_item(changed))

    # When the quiet hours end
    clock.move_to(datetime(2026, 11, 25, 7, 5, tzinfo=UTC))
    tick_and_release(stack)

    # Then the sleeper gets only the kept snippet, the leaver nothing, and nothing stays held
    assert texts_to(stack, sleeper) == ["Kept"]
    assert texts_to(stack, leaver) == []
    assert (counts(kept)["delivered_later"], counts(filtered)["delivered_later"]) == (1, 0)
    assert not [item for item in stack.scan() if item["sk"]["S"].startswith("HOLD#")]


# ----------------------------------------------------------------------- digest
def test_a_daily_digest_collects_snippets_into_one_message_at_its_time(stack, at_late_evening):
    # Given a subscriber with a daily digest at 08:00 and two broadcasts in the evening
    reader = subscriber_with(stack, 1, digest=Digest(DigestMode.DAILY, time(8)))
    first, second = send("Morning markets"), send("Weather: sunny")
    deliver_everything(stack)
    deliver_everything(stack)
    assert texts_to(stack, reader) == []

    # When 08:00 comes (and the scheduler ticks a second time)
    clock.move_to(datetime(2026, 11, 25, 8, 0, 10, tzinfo=UTC))
    tick_and_release(stack)
    tick_and_release(stack)

    # Then exactly one digest message arrived with both snippets, each counted as delivered later
    [digest] = texts_to(stack, reader)
    assert digest.startswith("Your digest from")
    assert "Morning markets" in digest and "Weather: sunny" in digest
    assert counts(first)["delivered_later"] == counts(second)["delivered_later"] == 1


def test_a_digest_time_inside_quiet_hours_waits_for_their_end(stack, at_late_evening):
    # Given a digest at 06:00 and quiet hours until 07:00
    reader = subscriber_with(
        stack, 1, digest=Digest(DigestMode.DAILY, time(6)), quiet_hours=QuietHours(time(22), time(7))
    )
    send("Early news")
    deliver_everything(stack)

    # When 06:00 comes, nothing arrives; when the quiet hours end, the digest does
    clock.move_to(datetime(2026, 11, 25, 6, 0, 30, tzinfo=UTC))
    tick_and_release(stack)
    assert texts_to(stack, reader) == []
    clock.move_to(datetime(2026, 11, 25, 7, 0, 30, tzinfo=UTC))
    tick_and_release(stack)
    assert len(texts_to(stack, reader)) == 1


# ------------------------------------------------------------------ frequency cap
def test_a_daily_cap_lets_that_many_through_and_skips_the_rest(stack, at_late_evening):
    # Given a subscriber with LIMIT 2/day
    capped = subscriber_with(stack, 1, cap=FrequencyCap(2, CapPeriod.DAY))
    free = subscriber_with(stack, 2)

    # When three broadcasts go out the same day
    ids = [send(f"Snippet {n}") for n in range(3)]
    for _ in ids:
        deliver_everything(stack)

    # Then the capped subscriber got two, the other three; the third is skipped for the cap
    assert len(texts_to(stack, capped)) == 2
    assert len(texts_to(stack, free)) == 3
    assert counts(ids[2])["skipped"] == 1
    assert counts(ids[2])["reasons"] == {"skipped:cap": 1}

    # When the next day begins, the cap starts again
    clock.move_to(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    send("Next day")
    deliver_everything(stack)
    assert texts_to(stack, capped)[-1] == "Next day"


def test_the_publishers_cap_and_the_subscribers_the_smaller_wins(stack, at_late_evening):
    # Given a publisher cap of 2 a day, and subscribers with no LIMIT, a looser one and a stricter one
    from subcast.services.publisher_settings import CapSetting, SettingsUpdate, change_publisher_settings

    change_publisher_settings(
        dependencies.publishing_store(), SettingsUpdate(frequency_cap=CapSetting(count=2, per=CapPeriod.DAY))
    )
    no_limit = subscriber_with(stack, 1)
    looser = subscriber_with(stack, 2, cap=FrequencyCap(5, CapPeriod.DAY))
    stricter = subscriber_with(stack, 3, cap=FrequencyCap(1, CapPeriod.DAY))

    # When four broadcasts go out the same day
    ids = [send(f"Snippet {n}") for n in range(4)]
    for _ in ids:
        deliver_everything(stack)

    # Then the publisher's 2 a day holds for the first two, the subscriber's 1 a day for the third
    assert [len(texts_to(stack, person)) for person in (no_limit, looser, stricter)] == [2, 2, 1]
    assert counts(ids[3])["reasons"] == {"skipped:cap": 3}


def test_a_job_delivered_twice_uses_one_cap_slot(stack, at_late_evening):
    # Given LIMIT 1/day and a delivery job that SQS hands to the sender twice
    capped = subscriber_with(stack, 1, cap=FrequencyCap(1, CapPeriod.DAY))
    send("Only one")
    fan_out_all(stack)
    [job] = stack.receive("DeliveryQueue")
    event = stack.sqs_event("DeliveryQueue", [job])
    invoke("SenderFunction", event)
    invoke("SenderFunction", event)

    # Then it was sent once, and the slot it took is the only one used
    assert texts_to(stack, capped) == ["Only one"]
    [counter] = [item for item in stack.scan() if item["sk"]["S"].startswith("CAP#")]
    assert len(counter["broadcasts"]["SS"]) == 1


# ----------------------------------------------------------- filters and alerts
def test_keyword_filters_decide_which_snippets_arrive(stack, at_late_evening):
    # Given one subscriber who wants only Bayern, another who never wants ads
    fan = subscriber_with(stack, 1, filters=Filters(include=("bayern",)))
    no_ads = subscriber_with(stack, 2, filters=Filters(exclude=("werbung",)))

    # When three broadcasts go out
    for text in ("FC Bayern wins", "Werbung: 20% off", "Rain in Hamburg"):
        send(text)
        deliver_everything(stack)

    # Then each got exactly what their filters allow (case-insensitive substring)
    assert texts_to(stack, fan) == ["FC Bayern wins"]
    assert texts_to(stack, no_ads) == ["FC Bayern wins", "Rain in Hamburg"]


def test_an_alert_narrows_its_topic_to_broadcasts_whose_attributes_match(stack, at_late_evening):
    # Given a subscriber on topic energie with ALERT energie kwh > 300, and one without the alert
    add_topic("energie")
    watcher = subscriber_with(stack, 1, topics=("energie",), alerts=(Alert("energie", "kwh", ">", 300.0),))
    everyone = subscriber_with(stack, 2, topics=("energie",))

    # When two energy broadcasts go out, one above and one below the threshold, and one without it
    send("Price spike", topics=("energie",), attributes={"kwh": 350})
    send("Calm day", topics=("energie",), attributes={"kwh": 120})
    broadcast_id = send("No figure today", topics=("energie",))
    for _ in range(3):
        deliver_everything(stack)

    # Then the watcher only got the spike; the other subscriber got all three
    assert texts_to(stack, watcher) == ["Price spike"]
    assert len(texts_to(stack, everyone)) == 3
    assert counts(broadcast_id)["skipped"] == 1


# ------------------------------------------------------------------------ erasure
def test_settings_by_message_are_enforced_and_erasure_removes_what_they_left(stack, at_late_evening):
    # Given a person who subscribes and sets quiet hours and a weekly cap by message
    for update_id, text in enumerate(("START", "YES", "QUIET 22:00-07:00", "LIMIT 3/week"), 9001):
        say(stack, update_id, text)
    person, _ = profile()
    assert person is not None and person.quiet_hours == QuietHours(time(22), time(7))

    # When a broadcast goes out at 23:00, it is held (and counted against the cap)
    send("Held")
    deliver_everything(stack)
    assert "Held" not in texts_to(stack, person)
    assert [item for item in stack.scan() if item["sk"]["S"].startswith(("HOLD#", "CAP#"))]

    # When they erase their data by message
    say(stack, 9010, "DELETE")
    say(stack, 9011, "DELETE CONFIRM")

    # Then nothing held or counted for them remains, and nothing arrives after the quiet hours
    assert not [item for item in stack.scan() if item["sk"]["S"].startswith(("HOLD#", "CAP#"))]
    clock.move_to(LATE_EVENING + timedelta(hours=9))
    tick_and_release(stack)
    assert "Held" not in texts_to(stack, person)


def test_a_release_that_meets_a_provider_outage_is_sent_once_later(stack, at_late_evening, monkeypatch):
    # Given a held snippet, and Telegram answering 5xx to every try of the first release
    from subcast.services import sending as delivery

    monkeypatch.setattr(delivery, "TEMPORARY_RETRIES", 1)
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    broadcast_id = send("Survives the outage")
    deliver_everything(stack)
    clock.move_to(datetime(2026, 11, 25, 7, 1, tzinfo=UTC))
    invoke("DispatcherFunction", {"source": "aws.events"})
    stack.bot.fail_next(2, status=502, description="Bad Gateway")

    # When the sender handles the release: the invocation fails, so SQS keeps the message for a retry
    [message] = stack.receive("DeliveryQueue")
    with pytest.raises(BatchProcessingError):
        invoke("SenderFunction", stack.sqs_event("DeliveryQueue", [message]))
    assert texts_to(stack, sleeper) == []

    # When the same message comes back (SQS redelivery) and the provider has recovered
    retried = invoke("SenderFunction", stack.sqs_event("DeliveryQueue", [message]))

    # Then the snippet arrives once, is counted once, and nothing stays held
    assert retried == {"batchItemFailures": []}
    assert texts_to(stack, sleeper) == ["Survives the outage"]
    assert counts(broadcast_id)["delivered_later"] == 1
    assert not [item for item in stack.scan() if item["sk"]["S"].startswith("HOLD#")]


def test_a_poison_release_job_fails_alone(stack, at_late_evening):
    # Given a release job naming nobody known and a real one in the same batch
    sleeper = subscriber_with(stack, 1, quiet_hours=QuietHours(time(22), time(7)))
    send("Still arrives")
    deliver_everything(stack)
    clock.move_to(datetime(2026, 11, 25, 7, 1, tzinfo=UTC))
    invoke("DispatcherFunction", {"source": "aws.events"})
    stack.sqs.send_message(QueueUrl=stack.queue("DeliveryQueue"), MessageBody='{"release": []}')
    messages = stack.receive("DeliveryQueue")
    assert len(messages) == 2

    # When the sender gets both
    result = invoke("SenderFunction", stack.sqs_event("DeliveryQueue", messages))

    # Then only the malformed one failed, and the snippet arrived
    [poison] = [m for m in messages if m["Body"] == '{"release": []}']
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["MessageId"]}]}
    assert texts_to(stack, sleeper) == ["Still arrives"]
