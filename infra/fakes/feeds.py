"""A web server with feeds on it, for tests and the local sandbox (standard library only).

``serving_feeds()`` starts it on loopback and yields a :class:`FeedSite`: put RSS 2.0 or Atom
documents at paths (``rss``, ``atom``), web pages that link to a feed (``page``), redirects
(``redirect``), failures (``fail``) and garbage (``garbage``); read ``requests`` to see what
clients sent. Documents carry a real ``ETag`` and ``Last-Modified`` and a conditional GET that
matches is answered ``304 Not Modified``, the way a well-behaved web server does.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class Item:
    """One entry: ``guid`` None leaves the id out (readers then fall back to the link)."""

    title: str
    link: str
    guid: str | None = None
    summary: str = ""  # HTML
    published: datetime | None = None
    image_url: str | None = None


def item(number: int, *, base: str = "https://news.example", day: int = 1) -> Item:
    """A numbered entry; higher numbers are published later."""
    return Item(
        title=f"Story {number}",
        link=f"{base}/stories/{number}",
        guid=f"urn:story:{number}",
        summary=f"<p>What happened in story <b>{number}</b>.</p>",
        published=datetime(2026, 11, day, 8, tzinfo=UTC) + timedelta(hours=number),
    )


def rss_document(items: Sequence[Item], title: str = "Example News") -> bytes:
    """An RSS 2.0 document, newest item first as feeds list them."""
    entries = []
    for entry in items:
        parts = [f"<title>{escape(entry.title)}</title>", f"<link>{escape(entry.link)}</link>"]
        if entry.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        if entry.published is not None:
            parts.append(f"<pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>")
        if entry.summary:
            parts.append(f"<description>{escape(entry.summary)}</description>")
        if entry.image_url:
            parts.append(f'<enclosure url={quoteattr(entry.image_url)} type="image/jpeg" length="1"/>')
        entries.append(f"<item>{''.join(parts)}</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example/</link><description>news</description>"
        f"{''.join(entries)}</channel></rss>"
    ).encode()


def atom_document(items: Sequence[Item], title: str = "Example News") -> bytes:
    """An Atom 1.0 document, newest entry first."""
    entries = []
    for entry in items:
        moment = (entry.published or datetime(2026, 11, 1, tzinfo=UTC)).isoformat()
        parts = [
            f"<title>{escape(entry.title)}</title>",
            f'<link rel="alternate" href={quoteattr(entry.link)}/>',
            f"<id>{escape(entry.guid or entry.link)}</id>",
            f"<updated>{moment}</updated>",
        ]
        if entry.summary:
            parts.append(f'<summary type="html">{escape(entry.summary)}</summary>')
        entries.append(f"<entry>{''.join(parts)}</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:example:news</id><updated>2026-11-01T00:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    path: str
    headers: dict[str, str]  # names lower-case
    status: int  # what it was answered


@dataclass
class _Resource:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False


class FeedSite:
    """What the fake server serves, path by path; safe to change while it serves."""

    def __init__(self) -> None:
        self.base_url = ""
        self._resources: dict[str, _Resource] = {}
        self._requests: list[Seen] = []
        self._lock = threading.Lock()
        self._clock = datetime(2026, 11, 1, tzinfo=UTC)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # ----------------------------------------------------------- set-up
    def document(
        self, path: str, body: bytes, content_type: str, *, conditional: bool = True, etag: bool = True
    ) -> None:
        """Serve ``body``; with ``conditional`` a fresh ETag (if ``etag``) and Last-Modified come
        with it, and a matching If-None-Match / If-Modified-Since gets 304."""
        headers: dict[str, str] = {}
        if conditional:
            with self._lock:
                self._clock += timedelta(minutes=1)  # each version is newer than the one before
                moment = self._clock
            if etag:
                headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            headers["Last-Modified"] = format_datetime(moment, usegmt=True)
        self._put(path, _Resource(200, body, content_type, headers, conditional))

    def rss(self, path: str, items: Sequence[Item], **options: Any) -> None:
        self.document(path, rss_document(items), "application/rss+xml; charset=utf-8", **options)

    def atom(self, path: str, items: Sequence[Item], **options: Any) -> None:
        self.document(path, atom_document(items), "application/atom+xml; charset=utf-8", **options)

    def page(self, path: str, feed_href: str, feed_type: str = "application/rss+xml") -> None:
        """A blog's HTML page naming its feed in ``<link rel="alternate">``."""
        html = (
            "<!DOCTYPE html><html><head><title>Example blog</title>"
            f'<link rel="alternate" type="{feed_type}" title="Feed" href="{feed_href}">'
            "</head><body><h1>Example blog</h1><p>Posts.</p></body></html>"
        )
        self.document(path, html.encode(), "text/html; charset=utf-8", conditional=False)

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self._put(path, _Resource(status, b"", "text/plain", {"Location": to}))

    def fail(self, path: str, status: int = 500) -> None:
        self._put(path, _Resource(status, b"<html><body>Internal error</body></html>", "text/html"))

    def garbage(self, path: str) -> None:
        """Bytes that are neither XML nor HTML, served as if they were a feed."""
        self._put(path, _Resource(200, b"\x00\x9f<<<not a feed>>> ]]> &&&\xff", "application/rss+xml"))

    def _put(self, path: str, resource: _Resource) -> None:
        with self._lock:
            self._resources[path] = resource

    # ----------------------------------------------------------- inspection
    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == path]

    # ----------------------------------------------------------- serving
    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            resource = self._resources.get(path)
        if resource is None:
            status, extra, body = 404, {"Content-Type": "text/plain"}, b"not found"
        elif resource.status == 200 and resource.conditional and _unchanged(resource.headers, headers):
            status, extra, body = 304, dict(resource.headers), b""
        else:
            status, body = resource.status, resource.body
            extra = {"Content-Type": resource.content_type, **resource.headers}
        with self._lock:
            self._requests.append(Seen(path, headers, status))
        return status, extra, body


def _unchanged(served: dict[str, str], asked: dict[str, str]) -> bool:
    """RFC 9110: If-None-Match decides when sent; otherwise If-Modified-Since."""
    if "if-none-match" in asked:
        etag = served.get("ETag")
        tags = [tag.strip().removeprefix("W/") for tag in asked["if-none-match"].split(",")]
        return etag is not None and ("*" in tags or etag.removeprefix("W/") in tags)
    if "if-modified-since" in asked and "Last-Modified" in served:
        try:
            return parsedate_to_datetime(served["Last-Modified"]) <= parsedate_to_datetime(
                asked["if-modified-since"]
            )
        except (TypeError, ValueError):
            return False
    return False


class _Handler(BaseHTTPRequestHandler):
    site: FeedSite
    protocol_version = "HTTP/1.1"
    server_version = "FakeFeeds/1.0"

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, body = self.site.answer(self.path.split("?", 1)[0], headers)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the site, not the log
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def serving_feeds(host: str = "127.0.0.1") -> Iterator[FeedSite]:
    """A :class:`FeedSite` served from a daemon thread on ``host``; its ``base_url`` set."""
    site = FeedSite()
    server = _Server((host, 0), type("FeedSiteHandler", (_Handler,), {"site": site}))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-feeds", daemon=True
    )
    thread.start()
    site.base_url = f"http://{host}:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
