"""Fetching a feed over HTTP (conditional GET, redirects, a web page's feed link) and reading it
with feedparser.

Every failure is a :class:`FetchFailed` or :class:`Unreadable` whose message is short, human and
safe to show the publisher: never the body, never credentials from the URL.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import socket
import time
import xml.sax
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import feedparser
import urllib3

from subcast.domain.feeds import FeedEntry, discover_feed_url

USER_AGENT = "subcast-feeds/1.0 (+https://github.com/subcast)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, "
    "text/html;q=0.5, */*;q=0.1"
)
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 5
_PERMANENT = frozenset({301, 308})
_TEMPORARY = frozenset({302, 303, 307})


class FetchFailed(Exception):
    """The feed could not be fetched; ``permanent`` when trying again cannot help (410 Gone)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Unreadable(Exception):
    """What came back is not an RSS or Atom feed."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200 (a document) or 304 (not modified since the ETag / Last-Modified sent)
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    url: str  # where the body came from
    feed_url: str  # the feed's URL from now on: moved permanently, or the feed a web page links to

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@cache
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(num_pools=50, maxsize=4)


class FeedFetcher:
    """GETs feeds, sharing one connection pool per process.

    ``allow_private_networks`` lets it reach loopback and private addresses (the local stack and
    tests); deployed, a feed URL must not be a way into the account's own network.
    """

    def __init__(
        self,
        http: urllib3.PoolManager | None = None,
        *,
        allow_private_networks: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._http = http or _pool()
        self._allow_private = allow_private_networks
        self._timeout = timeout
        self._max_bytes = max_bytes

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The feed at ``url``, asked conditionally; a web page is followed once to its feed."""
        fetched = self._get(url, etag, last_modified)
        if fetched.not_modified or not _looks_like_html(fetched):
            return fetched
        page = fetched.body.decode(_charset(fetched.content_type), errors="replace")
        feed_url = discover_feed_url(page, fetched.url)
        if feed_url is None:
            return fetched  # left to the parser, which says it is not a feed
        # The page's ETag says nothing about the feed: ask for it unconditionally.
        return self._get(feed_url, None, None)

    def _get(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        deadline = time.monotonic() + self._timeout
        origin = urlsplit(url).netloc
        current, stored = url, url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(current, origin, etag, last_modified, deadline)
            status = response.status
            if status in _PERMANENT or status in _TEMPORARY:
                location = response.headers.get("Location")
                _discard(response)
                if not location:
                    raise FetchFailed(f"HTTP {status} redirect without a Location")
                following = urljoin(current, location.strip())
                if stored == current and status in _PERMANENT:
                    stored = following  # moved for good, and nothing temporary before it
                current = following
                continue
            if status == 304:
                _discard(response)
                return Fetched(
                    304,
                    b"",
                    None,
                    response.headers.get("ETag") or etag,
                    response.headers.get("Last-Modified") or last_modified,
                    current,
                    stored,
                )
            if 200 <= status < 300:
                body = self._read(response, deadline)
                return Fetched(
                    200,
                    body,
                    response.headers.get("Content-Type"),
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                    current,
                    stored,
                )
            _discard(response)
            raise FetchFailed(_status_reason(status), permanent=status == 410)
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")

    def _request(
        self, url: str, origin: str, etag: str | None, last_modified: str | None, deadline: float
    ) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchFailed("the URL (or a redirect) does not lead to an http(s) address")
        if not self._allow_private:
            _check_public(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if parts.username is not None and parts.netloc == origin:
            # Credentials in the feed URL go to its own host only, never along a redirect.
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        bare = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
        remaining = max(0.1, deadline - time.monotonic())
        try:
            return self._http.request(
                "GET",
                bare,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=min(3.0, remaining), read=remaining),
            )
        except urllib3.exceptions.NameResolutionError:
            raise FetchFailed(f"the host {parts.hostname} was not found") from None
        except urllib3.exceptions.NewConnectionError:  # before timeouts: it is a ConnectTimeoutError
            raise FetchFailed(f"could not connect to {parts.hostname}") from None
        except (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError):
            raise FetchFailed(f"no answer within {self._timeout:g} seconds") from None
        except urllib3.exceptions.SSLError:
            raise FetchFailed("the TLS connection failed (certificate or protocol)") from None
        except urllib3.exceptions.HTTPError as error:
            raise FetchFailed(f"the connection failed ({type(error).__name__})") from None

    def _read(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > self._max_bytes:
                    raise FetchFailed(f"the feed is larger than {self._max_bytes // (1024 * 1024)} MiB")
                if time.monotonic() > deadline:
                    raise FetchFailed(f"no complete answer within {self._timeout:g} seconds")
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as error:
            _close(response)
            raise FetchFailed(f"reading the feed failed ({type(error).__name__})") from None
        except FetchFailed:
            _close(response)
            raise
        response.release_conn()
        return b"".join(chunks)


def _discard(response: urllib3.BaseHTTPResponse) -> None:
    """Done with an answer whose body does not matter: a short body is read so the connection
    can serve the next request; a long one closes the connection instead."""
    read = 0
    try:
        for chunk in response.stream(16 * 1024, decode_content=False):
            read += len(chunk)
            if read > 64 * 1024:
                _close(response)
                return
    except urllib3.exceptions.HTTPError:
        _close(response)
        return
    response.release_conn()


def _close(response: urllib3.BaseHTTPResponse) -> None:
    response.close()
    response.release_conn()


def _check_public(host: str, port: int) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        raise FetchFailed(f"the host {host} was not found") from None
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise FetchFailed(f"the host {host} is on a private or reserved network")


def _status_reason(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unexpected status"
    if status == 410:
        return "the feed is gone (HTTP 410 Gone)"
    return f"HTTP {status} {phrase}"


def _charset(content_type: str | None) -> str:
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
            try:
                "".encode(charset)
            except LookupError:
                break
            return charset
    return "utf-8"


def _looks_like_html(fetched: Fetched) -> bool:
    start = fetched.body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return False
    kind = (fetched.content_type or "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml") or start.startswith((b"<!doctype html", b"<html"))


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """The feed's title and entries; Unreadable when ``body`` is not RSS or Atom.

    A document with small errors (feedparser's ``bozo``) is still read when it has entries.
    """
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes: feedparser opens a bytes "document" that names a file as that file.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    entries = [FeedEntry.from_parsed(entry) for entry in parsed.entries]
    problem = parsed.get("bozo_exception")
    # An empty feed is a feed; an empty result of XML that did not parse, or of no feed format, is not.
    if not entries and (not parsed.get("version") or isinstance(problem, xml.sax.SAXException)):
        detail = getattr(problem, "getMessage", lambda: "")() if problem is not None else ""
        if detail:
            raise Unreadable(f"not an RSS or Atom feed ({str(detail)[:100]})")
        raise Unreadable("not an RSS or Atom feed (a web page without a feed link?)")
    title = str(parsed.feed.get("title") or "").strip()[:200] or None
    return ParsedFeed(title, entries)
