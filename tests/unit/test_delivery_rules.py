"""Whether, and when, one broadcast reaches one subscriber (``delivery_rules``): pure, no AWS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subcast.domain.broadcast import MAX_TEXT_UTF16, Broadcast, BroadcastStatus, utf16_length
from subcast.domain.delivery_rules import (
    SNIPPET_GAP,
    SNIPPET_MARK,
    Action,
    alerts_allow,
    cap_period,
    combine,
    in_quiet_hours,
    judge,
    next_digest,
    quiet_end,
    skip_reason,
)
from subcast.domain.messages import Language
from subcast.domain.preferences import (
    CapPeriod,
    Digest,
    DigestMode,
    Filters,
    FrequencyCap,
    QuietHours,
    parse_alert,
    parse_quiet,
)
from subcast.domain.subscriber import Channel, ChannelAddress, Subscriber, SubscriberState

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 23 November 2026, 23:30 in Berlin: inside 22:00-07:00 quiet hours.
NOW = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


def a_subscriber(**changes: Any) -> Subscriber:
    """An active subscriber in Berlin with no delivery settings; ``changes`` override fields."""
    fields: dict[str, Any] = {
        "subscriber_id": "s1",
        "state": SubscriberState.ACTIVE,
        "addresses": (ChannelAddress(channel=Channel.TELEGRAM, address="42"),),
        "language": Language.DE,
        "timezone": "Europe/Berlin",
        "created_at": NOW - timedelta(days=30),
        "state_since": NOW - timedelta(days=30),
    }
    return Subscriber(**(fields | changes))


def a_broadcast(**changes: Any) -> Broadcast:
    fields: dict[str, Any] = {
        "broadcast_id": "b1",
        "text": "Strompreis heute",
        "topics": ("energie",),
        "send_at": NOW,
        "status": BroadcastStatus.SENDING,
        "created_at": NOW,
        "created_by": "key1",
    }
    return Broadcast(**(fields | changes))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(moment: datetime, zone: ZoneInfo = BERLIN) -> str:
    """A moment as wall time and offset, for readable assertions: ``2026-03-29 03:30+02:00``."""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="minutes")


# --------------------------------------------------------------------- judge: order
# Everything wrong at once; each fix, applied cumulatively, uncovers the next rule in judge's order.
Fix = Callable[[Broadcast, Subscriber], tuple[Broadcast, Subscriber]]
WRONG_BROADCAST = a_broadcast(
    status=BroadcastStatus.CANCELLED, text="Werbung: Strompreis", attributes={"kwh": 100}
)
WRONG_SUBSCRIBER = a_subscriber(
    state=SubscriberState.PAUSED,
    topics=("sport",),
    alerts=(parse_alert("energie kwh > 300"),),
    filters=Filters(exclude=("werbung",)),
    digest=Digest(DigestMode.DAILY, time(8, 0)),
    quiet_hours=QuietHours(time(22, 0), time(7, 0)),
    cap=FrequencyCap(3, CapPeriod.DAY),
)
FIXES: list[tuple[Fix, Action, str | None]] = [
    (lambda b, s: (b, s), Action.SKIP, "cancelled"),
    (lambda b, s: (b.model_copy(update={"status": BroadcastStatus.SENDING}), s), Action.SKIP, "paused"),
    (lambda b, s: (b, s.model_copy(update={"state": SubscriberState.ACTIVE})), Action.SKIP, "topics"),
    (lambda b, s: (b, s.model_copy(update={"topics": ("energie", "sport")})), Action.SKIP, "alert"),
    (lambda b, s: (b.model_copy(update={"attributes": {"kwh": 500}}), s), Action.SKIP, "filter"),
    (lambda b, s: (b, s.model_copy(update={"filters": Filters()})), Action.HOLD, "digest"),
    (lambda b, s: (b, s.model_copy(update={"digest": None})), Action.HOLD, "quiet_hours"),
    (lambda b, s: (b, s.model_copy(update={"quiet_hours": None})), Action.SEND, None),
]


@pytest.mark.parametrize("fixed", range(len(FIXES)), ids=[reason or "send" for _, _, reason in FIXES])
def test_judge_applies_its_rules_in_order(fixed: int) -> None:
    # Given a broadcast and subscriber where every rule objects, with the first ``fixed`` objections removed
    broadcast, subscriber = WRONG_BROADCAST, WRONG_SUBSCRIBER
    for fix, _, _ in FIXES[: fixed + 1]:
        broadcast, subscriber = fix(broadcast, subscriber)
    _, action, reason = FIXES[fixed]

    # When the sender judges it
    verdict = judge(broadcast, subscriber, NOW)

    # Then the first remaining rule decides, and skip_reason agrees for the skipping rules
    assert (verdict.action, verdict.reason) == (action, reason)
    assert skip_reason(broadcast, subscriber) == (reason if action is Action.SKIP else None)


@pytest.mark.parametrize(
    ("subscriber", "reason"),
    [
        (None, "not_active"),
        (a_subscriber(state=SubscriberState.PENDING), "not_active"),
        (a_subscriber(state=SubscriberState.PAUSED), "paused"),
        (a_subscriber(state=SubscriberState.CANCELLED), "not_active"),
        (a_subscriber(state=SubscriberState.ERASED), "not_active"),
        (
            a_subscriber(
                addresses=(ChannelAddress(channel=Channel.TELEGRAM, address="42", reachable=False),)
            ),
            "unreachable",
        ),
    ],
    ids=["unknown", "pending", "paused", "cancelled", "erased", "unreachable"],
)
def test_judge_skips_everyone_who_does_not_receive_broadcasts(
    subscriber: Subscriber | None, reason: str
) -> None:
    # Given someone who is not an active, reachable subscriber
    # When a broadcast is judged for them
    verdict = judge(a_broadcast(), subscriber, NOW)
    # Then it is skipped with the reason the publisher sees in the counts, with nothing to release or count
    assert (verdict.action, verdict.reason) == (Action.SKIP, reason)
    assert verdict.release_at is None and verdict.cap_period is None


def test_a_skipped_broadcast_is_not_held_or_counted() -> None:
    # Given a subscriber with every delivery setting, and a broadcast on a topic they did not choose
    subscriber = WRONG_SUBSCRIBER.model_copy(update={"state": SubscriberState.ACTIVE})
    # When it is judged
    verdict = judge(a_broadcast(), subscriber, NOW)
    # Then it is skipped outright
    assert verdict.action is Action.SKIP and verdict.release_at is None and verdict.cap_period is None


def test_a_digest_holds_until_the_next_digest_and_is_not_counted_against_the_cap() -> None:
    # Given a daily 08:00 digest, a cap and quiet hours (23:30 in Berlin: inside them)
    subscriber = a_subscriber(
        digest=Digest(DigestMode.DAILY, time(8, 0)),
        cap=FrequencyCap(3, CapPeriod.DAY),
        quiet_hours=QuietHours(time(22, 0), time(7, 0)),
    )
    # When a broadcast is judged
    verdict = judge(a_broadcast(), subscriber, NOW)
    # Then it waits for 08:00 local time and counts against no cap period
    assert (verdict.action, verdict.reason) == (Action.HOLD, "digest")
    assert verdict.release_at == utc(2026, 11, 24, 7, 0)
    assert verdict.cap_period is None


def test_a_digest_turned_off_does_not_hold() -> None:
    # Given a digest explicitly off
    subscriber = a_subscriber(digest=Digest(DigestMode.OFF))
    # When a broadcast is judged
    # Then it goes now
    assert judge(a_broadcast(), subscriber, NOW).action is Action.SEND


def test_quiet_hours_hold_until_they_end_and_count_against_the_current_cap_period() -> None:
    # Given 22:00-07:00 quiet hours in Berlin and a daily cap; 23:30 UTC is already Tuesday there
    subscriber = a_subscriber(
        quiet_hours=QuietHours(time(22, 0), time(7, 0)), cap=FrequencyCap(3, CapPeriod.DAY)
    )
    now = utc(2026, 11, 23, 23, 30)
    # When a broadcast is judged
    verdict = judge(a_broadcast(), subscriber, now)
    # Then it is held until 07:00 local time and counts against the local day
    assert (verdict.action, verdict.reason) == (Action.HOLD, "quiet_hours")
    assert verdict.release_at == utc(2026, 11, 24, 6, 0)
    assert verdict.cap_period == "day:2026-11-24"


def test_outside_quiet_hours_it_is_sent_counting_against_the_cap_period() -> None:
    # Given quiet hours 22:00-07:00 in Berlin and a weekly cap
    subscriber = a_subscriber(
        quiet_hours=QuietHours(time(22, 0), time(7, 0)), cap=FrequencyCap(5, CapPeriod.WEEK)
    )
    # When a broadcast is judged at 07:00 local time (the end of the window is outside it)
    verdict = judge(a_broadcast(), subscriber, utc(2026, 11, 24, 6, 0))
    # Then it is sent now, counted against the ISO week
    assert verdict.action is Action.SEND and verdict.reason is None and verdict.release_at is None
    assert verdict.cap_period == "week:2026-W48"


def test_without_a_cap_nothing_is_counted() -> None:
    # Given no cap and no quiet hours
    # When a broadcast is judged
    verdict = judge(a_broadcast(), a_subscriber(), NOW)
    # Then it is sent, counted against nothing
    assert verdict.action is Action.SEND and verdict.cap_period is None


def test_quiet_hours_are_in_the_subscribers_timezone() -> None:
    # Given the same 22:00-07:00 window for a Berliner and a New Yorker (23:30 / 17:30 local)
    quiet = QuietHours(time(22, 0), time(7, 0))
    berliner = a_subscriber(quiet_hours=quiet)
    new_yorker = a_subscriber(quiet_hours=quiet, timezone="America/New_York", language=Language.EN)
    # When a broadcast is judged for both
    # Then only the Berliner is in quiet hours
    assert judge(a_broadcast(), berliner, NOW).action is Action.HOLD
    assert judge(a_broadcast(), new_yorker, NOW).action is Action.SEND


def test_a_filter_matches_the_snippet_folded_like_the_filter_word() -> None:
    # Given a FILTER +München (stored folded) and snippets with and without it
    subscriber = a_subscriber(filters=Filters(include=("muenchen",)))
    # When they are judged
    # Then only the snippet saying München (in any case) goes
    assert judge(a_broadcast(text="Neues aus MÜNCHEN"), subscriber, NOW).action is Action.SEND
    assert judge(a_broadcast(text="Neues aus Berlin"), subscriber, NOW).reason == "filter"


# ---------------------------------------------------------------------- alerts_allow
KWH_OVER_300 = parse_alert("energie kwh > 300")


@pytest.mark.parametrize(
    ("attributes", "allowed"),
    [
        ({"kwh": 500}, True),
        ({"kwh": 300}, False),
        ({"kwh": Decimal("300.5")}, True),  # as DynamoDB reads it back
        ({"kwh": "450,5"}, True),  # a publisher's text attribute with a decimal comma
        ({"kwh": "viel"}, False),
        ({}, False),  # no such attribute: the alert does not hold
        ({"euro": 500}, False),
    ],
)
def test_an_alert_narrows_its_topic_to_broadcasts_where_it_holds(
    attributes: dict[str, float | str], allowed: bool
) -> None:
    # Given an alert on energie
    # When a broadcast on energie comes with these attributes
    broadcast = a_broadcast(topics=("energie",), attributes=attributes)
    # Then it reaches the subscriber only when the alert holds
    assert alerts_allow((KWH_OVER_300,), broadcast, None) is allowed
    assert alerts_allow((KWH_OVER_300,), broadcast, ("energie",)) is allowed


@pytest.mark.parametrize(
    ("alert", "attributes", "allowed"),
    [
        ("energie kwh >= 300", {"kwh": 300}, True),
        ("energie kwh < 300", {"kwh": 300}, False),
        ("energie kwh <= 299,5", {"kwh": 299.5}, True),
        ("energie kwh = 300", {"kwh": 300.0}, True),
        ("energie kwh != 300", {"kwh": 300}, False),
        ("energie kwh != 300", {"kwh": 301}, True),
        ("energie stufe = rot", {"stufe": "Rot"}, True),
        ("energie stufe != rot", {"stufe": "ROT"}, False),
        ("energie stufe != rot", {"stufe": "gelb"}, True),
        ("energie stufe = rot", {"stufe": 3}, False),
        ("energie stufe != rot", {}, False),  # missing: not even != holds
    ],
)
def test_alert_comparisons_of_numbers_and_words(
    alert: str, attributes: dict[str, float | str], allowed: bool
) -> None:
    # Given one alert on energie
    # When a broadcast on energie with these attributes is checked
    broadcast = a_broadcast(topics=("energie",), attributes=attributes)
    # Then the comparison decides
    assert alerts_allow((parse_alert(alert),), broadcast, None) is allowed


def test_a_broadcast_reaching_through_an_un_narrowed_topic_still_goes() -> None:
    # Given an alert on energie that does not hold, for a subscriber of every topic
    broadcast = a_broadcast(topics=("energie", "sport"), attributes={"kwh": 1})
    # When the broadcast is also on sport (no alert there)
    # Then it reaches them through sport
    assert alerts_allow((KWH_OVER_300,), broadcast, None) is True
    assert alerts_allow((KWH_OVER_300,), broadcast, ("energie", "sport")) is True
    assert judge(broadcast, a_subscriber(alerts=(KWH_OVER_300,)), utc(2026, 11, 24, 12)).action is Action.SEND


def test_an_un_narrowed_topic_the_subscriber_did_not_choose_does_not_open_the_way() -> None:
    # Given a subscriber of energie only, whose energie alert does not hold
    subscriber = a_subscriber(topics=("energie",), alerts=(KWH_OVER_300,))
    broadcast = a_broadcast(topics=("energie", "sport"), attributes={"kwh": 1})
    # When the broadcast is on energie and sport (which they did not choose)
    # Then it does not reach them: sport is not their way in
    assert alerts_allow(subscriber.alerts, broadcast, subscriber.topics) is False
    assert judge(broadcast, subscriber, utc(2026, 11, 24, 12)).reason == "alert"


def test_an_alert_on_another_topic_narrows_nothing_here() -> None:
    # Given only an alert on sport
    alert = parse_alert("sport tore > 3")
    # When a broadcast on energie without attributes is checked
    # Then it goes
    assert alerts_allow((alert,), a_broadcast(topics=("energie",)), None) is True


def test_a_broadcast_without_topics_is_not_narrowed() -> None:
    # Given an alert that cannot hold
    # When a broadcast for everyone (no topics) is checked
    broadcast = a_broadcast(topics=(), attributes={})
    # Then it goes anyway
    assert alerts_allow((KWH_OVER_300,), broadcast, None) is True
    assert alerts_allow((KWH_OVER_300,), broadcast, ("energie",)) is True


def test_any_alert_of_a_topic_may_open_it() -> None:
    # Given two alerts on energie: above 300 or level red
    alerts = (KWH_OVER_300, parse_alert("energie stufe = rot"))
    # When broadcasts meet one, the other or neither
    # Then meeting either one is enough
    assert alerts_allow(alerts, a_broadcast(attributes={"kwh": 10, "stufe": "rot"}), None) is True
    assert alerts_allow(alerts, a_broadcast(attributes={"kwh": 400, "stufe": "gelb"}), None) is True
    assert alerts_allow(alerts, a_broadcast(attributes={"kwh": 10, "stufe": "gelb"}), None) is False


def test_each_narrowed_topic_needs_its_own_alert_to_hold() -> None:
    # Given alerts on energie and on sport
    alerts = (KWH_OVER_300, parse_alert("sport tore > 3"))
    # When a broadcast on both meets only the sport alert, then neither
    both = ("energie", "sport")
    # Then the sport alert opens the way, and without either it is closed
    assert alerts_allow(alerts, a_broadcast(topics=both, attributes={"kwh": 1, "tore": 5}), None) is True
    assert alerts_allow(alerts, a_broadcast(topics=both, attributes={"kwh": 1, "tore": 1}), None) is False


def test_no_alerts_allow_everything() -> None:
    assert alerts_allow((), a_broadcast(attributes={}), ("energie",)) is True


# ---------------------------------------------------------------------- quiet hours
@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (utc(2026, 11, 23, 20, 59), False),  # 21:59 in Berlin
        (utc(2026, 11, 23, 21, 0), True),  # 22:00
        (utc(2026, 11, 23, 23, 0), True),  # 00:00, the next day
        (utc(2026, 11, 24, 5, 59), True),  # 06:59
        (utc(2026, 11, 24, 6, 0), False),  # 07:00
    ],
)
def test_quiet_hours_wrap_midnight_in_local_time(now: datetime, inside: bool) -> None:
    # Given quiet hours 22:00-07:00 in Berlin
    subscriber = a_subscriber(quiet_hours=QuietHours(time(22, 0), time(7, 0)))
    # When a moment is checked
    # Then it is quiet from 22:00 (included) to 07:00 (excluded), local time
    assert in_quiet_hours(subscriber, now) is inside


def test_no_quiet_hours_are_never_quiet() -> None:
    assert in_quiet_hours(a_subscriber(), NOW) is False


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (utc(2026, 11, 23, 20, 59), False),  # 21:59
        (utc(2026, 11, 23, 21, 0), True),  # 22:00
        (utc(2026, 11, 23, 22, 59), True),  # 23:59
        (utc(2026, 11, 23, 23, 0), False),  # 00:00
        (utc(2026, 11, 24, 5, 0), False),  # 06:00
    ],
)
def test_quiet_hours_until_midnight(now: datetime, inside: bool) -> None:
    # Given QUIET 22-24: from 22:00 to the end of the day
    subscriber = a_subscriber(quiet_hours=parse_quiet("22-24"))
    # When a moment is checked
    # Then only 22:00 to 23:59 is quiet
    assert in_quiet_hours(subscriber, now) is inside


def test_quiet_hours_until_midnight_end_at_local_midnight() -> None:
    # Given QUIET 22-24 in Berlin, at 23:30 local time
    quiet = parse_quiet("22-24")
    assert quiet is not None
    # When the end is asked
    end = quiet_end(quiet, NOW, BERLIN)
    # Then it is the coming midnight there
    assert local(end) == "2026-11-24 00:00+01:00"


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # 23:30 in Berlin: tomorrow 07:00
        (utc(2026, 11, 23, 22, 30), BERLIN, "2026-11-24 07:00+01:00"),
        # 01:00 in Berlin: today 07:00
        (utc(2026, 11, 24, 0, 0), BERLIN, "2026-11-24 07:00+01:00"),
        # 23:30 UTC is 18:30 in New York: tomorrow 07:00 there
        (utc(2026, 11, 23, 23, 30), NEW_YORK, "2026-11-24 07:00-05:00"),
        # 07:00 exactly is no longer quiet: the next end is tomorrow
        (utc(2026, 11, 24, 6, 0), BERLIN, "2026-11-25 07:00+01:00"),
    ],
)
def test_quiet_end_is_the_next_window_end_in_the_subscribers_timezone(
    now: datetime, zone: ZoneInfo, expected: str
) -> None:
    # Given quiet hours 22:00-07:00
    quiet = QuietHours(time(22, 0), time(7, 0))
    # When the end is asked at ``now``
    end = quiet_end(quiet, now, zone)
    # Then it is the next 07:00 in the subscriber's zone, returned in UTC
    assert end.tzinfo is UTC
    assert local(end, zone) == expected


@pytest.mark.parametrize(
    ("quiet", "now", "expected", "hours"),
    [
        # Spring forward, 29 March 2026: 00:00 CET to 07:00 CEST is six hours
        ("22:00-07:00", utc(2026, 3, 28, 23, 0), "2026-03-29 07:00+02:00", 6),
        # An end inside the skipped hour (02:30) means an hour later, 03:30 CEST
        ("22:00-02:30", utc(2026, 3, 29, 0, 15), "2026-03-29 03:30+02:00", 1.25),
        # Fall back, 25 October 2026: 23:00 CEST to 07:00 CET is nine hours
        ("22:00-07:00", utc(2026, 10, 24, 21, 0), "2026-10-25 07:00+01:00", 9),
        # 02:15 the second time (CET): the window ends at 02:30 CET, a quarter of an hour on
        ("22:00-02:30", utc(2026, 10, 25, 1, 15), "2026-10-25 02:30+01:00", 0.25),
        # 02:45 the first time (CEST): 02:30 comes round again in 45 minutes, in CET
        ("22:00-02:30", utc(2026, 10, 25, 0, 45), "2026-10-25 02:30+01:00", 0.75),
        # 02:15 the first time (CEST): the first 02:30
        ("22:00-02:30", utc(2026, 10, 25, 0, 15), "2026-10-25 02:30+02:00", 0.25),
    ],
)
def test_quiet_end_on_the_days_berlin_changes_its_clocks(
    quiet: str, now: datetime, expected: str, hours: float
) -> None:
    # Given quiet hours in Berlin on a DST change day
    window = parse_quiet(quiet)
    assert window is not None
    # When the end is asked
    end = quiet_end(window, now, BERLIN)
    # Then it is the right wall time with the right offset, the right time from now
    assert local(end) == expected
    assert end - now == timedelta(hours=hours)


# ---------------------------------------------------------------------------- digest
DAILY_8 = Digest(DigestMode.DAILY, time(8, 0))
FRIDAY_18 = Digest(DigestMode.WEEKLY, time(18, 0), 4)
MONDAY_7 = Digest(DigestMode.WEEKLY, time(7, 0), 0)


@pytest.mark.parametrize(
    ("digest", "now", "zone", "expected"),
    [
        (DAILY_8, utc(2026, 11, 24, 6, 59), BERLIN, "2026-11-24 08:00+01:00"),
        # at 08:00 exactly, the next one is tomorrow's: strictly after now
        (DAILY_8, utc(2026, 11, 24, 7, 0), BERLIN, "2026-11-25 08:00+01:00"),
        # 07:00 in New York: 08:00 there, though it is already 12:00 in UTC
        (DAILY_8, utc(2026, 11, 24, 12, 0), NEW_YORK, "2026-11-24 08:00-05:00"),
        # Tuesday: this Friday
        (FRIDAY_18, utc(2026, 11, 24, 12, 0), BERLIN, "2026-11-27 18:00+01:00"),
        # Friday 18:00 exactly: next Friday
        (FRIDAY_18, utc(2026, 11, 27, 17, 0), BERLIN, "2026-12-04 18:00+01:00"),
        # Saturday, across the week boundary: next Friday
        (FRIDAY_18, utc(2026, 11, 28, 9, 0), BERLIN, "2026-12-04 18:00+01:00"),
        # Sunday 23:30 UTC is already Monday 00:30 in Berlin: Monday 07:00 the same night
        (MONDAY_7, utc(2026, 11, 29, 23, 30), BERLIN, "2026-11-30 07:00+01:00"),
        # Monday 07:30: the next Monday
        (MONDAY_7, utc(2026, 11, 30, 6, 30), BERLIN, "2026-12-07 07:00+01:00"),
        # Across New Year
        (MONDAY_7, utc(2026, 12, 29, 12, 0), BERLIN, "2027-01-04 07:00+01:00"),
        # Across the spring change: 08:00 CET, then 08:00 CEST 23 hours later
        (DAILY_8, utc(2026, 3, 28, 7, 0), BERLIN, "2026-03-29 08:00+02:00"),
        # Across the autumn change: a weekly Sunday digest comes seven days and one hour later
        (Digest(DigestMode.WEEKLY, time(8, 0), 6), utc(2026, 10, 18, 6, 0), BERLIN, "2026-10-25 08:00+01:00"),
    ],
)
def test_next_digest_is_the_next_local_digest_time(
    digest: Digest, now: datetime, zone: ZoneInfo, expected: str
) -> None:
    # Given a digest setting and a moment
    # When the next digest is asked
    moment = next_digest(digest, now, zone)
    # Then it is the next local digest time strictly after now, in UTC
    assert moment.tzinfo is UTC and moment > now
    assert local(moment, zone) == expected


# ----------------------------------------------------------------------- cap period
@pytest.mark.parametrize(
    ("now", "zone", "day", "week"),
    [
        (utc(2026, 11, 24, 12, 0), BERLIN, "day:2026-11-24", "week:2026-W48"),
        # 23:30 UTC is already the next day in Berlin
        (utc(2026, 11, 23, 23, 30), BERLIN, "day:2026-11-24", "week:2026-W48"),
        # Sunday 23:30 UTC is Monday in Berlin: a new ISO week there
        (utc(2026, 11, 29, 23, 30), BERLIN, "day:2026-11-30", "week:2026-W49"),
        # 03:00 UTC is still the previous evening in New York
        (utc(2026, 11, 24, 3, 0), NEW_YORK, "day:2026-11-23", "week:2026-W48"),
        # New Year's Day 2027 (a Friday) belongs to ISO week 53 of 2026
        (utc(2026, 12, 31, 23, 30), BERLIN, "day:2027-01-01", "week:2026-W53"),
        # Week numbers below ten have two digits
        (utc(2027, 3, 1, 12, 0), BERLIN, "day:2027-03-01", "week:2027-W09"),
    ],
)
def test_cap_period_is_the_local_day_or_iso_week(now: datetime, zone: ZoneInfo, day: str, week: str) -> None:
    # Given a daily and a weekly cap
    # When the current period is asked
    # Then it is the subscriber's local day, or their local ISO week
    assert cap_period(FrequencyCap(3, CapPeriod.DAY), now, zone) == day
    assert cap_period(FrequencyCap(5, CapPeriod.WEEK), now, zone) == week


def test_no_cap_has_no_period() -> None:
    assert cap_period(None, NOW, BERLIN) is None


# ---------------------------------------------------------------------------- combine
def test_combine_puts_the_header_before_the_snippets() -> None:
    # Given a header and two snippets
    # When they are combined
    message, count = combine("Your digest:", ["First", "Second"])
    # Then each snippet follows as a marked paragraph
    assert message == "Your digest:\n\n▪️ First\n\n▪️ Second"
    assert count == 2


def test_combine_without_snippets_is_the_header_alone() -> None:
    assert combine("Your digest:", []) == ("Your digest:", 0)


HEADER = "Digest"
# The header and the first snippet leave exactly 2005 units, of which each snippet costs 5 more.
FIRST = "x" * (MAX_TEXT_UTF16 - len(HEADER) - 2 * 5 - 2000)


def test_combine_fills_the_message_up_to_exactly_the_limit() -> None:
    # Given snippets that fill a message exactly, the second of a thousand emoji (two units each)
    second = "😀" * 1000
    # When they are combined
    message, count = combine(HEADER, [FIRST, second])
    # Then both go, in exactly 4096 UTF-16 units
    assert count == 2 and utf16_length(message) == MAX_TEXT_UTF16


@pytest.mark.parametrize("second", ["😀" * 1000 + "x", "😀" * 1001])
def test_combine_stops_before_the_limit_counting_emoji_as_two(second: str) -> None:
    # Given a second snippet one or two units too long (though far shorter in code points)
    # When they are combined
    message, count = combine(HEADER, [FIRST, second, "short"])
    # Then only the first goes, and a later short snippet does not jump the queue
    assert count == 1
    assert message == f"{HEADER}{SNIPPET_GAP}{SNIPPET_MARK}{FIRST}"


def test_a_single_over_long_snippet_comes_alone() -> None:
    # Given a snippet that fits a message alone, but not with the header
    snippet = "y" * (MAX_TEXT_UTF16 - 2)
    # When it is combined
    message, count = combine(HEADER, [snippet, "next"])
    # Then it is the whole message, without the header, and the next waits
    assert (message, count) == (snippet, 1)


def test_a_snippet_exactly_fitting_with_the_header_keeps_it() -> None:
    # Given a snippet that fits with the header to the last unit
    snippet = "z" * (MAX_TEXT_UTF16 - len(HEADER) - 5)
    # When it is combined
    message, count = combine(HEADER, [snippet])
    # Then the header stays
    assert message.startswith(HEADER) and count == 1 and utf16_length(message) == MAX_TEXT_UTF16


# -------------------------------------------------------------------------- properties
snippet_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60)


@given(
    header=st.text(max_size=20),
    texts=st.lists(snippet_text, max_size=12),
    limit=st.integers(min_value=125, max_value=400),  # a snippet is at most 120 units: each fits
)
def test_combine_never_exceeds_the_limit_and_keeps_the_order(
    header: str, texts: list[str], limit: int
) -> None:
    # Given any header, snippets that each fit a message, and a limit
    # When they are combined
    message, count = combine(header, texts, limit)
    # Then the message fits, holds the first ``count`` snippets in order (or the first alone),
    # and the next one would not have fitted
    assert utf16_length(message) <= limit
    assert (count == 0) == (not texts)
    if count == 1 and message == texts[0]:
        assert utf16_length(f"{header}{SNIPPET_GAP}{SNIPPET_MARK}{texts[0]}") > limit
        return
    assert message == header + "".join(f"{SNIPPET_GAP}{SNIPPET_MARK}{text}" for text in texts[:count])
    if count < len(texts):
        assert utf16_length(f"{message}{SNIPPET_GAP}{SNIPPET_MARK}{texts[count]}") > limit


ZONES = [BERLIN, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe")]
# 2026's clock changes in Berlin and New York, both around 02:00 local time.
CLOCK_CHANGES = [
    (BERLIN, utc(2026, 3, 29, 1)),
    (BERLIN, utc(2026, 10, 25, 1)),
    (NEW_YORK, utc(2026, 3, 8, 7)),
    (NEW_YORK, utc(2026, 11, 1, 6)),
]
minutes = st.sampled_from([0, 1, 15, 30, 45, 59])
# Any clock time, and often one in the small hours, where the clocks change.
clock_times = st.one_of(
    st.builds(time, st.integers(0, 23), minutes), st.builds(time, st.integers(1, 3), minutes)
)
# Any moment in any zone, and often one within hours of a clock change in that zone.
situations = st.one_of(
    st.tuples(
        st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
        st.sampled_from(ZONES),
    ),
    st.builds(
        lambda change, seconds: (change[1] + timedelta(seconds=seconds), change[0]),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-3 * 3600, 3 * 3600) | st.integers(-30 * 3600, 30 * 3600),
    ),
)


def shown(moment: datetime, zone: ZoneInfo) -> time:
    """What the clocks in ``zone`` show at ``moment`` (through UTC: a wall time may not exist)."""
    return moment.astimezone(UTC).astimezone(zone).time()


def showings(wall: time, zone: ZoneInfo, after: datetime, before: datetime) -> list[datetime]:
    """The moments strictly between ``after`` and ``before`` when the clocks in ``zone`` show ``wall``."""
    day, last = after.astimezone(zone).date(), before.astimezone(zone).date()
    found = []
    while day <= last:
        for fold in (0, 1):
            moment = datetime.combine(day, wall, tzinfo=zone).replace(fold=fold).astimezone(UTC)
            if shown(moment, zone) == wall and after < moment < before:
                found.append(moment)
        day += timedelta(days=1)
    return found


def lands_on(moment: datetime, wall: time, zone: ZoneInfo) -> bool:
    """The clocks show ``wall`` at ``moment``; or a clock change skipped ``wall`` that day, and
    ``moment`` shows a time less than an hour after it."""
    day = moment.astimezone(zone).date()
    if any(shown(datetime.combine(day, wall, zone).replace(fold=fold), zone) == wall for fold in (0, 1)):
        return shown(moment, zone) == wall
    late = datetime.combine(day, shown(moment, zone)) - datetime.combine(day, wall)
    return timedelta(0) < late <= timedelta(hours=1)


def offset_changes(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    return start.astimezone(zone).utcoffset() != end.astimezone(zone).utcoffset()


@settings(max_examples=500)
@given(start=clock_times, end=clock_times, situation=situations)
def test_quiet_end_is_the_next_window_end_after_now(
    start: time, end: time, situation: tuple[datetime, ZoneInfo]
) -> None:
    # Given any quiet window, moment and zone
    now, zone = situation
    if start == end:
        return
    # When the end of the window is asked
    moment = quiet_end(QuietHours(start, end), now, zone)
    # Then it comes after now, within a day (an hour more across a clock change), when the clocks
    # show the window's end, and the clocks do not show it in between
    assert now < moment
    assert moment - now <= timedelta(hours=25 if offset_changes(now, moment, zone) else 24)
    assert lands_on(moment, end, zone)
    assert showings(end, zone, now, moment) == []


@settings(max_examples=500)
@given(at=clock_times, weekday=st.integers(0, 6), weekly=st.booleans(), situation=situations)
def test_next_digest_is_the_next_local_time_on_the_right_weekday(
    at: time, weekday: int, weekly: bool, situation: tuple[datetime, ZoneInfo]
) -> None:
    # Given any daily or weekly digest, moment and zone
    now, zone = situation
    digest = Digest(DigestMode.WEEKLY if weekly else DigestMode.DAILY, at, weekday)
    # When the next digest time is asked
    moment = next_digest(digest, now, zone)
    # Then it comes after now, within a day or a week (an hour more across a clock change), at the
    # digest time and, when weekly, on the digest's weekday; and no such moment comes in between
    days = 7 if weekly else 1
    assert now < moment
    assert moment - now <= timedelta(days=days, hours=1 if offset_changes(now, moment, zone) else 0)
    assert lands_on(moment, at, zone)
    local_day = moment.astimezone(zone).weekday()
    if weekly:
        assert local_day == weekday
    earlier = showings(at, zone, now, moment)
    assert [m for m in earlier if not weekly or m.astimezone(zone).weekday() == weekday] == []
