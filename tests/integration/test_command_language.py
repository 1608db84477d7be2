"""Every row of COMMANDS.md, in English and in German, end to end: Telegram webhook -> commands
queue -> commands function -> DynamoDB -> the reply the Bot API test server received.

One case per row and language: the person subscribes in that language, sends the command, and
the test checks the reply and, where the command changes something, the stored subscriber.
Details of each command are tested elsewhere (unit tests of the parser, argument parsers and
conversation; integration tests of delivery, referrals and erasure); this file proves the rows
are wired through the real path in both languages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

import pytest

from subcast.domain.preferences import CapPeriod, DigestMode, FrequencyCap, QuietHours
from subcast.domain.subscriber import Subscriber
from tests.integration.test_commands import profile, say

CHAT = 7070


@dataclass(frozen=True)
class Row:
    intent: str
    language: str
    message: str
    reply: str  # a fragment of the (last) reply
    before: tuple[str, ...] = ()  # sent after subscribing, before the message
    subscribed: bool = True
    check: Callable[[Subscriber | None], bool] = field(default=lambda subscriber: True)


def state_is(value: str) -> Callable[[Subscriber | None], bool]:
    return lambda subscriber: subscriber is not None and subscriber.state.value == value


def setting(**expected: Any) -> Callable[[Subscriber | None], bool]:
    return lambda subscriber: (
        subscriber is not None and all(getattr(subscriber, name) == value for name, value in expected.items())
    )


ROWS = [
    # subscribe / confirm
    Row("subscribe", "en", "JOIN", "Reply YES to confirm", subscribed=False, check=state_is("pending")),
    Row("subscribe", "de", "ANMELDEN", "Antworte mit JA", subscribed=False, check=state_is("pending")),
    Row("confirm", "en", "CONFIRM", "You're subscribed", subscribed=False, before=("START",),
        check=state_is("active")),
    Row("confirm", "de", "BESTÄTIGEN", "Du hast subcast abonniert", subscribed=False, before=("START",),
        check=state_is("active")),
    # stop, including a natural-language opt-out
    Row("stop", "en", "please stop sending me messages", "You're unsubscribed", check=state_is("cancelled")),
    Row("stop", "de", "bitte keine Nachrichten mehr", "abbestellt", check=state_is("cancelled")),
    # pause / resume
    Row("pause", "en", "PAUSE 2w", "Paused. Nothing will arrive until", check=state_is("paused")),
    Row("pause", "de", "PAUSIEREN 2 Wochen", "Pausiert. Bis", check=state_is("paused")),
    Row("pause", "en", "PAUSE until 24.12.", "Paused through", check=state_is("paused")),
    Row("pause", "de", "PAUSE bis zum 24.12.", "Pausiert bis einschließlich 24.12.",
        check=state_is("paused")),
    Row("resume", "en", "RESUME", "Welcome back", before=("PAUSE 3d",), check=state_is("active")),
    Row("resume", "de", "FORTSETZEN", "Willkommen zurück", before=("PAUSE bis 24.12.",),
        check=state_is("active")),
    # topics
    Row("topics", "en", "TOPICS", "Topics (2 chosen)"),
    Row("topics", "de", "THEMEN -sport", "Deine Themen: News", check=setting(topics=("news",))),
    Row("topics", "en", "-news", "Your topics: Sport.", check=setting(topics=("sport",))),
    Row("topics", "de", "+news -sport", "Deine Themen: News", check=setting(topics=("news",))),
    # digest
    Row("digest", "en", "DIGEST daily 07:30", "Digest on: daily at 07:30",
        check=lambda s: s is not None and s.digest is not None and s.digest.mode is DigestMode.DAILY),
    Row("digest", "de", "ZUSAMMENFASSUNG wöchentlich 18 Uhr freitag", "jeden Freitag um 18:00",
        check=lambda s: s is not None and s.digest is not None and s.digest.weekday == 4),
    # quiet hours
    Row("quiet", "en", "QUIET 22:00-07:00", "Quiet hours set: 22:00-07:00",
        check=setting(quiet_hours=QuietHours(time(22), time(7)))),
    Row("quiet", "de", "RUHE 23-6", "Ruhezeit festgelegt: 23:00-06:00",
        check=setting(quiet_hours=QuietHours(time(23), time(6)))),
    # timezone / language
    Row("timezone", "en", "TZ New York", "Your timezone is now America/New_York",
        check=setting(timezone="America/New_York")),
    Row("timezone", "de", "ZEITZONE Wien", "Deine Zeitzone ist jetzt Europe/Vienna",
        check=setting(timezone="Europe/Vienna")),
    Row("language", "en", "SPRACHE de", "Ich schreibe dir ab jetzt auf Deutsch",
        check=setting(language="de")),
    Row("language", "de", "LANG en", "I'll write to you in English", check=setting(language="en")),
    # frequency cap
    Row("limit", "en", "LIMIT 3/day", "at most 3 per day", check=setting(cap=FrequencyCap(3, CapPeriod.DAY))),
    Row("limit", "de", "LIMIT 5 pro Woche", "höchstens 5 pro Woche",
        check=setting(cap=FrequencyCap(5, CapPeriod.WEEK))),
    # alerts
    Row("alert", "en", "ALERT news kwh > 300", "Alert 1 set: news kwh > 300",
        check=lambda s: s is not None and len(s.alerts) == 1),
    Row("alert", "de", "ALERTS", "Deine Alarme:\n1. news preis < 100", before=("ALERT news preis < 100",)),
    # keyword filters
    Row("filter", "en", "FILTER +bayern -ads", "Your filters: +bayern -ads",
        check=lambda s: s is not None and s.filters.include == ("bayern",)),
    Row("filter", "de", "FILTERN -werbung", "Deine Filter: -werbung",
        check=lambda s: s is not None and s.filters.exclude == ("werbung",)),
    # status / help
    Row("status", "en", "SETTINGS", "Quiet hours: 22:00-07:00 (UTC)", before=("QUIET 22-7",)),
    Row("status", "de", "EINSTELLUNGEN", "Zusammenfassung: täglich um 08:00",
        before=("ZUSAMMENFASSUNG täglich",)),
    Row("status", "en", "STATUS", "\n\nSend START to subscribe again", before=("STOP",)),
    Row("status", "de", "EINSTELLUNGEN", "\n\nSende START zum erneuten Abonnieren", before=("STOPP",)),
    Row("help", "en", "?", "DIGEST daily 08:00"),
    Row("help", "de", "HILFE", "RUHE 22:00-07:00"),
    # feedback
    Row("feedback", "en", "FEEDBACK more tech please", "Thank you!"),
    Row("feedback", "de", "MEINUNG mehr Sport bitte", "Danke!"),
    # export / delete
    Row("export", "en", "EXPORT", '"subscriber_id"'),
    Row("export", "de", "DATEN", '"consent"'),
    Row("delete", "en", "DELETE CONFIRM", "Done: your data is deleted", before=("DELETE",),
        check=lambda s: s is None),
    Row("delete", "de", "LÖSCHEN BESTÄTIGEN", "Erledigt: Deine Daten sind gelöscht", before=("LOESCHEN",),
        check=lambda s: s is None),  # the address is gone: nobody is found behind it any more
    # refer / upgrade
    Row("refer", "en", "REFER", "https://t.me/subcast_bot?start=r-"),
    Row("refer", "de", "EMPFEHLEN", "Lade Freunde zu subcast ein"),
    Row("upgrade", "en", "UPGRADE", "has no paid plan"),
    Row("upgrade", "de", "PREMIUM", "kein kostenpflichtiges Angebot"),
    # anything else
    Row("unknown", "en", "what is this?", "Send HELP for the list of commands"),
    Row("unknown", "de", "was ist das hier", "Sende HILFE für die Liste der Befehle"),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.intent}-{row.language}-{row.message}" for row in ROWS])
def test_every_command_row_works_through_the_webhook(stack, row: Row) -> None:
    # Given a person who subscribed in that language (and two topics to choose from)
    from subcast.domain.topics import TopicRequest
    from subcast.services import dependencies
    from subcast.services.topics import create_topic

    for slug in ("news", "sport"):
        create_topic(dependencies.publishing_store(), TopicRequest(slug=slug, name=slug.title()))
    update_id = 1
    setup = (("START", "YES" if row.language == "en" else "JA") if row.subscribed else ()) + row.before
    for text in setup:
        say(stack, update_id, text, chat=CHAT, language=row.language)
        update_id += 1

    # When they send the command
    replies = say(stack, update_id, row.message, chat=CHAT, language=row.language)

    # Then the reply says what happened, in their language, and the stored subscriber agrees
    assert replies, f"no reply to {row.message!r}"
    assert any(row.reply in reply for reply in replies), replies
    subscriber, _ = profile(CHAT)
    assert row.check(subscriber), subscriber


def test_the_rows_cover_every_intent_in_both_languages() -> None:
    from subcast.domain.command_words import Intent

    covered = {(row.intent, row.language) for row in ROWS}
    wanted = {(intent.value, language) for intent in Intent for language in ("en", "de")}
    # ALERTS and FILTERS are the list forms of ALERT and FILTER, covered by their rows.
    wanted -= {(intent, language) for intent in ("alerts", "filters") for language in ("en", "de")}
    assert wanted <= covered, sorted(wanted - covered)
