"""What a feed entry is and how it reads as a broadcast; the URLs around feeds (a web page's feed
link, credentials kept out of logs). Pure: feedparser's output comes in as plain mappings."""

from __future__ import annotations

import calendar
import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3

from subcast.domain.newsletter.text import _fit, _squash, _valid_text
from subcast.domain.rendering.markdown import escape_markdown, url_problem

SUMMARY_BUDGET = 280
TITLE_BUDGET = 200


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed; ``summary_html`` is HTML (plain-text summaries arrive escaped)."""

    guid: str | None = None
    link: str | None = None
    title: str = ""
    summary_html: str = ""
    published: datetime | None = None
    image_url: str | None = None

    @classmethod
    def from_parsed(cls, values: Mapping[str, Any]) -> FeedEntry:
        """An entry from feedparser's mapping (``id``, ``link``, ``title``, ``summary``, ``content``,
        ``published_parsed``/``updated_parsed``, ``media_*``, ``enclosures``)."""
        title = str(values.get("title") or "")
        if _is_html(values.get("title_detail")):
            title = html_text(title)
        summary, detail = values.get("summary"), values.get("summary_detail")
        if not summary and values.get("content"):
            summary, detail = values["content"][0].get("value"), values["content"][0]
        summary = str(summary or "")
        return cls(
            guid=str(values.get("id") or "").strip() or None,
            link=_web_url(values.get("link")),
            title=title,
            summary_html=summary if _is_html(detail) else html.escape(summary),
            published=_moment(values.get("published_parsed") or values.get("updated_parsed")),
            image_url=_image(values),
        )


def _is_html(detail: object) -> bool:
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return "html" in str(kind)


def _moment(parsed: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _web_url(value: object) -> str | None:
    url = str(value or "").strip()
    return url if url and url_problem(url) is None else None


def _image(values: Mapping[str, Any]) -> str | None:
    candidates: list[object] = []
    for media in values.get("media_content") or []:
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/"):
            candidates.append(media.get("url"))
    candidates += [thumbnail.get("url") for thumbnail in values.get("media_thumbnail") or []]
    for enclosure in values.get("enclosures") or []:
        if str(enclosure.get("type", "")).startswith("image/"):
            candidates.append(enclosure.get("href") or enclosure.get("url"))
    return next((url for url in map(_web_url, candidates) if url), None)


def entry_key(entry: FeedEntry) -> str:
    """A stable identity: the entry's id (guid), else its link, else a hash of title and date."""
    if entry.guid:
        return entry.guid
    if entry.link:
        return entry.link
    published = entry.published.isoformat() if entry.published else ""
    return "sha256:" + hashlib.sha256(f"{entry.title}\n{published}".encode()).hexdigest()


def entry_digest(entry: FeedEntry) -> str:
    """``entry_key`` in a fixed, short form: what is remembered and what idempotency keys carry."""
    return hashlib.sha256(entry_key(entry).encode()).hexdigest()[:32]


class FeedPost(NamedTuple):
    text: str  # subcast's Markdown subset
    link: str | None
    image_url: str | None


def entry_to_broadcast(entry: FeedEntry) -> FeedPost | None:
    """The entry as a broadcast: **title**, a line break, the summary as plain text cut at a word
    within 280 characters; None when the entry has neither title nor summary."""
    title = _fit(_squash(entry.title), TITLE_BUDGET)
    summary = html_text(entry.summary_html)
    if summary.casefold() == title.casefold():  # many feeds repeat the title as the description
        summary = ""
    summary = _fit(summary, SUMMARY_BUDGET) if summary else ""
    parts = [f"**{escape_markdown(title)}**"] if title else []
    if summary:
        parts.append(escape_markdown(summary))
    if not parts:
        return None
    return FeedPost("\n".join(parts), entry.link, entry.image_url)


# Elements whose boundaries separate words ("<p>one</p><p>two</p>" reads "one two").
_BREAKS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "blockquote", "pre", "hr", "section"}
    | {"article", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "figcaption"}
)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(markup: str) -> str:
    """The text a reader sees in an HTML fragment: sanitised by nh3 (scripts and styles dropped with
    their content), tags gone, entities decoded, blanks squashed."""
    if not markup:
        return ""
    cleaned = nh3.clean(
        _valid_text(markup), tags=set(_BREAKS), attributes={}, clean_content_tags={"script", "style"}
    )
    collector = _TextCollector()
    collector.feed(cleaned)
    collector.close()
    return _squash("".join(collector.parts))


# ---------------------------------------------------------------------------- URLs
def redact_url(url: str) -> str:
    """``url`` without user name and password, for logs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(malformed URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class _FeedLinkFinder(HTMLParser):
    FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "").strip() for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif (
            tag == "link"
            and self.href is None
            and "alternate" in values.get("rel", "").lower().split()
            and values.get("type", "").lower().split(";")[0].strip() in self.FEED_TYPES
            and values.get("href")
        ):
            self.href = values["href"]


#: A page's <head> comes first; reading further only costs time.
_DISCOVERY_LIMIT = 512 * 1024


def discover_feed_url(page: str, page_url: str) -> str | None:
    """The RSS or Atom feed a web page names in ``<link rel="alternate" type=... href=...>``, as an
    absolute http(s) URL, or None."""
    finder = _FeedLinkFinder()
    finder.feed(page[:_DISCOVERY_LIMIT])
    if finder.href is None:
        return None
    found = urljoin(urljoin(page_url, finder.base or ""), finder.href)
    return found if url_problem(found) is None else None
