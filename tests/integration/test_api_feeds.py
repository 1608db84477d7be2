"""/v1/feeds and the FeedsFunction schedule: register through the API, the real handler polls a feed
server on loopback, entries become broadcasts once, the feed shows its state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.fakes.feeds import FeedSite, item, serving_feeds
from tests.integration.conftest import invoke
from tests.integration.test_api import assert_error, call, changes_nothing, create_topic, new_key


@pytest.fixture
def site(stack, monkeypatch) -> Iterator[FeedSite]:
    monkeypatch.setenv("FEEDS_ALLOW_PRIVATE_NETWORKS", "true")  # the test feed lives on loopback
    from subcast.services import dependencies

    dependencies.reset()
    with serving_feeds() as served:
        yield served


def test_a_registered_feed_is_polled_by_the_schedule_and_its_entries_become_broadcasts_once(stack, site):
    # Given an editor, a topic and an RSS feed with two entries
    editor = new_key("topics", "broadcasts")
    create_topic(editor, "sport")
    site.rss("/sport.xml", [item(1), item(2)])

    # When the feed is registered (in draft mode, with both entries it holds) and the schedule ticks twice
    body = {"url": site.url("/sport.xml"), "topics": ["sport"], "mode": "draft", "backfill": 2}
    status, feed, _ = call("POST", "/v1/feeds", body, editor)
    first = invoke("FeedsFunction", {"source": "aws.events"})
    second = invoke("FeedsFunction", {"source": "aws.events"})

    # Then both entries are drafts on the topic, once, and the feed shows when it was read
    assert status == 201 and (feed["status"], feed["backfill"]) == ("active", 2)
    assert first["posted"] == 2 and second["polled"] == 0
    drafts = call("GET", "/v1/broadcasts", key=editor, query="status=draft")[1]["broadcasts"]
    assert len(drafts) == 2 and all(item["topics"] == ["sport"] for item in drafts)
    shown = call("GET", f"/v1/feeds/{feed['id']}", key=editor)[1]
    assert (shown["items_posted"], shown["last_error"]) == (2, None) and shown["last_polled_at"]
    assert [item["id"] for item in call("GET", "/v1/feeds", key=editor)[1]["feeds"]] == [feed["id"]]


def test_a_broken_feed_shows_its_error_and_can_be_resumed_or_deleted(stack, site):
    editor = new_key("broadcasts")
    site.fail("/broken.xml", status=500)
    _, feed, _ = call(
        "POST", "/v1/feeds", {"url": site.url("/broken.xml"), "topics": [], "mode": "draft"}, editor
    )

    invoke("FeedsFunction", {"source": "aws.events"})

    shown = call("GET", f"/v1/feeds/{feed['id']}", key=editor)[1]
    assert shown["failures"] == 1 and "500" in shown["last_error"]
    assert call("POST", f"/v1/feeds/{feed['id']}/resume", None, editor)[0] == 200
    assert call("DELETE", f"/v1/feeds/{feed['id']}", None, editor)[0] == 204
    assert_error(call("GET", f"/v1/feeds/{feed['id']}", key=editor), 404, "not_found")


def test_an_automatic_feed_starts_with_what_is_published_after_it_is_registered(stack, site):
    # Given a topic and a feed that already holds three entries
    editor = new_key("topics", "broadcasts")
    create_topic(editor, "sport")
    site.rss("/sport.xml", [item(1), item(2), item(3)])

    # When it is registered in automatic mode without a backfill and the schedule ticks
    body = {"url": site.url("/sport.xml"), "topics": ["sport"], "mode": "automatic"}
    status, feed, _ = call("POST", "/v1/feeds", body, editor)
    first = invoke("FeedsFunction", {"source": "aws.events"})

    # Then nothing goes to subscribers: those entries were published before
    assert status == 201 and feed["backfill"] == 0
    assert first["posted"] == 0 and call("GET", "/v1/broadcasts", key=editor)[1]["broadcasts"] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "ftp://example.org/feed", "topics": [], "mode": "draft"}, 400, "invalid_request"),
        ({"url": "", "topics": [], "mode": "draft"}, 400, "invalid_request"),
        ({"url": "https://example.org/feed", "topics": ["unknown"], "mode": "draft"}, 422, "unknown_topic"),
        ({"url": "https://example.org/feed", "topics": [], "mode": "sometimes"}, 400, "invalid_request"),
        (
            {"url": "https://example.org/feed", "topics": [], "mode": "draft", "poll_minutes": 1},
            400,
            "invalid_request",
        ),
        (
            {"url": "https://example.org/feed", "topics": [], "mode": "draft", "backfill": 11},
            400,
            "invalid_request",
        ),
        (
            {"url": "https://example.org/feed", "topics": [], "mode": "draft", "backfill": "3"},
            400,
            "invalid_request",
        ),
        ({"topics": [], "mode": "draft"}, 400, "invalid_request"),
    ],
)
def test_an_invalid_feed_is_refused_and_registers_nothing(stack, body, status, code):
    editor = new_key("broadcasts")
    with changes_nothing(stack):
        assert_error(call("POST", "/v1/feeds", body, editor), status, code)


def test_the_same_url_with_other_settings_is_409(stack):
    editor = new_key("broadcasts")
    body = {"url": "https://example.org/feed.xml", "topics": [], "mode": "draft"}
    assert call("POST", "/v1/feeds", body, editor)[0] == 201
    assert call("POST", "/v1/feeds", body, editor)[0] == 200  # the same registration again
    with changes_nothing(stack):
        assert_error(call("POST", "/v1/feeds", {**body, "mode": "automatic"}, editor), 409, "feed_exists")
