"""``PAUSE until 24.12.`` end to end: the pause runs through the 24th in the subscriber's timezone, the
reply and STATUS say so, and the dispatcher ends it when the 25th starts there, not before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subcast import clock
from tests.integration.conftest import invoke
from tests.integration.test_commands import profile, say

CHAT = 9090
#: Sunday 20 December 2026, 11:00 in Berlin.
NOW = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
#: Midnight starting 25 December in Berlin (winter time, UTC+1).
CHRISTMAS_DAY_BERLIN = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "setup", "message", "reply", "status_line"),
    [
        (
            "en",
            ("START", "YES", "TZ Berlin"),
            "PAUSE until 24.12.",
            "Paused through Thu 24 Dec 2026. Messages arrive again from Fri 25 Dec 2026, 00:00. "
            "Send RESUME to continue earlier.",
            "Status: paused through Thu 24 Dec 2026",
        ),
        (
            "de",
            ("START", "JA", "ZEITZONE Berlin"),
            "PAUSE bis zum 24.12.2026",
            "Pausiert bis einschließlich 24.12.2026. Ab 25.12.2026, 00:00 Uhr kommen wieder Nachrichten. "
            "Sende WEITER, um früher fortzusetzen.",
            "Status: pausiert bis einschließlich 24.12.2026",
        ),
    ],
)
def test_a_pause_until_a_named_day_lasts_through_it(stack, language, setup, message, reply, status_line):
    # Given an active subscriber in Berlin on 20 December
    clock.move_to(NOW)
    for update_id, text in enumerate(setup, 1):
        say(stack, update_id, text, chat=CHAT, language=language)

    # When they pause until Christmas Eve
    replies = say(stack, 10, message, chat=CHAT, language=language)

    # Then the reply names the last paused day and when messages arrive again, and STATUS agrees
    assert replies == [reply]
    paused = profile(CHAT)[0]
    assert paused.state == "paused" and paused.paused_until == CHRISTMAS_DAY_BERLIN
    [status] = say(stack, 11, "STATUS", chat=CHAT, language=language)
    assert status.splitlines()[1] == status_line

    # When the dispatcher ticks a minute before midnight in Berlin, the 24th is still paused
    clock.move_to(CHRISTMAS_DAY_BERLIN - timedelta(minutes=1))
    assert invoke("DispatcherFunction", {})["resumed"] == 0
    assert profile(CHAT)[0].state == "paused"

    # When it ticks once the 25th has begun there
    clock.move_to(CHRISTMAS_DAY_BERLIN + timedelta(seconds=30))
    assert invoke("DispatcherFunction", {})["resumed"] == 1

    # Then they are active again and back in the audience
    back = profile(CHAT)[0]
    assert back.state == "active" and back.receives_broadcasts and back.paused_until is None


def test_a_pause_until_today_ends_at_local_midnight_tonight(stack):
    # Given an active subscriber in Berlin on 20 December
    clock.move_to(NOW)
    for update_id, text in enumerate(("START", "YES", "TZ Berlin"), 1):
        say(stack, update_id, text, chat=CHAT)

    # When they pause until today
    [reply] = say(stack, 10, "PAUSE until 20.12.", chat=CHAT)

    # Then the rest of today is paused, and messages arrive again from midnight tonight
    assert reply.startswith(
        "Paused through Sun 20 Dec 2026. Messages arrive again from Mon 21 Dec 2026, 00:00."
    )
    assert profile(CHAT)[0].paused_until == datetime(2026, 12, 20, 23, 0, tzinfo=UTC)
