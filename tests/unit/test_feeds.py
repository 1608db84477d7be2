"""Feed rules (``domain.feeds``) and reading feed documents: pure, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from infra.fakes.feeds import Item, atom_document, item, rss_document
from subcast.adapters.feed_fetcher import Unreadable, parse_feed
from subcast.domain.broadcast import BroadcastRequest, utf16_length
from subcast.domain.feeds import (
    MAX_BACKFILL,
    MAX_FAILURES,
    MAX_POSTS_PER_POLL,
    MAX_SEEN,
    Feed,
    FeedEntry,
    FeedRequest,
    after_failure,
    after_success,
    discover_feed_url,
    entries_to_post,
    entry_digest,
    entry_key,
    entry_to_broadcast,
    next_poll,
    oldest_first,
    redact_url,
    remember,
)
from subcast.domain.rendering.markdown import parse, plain_text

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def a_feed(**changes: object) -> Feed:
    values: dict[str, object] = {
        "feed_id": "f_1",
        "url": "https://news.example/feed",
        "topics": ("sport",),
        "mode": "automatic",
        "poll_minutes": 15,
        "next_poll_at": NOW,
        "created_at": NOW,
        "created_by": "k_1",
    }
    return Feed.model_validate(values | changes)


def entries_of(document: bytes) -> list[FeedEntry]:
    return parse_feed(document, url="https://news.example/feed").entries


# ------------------------------------------------------------------ registration request


def test_a_feed_request_with_url_topics_and_mode_is_accepted_with_a_15_minute_default() -> None:
    # When a publisher registers a feed
    request = FeedRequest.model_validate(
        {"url": "https://news.example/feed.xml", "topics": ["sport"], "mode": "draft"}
    )
    # Then it polls every 15 minutes unless told otherwise
    assert (request.topics, request.mode, request.poll_minutes) == (["sport"], "draft", 15)


@pytest.mark.parametrize(
    "change",
    [
        {"url": "ftp://news.example/feed"},
        {"url": "javascript:alert(1)"},
        {"mode": "publish"},
        {"poll_minutes": 4},
        {"poll_minutes": 1441},
        {"poll_minutes": "15"},
        {"poll_minutes": True},
        {"topics": ["Not A Slug"]},
        {"colour": "red"},
    ],
)
def test_a_feed_request_outside_the_rules_is_refused(change: dict[str, object]) -> None:
    # Given a request with one field out of line
    values = {"url": "https://news.example/feed", "topics": [], "mode": "automatic"} | change
    # When it is validated / Then it is refused
    with pytest.raises(ValidationError):
        FeedRequest.model_validate(values)


def test_topics_must_be_given_even_if_empty() -> None:
    # Given a request that does not say who the entries are for / Then it is refused
    with pytest.raises(ValidationError):
        FeedRequest.model_validate({"url": "https://news.example/feed", "mode": "automatic"})


# ------------------------------------------------------------------ entry identity


def test_an_entry_is_known_by_its_guid_first() -> None:
    # Given an entry with a guid and a link
    entry = FeedEntry(guid="urn:a", link="https://news.example/a", title="A")
    # Then the guid identifies it, whatever its title becomes
    assert entry_key(entry) == "urn:a"
    assert entry_digest(entry) == entry_digest(FeedEntry(guid="urn:a", title="A, corrected"))


def test_an_entry_without_guid_is_known_by_its_link() -> None:
    assert entry_key(FeedEntry(link="https://news.example/a", title="A")) == "https://news.example/a"


def test_an_entry_without_guid_or_link_is_known_by_a_hash_of_title_and_date() -> None:
    # Given entries with neither guid nor link
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    first = FeedEntry(title="A", published=moment)
    # Then the same title and date give the same key, and a different title or date another one
    assert entry_key(first) == entry_key(FeedEntry(title="A", published=moment, summary_html="changed"))
    assert entry_key(first).startswith("sha256:")
    assert entry_key(first) != entry_key(FeedEntry(title="B", published=moment))
    assert entry_key(first) != entry_key(FeedEntry(title="A", published=moment + timedelta(days=1)))


def test_a_digest_is_short_and_fixed_length_whatever_the_key() -> None:
    digest = entry_digest(FeedEntry(guid="x" * 5000))
    assert len(digest) == 32 and digest == entry_digest(FeedEntry(guid="x" * 5000))


# ------------------------------------------------------------------ reading documents


def test_rss_entries_are_read_with_guid_link_date_summary_and_image() -> None:
    # Given an RSS 2.0 item with an image enclosure
    story = Item(
        title="Rates rise",
        link="https://news.example/rates",
        guid="urn:rates",
        summary="<p>The bank <b>raised</b> rates.</p>",
        published=datetime(2026, 11, 1, 9, tzinfo=UTC),
        image_url="https://news.example/rates.jpg",
    )
    # When the document is read
    [entry] = entries_of(rss_document([story]))
    # Then every part is there
    assert entry.guid == "urn:rates"
    assert entry.link == "https://news.example/rates"
    assert entry.title == "Rates rise"
    assert entry.published == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert entry.image_url == "https://news.example/rates.jpg"
    assert "<b>raised</b>" in entry.summary_html


def test_atom_entries_are_read_too() -> None:
    # When an Atom document is read
    entries = entries_of(atom_document([item(2), item(1)]))
    # Then its entries come with ids and dates
    assert [(entry.guid, entry.title) for entry in entries] == [
        ("urn:story:2", "Story 2"),
        ("urn:story:1", "Story 1"),
    ]
    assert all(entry.published for entry in entries)


def test_an_empty_feed_is_a_feed_with_no_entries() -> None:
    assert parse_feed(rss_document([]), url="https://news.example/feed").entries == []


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x9f<<<not a feed>>> ]]> &&&\xff",
        b"<!DOCTYPE html><html><body><p>A blog</p></body></html>",
        b"",
        b'{"version": "not a feed"}',
    ],
)
def test_what_is_not_rss_or_atom_is_unreadable_with_a_short_reason(body: bytes) -> None:
    # When something else is read as a feed / Then it is refused with a message that is not the body
    with pytest.raises(Unreadable, match="not an RSS or Atom feed") as refused:
        parse_feed(body, url="https://news.example/feed")
    assert len(str(refused.value)) < 160 and "A blog" not in str(refused.value)


def test_a_body_naming_a_local_file_is_never_read_as_that_file(tmp_path: object) -> None:
    # Given a file with a feed in it, and a body that is only that file's path
    from pathlib import Path

    path = Path(str(tmp_path)) / "secret.xml"
    path.write_bytes(rss_document([item(1)]))
    # When the body is read as a feed
    # Then the file is not opened: the path is just unreadable text
    with pytest.raises(Unreadable):
        parse_feed(str(path).encode(), url="https://news.example/feed")


# ------------------------------------------------------------------ entries as broadcasts


def test_an_entry_reads_as_bold_title_and_plain_summary_with_its_link() -> None:
    # Given an entry with HTML in its summary
    entry = FeedEntry(
        guid="urn:a",
        link="https://news.example/a",
        title="Rates rise",
        summary_html="<p>The bank <b>raised</b> rates &amp; bonds fell.</p><p>More soon.</p>",
    )
    # When it becomes a broadcast
    post = entry_to_broadcast(entry)
    # Then the title is bold and the summary plain text, paragraphs joined by a space
    assert post is not None
    assert post.text == "**Rates rise**\nThe bank raised rates & bonds fell. More soon."
    assert (post.link, post.image_url) == ("https://news.example/a", None)


def test_scripts_and_styles_never_reach_the_text() -> None:
    entry = FeedEntry(
        title="T", summary_html="<style>p{color:red}</style><script>alert('x')</script><p>Body</p>"
    )
    post = entry_to_broadcast(entry)
    assert post is not None and post.text == "**T**\nBody"


def test_markup_characters_in_title_and_summary_stay_literal() -> None:
    # Given a title and summary full of the Markdown subset's characters
    entry = FeedEntry(title="2*3 = [six](x)", summary_html="snake_case and **not bold**")
    # When it becomes a broadcast
    post = entry_to_broadcast(entry)
    # Then a reader sees them exactly, and the text is a valid broadcast
    assert post is not None
    assert plain_text(parse(post.text)) == "2*3 = [six](x)\nsnake_case and **not bold**"
    BroadcastRequest(text=post.text)


def test_a_long_summary_is_cut_at_a_word_within_280_characters() -> None:
    # Given a summary of 200 words
    entry = FeedEntry(title="Long", summary_html="<p>" + " ".join(["word"] * 200) + "</p>")
    # When it becomes a broadcast
    post = entry_to_broadcast(entry)
    # Then the summary keeps whole words, ends with an ellipsis and fits 280 characters
    assert post is not None
    summary = plain_text(parse(post.text)).split("\n", 1)[1]
    assert utf16_length(summary) <= 280
    assert summary.endswith("word…")


def test_a_summary_that_repeats_the_title_is_left_out() -> None:
    post = entry_to_broadcast(FeedEntry(title="Rates rise", summary_html="<p>Rates  rise</p>"))
    assert post is not None and post.text == "**Rates rise**"


def test_an_entry_without_title_shows_its_summary_only() -> None:
    post = entry_to_broadcast(FeedEntry(summary_html="Just a note."))
    assert post is not None and post.text == "Just a note."


def test_an_entry_with_nothing_to_show_is_not_a_broadcast() -> None:
    assert entry_to_broadcast(FeedEntry(link="https://news.example/a", summary_html="<p> </p>")) is None


def test_a_link_that_is_not_http_is_dropped() -> None:
    # Given feedparser's mapping with a javascript: link
    entry = FeedEntry.from_parsed({"title": "T", "link": "javascript:alert(1)", "id": "x"})
    assert entry.link is None


# ------------------------------------------------------------------ which entries go out


def dated(number: int) -> FeedEntry:
    return FeedEntry(guid=f"urn:{number}", title=f"S{number}", published=NOW + timedelta(hours=number))


def test_entries_are_ordered_by_date_whatever_the_document_order() -> None:
    assert [entry.guid for entry in oldest_first([dated(2), dated(3), dated(1)])] == [
        "urn:1",
        "urn:2",
        "urn:3",
    ]


def test_undated_entries_are_taken_newest_first_as_feeds_list_them() -> None:
    entries = [FeedEntry(guid="c"), FeedEntry(guid="b", published=NOW), FeedEntry(guid="a")]
    assert [entry.guid for entry in oldest_first(entries)] == ["a", "b", "c"]


def test_the_first_poll_posts_nothing_and_remembers_every_entry() -> None:
    # Given a feed document with 8 entries, never read before, registered without a backfill
    entries = [dated(number) for number in range(8, 0, -1)]
    # When the entries to post are chosen on the first poll
    post, passed_over = entries_to_post(entries, (), first_poll=True)
    # Then nothing goes out (they were published before the feed was registered), all are remembered
    assert post == []
    assert set(passed_over) == {entry_digest(dated(number)) for number in range(1, 9)}


def test_the_first_poll_posts_the_newest_backfill_entries_oldest_first() -> None:
    # Given a feed document with 8 entries and a backfill of 3
    entries = [dated(number) for number in range(8, 0, -1)]
    # When the entries to post are chosen on the first poll
    post, passed_over = entries_to_post(entries, (), first_poll=True, backfill=3)
    # Then the newest three go out, oldest first, and the other five are remembered unposted
    assert [entry.guid for entry in post] == ["urn:6", "urn:7", "urn:8"]
    assert set(passed_over) == {entry_digest(dated(number)) for number in range(1, 6)}


def test_a_backfill_is_capped_like_any_poll() -> None:
    # Given 30 entries and a backfill beyond the cap (the API refuses it; the rule holds anyway)
    post, _ = entries_to_post(
        [dated(n) for n in range(1, 31)], (), first_poll=True, backfill=MAX_BACKFILL + 5
    )
    # Then no more than the cap goes out
    assert len(post) == MAX_BACKFILL


def test_later_polls_post_only_what_was_not_seen() -> None:
    # Given entries 1-3 seen before, and a document now with 1-5
    seen = [entry_digest(dated(number)) for number in (1, 2, 3)]
    # When the entries to post are chosen
    post, passed_over = entries_to_post([dated(n) for n in (5, 4, 3, 2, 1)], seen, first_poll=False)
    # Then only 4 and 5 go out
    assert [entry.guid for entry in post] == ["urn:4", "urn:5"]
    assert passed_over == []


def test_a_flood_of_new_entries_is_capped_per_poll() -> None:
    post, passed_over = entries_to_post([dated(n) for n in range(1, 31)], ["old"], first_poll=False)
    assert len(post) == MAX_POSTS_PER_POLL and post[-1].guid == "urn:30"
    assert len(passed_over) == 30 - MAX_POSTS_PER_POLL


def test_an_entry_listed_twice_in_one_document_goes_out_once() -> None:
    post, _ = entries_to_post([dated(1), dated(1)], [], first_poll=False)
    assert len(post) == 1


def test_remembering_moves_digests_to_the_recent_end_and_forgets_the_oldest() -> None:
    # Given a full memory
    seen = tuple(f"d{number}" for number in range(MAX_SEEN))
    # When d0 is seen again and one new digest arrives
    remembered = remember(seen, ["d0", "new"])
    # Then d0 is kept (moved to the end), d1 (now the oldest) is forgotten
    assert len(remembered) == MAX_SEEN
    assert remembered[-2:] == ("d0", "new") and "d1" not in remembered


# ------------------------------------------------------------------ polling rhythm, backoff, pausing


def test_a_successful_poll_comes_back_after_poll_minutes_and_forgets_errors() -> None:
    # Given a feed that had failed twice
    feed = a_feed(failures=2, last_error="HTTP 500 Internal Server Error")
    # When a poll succeeds
    polled = after_success(feed, NOW, url=feed.url, etag='"v2"', last_modified=None, posted=2)
    # Then it is polled again after 15 minutes, with no error, and counts what it posted
    assert polled.next_poll_at == NOW + timedelta(minutes=15)
    assert (polled.failures, polled.last_error, polled.etag, polled.items_posted) == (0, None, '"v2"', 2)
    assert polled.last_success_at == NOW == polled.last_polled_at


@pytest.mark.parametrize(
    ("failures", "minutes"), [(0, 30), (1, 60), (2, 120), (5, 960), (6, 1440), (9, 1440)]
)
def test_failures_back_off_exponentially_up_to_a_day(failures: int, minutes: int) -> None:
    # Given a 15-minute feed that failed ``failures`` times already
    feed = a_feed(failures=failures)
    # When it fails again
    # Then the next poll waits 15 * 2^(failures + 1) minutes, at most 24 hours
    assert next_poll(feed, NOW, failed=True) == NOW + timedelta(minutes=minutes)


def test_a_failure_is_counted_and_shown_and_the_feed_stays_active() -> None:
    failed = after_failure(a_feed(), NOW, "HTTP 500 Internal Server Error")
    assert (failed.failures, failed.status, failed.last_error) == (
        1,
        "active",
        "HTTP 500 Internal Server Error",
    )
    assert failed.next_poll_at == NOW + timedelta(minutes=30)
    assert failed.last_success_at is None


def test_the_tenth_failure_in_a_row_pauses_the_feed_with_the_reason() -> None:
    # Given a feed that failed 9 times in a row
    feed = a_feed(failures=MAX_FAILURES - 1)
    # When it fails once more
    failed = after_failure(feed, NOW, "the host news.example was not found")
    # Then it is paused, and says why
    assert failed.status == "paused"
    assert failed.failures == MAX_FAILURES == 10
    assert failed.last_error == "paused after 10 failed polls in a row: the host news.example was not found"


def test_a_permanent_failure_pauses_at_once() -> None:
    failed = after_failure(a_feed(), NOW, "the feed is gone (HTTP 410 Gone)", permanent=True)
    assert (failed.status, failed.last_error) == ("paused", "paused: the feed is gone (HTTP 410 Gone)")


# ------------------------------------------------------------------ URLs


@pytest.mark.parametrize(
    ("page", "found"),
    [
        (
            '<link rel="alternate" type="application/rss+xml" href="/feed.xml">',
            "https://blog.example/feed.xml",
        ),
        (
            '<LINK REL="Alternate Feed" TYPE="application/atom+xml; charset=utf-8" HREF="atom">',
            "https://blog.example/posts/atom",
        ),
        (
            '<base href="https://cdn.example/x/"><link rel=alternate type=application/rss+xml href=f>',
            "https://cdn.example/x/f",
        ),
        ('<link rel="stylesheet" href="/s.css"><link rel="alternate" type="text/html" href="/fr">', None),
        ('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">', None),
        ("<p>no feed here</p>", None),
    ],
)
def test_a_web_page_names_its_feed_in_link_rel_alternate(page: str, found: str | None) -> None:
    html = f"<!DOCTYPE html><html><head>{page}</head><body></body></html>"
    assert discover_feed_url(html, "https://blog.example/posts/latest") == found


def test_credentials_are_taken_out_of_urls_for_logs() -> None:
    assert (
        redact_url("https://reader:s3cret@news.example:8443/feed?x=1") == "https://news.example:8443/feed?x=1"
    )
    assert redact_url("https://news.example/feed") == "https://news.example/feed"
