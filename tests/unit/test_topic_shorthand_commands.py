"""``+sport`` / ``-politik`` on their own (COMMANDS.md, topics row): the parser keeps them as signed
terms, and the conversation reads them as ``TOPICS <terms>`` only when every term names a topic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subcast.domain.commands import Command, Intent, parse_command
from subcast.domain.conversation import Brand, Inbound, InboundKind, Outcome, decide
from subcast.domain.settings import topics_shorthand
from subcast.domain.subscriber import Channel, ConsentRecord, Subscriber, SubscriberState

BRAND = Brand(name="Daily Bugle", description="the morning headlines")
T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
TOPICS = {"sport": "Sport", "tech": "Technology", "politik": "Politik"}
STOP_WORDS = ["stop", "stopp", "unsubscribe", "abmelden", "kuendigen", "cancel", "optout", "opt-out"]
ids = itertools.count()


def step(
    text: str,
    subscriber: Subscriber | None = None,
    consent: ConsentRecord | None = None,
    message_id: int = 1,
    language: str = "en",
    minutes: int | None = None,
) -> Outcome:
    """What subcast does with ``text`` from chat 42, ``minutes`` (default: ``message_id``) after T0."""
    event = Inbound(InboundKind.MESSAGE, Channel.TELEGRAM, "42", str(message_id), T0, text, language)
    return decide(
        event,
        parse_command(text),
        subscriber,
        consent,
        now=T0 + timedelta(minutes=message_id if minutes is None else minutes),
        brand=BRAND,
        address_hash="hash-of-42",
        new_id=lambda: f"id{next(ids)}",
        known_topics=TOPICS,
    )


def subscribed(
    language: str = "en", topics: tuple[str, ...] | None = None
) -> tuple[Subscriber, ConsentRecord]:
    """An active subscriber (on ``topics``, None: every topic) and their consent record."""
    started = step("/start", language=language)
    confirmed = step("YES", started.subscriber, started.consent, message_id=2, language=language)
    assert confirmed.subscriber is not None and confirmed.consent is not None
    return confirmed.subscriber.model_copy(update={"topics": topics}), confirmed.consent


# ------------------------------------------------------------------- the parser
@pytest.mark.parametrize(
    ("message", "terms"),
    [
        ("+sport", ("+sport",)),
        ("-politik", ("-politik",)),
        ("+sport -tech", ("+sport", "-tech")),
        ("+Sport, -Tech.", ("+sport", "-tech")),
        ("+sport,-tech", ("+sport", "-tech")),
        ("  +SPORT  ", ("+sport",)),
        ("+Wirtschaft!", ("+wirtschaft",)),
        ("+1", ("+1",)),
        ("+hello", ("+hello",)),
    ],
)
def test_a_message_of_signed_terms_keeps_them(message: str, terms: tuple[str, ...]) -> None:
    # Given a message whose every word is a signed term
    # When it is parsed
    command = parse_command(message)
    # Then it is not understood by itself, but carries its terms, normalised, for the conversation
    assert command.intent is Intent.UNKNOWN
    assert command.signed_terms == terms


@pytest.mark.parametrize(
    "message", ["-)", "+ sport", "+sport hello", "hello +sport", "TOPICS +sport", "+", ""]
)
def test_anything_else_has_no_signed_terms(message: str) -> None:
    # Given a message with a word that is no signed term (a lone sign, a smiley, a plain word, a keyword)
    # When it is parsed
    command = parse_command(message)
    # Then there are no signed terms to read as topics
    assert command.signed_terms == ()


@pytest.mark.parametrize("word", STOP_WORDS)
@pytest.mark.parametrize("sign", ["+", "-"])
def test_a_signed_stop_word_still_stops(sign: str, word: str) -> None:
    # Given a stop word with a sign, alone or next to a topic (no topic is named so: today's answer)
    for message in (f"{sign}{word}", f"{sign}{word.upper()}", f"+sport {sign}stop"):
        # When it is parsed
        command = parse_command(message)
        # Then it is a stop, as it was before signed terms were read as topics, and carries no terms
        assert command.intent is Intent.STOP, message
        assert command.signed_terms == ()


@pytest.mark.parametrize(
    "message", ["+sport please stop", "+sport, stop", "-politik unsubscribe me", "+sport bitte abmelden"]
)
def test_a_plain_opt_out_next_to_signed_terms_still_stops(message: str) -> None:
    # Given signed terms with a plain opt-out among them
    # When it is parsed
    command = parse_command(message)
    # Then stopping wins, as for any message
    assert command.intent is Intent.STOP, message


@given(st.lists(st.sampled_from(["+", "-"]), min_size=1, max_size=5), st.data())
def test_signed_terms_round_trip(signs: list[str], data: st.DataObject) -> None:
    # Given any number of signed topic slugs
    terms = [f"{sign}{data.draw(st.from_regex(r'[a-z0-9][a-z0-9-]{0,8}', fullmatch=True))}" for sign in signs]
    # When they are sent alone
    command = parse_command(" ".join(terms))
    # Then every one comes back as typed
    assert command.signed_terms == tuple(terms)


# ------------------------------------------------------------------- the decision
@pytest.mark.parametrize(
    ("terms", "current", "reads"),
    [
        (("+sport",), None, True),
        (("+sport", "-tech"), ("tech",), True),
        (("-politik",), None, True),
        (("-retired",), ("retired", "sport"), True),  # a topic the publisher retired can go
        (("+retired",), ("retired",), False),  # ... but not be added
        (("+hello",), None, False),
        (("+sport", "+hello"), None, False),
        (("-stop",), None, False),
        (("+1",), None, False),
    ],
)
def test_signed_terms_are_topics_only_when_each_names_one(
    terms: tuple[str, ...], current: tuple[str, ...] | None, reads: bool
) -> None:
    # Given a message of signed terms and a subscriber's current topics
    command = Command(Intent.UNKNOWN, "x", signed_terms=terms)
    # When the conversation looks at them with the publisher's topics
    read = topics_shorthand(command, current, TOPICS)
    # Then they are a TOPICS change exactly when every term names a topic
    if reads:
        assert read == Command(Intent.TOPICS, " ".join(terms), signed_terms=terms)
    else:
        assert read is command


@pytest.mark.parametrize(
    ("message", "current", "topics", "reply"),
    [
        ("+sport", ("tech",), ("sport", "tech"), "Your topics: Sport, Technology."),
        ("-politik", None, ("sport", "tech"), "Your topics: Sport, Technology."),
        ("+politik -tech", ("tech",), ("politik",), "Your topics: Politik."),
        ("-Sport.", ("sport", "tech"), ("tech",), "Your topics: Technology."),
    ],
)
def test_signed_topics_alone_change_the_choice_like_topics(
    message: str, current: tuple[str, ...] | None, topics: tuple[str, ...], reply: str
) -> None:
    # Given an active subscriber on some topics
    subscriber, consent = subscribed(topics=current)
    # When they send signed topics without the TOPICS keyword
    outcome = step(message, subscriber, consent, message_id=3)
    # Then the topics change as TOPICS <terms> would change them, with the same reply
    expected = step(f"TOPICS {message}", subscriber, consent, message_id=3)
    assert outcome.subscriber is not None and outcome.subscriber.topics == topics
    assert outcome.replies == expected.replies == (reply,)
    assert outcome.inbox is None


def test_signed_topics_alone_answer_in_german() -> None:
    # Given a German subscriber on every topic
    subscriber, consent = subscribed(language="de")
    # When they remove one
    outcome = step("-politik", subscriber, consent, message_id=3, language="de")
    # Then the reply is German
    assert outcome.replies == ("Deine Themen: Sport, Technology.",)


def test_a_signed_stop_word_alone_unsubscribes_with_the_one_confirmation() -> None:
    # Given an active subscriber
    subscriber, consent = subscribed()
    # When they send -stop
    outcome = step("-stop", subscriber, consent, message_id=3)
    # Then they are unsubscribed, as before: STOP in any wording works
    assert outcome.subscriber is not None and outcome.subscriber.state is SubscriberState.CANCELLED
    assert len(outcome.replies) == 1 and "unsubscribed" in outcome.replies[0]


@pytest.mark.parametrize("message", ["+hello", "+1", "+sport -weather"])
def test_signed_words_that_name_no_topic_get_the_hint_and_reach_the_inbox(message: str) -> None:
    # Given an active subscriber
    subscriber, consent = subscribed()
    # When they send signed words that are not all topics
    outcome = step(message, subscriber, consent, message_id=3)
    # Then they get the hint as for any message not understood, it is kept, and they stay subscribed
    assert outcome.replies == ("Sorry, I didn't get that. Send HELP for the list of commands.",)
    assert outcome.inbox is not None and outcome.inbox.text == message
    assert outcome.subscriber is not None and outcome.subscriber.state is SubscriberState.ACTIVE
    assert outcome.subscriber.topics is None and outcome.consent is None


def test_the_hint_for_signed_words_is_rate_limited() -> None:
    # Given a subscriber who just got the hint for a word that names no topic
    subscriber, consent = subscribed()
    hinted = step("+hello", subscriber, consent, message_id=3).subscriber
    # When they send another one within the hour
    again = step("-)", hinted, consent, message_id=4)
    # Then it is kept without a second hint
    assert again.replies == () and again.inbox is not None


@pytest.mark.parametrize("message", ["+sport", "-politik"])
def test_signed_topics_from_someone_not_subscribed_get_the_topics_answer(message: str) -> None:
    # Given a stranger, and someone who stopped
    subscriber, consent = subscribed()
    stopped = step("STOP", subscriber, consent, message_id=3)
    for person, record in ((None, None), (stopped.subscriber, stopped.consent)):
        # When they send signed topics
        outcome = step(message, person, record, message_id=4)
        # Then the answer is the one TOPICS gives them, and nothing changes
        assert outcome.replies == step(f"TOPICS {message}", person, record, message_id=4).replies
        assert outcome.replies == ("Subscribe first with START; your settings apply once you're subscribed.",)
        assert outcome.subscriber is None or outcome.subscriber.state is SubscriberState.CANCELLED


def test_signed_words_from_a_stranger_that_name_no_topic_get_the_hint_only() -> None:
    # Given a stranger
    # When they send a signed word that names no topic
    outcome = step("+hello")
    # Then they get the hint and nothing is kept of them
    assert outcome.replies == ("Sorry, I didn't get that. Send HELP for the list of commands.",)
    assert outcome.subscriber is None and outcome.inbox is None
