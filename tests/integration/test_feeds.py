"""Feeds end to end below the HTTP API: the template's table in moto, a feed server on loopback,
the real services (registration, the poller, broadcast creation) and the real fetcher."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.fakes.feeds import FeedSite, item, serving_feeds
from subcast import clock
from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.feeds import FeedFetcher, FeedStore
from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.config import settings
from subcast.domain.broadcast import Broadcast, BroadcastRequest, BroadcastStatus
from subcast.domain.feeds import MAX_FAILURES, Feed, FeedRequest
from subcast.domain.topics import TopicRequest
from subcast.services import dependencies
from subcast.services.broadcasts import NotFound, Unprocessable
from subcast.services.feeds import (
    CreateBroadcast,
    FeedExists,
    PollOutcome,
    broadcast_creator,
    delete_feed,
    get_feed,
    list_feeds,
    poll_due_feeds,
    register_feed,
    resume_feed,
)
from subcast.services.topics import archive_topic, create_topic

EDITOR = ApiKey(
    key_id="k_editor", name="editor", scopes=("feeds",), created_at=datetime(2026, 1, 1, tzinfo=UTC)
)


@dataclass
class World:
    stack: Any
    site: FeedSite
    feeds: FeedStore
    publishing: PublishingStore
    broadcasts: BroadcastStore
    create: CreateBroadcast
    fetcher: FeedFetcher

    def register(
        self,
        path: str,
        mode: str = "automatic",
        topics: tuple[str, ...] = ("sport",),
        backfill: int | None = 3,
    ) -> Feed:
        # Most tests want a first poll that posts something, so they ask for the newest three.
        body = {"url": self.site.url(path), "topics": list(topics), "mode": mode}
        request = FeedRequest.model_validate(body if backfill is None else {**body, "backfill": backfill})
        feed, created = register_feed(request, EDITOR, store=self.feeds, publishing=self.publishing)
        assert created
        return feed

    def poll(self, after_minutes: float = 0, create: CreateBroadcast | None = None) -> list[PollOutcome]:
        """Move the clock on, then run the poller as the scheduled function would."""
        if after_minutes:
            clock.move_to(clock.now() + timedelta(minutes=after_minutes))
        return poll_due_feeds(
            clock.now(), feeds=self.feeds, fetcher=self.fetcher, create=create or self.create
        )

    def posted(self) -> list[Broadcast]:
        """Every broadcast in the table, in creation order."""
        ids = [
            i["pk"]["S"].removeprefix("BROADCAST#") for i in self.stack.scan() if i["sk"]["S"] == "BROADCAST"
        ]
        found = [self.broadcasts.get(broadcast_id) for broadcast_id in ids]
        return sorted((b for b in found if b is not None), key=lambda b: b.created_at)

    def titles(self) -> list[str]:
        return [broadcast.text.split("\n")[0] for broadcast in self.posted()]

    def feed(self, feed_id: str) -> Feed:
        return get_feed(self.feeds, feed_id)


@pytest.fixture
def world(stack: Any) -> Iterator[World]:
    publishing = dependencies.publishing_store()
    for slug in ("sport", "culture"):
        create_topic(publishing, TopicRequest(slug=slug, name=slug.title()))
    with serving_feeds() as site:
        yield World(
            stack=stack,
            site=site,
            feeds=FeedStore(settings().table_name),
            publishing=publishing,
            broadcasts=dependencies.broadcast_store(),
            create=broadcast_creator(
                store=dependencies.broadcast_store(),
                publishing=publishing,
                fanout=dependencies.fanout_queue(),
            ),
            fetcher=FeedFetcher(allow_private_networks=True),
        )


def stories(*numbers: int) -> list[Any]:
    """Feed items, newest first as a feed lists them."""
    return [item(number) for number in sorted(numbers, reverse=True)]


# ------------------------------------------------------------------ registration


def test_a_registered_feed_is_listed_active_and_due_at_once(world: World) -> None:
    # Given a feed registered by an editor
    world.site.rss("/feed", stories(1))
    feed = world.register("/feed", topics=("sport", "culture"))
    # Then it is listed, active, with no error, due now
    assert [listed.feed_id for listed in list_feeds(world.feeds)] == [feed.feed_id]
    stored = world.feed(feed.feed_id)
    assert (stored.status, stored.failures, stored.last_error, stored.topics) == (
        "active",
        0,
        None,
        ("sport", "culture"),
    )
    assert stored.created_by == "k_editor" and stored.next_poll_at <= clock.now()


def test_registering_the_same_feed_again_returns_it_and_other_settings_conflict(world: World) -> None:
    # Given a registered feed
    feed = world.register("/feed", backfill=None)
    request = {"url": world.site.url("/feed"), "topics": ["sport"], "mode": "automatic"}
    # When the same request comes again (a retried POST), the feed comes back, not a second one
    again, created = register_feed(
        FeedRequest.model_validate(request), EDITOR, store=world.feeds, publishing=world.publishing
    )
    assert (again.feed_id, created) == (feed.feed_id, False)
    # When the same URL comes with another mode or backfill, it is refused, naming the feed
    for other in ({"mode": "draft"}, {"backfill": 2}):
        with pytest.raises(FeedExists, match=feed.feed_id):
            register_feed(
                FeedRequest.model_validate(request | other),
                EDITOR,
                store=world.feeds,
                publishing=world.publishing,
            )
    assert len(list_feeds(world.feeds)) == 1


def test_unknown_and_archived_topics_are_refused_like_for_broadcasts(world: World) -> None:
    archive_topic(world.publishing, "culture")
    for topics, message in ((["nope"], "unknown topics: nope"), (["culture"], "archived topics: culture")):
        request = FeedRequest.model_validate({"url": world.site.url("/f"), "topics": topics, "mode": "draft"})
        with pytest.raises(Unprocessable, match=message):
            register_feed(request, EDITOR, store=world.feeds, publishing=world.publishing)
    assert list_feeds(world.feeds) == []


def test_a_deleted_feed_is_gone_and_never_fetched_again(world: World) -> None:
    # Given a registered feed
    world.site.rss("/feed", stories(1))
    feed = world.register("/feed")
    # When it is deleted
    delete_feed(world.feeds, feed.feed_id)
    # Then it is not listed, not found, and the poller does not fetch it
    assert list_feeds(world.feeds) == []
    with pytest.raises(NotFound):
        get_feed(world.feeds, feed.feed_id)
    with pytest.raises(NotFound):
        delete_feed(world.feeds, feed.feed_id)
    assert world.poll() == [] and world.site.requests == []


# ------------------------------------------------------------------ posting new entries


def test_a_new_feed_starts_with_what_is_published_from_now_on(world: World) -> None:
    # Given a feed with six entries, registered in automatic mode without a backfill
    world.site.rss("/feed", stories(1, 2, 3, 4, 5, 6))
    feed = world.register("/feed", backfill=None)
    # When the poller runs
    [outcome] = world.poll()
    # Then nothing is sent: the six were published before the feed was registered
    assert outcome.result == "read" and not outcome.broadcasts and world.posted() == []
    assert world.feed(feed.feed_id).items_posted == 0
    # And an entry published after that goes out at the next poll
    world.site.rss("/feed", stories(1, 2, 3, 4, 5, 6, 7))
    [later] = world.poll(after_minutes=16)
    assert len(later.broadcasts) == 1 and world.titles() == ["**Story 7**"]


def test_a_backfill_of_three_posts_the_three_newest_entries_oldest_first(world: World) -> None:
    # Given a feed with six entries, registered with a backfill of three
    world.site.rss("/feed", stories(1, 2, 3, 4, 5, 6))
    feed = world.register("/feed", backfill=3)
    # When the poller runs
    [outcome] = world.poll()
    # Then the three newest go out, oldest first, as scheduled broadcasts on the feed's topics
    assert outcome.result == "read" and len(outcome.broadcasts) == 3
    assert world.titles() == ["**Story 4**", "**Story 5**", "**Story 6**"]
    first = world.posted()[0]
    assert first.text == "**Story 4**\nWhat happened in story 4."
    assert (first.link, first.topics, first.created_by) == (
        "https://news.example/stories/4",
        ("sport",),
        f"feed:{feed.feed_id}",
    )
    # And the feed records the read
    stored = world.feed(feed.feed_id)
    assert (stored.items_posted, stored.title, stored.failures) == (3, "Example News", 0)
    assert stored.etag is not None and stored.last_modified is not None


def test_a_later_poll_posts_only_the_new_entries(world: World) -> None:
    # Given a feed read once
    world.site.rss("/feed", stories(1, 2, 3, 4, 5))
    feed = world.register("/feed")
    world.poll()
    # When two entries are published and the next poll is due
    world.site.rss("/feed", stories(1, 2, 3, 4, 5, 6, 7))
    [outcome] = world.poll(after_minutes=16)
    # Then only those two go out
    assert len(outcome.broadcasts) == 2
    assert world.titles() == [f"**Story {number}**" for number in (3, 4, 5, 6, 7)]
    assert world.feed(feed.feed_id).items_posted == 5


def test_a_feed_is_not_polled_before_its_interval(world: World) -> None:
    world.site.rss("/feed", stories(1))
    world.register("/feed")
    world.poll()
    world.site.rss("/feed", stories(1, 2))
    assert world.poll(after_minutes=10) == []
    assert len(world.site.requests_to("/feed")) == 1 and len(world.posted()) == 1


def test_an_unchanged_feed_is_asked_conditionally_and_answers_304_with_nothing_posted(world: World) -> None:
    # Given a feed read once, with its ETag and Last-Modified
    world.site.rss("/feed", stories(1, 2))
    feed = world.register("/feed")
    world.poll()
    read = world.feed(feed.feed_id)
    # When it is polled again without having changed
    [outcome] = world.poll(after_minutes=16)
    # Then the request carried both validators, the server said 304, and nothing was posted
    second = world.site.requests_to("/feed")[-1]
    assert second.headers["if-none-match"] == read.etag
    assert second.headers["if-modified-since"] == read.last_modified
    assert (second.status, outcome.result, outcome.broadcasts) == (304, "not_modified", ())
    assert len(world.posted()) == 2
    # And the feed counts it as a good poll, due again after its interval
    polled = world.feed(feed.feed_id)
    assert polled.last_polled_at is not None and read.last_polled_at is not None
    assert polled.last_polled_at > read.last_polled_at
    assert polled.next_poll_at == polled.last_polled_at + timedelta(minutes=15)


def test_a_server_without_validators_sends_everything_again_and_nothing_is_posted_twice(world: World) -> None:
    # Given a server that ignores conditional requests
    world.site.rss("/feed", stories(1, 2, 3), conditional=False)
    world.register("/feed")
    world.poll()
    # When it is polled several times and answers the whole document each time
    for _ in range(3):
        world.poll(after_minutes=16)
    # Then each entry went out once
    assert [seen.status for seen in world.site.requests_to("/feed")] == [200] * 4
    assert "if-none-match" not in world.site.requests_to("/feed")[-1].headers
    assert world.titles() == ["**Story 1**", "**Story 2**", "**Story 3**"]


def test_an_edited_entry_keeps_its_identity_and_is_not_posted_again(world: World) -> None:
    world.site.rss("/feed", stories(1))
    world.register("/feed")
    world.poll()
    edited = replace(item(1), title="Story 1 (corrected)")
    world.site.rss("/feed", [edited])
    world.poll(after_minutes=16)
    assert world.titles() == ["**Story 1**"]


def test_a_poll_that_crashed_after_creating_broadcasts_never_creates_them_twice(world: World) -> None:
    # Given a poller that dies right after its second broadcast was stored (before recording the poll)
    world.site.rss("/feed", stories(1, 2, 3))
    feed = world.register("/feed")
    calls: list[str] = []

    def crashing(request: BroadcastRequest, key: str) -> Broadcast:
        broadcast = world.create(request, key)
        calls.append(key)
        if len(calls) == 2:
            raise RuntimeError("Lambda timed out")
        return broadcast

    [crashed] = world.poll(create=crashing)
    assert crashed.result == "error" and len(world.posted()) == 2
    stored_before = {broadcast.broadcast_id for broadcast in world.posted()}
    assert "internal error" in (world.feed(feed.feed_id).last_error or "")
    # When the poll runs again
    [retried] = world.poll(after_minutes=31)
    # Then the second is found again under its idempotency key, not created twice, and the third
    # goes out once
    assert retried.result == "read" and len(retried.broadcasts) == 2
    assert retried.broadcasts[0] in stored_before and retried.broadcasts[1] not in stored_before
    assert world.titles() == ["**Story 1**", "**Story 2**", "**Story 3**"]
    assert world.feed(feed.feed_id).failures == 0


def test_an_entry_edited_between_a_crash_and_the_retry_still_goes_out_once(world: World) -> None:
    # Given a poll that stored one broadcast and died
    world.site.rss("/feed", stories(1))
    world.register("/feed")

    def crashing(request: BroadcastRequest, key: str) -> Broadcast:
        world.create(request, key)
        raise RuntimeError("connection lost")

    world.poll(create=crashing)
    # When the entry is corrected before the retry (same guid, other text)
    edited = replace(item(1), summary="<p>Corrected.</p>")
    world.site.rss("/feed", [edited])
    [retried] = world.poll(after_minutes=31)
    # Then the retry does not post a second broadcast for it
    assert retried.result == "read"
    assert len(world.posted()) == 1


def test_two_overlapping_pollers_fetch_a_feed_once(world: World) -> None:
    # Given a due feed
    world.site.rss("/feed", stories(1))
    world.register("/feed")
    # When two scheduler ticks claim due feeds at the same moment
    first, second = world.feeds.due(clock.now()), world.feeds.due(clock.now())
    # Then only one gets it
    assert (len(first), len(second)) == (1, 0)


# ------------------------------------------------------------------ modes


def test_draft_mode_makes_drafts_and_automatic_mode_schedules_them_now(world: World) -> None:
    # Given one feed in each mode (one of them Atom)
    world.site.rss("/rss", stories(1))
    world.site.atom("/atom", [item(2)])
    drafted = world.register("/rss", mode="draft")
    automatic = world.register("/atom", mode="automatic")
    depth_before = world.stack.depth("FanoutQueue")
    # When both are polled
    outcomes = {outcome.feed_id: outcome for outcome in world.poll()}
    # Then the draft feed made a draft and the automatic one a broadcast going out now
    draft = world.broadcasts.get(outcomes[drafted.feed_id].broadcasts[0])
    sent = world.broadcasts.get(outcomes[automatic.feed_id].broadcasts[0])
    assert draft is not None and sent is not None
    assert (draft.status, draft.text.split("\n")[0]) == (BroadcastStatus.DRAFT, "**Story 1**")
    assert (sent.status, sent.text.split("\n")[0]) == (BroadcastStatus.SCHEDULED, "**Story 2**")
    assert sent.send_at <= clock.now()
    assert world.stack.depth("FanoutQueue") == depth_before + 1  # only the automatic one fans out


# ------------------------------------------------------------------ where the feed lives


def test_a_permanent_redirect_updates_the_stored_url(world: World) -> None:
    # Given a feed registered at an address that moved permanently
    world.site.rss("/feed", stories(1))
    world.site.redirect("/old", world.site.url("/feed"), 301)
    feed = world.register("/old")
    # When it is polled
    world.poll()
    # Then its entries went out and it is known by its new address from now on
    assert world.feed(feed.feed_id).url == world.site.url("/feed")
    world.poll(after_minutes=16)
    assert len(world.site.requests_to("/old")) == 1 and len(world.site.requests_to("/feed")) == 2
    assert len(world.posted()) == 1


def test_a_temporary_redirect_is_followed_but_not_stored(world: World) -> None:
    world.site.rss("/feed", stories(1))
    world.site.redirect("/current", world.site.url("/feed"), 302)
    feed = world.register("/current")
    world.poll()
    assert world.feed(feed.feed_id).url == world.site.url("/current")
    assert len(world.posted()) == 1


def test_a_permanent_redirect_behind_a_temporary_one_is_not_stored(world: World) -> None:
    # Given /now redirecting temporarily to /moved, which moved for good (308) to /feed
    world.site.rss("/feed", stories(1))
    world.site.redirect("/now", world.site.url("/moved"), 307)
    world.site.redirect("/moved", world.site.url("/feed"), 308)
    feed = world.register("/now")
    world.poll()
    # Then the feed is still asked for at /now: only the temporary address knows where to go
    assert world.feed(feed.feed_id).url == world.site.url("/now")
    assert len(world.posted()) == 1


def test_a_redirect_loop_is_a_visible_failure(world: World) -> None:
    world.site.redirect("/a", world.site.url("/b"), 302)
    world.site.redirect("/b", world.site.url("/a"), 302)
    feed = world.register("/a")
    world.poll()
    assert world.feed(feed.feed_id).last_error == "more than 5 redirects"
    assert len(world.site.requests) == 6


def test_a_web_page_leads_to_its_feed(world: World) -> None:
    # Given a blog page whose <head> names its feed
    world.site.rss("/blog/feed.xml", stories(1, 2))
    world.site.page("/blog/", "feed.xml")
    feed = world.register("/blog/")
    # When it is polled
    [outcome] = world.poll()
    # Then the feed's entries went out and the feed's own URL is stored
    assert outcome.result == "read" and world.titles() == ["**Story 1**", "**Story 2**"]
    assert world.feed(feed.feed_id).url == world.site.url("/blog/feed.xml")


def test_credentials_in_the_url_go_to_the_feed_host_only_and_never_into_errors(world: World) -> None:
    # Given a private feed whose URL carries a user and password, moved to another host name
    world.site.redirect("/private", world.site.url("/elsewhere").replace("127.0.0.1", "localhost"), 302)
    world.site.fail("/elsewhere", 500)
    url = world.site.url("/private").replace("http://", "http://reader:s3cret@")
    request = FeedRequest.model_validate({"url": url, "topics": [], "mode": "draft"})
    feed, _ = register_feed(request, EDITOR, store=world.feeds, publishing=world.publishing)
    # When it is polled
    world.poll()
    # Then the feed's host got Basic credentials, the other host none, and the error shows no secret
    assert world.site.requests_to("/private")[0].headers["authorization"] == "Basic cmVhZGVyOnMzY3JldA=="
    assert "authorization" not in world.site.requests_to("/elsewhere")[0].headers
    assert "s3cret" not in (world.feed(feed.feed_id).last_error or "s3cret")


# ------------------------------------------------------------------ broken feeds


def test_a_server_error_is_counted_shown_and_backed_off(world: World) -> None:
    # Given a feed whose server fails
    world.site.fail("/feed", 500)
    feed = world.register("/feed")
    # When it is polled
    [outcome] = world.poll()
    # Then the failure is visible on the feed and the next try waits twice the interval
    failed = world.feed(feed.feed_id)
    assert (outcome.result, failed.failures, failed.status) == ("failed", 1, "active")
    assert failed.last_error == "HTTP 500 Internal Server Error"
    assert failed.last_polled_at is not None
    assert failed.next_poll_at == failed.last_polled_at + timedelta(minutes=30)
    # And it is not fetched again before then
    assert world.poll(after_minutes=20) == []
    assert len(world.site.requests_to("/feed")) == 1
    # When the server recovers, the next poll reads it and forgets the failure
    world.site.rss("/feed", stories(1))
    world.poll(after_minutes=11)
    recovered = world.feed(feed.feed_id)
    assert (recovered.failures, recovered.last_error, len(world.posted())) == (0, None, 1)


def test_garbage_is_a_visible_failure(world: World) -> None:
    world.site.garbage("/feed")
    feed = world.register("/feed")
    [outcome] = world.poll()
    stored = world.feed(feed.feed_id)
    assert outcome.result == "failed" and stored.failures == 1
    assert (stored.last_error or "").startswith("not an RSS or Atom feed")
    assert world.posted() == []


def test_a_feed_larger_than_5_mib_is_refused(world: World) -> None:
    world.site.document("/feed", b"<rss>" + b" " * (5 * 1024 * 1024 + 1), "application/rss+xml")
    feed = world.register("/feed")
    world.poll()
    assert world.feed(feed.feed_id).last_error == "the feed is larger than 5 MiB"


def test_after_ten_failures_in_a_row_the_feed_is_paused_with_the_reason(world: World) -> None:
    # Given a feed that keeps failing
    world.site.fail("/feed", 503)
    feed = world.register("/feed")
    # When it is polled each time it is due, ten times
    for _ in range(MAX_FAILURES):
        [outcome] = world.poll(after_minutes=24 * 60)
    # Then it is paused and says why
    paused = world.feed(feed.feed_id)
    assert (outcome.result, paused.status, paused.failures) == ("paused", "paused", MAX_FAILURES)
    assert paused.last_error == "paused after 10 failed polls in a row: HTTP 503 Service Unavailable"
    # And it is never fetched again, however long we wait
    assert world.poll(after_minutes=7 * 24 * 60) == []
    assert len(world.site.requests_to("/feed")) == MAX_FAILURES
    # When the publisher resumes it after fixing the server, it is read at the next tick
    world.site.rss("/feed", stories(1))
    resumed = resume_feed(world.feeds, feed.feed_id)
    assert (resumed.status, resumed.failures, resumed.last_error) == ("active", 0, None)
    [outcome] = world.poll()
    assert outcome.result == "read" and len(world.posted()) == 1


def test_a_feed_that_is_gone_is_paused_at_once(world: World) -> None:
    world.site.fail("/feed", 410)
    feed = world.register("/feed")
    world.poll()
    gone = world.feed(feed.feed_id)
    assert (gone.status, gone.last_error) == ("paused", "paused: the feed is gone (HTTP 410 Gone)")


def test_a_topic_archived_after_registration_shows_on_the_feed(world: World) -> None:
    world.site.rss("/feed", stories(1))
    feed = world.register("/feed")
    archive_topic(world.publishing, "sport")
    world.poll()
    stored = world.feed(feed.feed_id)
    assert stored.last_error == "cannot post: archived topics: sport" and world.posted() == []


def test_one_broken_feed_does_not_stop_the_others(world: World) -> None:
    # Given a broken feed, a garbage feed and a good one, registered in that order
    world.site.fail("/broken", 500)
    world.site.garbage("/garbage")
    world.site.rss("/good", stories(1, 2))
    broken, garbage, good = world.register("/broken"), world.register("/garbage"), world.register("/good")
    # When the poller runs
    outcomes = {outcome.feed_id: outcome.result for outcome in world.poll()}
    # Then the good feed was read and posted, and the others show their errors
    assert outcomes == {broken.feed_id: "failed", garbage.feed_id: "failed", good.feed_id: "read"}
    assert world.titles() == ["**Story 1**", "**Story 2**"]
    assert world.feed(good.feed_id).last_error is None


def test_private_addresses_are_refused_unless_allowed(world: World) -> None:
    # Given the fetcher as deployed (no private networks) and a feed on loopback
    world.site.rss("/feed", stories(1))
    feed = world.register("/feed")
    world.fetcher = FeedFetcher()
    # When it is polled
    world.poll()
    # Then nothing was fetched and the feed says why
    assert world.site.requests == []
    assert world.feed(feed.feed_id).last_error == "the host 127.0.0.1 is on a private or reserved network"
