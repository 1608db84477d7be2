"""The subscriber state machine, pure: no AWS, no network."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from subcast.domain.commands import Command, Intent, parse_command
from subcast.domain.conversation import Brand, Inbound, InboundKind, decide
from subcast.domain.messages import Language, catalogue
from subcast.domain.subscriber import Channel, SubscriberState

BRAND = Brand(name="Daily Bugle", description="the morning headlines")
T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
ids = itertools.count()


def inbound(
    text: str, message_id: str = "1", kind=InboundKind.MESSAGE, language: str | None = "en"
) -> Inbound:
    return Inbound(kind, Channel.TELEGRAM, "42", message_id, T0, text, language)


def step(text: str, subscriber=None, consent=None, message_id="1", language="en", kind=InboundKind.MESSAGE):
    event = inbound(text, message_id, kind, language)
    command = parse_command(text) if kind is InboundKind.MESSAGE else Command(Intent.UNKNOWN)
    return decide(
        event,
        command,
        subscriber,
        consent,
        now=T0 + timedelta(minutes=int(message_id)),
        brand=BRAND,
        address_hash="hash-of-42",
        new_id=lambda: f"id{next(ids)}",
    )


def subscribe():
    started = step("/start", message_id="1")
    confirmed = step("YES", started.subscriber, started.consent, message_id="2")
    return confirmed.subscriber, confirmed.consent


def test_start_asks_for_consent_naming_the_publisher_and_what_will_be_sent():
    # When a stranger sends /start
    outcome = step("/start")

    # Then one question names brand and content; a pending subscriber and a consent request exist
    [question] = outcome.replies
    assert "Daily Bugle" in question and "the morning headlines" in question and "YES" in question
    assert outcome.subscriber.state is SubscriberState.PENDING
    assert not outcome.subscriber.receives_broadcasts
    assert outcome.consent.optin_text == question and outcome.consent.confirmed_at is None
    assert outcome.consent.address_hash == "hash-of-42"


def test_yes_confirms_and_records_how_and_when():
    # When a pending person confirms
    subscriber, consent = subscribe()

    # Then they are active and the consent names the confirming message and its time
    assert subscriber.state is SubscriberState.ACTIVE and subscriber.receives_broadcasts
    assert consent.confirm_message_id == "2" and consent.confirmed_at == T0 + timedelta(minutes=2)


def test_yes_without_a_pending_request_confirms_nothing():
    outcome = step("YES")
    assert outcome.subscriber is None and outcome.consent is None
    assert "nothing to confirm" in outcome.replies[0]


def test_stop_withdraws_consent_and_cancels_with_one_reply():
    subscriber, consent = subscribe()
    outcome = step("STOP", subscriber, consent, message_id="3")
    assert outcome.subscriber.state is SubscriberState.CANCELLED
    assert (
        outcome.consent.withdrawn_at == T0 + timedelta(minutes=3)
        and outcome.consent.withdraw_message_id == "3"
    )
    assert len(outcome.replies) == 1


def test_stop_while_pending_withdraws_the_request():
    started = step("/start")
    outcome = step("stop", started.subscriber, started.consent, message_id="2")
    assert outcome.subscriber.state is SubscriberState.CANCELLED
    assert outcome.consent.withdrawn_at is not None


def test_start_after_stop_asks_again_with_a_new_consent_record():
    subscriber, consent = subscribe()
    stopped = step("STOP", subscriber, consent, message_id="3")
    again = step("START", stopped.subscriber, stopped.consent, message_id="4")
    assert again.subscriber.state is SubscriberState.PENDING
    assert again.consent.consent_id != consent.consent_id
    assert again.subscriber.subscriber_id == subscriber.subscriber_id


def test_a_repeated_start_while_pending_repeats_the_same_question_without_a_new_record():
    started = step("/start")
    again = step("/start", started.subscriber, started.consent, message_id="2")
    assert again.replies == started.replies and again.consent is None


def test_a_german_client_gets_german_replies_and_keeps_them():
    started = step("/start", language="de-AT")
    assert started.subscriber.language is Language.DE
    assert "JA" in started.replies[0]
    confirmed = step("ja", started.subscriber, started.consent, message_id="2", language="en")
    assert "abonniert" in confirmed.replies[0]


def test_blocking_is_not_leaving_and_sends_nothing():
    subscriber, consent = subscribe()
    blocked = step("", subscriber, consent, message_id="3", kind=InboundKind.BLOCKED)
    assert blocked.replies == () and blocked.consent is None
    assert blocked.subscriber.state is SubscriberState.ACTIVE and not blocked.subscriber.primary.reachable
    back = step("", blocked.subscriber, consent, message_id="4", kind=InboundKind.UNBLOCKED)
    assert back.subscriber.primary.reachable and back.replies == ()


def test_a_blocked_person_who_writes_is_reachable_again():
    subscriber, consent = subscribe()
    blocked = step("", subscriber, consent, message_id="3", kind=InboundKind.BLOCKED).subscriber
    outcome = step("STATUS", blocked, consent, message_id="4")
    assert outcome.subscriber.primary.reachable


def test_status_shows_state_topics_and_language():
    subscriber, consent = subscribe()
    [status] = step("STATUS", subscriber, consent, message_id="3").replies
    assert "active since 2026-11-23" in status and "all topics" in status and "English" in status


def test_a_deep_link_topic_is_taken_and_recorded_as_the_source():
    outcome = step("/start t-sport_r-abc123")
    assert outcome.subscriber.topics == ("sport",)
    assert outcome.consent.source == "deep_link:t-sport_r-abc123"


@pytest.mark.parametrize("text", ["PAUSE 2w", "TOPICS sport", "EXPORT"])
def test_commands_of_later_releases_say_so_honestly(text):
    subscriber, consent = subscribe()
    outcome = step(text, subscriber, consent, message_id="3")
    assert "not available yet" in outcome.replies[0]
    assert outcome.subscriber is None


def test_every_message_exists_in_both_languages():
    assert set(catalogue(Language.EN)) == set(catalogue(Language.DE))
