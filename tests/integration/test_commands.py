"""The commands function on the template's FIFO queue: state, consent and replies, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.fakes.updates import body, member_update, message_update
from infra.local.events import api_gateway_event
from infra.template import ApiRoute
from subcast import clock
from subcast.adapters.channels import TemporaryFailure
from subcast.adapters.publishing import ApiKey
from subcast.adapters.queues import inbound_to_json
from subcast.adapters.telegram import TelegramBot
from subcast.domain.broadcast import BroadcastRequest
from subcast.domain.conversation import Inbound, InboundKind
from subcast.domain.subscriber import Channel
from subcast.domain.topics import TopicRequest
from subcast.services import dependencies
from subcast.services.broadcasts import create_broadcast
from subcast.services.topics import create_topic
from tests.integration.conftest import WEBHOOK_SECRET, invoke

WEBHOOK = ApiRoute("WebhooksFunction", "/webhooks/telegram", "POST")
CHAT = 4242


def webhook(update: dict[str, Any]) -> None:
    headers = [("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)]
    response = invoke(
        "WebhooksFunction", api_gateway_event(WEBHOOK, WEBHOOK.path, {}, "", headers, body(update), "")
    )
    assert response["statusCode"] == 200


def drain(stack) -> list[dict[str, Any]]:
    """Hand the commands queue to the function as Lambda would: delete what succeeded, return what failed."""
    while messages := stack.receive("CommandsQueue"):
        try:
            result = invoke("CommandsFunction", stack.sqs_event("CommandsQueue", messages))
            failed_ids = {item["itemIdentifier"] for item in result["batchItemFailures"]}
        except Exception:  # a handler that raises fails the whole batch
            failed_ids = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] not in failed_ids:
                stack.sqs.delete_message(
                    QueueUrl=stack.queue("CommandsQueue"), ReceiptHandle=message["ReceiptHandle"]
                )
        if failed_ids:
            return [message for message in messages if message["MessageId"] in failed_ids]
    return []


def say(stack, update_id: int, text: str, chat: int = CHAT, language: str = "en") -> list[str]:
    """The person sends ``text``; returns the bot's replies to it."""
    before = len(stack.bot.sent(chat))
    webhook(message_update(update_id, chat, text, language))
    drain(stack)
    return [message["text"] for message in stack.bot.sent(chat)[before:]]


def profile(chat: int = CHAT):
    subscriber, consent = dependencies.subscriber_store().find_by_address(Channel.TELEGRAM, str(chat))
    return subscriber, consent


def test_double_opt_in_then_stop_records_provable_consent(stack):
    # When a person starts, confirms and stops
    [question] = say(stack, 1, "/start t-news")
    pending, requested = profile()
    [welcome] = say(stack, 2, "YES")
    active, confirmed = profile()
    [goodbye] = say(stack, 3, "please stop sending me messages")
    cancelled, withdrawn = profile()

    # Then each step answered once, in order, and the state followed pending -> active -> cancelled
    assert "Reply YES" in question and "subcast" in question
    assert "subscribed" in welcome
    assert "unsubscribed" in goodbye
    assert [pending.state, active.state, cancelled.state] == ["pending", "active", "cancelled"]
    # And the consent record proves who, where, what they saw, how they confirmed and when they left
    assert requested.optin_text == question
    assert requested.optin_text_version.startswith("optin.question@en#")
    assert requested.source == "deep_link:t-news" and pending.topics == ("news",)
    assert requested.request_message_id == "1"
    assert (confirmed.confirm_message_id, confirmed.confirmed_at is not None) == ("2", True)
    assert (withdrawn.withdraw_message_id, withdrawn.withdrawn_at is not None) == ("3", True)
    assert str(CHAT) not in withdrawn.address_hash and len(withdrawn.address_hash) == 64


def test_nothing_but_the_opt_in_question_is_sent_before_yes(stack):
    # Given a person who only said START
    say(stack, 1, "START")

    # When a broadcast goes out now and fan-out runs
    key = ApiKey(key_id="t", name="t", scopes=("admin",), created_at=datetime(2026, 1, 1, tzinfo=UTC))
    broadcast, _ = create_broadcast(
        BroadcastRequest(text="Big news"),
        key,
        None,
        store=dependencies.broadcast_store(),
        publishing=dependencies.publishing_store(),
        fanout=dependencies.fanout_queue(),
    )
    from tests.integration.test_delivery import fan_out_all

    fan_out_all(stack)

    # Then the pending person is no recipient: no job was queued, only the question was ever sent
    assert stack.depth("DeliveryQueue") == 0
    assert dependencies.broadcast_store().get(broadcast.broadcast_id).counts.recipients == 0
    assert len(stack.bot.sent(CHAT)) == 1


def test_a_command_reads_two_items_however_long_the_history(stack):
    # Given a subscriber with a long inbox history
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    for n in range(3, 33):
        say(stack, n, f"FEEDBACK note {n}")

    # When they send a command, counting the items DynamoDB returns
    read = []

    def count(parsed, **_):
        read.append(len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0))

    client = dependencies.subscriber_store().dynamodb
    client.meta.events.register("after-call.dynamodb", count)
    try:
        say(stack, 40, "HELP")
    finally:
        client.meta.events.unregister("after-call.dynamodb", count)

    # Then only the address, the profile and the current consent record were read
    assert sum(read) == 3


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("STOP", "en", "unsubscribed"),
        ("/stop@subcast_bot", "en", "unsubscribed"),
        ("Abmelden", "de", "abbestellt"),
        ("bitte keine Nachrichten mehr", "de", "abbestellt"),
        ("ＳＴＯＰ", "en", "unsubscribed"),
        ("unsubscribe me please", "en", "unsubscribed"),
    ],
)
def test_stop_works_in_any_wording_with_one_confirmation(stack, text, language, expected):
    # Given an active subscriber
    say(stack, 1, "/start", language=language)
    say(stack, 2, "JA" if language == "de" else "YES")

    # When they stop in their own words
    replies = say(stack, 3, text)

    # Then exactly one confirmation, in their language, and they are cancelled
    assert len(replies) == 1 and expected in replies[0]
    assert profile()[0].state == "cancelled"


def test_status_and_help_in_german(stack):
    # Given a German-speaking subscriber
    say(stack, 1, "/start", language="de")
    say(stack, 2, "JA")

    # When they ask for their settings and for help
    [status] = say(stack, 3, "EINSTELLUNGEN")
    [help_text] = say(stack, 4, "HILFE")

    # Then both answers are in German and show every setting there is so far
    assert "Status: aktiv seit" in status and "Themen: alle Themen" in status and "Sprache: Deutsch" in status
    assert help_text.startswith("Befehle für")


def test_a_redelivered_command_changes_nothing_and_replies_once(stack):
    # Given a START that was applied
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    before = profile()[0]

    # When Telegram resends update 2 a day later (past SQS's 5-minute deduplication window)
    replies_before = len(stack.bot.sent(CHAT))
    inbound = Inbound(
        kind=InboundKind.MESSAGE,
        channel=Channel.TELEGRAM,
        address=str(CHAT),
        message_id="2",
        received_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
        text="YES",
    )
    stack.sqs.send_message(
        QueueUrl=stack.queue("CommandsQueue"),
        MessageBody=inbound_to_json(inbound),
        MessageGroupId="g",
        MessageDeduplicationId="a-day-later",
    )
    assert drain(stack) == []

    # Then the subscriber is unchanged and no second welcome is sent
    assert profile()[0] == before
    assert len(stack.bot.sent(CHAT)) == replies_before


def test_a_crash_before_the_reply_sends_it_exactly_once_on_redelivery(stack, monkeypatch):
    # Given the provider fails the reply after the state change was committed
    real_send = TelegramBot.send_text
    failures = iter([True])

    def flaky(self, address, text):
        if next(failures, False):
            raise TemporaryFailure("connection reset")
        return real_send(self, address, text)

    monkeypatch.setattr(TelegramBot, "send_text", flaky)
    webhook(message_update(1, CHAT, "/start"))
    [failed] = drain(stack)
    assert profile()[0].state == "pending" and stack.bot.sent(CHAT) == []

    # When the queue redelivers the message (its visibility timeout is cut short here)
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue("CommandsQueue"), ReceiptHandle=failed["ReceiptHandle"], VisibilityTimeout=0
    )
    assert drain(stack) == []

    # Then the opt-in question arrives once, and the state was applied once
    assert len(stack.bot.sent(CHAT)) == 1
    _, consent = profile()
    assert consent.request_message_id == "1"
    assert len(dependencies.subscriber_store().consent_history(profile()[0].subscriber_id)) == 1


def test_blocking_keeps_everything_and_a_new_message_makes_them_reachable(stack):
    # Given an active subscriber
    say(stack, 1, "/start")
    say(stack, 2, "YES")

    # When they block the bot
    webhook(member_update(3, CHAT, "kicked"))
    drain(stack)
    blocked = profile()[0]

    # Then they are unreachable but still subscribed, out of the audience, and nothing was sent
    assert blocked.state == "active" and blocked.primary.reachable is False
    assert not blocked.receives_broadcasts
    assert len(stack.bot.sent(CHAT)) == 2

    # When they come back and write
    [status] = say(stack, 4, "STATUS")

    # Then they are reachable again with every setting kept
    back = profile()[0]
    assert back.primary.reachable and back.state == "active" and back.subscriber_id == blocked.subscriber_id
    assert "active since" in status


def test_a_stranger_gets_help_without_a_record_being_created(stack):
    # When someone who never subscribed writes HELP, gibberish or STOP
    replies = say(stack, 1, "HELP") + say(stack, 2, "what is this") + say(stack, 3, "STOP")

    # Then each gets one short answer and no subscriber exists
    assert len(replies) == 3
    assert "Send HELP" in replies[1]
    assert profile() == (None, None)
    assert not [item for item in stack.scan() if item["pk"]["S"].startswith(("SUB#", "ADDR#"))]


def test_no_chat_id_or_message_text_in_logs(stack, capsys):
    # When a person subscribes and writes something personal
    say(stack, 1, "/start")
    say(stack, 2, "my number is +491701234567")

    # Then the logs carry neither the chat id nor the text
    logged = capsys.readouterr()
    for secret in (str(CHAT), "+491701234567", "my number"):
        assert secret not in logged.out and secret not in logged.err


def test_a_pause_ends_by_itself_when_the_dispatcher_ticks_after_it(stack):
    # Given an active subscriber who pauses for three days
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    [reply] = say(stack, 3, "PAUSE 3d")
    paused = profile()[0]
    assert paused.state == "paused" and "RESUME" in reply
    assert not dependencies.subscriber_store().pauses_ending(clock.now())

    # When the dispatcher ticks before the end, nothing changes
    assert invoke("DispatcherFunction", {})["resumed"] == 0

    # When it ticks after the end
    clock.move_to(paused.paused_until + timedelta(minutes=1))
    assert invoke("DispatcherFunction", {})["resumed"] == 1

    # Then they are active again, back in the audience, and no message was sent about it
    back = profile()[0]
    assert back.state == "active" and back.receives_broadcasts and back.paused_until is None
    assert len(stack.bot.sent(CHAT)) == 3
    assert invoke("DispatcherFunction", {})["resumed"] == 0


def test_resume_before_the_end_leaves_nothing_for_the_dispatcher(stack):
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    say(stack, 3, "PAUSE 2w")
    [reply] = say(stack, 4, "RESUME")
    assert "Welcome back" in reply and profile()[0].state == "active"
    clock.move_to(clock.now() + timedelta(days=15))
    assert invoke("DispatcherFunction", {})["resumed"] == 0


def test_topics_chosen_by_message_show_in_status(stack):
    # Given a publisher with two topics and a subscriber
    for slug, name in (("sport", "Sport"), ("tech", "Technology")):
        create_topic(dependencies.publishing_store(), TopicRequest(slug=slug, name=name))
    say(stack, 1, "/start")
    say(stack, 2, "YES")

    # When they choose one topic
    [done] = say(stack, 3, "TOPICS tech")

    # Then it is stored and shown with its name
    assert profile()[0].topics == ("tech",)
    assert "Technology" in done
    [status] = say(stack, 4, "STATUS")
    assert "Topics: Technology" in status and "Timezone: UTC" in status


def test_feedback_and_messages_not_understood_reach_the_inbox_with_one_hint_an_hour(stack):
    # Given an active subscriber
    say(stack, 1, "/start")
    say(stack, 2, "YES")

    # When they send feedback and then two messages subcast does not understand
    [thanks] = say(stack, 3, "FEEDBACK More Technik, bitte!")
    first = say(stack, 4, "what time is it?")
    second = say(stack, 5, "hello??")

    # Then feedback is thanked, the first unknown message gets a hint, the second none
    assert "Thank you" in thanks
    assert len(first) == 1 and "HELP" in first[0]
    assert second == []
    # And all three are in the publisher's inbox, feedback as typed
    entries = dependencies.publishing_store().inbox().entries
    assert [(entry["kind"], entry["text"]) for entry in entries] == [
        ("unknown", "hello??"),
        ("unknown", "what time is it?"),
        ("feedback", "More Technik, bitte!"),
    ]

    # When an hour has passed, the next unknown message gets a hint again
    clock.move_to(clock.now() + timedelta(hours=1, minutes=1))
    assert len(say(stack, 6, "hm")) == 1


def test_messages_from_strangers_are_answered_but_not_kept(stack):
    say(stack, 1, "FEEDBACK who are you")
    say(stack, 2, "random words")
    assert dependencies.publishing_store().inbox().entries == []


def test_export_sends_everything_kept_as_json(stack):
    # Given a subscriber with a consent record and feedback
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    say(stack, 3, "FEEDBACK nice")

    # When they ask for their data
    replies = say(stack, 4, "EXPORT")

    # Then a header and the JSON parts arrive, and the JSON holds profile, consent and inbox
    assert "JSON" in replies[0]
    document = json.loads("".join(part.split("\n", 1)[1] for part in replies[1:]))
    assert document["subscriber"]["addresses"][0]["address"] == str(CHAT)
    assert document["consent"][0]["confirm_message_id"] == "2"
    assert document["inbox"][0]["text"] == "nice"


def test_delete_asks_first_then_erases_every_personal_item(stack):
    # Given a subscriber with settings, consent and inbox entries
    say(stack, 1, "/start")
    say(stack, 2, "YES")
    say(stack, 3, "TZ Berlin")
    say(stack, 4, "FEEDBACK I live at Main Street 1")
    subscriber_id = profile()[0].subscriber_id

    # When they say DELETE, nothing is erased yet
    [question] = say(stack, 5, "DELETE")
    assert "DELETE CONFIRM" in question and profile()[0].state == "active"

    # When they confirm
    [done] = say(stack, 6, "LÖSCHEN BESTÄTIGEN")

    # Then no item anywhere holds their chat id or what they wrote, the commands queue is empty,
    assert "deleted" in done or "gelöscht" in done
    everything = json.dumps(stack.scan())
    assert (
        str(CHAT) not in everything and "Main Street" not in everything and "Europe/Berlin" not in everything
    )
    assert stack.depth("CommandsQueue") == 0
    # and the consent proof (hashed address only) and a suppression entry remain
    consent = dependencies.subscriber_store().consent_history(subscriber_id)
    assert consent and consent[0].confirm_message_id == "2"
    assert any(item["pk"]["S"].startswith("SUPPRESS#") for item in stack.scan())
    # And the address is a stranger now: STATUS says not subscribed, START begins afresh
    assert "not subscribed" in say(stack, 7, "STATUS")[0]
    say(stack, 8, "/start")
    assert profile()[0].subscriber_id != subscriber_id
