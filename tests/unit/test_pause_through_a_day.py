"""``PAUSE until 24.12.`` pauses through the 24th: the replies and STATUS say so, in English and German.

The argument parsing itself (dates, DST, the longest pause) is in ``test_arguments``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from subcast.domain.commands import parse_command
from subcast.domain.conversation import Brand, Inbound, InboundKind, Outcome, decide
from subcast.domain.messages import Language, render
from subcast.domain.subscriber import Channel, ConsentRecord, Subscriber, SubscriberState

BRAND = Brand(name="Daily Bugle", description="the morning headlines")
#: Thursday 3 December 2026, 09:00 in Berlin.
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ids = itertools.count()


def step(
    text: str, subscriber: Subscriber | None, consent: ConsentRecord | None, minutes: int = 0
) -> Outcome:
    """What subcast does with ``text`` from chat 42, ``minutes`` after NOW."""
    language = subscriber.language.value if subscriber else "en"
    event = Inbound(InboundKind.MESSAGE, Channel.TELEGRAM, "42", f"m{next(ids)}", NOW, text, language)
    return decide(
        event,
        parse_command(text),
        subscriber,
        consent,
        now=NOW + timedelta(minutes=minutes),
        brand=BRAND,
        address_hash="hash-of-42",
        new_id=lambda: f"id{next(ids)}",
    )


def subscriber_in(zone: str, language: Language) -> tuple[Subscriber, ConsentRecord]:
    """An active subscriber in ``zone`` who reads ``language``."""
    started = step("/start", None, None)
    confirmed = step("YES", started.subscriber, started.consent)
    assert confirmed.subscriber is not None and confirmed.consent is not None
    return confirmed.subscriber.model_copy(update={"timezone": zone, "language": language}), confirmed.consent


def status_line(subscriber: Subscriber, consent: ConsentRecord) -> str:
    [status] = step("STATUS", subscriber, consent).replies
    return status.splitlines()[1]


@pytest.mark.parametrize(
    ("language", "message", "reply"),
    [
        (
            Language.EN,
            "PAUSE until 24.12.",
            "Paused through Thu 24 Dec 2026. Messages arrive again from Fri 25 Dec 2026, 00:00. "
            "Send RESUME to continue earlier.",
        ),
        (
            Language.EN,
            "PAUSE until 2026-12-24",
            "Paused through Thu 24 Dec 2026. Messages arrive again from Fri 25 Dec 2026, 00:00. "
            "Send RESUME to continue earlier.",
        ),
        (
            Language.DE,
            "PAUSE bis 24.12.",
            "Pausiert bis einschließlich 24.12.2026. Ab 25.12.2026, 00:00 Uhr kommen wieder Nachrichten. "
            "Sende WEITER, um früher fortzusetzen.",
        ),
        (
            Language.DE,
            "PAUSE bis zum 24.12.2026",
            "Pausiert bis einschließlich 24.12.2026. Ab 25.12.2026, 00:00 Uhr kommen wieder Nachrichten. "
            "Sende WEITER, um früher fortzusetzen.",
        ),
    ],
)
def test_a_pause_until_a_named_day_says_it_includes_that_day(
    language: Language, message: str, reply: str
) -> None:
    # Given an active subscriber in Berlin
    subscriber, consent = subscriber_in("Europe/Berlin", language)
    # When they pause until Christmas Eve
    outcome = step(message, subscriber, consent)
    # Then the pause runs through the 24th, ends when the 25th starts in Berlin, and the reply says both
    assert outcome.replies == (reply,)
    assert outcome.subscriber is not None and outcome.subscriber.state is SubscriberState.PAUSED
    assert outcome.subscriber.paused_until == datetime(2026, 12, 24, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        (Language.EN, "Status: paused through Thu 24 Dec 2026"),
        (Language.DE, "Status: pausiert bis einschließlich 24.12.2026"),
    ],
)
def test_status_shows_the_last_paused_day(language: Language, line: str) -> None:
    # Given a subscriber who paused until 24 December
    subscriber, consent = subscriber_in("Europe/Berlin", language)
    paused = step("PAUSE until 2026-12-24", subscriber, consent).subscriber
    assert paused is not None
    # When they ask for their status
    # Then it names the last day of the pause, as they asked for it
    assert status_line(paused, consent) == line


def test_a_duration_keeps_its_reply_and_status() -> None:
    # Given an active subscriber in Berlin
    subscriber, consent = subscriber_in("Europe/Berlin", Language.EN)
    # When they pause for three days
    outcome = step("PAUSE 3d", subscriber, consent)
    # Then the reply and STATUS name the moment it ends, three days from now
    assert outcome.replies == (
        "Paused. Nothing will arrive until Sun 06 Dec 2026, 09:00. Send RESUME to continue earlier.",
    )
    assert outcome.subscriber is not None
    assert status_line(outcome.subscriber, consent) == "Status: paused until Sun 06 Dec 2026, 09:00"


def test_status_after_a_change_of_timezone_names_the_moment_the_pause_ends() -> None:
    # Given a Berlin subscriber paused through 24 December, who then moves to New York
    subscriber, consent = subscriber_in("Europe/Berlin", Language.EN)
    paused = step("PAUSE until 24.12.", subscriber, consent).subscriber
    moved = step("TZ New York", paused, consent).subscriber
    assert moved is not None
    # When they ask for their status
    # Then the stored end is no local midnight there any more: it is named as the moment it is
    assert status_line(moved, consent) == "Status: paused until Thu 24 Dec 2026, 18:00"


def test_a_pause_until_today_pauses_the_rest_of_today() -> None:
    # Given an active subscriber in Berlin on 3 December
    subscriber, consent = subscriber_in("Europe/Berlin", Language.EN)
    # When they pause until today
    outcome = step("PAUSE until 3.12.", subscriber, consent)
    # Then messages arrive again from midnight tonight
    assert outcome.replies[0].startswith(
        "Paused through Thu 03 Dec 2026. Messages arrive again from Fri 04 Dec 2026, 00:00."
    )


@pytest.mark.parametrize("language", [Language.EN, Language.DE])
def test_a_pause_until_yesterday_is_refused(language: Language) -> None:
    # Given an active subscriber in Berlin on 3 December
    subscriber, consent = subscriber_in("Europe/Berlin", language)
    # When they pause until yesterday
    outcome = step("PAUSE until 2026-12-02", subscriber, consent)
    # Then nothing changes, and the reply asks for today or a later day
    assert outcome.subscriber is None or outcome.subscriber.state is SubscriberState.ACTIVE
    assert outcome.replies == (render("pause.past", language),)


@pytest.mark.parametrize("language", [Language.EN, Language.DE])
def test_the_help_text_pause_example_pauses_through_that_day(language: Language) -> None:
    # Given the PAUSE example the help text shows
    help_text = render("help.body", language, brand=BRAND.name)
    example = "PAUSE until 24.12." if language is Language.EN else "PAUSE bis 24.12."
    assert example in help_text
    subscriber, consent = subscriber_in("Europe/Berlin", language)
    # When a subscriber sends it
    outcome = step(example, subscriber, consent)
    # Then they are paused through the 24th
    assert outcome.subscriber is not None
    assert status_line(outcome.subscriber, consent).endswith(
        "24.12.2026" if language is Language.DE else "24 Dec 2026"
    )
