"""RSS/Atom feeds that post their new entries as broadcasts: what a publisher registers, the feed's
polling state, and the pure rules (which entries are new, how an entry reads as a broadcast, when
to poll again, when to give up).

Entries arrive as :class:`FeedEntry` (see :mod:`.feed_entries`, re-exported here); nothing here
fetches or parses XML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from subcast.domain.broadcast import Topics, WebUrl
from subcast.domain.constraints import REQUEST_CONFIG, WHOLE_NUMBER
from subcast.domain.feed_entries import (
    FeedEntry,
    FeedPost,
    discover_feed_url,
    entry_digest,
    entry_key,
    entry_to_broadcast,
    html_text,
    redact_url,
)

__all__ = [
    "MAX_BACKFILL",
    "MAX_FAILURES",
    "Feed",
    "FeedEntry",
    "FeedPost",
    "FeedRequest",
    "after_failure",
    "after_success",
    "discover_feed_url",
    "entries_to_post",
    "entry_digest",
    "entry_key",
    "entry_to_broadcast",
    "html_text",
    "next_poll",
    "oldest_first",
    "redact_url",
    "remember",
]

FeedMode = Literal["draft", "automatic"]
FeedStatus = Literal["active", "paused"]

#: Failed polls in a row after which a feed is paused (with the reason) instead of retried forever.
MAX_FAILURES = 10
#: Backoff never waits longer than this between two polls.
MAX_BACKOFF = timedelta(hours=24)
#: At most this many new entries go out per poll (a feed that renumbers its guids is not a flood).
MAX_POSTS_PER_POLL = 10
#: A new feed starts with what is published from now on; a publisher may ask for up to this many
#: of the entries it already holds (``backfill``).
MAX_BACKFILL = MAX_POSTS_PER_POLL
#: Entries of one document considered (newest first); feeds usually carry 10-100.
MAX_ENTRIES = 200
#: Entry digests remembered per feed: more than any document holds, so nothing goes out twice.
MAX_SEEN = 1000

_NEVER = datetime.min.replace(tzinfo=UTC)

PollMinutes = Annotated[int, Field(strict=True, ge=5, le=1440), WHOLE_NUMBER]
#: Entries the feed already holds to post at once, newest first; none unless asked for.
Backfill = Annotated[int, Field(strict=True, ge=0, le=MAX_BACKFILL), WHOLE_NUMBER]


class FeedRequest(BaseModel):
    """What a publisher sends to register a feed. ``topics: []`` means every active subscriber."""

    model_config = REQUEST_CONFIG

    url: WebUrl  # the feed itself, or a web page that links to it (<link rel="alternate">)
    topics: Topics
    mode: FeedMode  # draft: entries become drafts to review; automatic: they go out at once
    poll_minutes: PollMinutes = 15
    backfill: Backfill = 0


class Feed(BaseModel):
    """A registered feed and where its polling stands; ``last_error`` says why it fails or was paused."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    feed_id: str
    url: str  # updated on a permanent redirect, or to the feed a registered web page links to
    topics: tuple[str, ...]
    mode: FeedMode
    poll_minutes: int
    status: FeedStatus = "active"
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0  # failed polls in a row
    last_error: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime
    created_at: datetime
    created_by: str  # api key id
    items_posted: int = 0
    backfill: int = 0  # entries already in the feed to post on its first successful read


# ---------------------------------------------------------------------------- polling rules
def next_poll(feed: Feed, now: datetime, failed: bool) -> datetime:
    """When to poll again: after ``poll_minutes``, doubled for each failure in a row, at most 24 h."""
    failures = min(feed.failures + 1, 16) if failed else 0
    return now + min(timedelta(minutes=feed.poll_minutes) * (1 << failures), MAX_BACKOFF)


def after_success(
    feed: Feed,
    now: datetime,
    *,
    url: str,
    etag: str | None,
    last_modified: str | None,
    title: str | None = None,
    posted: int = 0,
) -> Feed:
    """The feed after a poll that read it (or learnt it had not changed): errors forgotten."""
    return feed.model_copy(
        update={
            "url": url,
            "etag": etag,
            "last_modified": last_modified,
            "title": title or feed.title,
            "failures": 0,
            "last_error": None,
            "last_polled_at": now,
            "last_success_at": now,
            "next_poll_at": next_poll(feed, now, failed=False),
            "items_posted": feed.items_posted + posted,
        }
    )


def after_failure(feed: Feed, now: datetime, reason: str, *, permanent: bool = False) -> Feed:
    """The feed after a failed poll: backed off, and paused (reason kept) after ``MAX_FAILURES``
    in a row, or at once when the failure is ``permanent`` (HTTP 410 Gone)."""
    failures = feed.failures + 1
    status: FeedStatus = feed.status
    if permanent:
        status, reason = "paused", f"paused: {reason}"
    elif failures >= MAX_FAILURES:
        status, reason = "paused", f"paused after {failures} failed polls in a row: {reason}"
    return feed.model_copy(
        update={
            "failures": failures,
            "last_error": reason,
            "status": status,
            "last_polled_at": now,
            "next_poll_at": next_poll(feed, now, failed=True),
        }
    )


# ---------------------------------------------------------------------------- what to post
def oldest_first(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """Entries in publication order; documents without dates on every entry are taken to list
    the newest first (as RSS and Atom feeds do)."""
    backwards = list(reversed(entries))
    if all(entry.published for entry in backwards):
        # sorted() is stable: entries of the same moment keep the document's (reversed) order.
        return sorted(backwards, key=lambda entry: entry.published or _NEVER)
    return backwards


def entries_to_post(
    entries: Sequence[FeedEntry], seen: Iterable[str], *, first_poll: bool, backfill: int = 0
) -> tuple[list[FeedEntry], list[str]]:
    """(new entries to post, oldest first; digests to remember without posting them).

    Only entries not seen before are new. On the first poll the feed's entries are what was
    published before it was registered: only the newest ``backfill`` go out (none by default) and
    the rest are remembered; later at most ``MAX_POSTS_PER_POLL`` newest go out, older new ones
    are remembered unposted.
    """
    known = set(seen)
    unique: dict[str, FeedEntry] = {}
    for entry in oldest_first(entries)[-MAX_ENTRIES:]:
        unique.setdefault(entry_digest(entry), entry)
    new = [(digest, entry) for digest, entry in unique.items() if digest not in known]
    keep = min(backfill, MAX_BACKFILL) if first_poll else MAX_POSTS_PER_POLL
    skipped, posted = new[: max(0, len(new) - keep)], new[max(0, len(new) - keep) :]
    return [entry for _, entry in posted], [digest for digest, _ in skipped]


def remember(seen: Sequence[str], digests: Iterable[str]) -> tuple[str, ...]:
    """``seen`` with ``digests`` moved to the most recent end, the oldest beyond ``MAX_SEEN`` dropped."""
    fresh = list(dict.fromkeys(digests))
    moved = set(fresh)
    kept = [digest for digest in seen if digest not in moved] + fresh
    return tuple(kept[-MAX_SEEN:])
