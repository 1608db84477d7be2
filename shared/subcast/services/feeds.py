"""Feeds: publishers register RSS/Atom feeds; a scheduled poller posts their new entries.

One fetch per feed and poll, whatever the number of subscribers, asked conditionally (ETag,
Last-Modified). Each new entry becomes one broadcast through the same use case as
``POST /v1/broadcasts``, under an idempotency key derived from the feed and the entry, and the
feed remembers the entries it has seen: a repeated poll, or a poll retried after a crash, never
posts an entry twice. A failing feed backs off and is paused, with the reason on the feed, after
``MAX_FAILURES`` failed polls in a row; one broken feed never stops the others.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from subcast.adapters.broadcasts import BroadcastStore, IdempotencyConflict
from subcast.adapters.feeds import DueFeed, FeedFetcher, FeedStore, FetchFailed, Unreadable, parse_feed
from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.adapters.queues import FanoutQueue
from subcast.clock import now as clock_now
from subcast.domain.broadcast import Broadcast, BroadcastRequest
from subcast.domain.feeds import (
    MAX_ENTRIES,
    Feed,
    FeedPost,
    FeedRequest,
    after_failure,
    after_success,
    entries_to_post,
    entry_digest,
    entry_to_broadcast,
    oldest_first,
    redact_url,
    remember,
)
from subcast.services.broadcasts import NotFound, Unprocessable, _check_topics, create_broadcast

logger = Logger(child=True)

#: Creates one broadcast: (request, idempotency key) -> the broadcast, the first one on a replay.
CreateBroadcast = Callable[[BroadcastRequest, str], Broadcast]
PollResult = Literal["read", "not_modified", "failed", "paused", "error"]


class FeedExists(Exception):
    """The URL is registered already, with other topics, mode or interval."""

    def __init__(self, feed: Feed) -> None:
        super().__init__(f"this feed is registered already as {feed.feed_id}")
        self.feed = feed


# ---------------------------------------------------------------------------- publisher use cases
def register_feed(
    request: FeedRequest, key: ApiKey, *, store: FeedStore, publishing: PublishingStore
) -> tuple[Feed, bool]:
    """Register a feed, first polled at the next scheduler tick; returns it and whether it is new.

    The same URL registered again with the same settings returns the existing feed (a retried
    POST); with other settings it raises FeedExists. Unprocessable for unknown or archived topics.
    """
    _check_topics(request.topics, publishing)
    topics = tuple(dict.fromkeys(request.topics))
    for existing in store.all_feeds():
        if _same_url(existing.url, request.url):
            if (existing.topics, existing.mode, existing.poll_minutes, existing.backfill) == (
                topics,
                request.mode,
                request.poll_minutes,
                request.backfill,
            ):
                return existing, False
            raise FeedExists(existing)
    moment = clock_now()
    feed = Feed(
        feed_id=f"f_{secrets.token_hex(8)}",
        url=request.url,
        topics=topics,
        mode=request.mode,
        poll_minutes=request.poll_minutes,
        backfill=request.backfill,
        next_poll_at=moment,
        created_at=moment,
        created_by=key.key_id,
    )
    store.create(feed)
    return feed, True


def _same_url(first: str, second: str) -> bool:
    one, other = urlsplit(first), urlsplit(second)
    return (one.scheme.lower(), one.netloc.lower(), one.path or "/", one.query) == (
        other.scheme.lower(),
        other.netloc.lower(),
        other.path or "/",
        other.query,
    )


def list_feeds(store: FeedStore) -> list[Feed]:
    """Every registered feed with its state (``status``, ``failures``, ``last_error``), oldest first."""
    return store.all_feeds()


def get_feed(store: FeedStore, feed_id: str) -> Feed:
    found = store.get(feed_id)
    if found is None:
        raise NotFound(f"no feed {feed_id}")
    return found


def delete_feed(store: FeedStore, feed_id: str) -> None:
    """Stop following a feed; broadcasts it created stay. NotFound when there is no such feed."""
    if not store.delete(feed_id):
        raise NotFound(f"no feed {feed_id}")


def resume_feed(store: FeedStore, feed_id: str) -> Feed:
    """Poll a paused feed again from the next tick, its failure count reset."""
    resumed = store.resume(feed_id, clock_now())
    if resumed is None:
        raise NotFound(f"no feed {feed_id}")
    return resumed


# ---------------------------------------------------------------------------- broadcasts
def feed_idempotency_key(feed_id: str, digest: str) -> str:
    """The Idempotency-Key of the broadcast made from one entry of one feed."""
    return f"feed#{feed_id}#{digest}"


def broadcast_creator(
    *, store: BroadcastStore, publishing: PublishingStore, fanout: FanoutQueue
) -> CreateBroadcast:
    """``create_broadcast`` as the poller calls it: on behalf of the key ``feed:<feed id>``."""

    def create(request: BroadcastRequest, idempotency_key: str) -> Broadcast:
        feed_id = idempotency_key.split("#")[1]
        key = ApiKey(key_id=f"feed:{feed_id}", name=f"feed {feed_id}", scopes=(), created_at=clock_now())
        broadcast, _ = create_broadcast(
            request, key, idempotency_key, store=store, publishing=publishing, fanout=fanout
        )
        return broadcast

    return create


# ---------------------------------------------------------------------------- polling
@dataclass(frozen=True)
class PollOutcome:
    feed_id: str
    result: PollResult  # error: subcast's own failure (logged), not the feed's
    broadcasts: tuple[str, ...] = ()
    error: str | None = None


def poll_due_feeds(
    now: datetime,
    *,
    feeds: FeedStore,
    fetcher: FeedFetcher,
    create: CreateBroadcast,
    limit: int = 50,
    workers: int = 4,
) -> list[PollOutcome]:
    """Poll every active feed whose time has come (up to ``limit``, ``workers`` at a time) and
    post its new entries; the rest wait for the next tick."""
    due = feeds.due(now, limit)

    def poll(claim: DueFeed) -> PollOutcome:
        return _poll_guarded(claim, now, feeds, fetcher, create)

    if len(due) <= 1 or workers <= 1:
        return [poll(claim) for claim in due]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed-poll") as pool:
        return list(pool.map(poll, due))


def _poll_guarded(
    claim: DueFeed, now: datetime, feeds: FeedStore, fetcher: FeedFetcher, create: CreateBroadcast
) -> PollOutcome:
    feed = claim.feed
    progress = _Progress(claim.seen)
    try:
        outcome = _poll(claim, now, feeds, fetcher, create, progress)
    except Exception as error:
        # A bug or an outage of our own: logged, and counted on the feed so it cannot loop unseen.
        logger.exception("feed poll failed", extra={"feed_id": feed.feed_id, "url": _shown(feed.url)})
        reason = f"internal error while polling ({type(error).__name__}); it will be tried again"
        try:
            # What was posted before the failure stays remembered: a late retry must not repost it.
            feeds.record_poll(claim, after_failure(feed, now, reason), progress.seen)
        except Exception:
            logger.exception("feed poll not recorded", extra={"feed_id": feed.feed_id})
        return PollOutcome(feed.feed_id, "error", error=reason)
    logger.info(
        "feed polled",
        extra={
            "feed_id": feed.feed_id,
            "url": _shown(feed.url),
            "result": outcome.result,
            "posted": len(outcome.broadcasts),
            "error": outcome.error,
        },
    )
    return outcome


@dataclass
class _Progress:
    seen: tuple[str, ...]  # digests remembered so far in this poll


def _poll(
    claim: DueFeed,
    now: datetime,
    feeds: FeedStore,
    fetcher: FeedFetcher,
    create: CreateBroadcast,
    progress: _Progress,
) -> PollOutcome:
    feed, seen = claim.feed, claim.seen
    try:
        fetched = fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        if fetched.not_modified:
            updated = after_success(
                feed, now, url=fetched.feed_url, etag=fetched.etag, last_modified=fetched.last_modified
            )
            feeds.record_poll(claim, updated, seen)
            return PollOutcome(feed.feed_id, "not_modified")
        parsed = parse_feed(fetched.body, url=fetched.url, content_type=fetched.content_type)
    except (FetchFailed, Unreadable) as error:
        permanent = isinstance(error, FetchFailed) and error.permanent
        return _failed(claim, after_failure(feed, now, str(error), permanent=permanent), seen, (), feeds)

    to_post, passed_over = entries_to_post(
        parsed.entries, seen, first_poll=feed.last_success_at is None, backfill=feed.backfill
    )
    seen = progress.seen = remember(seen, passed_over)
    posted: list[str] = []
    for entry in to_post:
        digest = entry_digest(entry)
        request = _request_for(feed, entry_to_broadcast(entry))
        if request is not None:
            try:
                posted.append(create(request, feed_idempotency_key(feed.feed_id, digest)).broadcast_id)
            except IdempotencyConflict:
                pass  # posted before, and the entry changed since: it stays posted once
            except Unprocessable as error:  # e.g. a topic archived since registration
                failed = after_failure(feed, now, f"cannot post: {error}")
                return _failed(claim, failed, seen, tuple(posted), feeds)
        seen = progress.seen = remember(seen, [digest])
    # Entries still in the document move to the recent end, so they are never forgotten.
    current = {entry_digest(entry) for entry in oldest_first(parsed.entries)[-MAX_ENTRIES:]}
    seen = remember(seen, [digest for digest in seen if digest in current])
    updated = after_success(
        feed,
        now,
        url=fetched.feed_url,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        title=parsed.title,
        posted=len(posted),
    )
    feeds.record_poll(claim, updated, seen)
    return PollOutcome(feed.feed_id, "read", tuple(posted))


def _request_for(feed: Feed, post: FeedPost | None) -> BroadcastRequest | None:
    """The broadcast for an entry: a draft, or going out now (``send_at`` None); None to skip it."""
    if post is None:
        return None  # nothing to show: remembered, not posted
    try:
        return BroadcastRequest(
            text=post.text,
            topics=list(feed.topics),
            link=post.link,
            image_url=post.image_url,
            draft=feed.mode == "draft",
        )
    except ValidationError as error:
        logger.warning(
            "feed entry not postable", extra={"feed_id": feed.feed_id, "problem": error.errors()[0]["msg"]}
        )
        return None


def _failed(
    claim: DueFeed, feed: Feed, seen: tuple[str, ...], posted: tuple[str, ...], feeds: FeedStore
) -> PollOutcome:
    feeds.record_poll(claim, feed, seen)
    return PollOutcome(
        feed.feed_id, "paused" if feed.status == "paused" else "failed", posted, feed.last_error
    )


def _shown(url: str) -> str:
    """A feed URL as logs may carry it: no credentials, no query (it may hold a token)."""
    return redact_url(url).split("?", 1)[0]
