"""Whether, and when, one broadcast reaches one subscriber: the rules applied just before sending.

Pure. The sender asks ``judge`` with the profile it has just read; the
frequency cap alone needs the store (a count shared by concurrent senders),
so ``judge`` only says which cap period a send counts against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from subcast.domain.broadcast import MAX_TEXT_UTF16, Broadcast, BroadcastStatus, reaches, utf16_length
from subcast.domain.preferences import (
    Alert,
    CapPeriod,
    Digest,
    DigestMode,
    FrequencyCap,
    QuietHours,
    smaller_cap,
)
from subcast.domain.subscriber import Subscriber, SubscriberState


class Action(StrEnum):
    SEND = "send"
    SKIP = "skip"  # never, for this broadcast
    HOLD = "hold"  # later: when the quiet hours end, or with the next digest


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str | None = (
        None  # skipped: cancelled, not_active, topics, alert, filter; held: quiet_hours, digest
    )
    release_at: datetime | None = None  # when held: the moment (UTC) it may be sent
    cap_period: str | None = None  # when sent or held for quiet hours: the cap period it counts against
    cap: FrequencyCap | None = None  # the cap that applies: the subscriber's or the publisher's, the smaller


def judge(
    broadcast: Broadcast,
    subscriber: Subscriber | None,
    now: datetime,
    publisher_cap: FrequencyCap | None = None,
) -> Verdict:
    """Apply, in order: the subscriber's choices (``skip_reason``), then digest, then quiet hours.

    The frequency cap is the smaller of the subscriber's and the publisher's.
    """
    reason = skip_reason(broadcast, subscriber)
    if reason is not None or subscriber is None:
        return Verdict(Action.SKIP, reason or "not_active")
    zone = subscriber.zone
    if subscriber.digest is not None and subscriber.digest.mode is not DigestMode.OFF:
        # A digest is at most one message a day: it is not counted against the cap.
        return Verdict(Action.HOLD, "digest", next_digest(subscriber.digest, now, zone))
    cap = smaller_cap(subscriber.cap, publisher_cap)
    period = cap_period(cap, now, zone)
    if in_quiet_hours(subscriber, now):
        assert subscriber.quiet_hours is not None
        return Verdict(Action.HOLD, "quiet_hours", quiet_end(subscriber.quiet_hours, now, zone), period, cap)
    return Verdict(Action.SEND, cap_period=period, cap=cap)


def skip_reason(broadcast: Broadcast, subscriber: Subscriber | None) -> str | None:
    """Why this broadcast is not for this subscriber (now or later), or None when it is."""
    if broadcast.status is BroadcastStatus.CANCELLED:
        return "cancelled"
    if subscriber is None or subscriber.state is not SubscriberState.ACTIVE:
        return "paused" if subscriber and subscriber.state is SubscriberState.PAUSED else "not_active"
    if not subscriber.primary.reachable:
        return "unreachable"
    if not reaches(broadcast.topics, subscriber.topics):
        return "topics"
    if not alerts_allow(subscriber.alerts, broadcast, subscriber.topics):
        return "alert"
    if not subscriber.filters.allows(broadcast.text):
        return "filter"
    return None


def in_quiet_hours(subscriber: Subscriber, now: datetime) -> bool:
    quiet = subscriber.quiet_hours
    return quiet is not None and quiet.contains(_local_time(now, subscriber.zone))


def alerts_allow(alerts: tuple[Alert, ...], broadcast: Broadcast, chosen: tuple[str, ...] | None) -> bool:
    """An alert narrows its topic: a broadcast reaches the subscriber through a topic without alerts,
    or through one where at least one of its alerts holds on the broadcast's attributes."""
    if not alerts or not broadcast.topics:
        return True
    through = set(broadcast.topics) if chosen is None else set(broadcast.topics) & set(chosen)
    for topic in through:
        narrowing = [alert for alert in alerts if alert.topic == topic]
        if not narrowing or any(alert.holds(broadcast.attributes) for alert in narrowing):
            return True
    return False


def cap_period(cap: FrequencyCap | None, now: datetime, zone: ZoneInfo) -> str | None:
    """The subscriber's current cap period in local time: ``day:2026-11-24``, ``week:2026-W48``."""
    if cap is None:
        return None
    today = now.astimezone(zone).date()
    if cap.period is CapPeriod.DAY:
        return f"day:{today.isoformat()}"
    year, week, _ = today.isocalendar()
    return f"week:{year}-W{week:02d}"


def quiet_end(quiet: QuietHours, now: datetime, zone: ZoneInfo) -> datetime:
    """The next moment (UTC) the quiet window ends, in the subscriber's timezone."""
    return _next_local(now, zone, quiet.end, lambda day: True)


def next_digest(digest: Digest, now: datetime, zone: ZoneInfo) -> datetime:
    """The next local digest time (UTC), strictly after ``now``."""
    weekly = digest.mode is DigestMode.WEEKLY
    return _next_local(now, zone, digest.at, lambda day: not weekly or day.weekday() == digest.weekday)


def _next_local(now: datetime, zone: ZoneInfo, at: time, wanted: Callable[[date], bool]) -> datetime:
    local_now = now.astimezone(zone)
    for offset in range(8):
        day = local_now.date() + timedelta(days=offset)
        if not wanted(day):
            continue
        # A wall time skipped by a DST change is taken to mean the same time an hour later (fold 0);
        # one shown twice (the autumn change) is taken at whichever showing comes next (fold 0, then 1).
        # Compared in UTC: aware datetimes sharing a tzinfo compare by wall time, ignoring fold.
        for fold in (0, 1):
            candidate = datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)
            if candidate > now:
                return candidate
    raise AssertionError("a daily or weekly moment always comes within eight days")


def _local_time(now: datetime, zone: ZoneInfo) -> time:
    return now.astimezone(zone).time().replace(tzinfo=None)


SNIPPET_MARK = "\u25aa\ufe0f "  # a small square, as in a list
SNIPPET_GAP = "\n\n"


def combine(
    header: str, texts: list[str], limit: int = MAX_TEXT_UTF16, fits: Callable[[str], bool] | None = None
) -> tuple[str, int]:
    """One message of a header and as many whole snippets as fit; returns it and how many it holds.

    ``fits`` says whether a message fits (default: at most ``limit`` UTF-16 units). The first
    snippet always goes in (a snippet alone fits, as broadcasts are limited to one message);
    snippets that do not fit wait for the next message.
    """
    fitting = fits or (lambda message: utf16_length(message) <= limit)
    message = header
    taken = 0
    for text in texts:
        candidate = f"{message}{SNIPPET_GAP}{SNIPPET_MARK}{text}"
        if taken and not fitting(candidate):
            break
        if not taken and not fitting(candidate):
            return text, 1  # too long to carry a header: the snippet on its own
        message, taken = candidate, taken + 1
    return message, taken
