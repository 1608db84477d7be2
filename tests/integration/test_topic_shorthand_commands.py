"""``+sport`` / ``-tech`` alone, end to end: Telegram webhook -> commands queue -> commands function ->
DynamoDB -> the reply the Bot API test server received, in English and German."""

from __future__ import annotations

import pytest

from subcast.domain.topics import TopicRequest
from subcast.services import dependencies
from subcast.services.topics import create_topic
from tests.integration.test_commands import profile, say

CHAT = 8080


@pytest.fixture
def topics(stack) -> None:
    """The publisher offers two topics."""
    for slug, name in (("sport", "Sport"), ("tech", "Technology")):
        create_topic(dependencies.publishing_store(), TopicRequest(slug=slug, name=name))


def subscribe(stack, language: str) -> None:
    say(stack, 1, "START", chat=CHAT, language=language)
    say(stack, 2, "YES" if language == "en" else "JA", chat=CHAT, language=language)


def inbox_texts() -> list[str]:
    return [entry["text"] for entry in dependencies.publishing_store().inbox().entries]


def test_signed_topics_alone_change_the_choice_in_english(stack, topics) -> None:
    # Given an active English subscriber on every topic
    subscribe(stack, "en")

    # When they remove one topic, then add it back while removing the other, without the TOPICS keyword
    removed = say(stack, 3, "-tech", chat=CHAT)
    after_removal = profile(CHAT)[0].topics
    swapped = say(stack, 4, "+Tech, -sport", chat=CHAT)

    # Then each is applied as TOPICS would apply it, and answered with the new choice
    assert removed == ["Your topics: Sport."] and after_removal == ("sport",)
    assert swapped == ["Your topics: Technology."] and profile(CHAT)[0].topics == ("tech",)
    assert inbox_texts() == []


def test_signed_topics_alone_change_the_choice_in_german(stack, topics) -> None:
    # Given an active German subscriber on every topic
    subscribe(stack, "de")

    # When they remove a topic with -sport
    replies = say(stack, 3, "-sport", chat=CHAT, language="de")

    # Then it is removed and the answer is German
    assert replies == ["Deine Themen: Technology."]
    assert profile(CHAT)[0].topics == ("tech",)


def test_signed_words_that_name_no_topic_keep_todays_answer(stack, topics) -> None:
    # Given an active subscriber
    subscribe(stack, "en")

    # When they send a signed word that names no topic, then another
    first = say(stack, 3, "+hello", chat=CHAT)
    second = say(stack, 4, "-weather", chat=CHAT)
    # (a later message that must be answered: the absence of a reply above is not a slow queue)
    [status] = say(stack, 5, "STATUS", chat=CHAT)

    # Then the first gets the hint, the second none within the hour, both reach the inbox,
    # and the subscriber is still subscribed to every topic
    assert len(first) == 1 and "Send HELP" in first[0]
    assert second == []
    assert inbox_texts() == ["-weather", "+hello"]
    subscriber = profile(CHAT)[0]
    assert subscriber.state == "active" and subscriber.topics is None
    assert "active since" in status


def test_a_plain_opt_out_next_to_signed_terms_still_stops(stack, topics) -> None:
    # Given an active German subscriber
    subscribe(stack, "de")

    # When they write a topic change and a plain opt-out in one message
    replies = say(stack, 3, "+sport bitte abmelden", chat=CHAT, language="de")

    # Then they are unsubscribed, with the one confirmation
    assert len(replies) == 1 and "abbestellt" in replies[0]
    assert profile(CHAT)[0].state == "cancelled"


@pytest.mark.parametrize(
    ("language", "answer"),
    [
        ("en", "Subscribe first with START; your settings apply once you're subscribed."),
        ("de", "Abonniere zuerst mit START; deine Einstellungen gelten, sobald du abonniert hast."),
    ],
)
def test_signed_topics_from_a_stranger_get_the_topics_answer(stack, topics, language, answer) -> None:
    # Given someone who never subscribed
    # When they send a signed topic
    replies = say(stack, 1, "+sport", chat=CHAT, language=language)

    # Then the answer is the one TOPICS gives, and no record is made
    assert replies == [answer]
    assert profile(CHAT) == (None, None)
