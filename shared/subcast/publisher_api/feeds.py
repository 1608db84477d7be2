"""/v1/feeds: RSS/Atom feeds whose new entries become broadcasts (drafts, or sent automatically)."""

from __future__ import annotations

from datetime import datetime

from chalice import Response  # type: ignore[attr-defined]
from pydantic import BaseModel, Field

from subcast.adapters.feeds import FeedStore
from subcast.adapters.publishing import ApiKey
from subcast.config import settings
from subcast.domain.feed_entries import redact_url
from subcast.domain.feeds import Feed, FeedRequest
from subcast.publisher_api.http import Conflict, Routes, json_response
from subcast.publisher_api.schemas import dump
from subcast.services.api_keys import Scope
from subcast.services.dependencies import publishing_store
from subcast.services.feeds import FeedExists, delete_feed, get_feed, list_feeds, register_feed, resume_feed

routes = Routes("feeds")


class FeedOut(BaseModel):
    id: str
    url: str
    title: str | None
    topics: list[str]
    mode: str
    poll_minutes: int
    status: str
    last_error: str | None
    failures: int
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime
    items_posted: int
    backfill: int = Field(description="entries it already held that its first read posted (0: none)")
    created_at: datetime


class FeedList(BaseModel):
    feeds: list[FeedOut]


def feed_out(feed: Feed) -> FeedOut:
    return FeedOut(
        id=feed.feed_id,
        url=redact_url(feed.url),  # never a password given in the URL
        title=feed.title,
        topics=list(feed.topics),
        mode=feed.mode,
        poll_minutes=feed.poll_minutes,
        status=feed.status,
        last_error=feed.last_error,
        failures=feed.failures,
        last_polled_at=feed.last_polled_at,
        last_success_at=feed.last_success_at,
        next_poll_at=feed.next_poll_at,
        items_posted=feed.items_posted,
        backfill=feed.backfill,
        created_at=feed.created_at,
    )


def store() -> FeedStore:
    return FeedStore(settings().table_name)


@routes.route(
    "/v1/feeds",
    "POST",
    Scope.BROADCASTS,
    body=FeedRequest,
    response=FeedOut,
    status=201,
    errors=(400, 409, 413, 415, 422),
)
def register_feed_view(key: ApiKey) -> Response:
    """Register a feed (a web page that links its feed works too); polled within a minute or so."""
    request = routes.body(FeedRequest)
    try:
        feed, created = register_feed(request, key, store=store(), publishing=publishing_store())
    except FeedExists as error:
        raise Conflict("feed_exists", str(error)) from None
    return json_response(201 if created else 200, dump(feed_out(feed)))


@routes.route("/v1/feeds", "GET", Scope.BROADCASTS, response=FeedList)
def list_feeds_view(key: ApiKey) -> Response:
    """Every feed with its state: when it was last read, and why it fails or was paused."""
    return json_response(200, dump(FeedList(feeds=[feed_out(feed) for feed in list_feeds(store())])))


@routes.route("/v1/feeds/{feed_id}", "GET", Scope.BROADCASTS, response=FeedOut, errors=(404,))
def get_feed_view(key: ApiKey, feed_id: str) -> Response:
    """One feed with its state."""
    return json_response(200, dump(feed_out(get_feed(store(), feed_id))))


@routes.route("/v1/feeds/{feed_id}", "DELETE", Scope.BROADCASTS, response=None, status=204, errors=(404,))
def delete_feed_view(key: ApiKey, feed_id: str) -> Response:
    """Stop following a feed (its broadcasts stay)."""
    delete_feed(store(), feed_id)
    return Response(status_code=204, body="")


@routes.route("/v1/feeds/{feed_id}/resume", "POST", Scope.BROADCASTS, response=FeedOut, errors=(404,))
def resume_feed_view(key: ApiKey, feed_id: str) -> Response:
    """Poll a paused feed again from the next tick."""
    return json_response(200, dump(feed_out(resume_feed(store(), feed_id))))
