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


TOPICS = {"sport": "Sport", "tech": "Technology", "politik": "Politik"}


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
        known_topics=TOPICS,
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


def test_status_of_an_active_subscriber_offers_stop():
    # Given an active subscriber
    subscriber, consent = subscribe()
    # When they ask for their status
    [status] = step("STATUS", subscriber, consent, message_id="3").replies
    # Then it ends with the way out
    assert status.endswith("Send HELP for all commands, STOP to unsubscribe.")


@pytest.mark.parametrize(
    ("language", "closing"),
    [
        ("en", "Send START to subscribe again, HELP for all commands."),
        ("de", "Sende START zum erneuten Abonnieren, HILFE für alle Befehle."),
    ],
)
def test_status_after_stop_offers_start_instead_of_stop(language, closing):
    # Given someone who subscribed and then stopped
    started = step("/start", language=language)
    confirmed = step("YES", started.subscriber, started.consent, message_id="2", language=language)
    stopped = step("STOP", confirmed.subscriber, confirmed.consent, message_id="3", language=language)
    # When they ask for their status
    [status] = step("STATUS", stopped.subscriber, stopped.consent, message_id="4", language=language).replies
    # Then it says they left and offers the way back, not STOP again
    assert status.endswith(closing)
    assert "STOP" not in status


@pytest.mark.parametrize(
    ("language", "closing"),
    [
        ("en", "Reply YES to confirm your subscription. Send HELP for all commands."),
        ("de", "Antworte mit JA, um dein Abo zu bestätigen. Sende HILFE für alle Befehle."),
    ],
)
def test_status_while_pending_offers_yes(language, closing):
    # Given someone who sent START but has not confirmed
    started = step("/start", language=language)
    # When they ask for their status
    [status] = step("STATUS", started.subscriber, started.consent, message_id="2", language=language).replies
    # Then it tells them how to confirm
    assert status.endswith(closing)


def test_a_deep_link_topic_is_taken_and_recorded_as_the_source():
    outcome = step("/start t-sport_r-abc123")
    assert outcome.subscriber.topics == ("sport",)
    assert outcome.consent.source == "deep_link:t-sport_r-abc123"


@pytest.mark.parametrize("intent", [intent for intent in Intent if intent is not Intent.UNKNOWN])
def test_no_command_is_left_unanswered(intent):
    # Given a subscriber and the first keyword of a command, without an argument
    from subcast.domain.command_words import SYNONYMS

    subscriber, consent = subscribe()

    # When they send it, then the reply is the command's own, never the fallback
    outcome = step(SYNONYMS[intent][0].upper(), subscriber, consent, message_id="3")
    assert outcome.replies
    assert "not available yet" not in outcome.replies[0]


def test_every_message_exists_in_both_languages():
    assert set(catalogue(Language.EN)) == set(catalogue(Language.DE))


def test_pause_takes_them_out_of_broadcasts_until_a_local_date():
    # Given a German subscriber in Vienna
    subscriber, consent = subscribe()
    subscriber = step("TZ Wien", subscriber, consent, message_id="3").subscriber
    subscriber = step("SPRACHE de", subscriber, consent, message_id="4").subscriber

    # When they pause until Christmas Eve
    outcome = step("PAUSE bis 24.12.", subscriber, consent, message_id="5")

    # Then they are paused through the 24th, until local midnight starting the 25th there, told so in
    # German, and receive nothing meanwhile
    paused = outcome.subscriber
    assert paused.state is SubscriberState.PAUSED and not paused.receives_broadcasts
    assert paused.paused_until == datetime(2026, 12, 24, 23, tzinfo=UTC)
    assert outcome.replies[0].startswith(
        "Pausiert bis einschließlich 24.12.2026. Ab 25.12.2026, 00:00 Uhr kommen wieder Nachrichten."
    )
    [status] = step("STATUS", paused, consent, message_id="6").replies
    assert "pausiert bis einschließlich 24.12.2026" in status and "Zeitzone: Europe/Vienna" in status


def test_resume_ends_a_pause_at_once_and_only_a_pause():
    subscriber, consent = subscribe()
    paused = step("PAUSE 2w", subscriber, consent, message_id="3").subscriber
    resumed = step("RESUME", paused, consent, message_id="4")
    assert resumed.subscriber.state is SubscriberState.ACTIVE and resumed.subscriber.paused_until is None
    again = step("weiter", resumed.subscriber, consent, message_id="5")
    assert again.subscriber is None and "isn't paused" in again.replies[0]


def test_a_malformed_pause_explains_the_form_and_changes_nothing():
    subscriber, consent = subscribe()
    outcome = step("PAUSE soon-ish", subscriber, consent, message_id="3")
    assert outcome.subscriber is None
    assert "PAUSE 3d" in outcome.replies[0]


def test_pause_needs_an_active_subscription():
    started = step("/start")
    outcome = step("PAUSE", started.subscriber, started.consent, message_id="2")
    assert outcome.subscriber is None and "active" in outcome.replies[0]


def test_topics_list_mark_and_change():
    subscriber, consent = subscribe()
    # When they ask for the list: everything is marked (no choice made yet)
    [listing] = step("TOPICS", subscriber, consent, message_id="3").replies
    assert "(3 chosen)" in listing and "✅ sport: Sport" in listing
    # When they choose two, then remove one
    chosen = step("TOPICS sport, tech", subscriber, consent, message_id="4").subscriber
    assert chosen.topics == ("sport", "tech")
    fewer = step("THEMEN -tech", chosen, consent, message_id="5").subscriber
    assert fewer.topics == ("sport",)
    # And a typo changes nothing and names the unknown topic
    typo = step("TOPICS +sprot", fewer, consent, message_id="6")
    assert typo.subscriber is None and "sprot" in typo.replies[0]


def test_language_switch_answers_in_the_new_language():
    subscriber, consent = subscribe()
    outcome = step("LANG de", subscriber, consent, message_id="3")
    assert outcome.subscriber.language is Language.DE and "Deutsch" in outcome.replies[0]


def test_settings_of_someone_not_subscribed_change_nothing():
    outcome = step("TZ Europe/Berlin")
    assert outcome.subscriber is None and "START" in outcome.replies[0]


def test_someone_who_stops_and_comes_back_finds_their_settings_again():
    # Given a subscriber with quiet hours, a limit, a filter and a timezone, who then stops
    subscriber, consent = subscribe()
    for number, text in enumerate(("QUIET 22-7", "LIMIT 3/day", "FILTER -werbung", "TZ Europe/Vienna"), 3):
        subscriber = step(text, subscriber, consent, message_id=str(number)).subscriber
    stopped = step("STOP", subscriber, consent, message_id="7")

    # When they subscribe again and confirm
    started = step("/start", stopped.subscriber, stopped.consent, message_id="8")
    back = step("YES", started.subscriber, started.consent, message_id="9").subscriber

    # Then every setting they left with is there again, with a fresh consent record
    assert back is not None and back.state is SubscriberState.ACTIVE
    assert back.quiet_hours is not None and back.quiet_hours.render() == "22:00-07:00"
    assert back.cap is not None and back.cap.render() == "3/day"
    assert back.filters.exclude == ("werbung",)
    assert back.timezone == "Europe/Vienna"
    assert back.consent_id != consent.consent_id
