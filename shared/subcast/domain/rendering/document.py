"""The parsed broadcast text as a small document, and what every channel renderer shares.

Besides the document itself: the length Telegram counts, which URLs can be links, the text a
reader sees (plain text, with or without URLs), and the broadcast's link and image lines.
Text is normalised here the way Telegram would show it (see :mod:`.markdown`), so a URL added
by :func:`with_links` is normalised like the publisher's text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

#: Longer URLs are not made into links: a link has to fit a 1,600-character SMS with its text.
MAX_URL_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text; a ``\\n`` inside it is a line break."""

    text: str


@dataclass(frozen=True, slots=True)
class Bold:
    """Bold text: ``**...**`` or ``__...__``."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Italic:
    """Italic text: ``*...*`` or ``_..._``."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A link to an http(s) ``url`` shown as its children."""

    url: str
    children: tuple[Inline, ...]


Inline: TypeAlias = Text | Bold | Italic | Link
Wrapper: TypeAlias = Bold | Italic | Link


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A block of text; it holds line breaks but never a blank line."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A broadcast's text: paragraphs, shown with a blank line between them."""

    paragraphs: tuple[Paragraph, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message as a channel sends it.

    ``text`` is what goes into the provider's request (Telegram HTML, WhatsApp markup or plain
    text); ``plain_text`` is what the reader sees, without markup. For SMS, ``encoding``
    (``GSM-7`` or ``UCS-2``) and ``segments`` say how the message is billed.
    """

    text: str
    plain_text: str
    parse_mode: str | None = None
    encoding: str | None = None
    segments: int | None = None


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram (and most messengers) count it: an emoji is 2."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_BIDI_CONTROL = re.compile("[\u202a-\u202e]")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))
    return _BIDI_CONTROL.sub("", _CONTROL.sub(" ", _LINE_BREAK.sub("\n", text)))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link (http or https, with a host), or None when it can."""
    if not url:
        return "the URL is empty"
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in url):
        return "the URL contains spaces, control or invisible formatting characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return "the URL is malformed"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https URLs can be links"
    if not host:
        return "the URL has no host"
    return None


def _append(nodes: list[Inline], node: Inline) -> None:
    if isinstance(node, Text) and nodes and isinstance(nodes[-1], Text):
        nodes[-1] = Text(nodes[-1].text + node.text)
    elif not isinstance(node, Text) or node.text:
        nodes.append(node)


def plain_text(document: Document, *, show_urls: bool = False) -> str:
    """The text a reader sees. ``show_urls`` writes a link as ``text (url)``, for channels without links."""
    return "\n\n".join(_plain(paragraph.children, show_urls) for paragraph in document.paragraphs)


def inline_text(nodes: tuple[Inline, ...], *, show_urls: bool = False) -> str:
    """The text a reader sees of some inline nodes (see :func:`plain_text`)."""
    return _plain(nodes, show_urls)


def _plain(nodes: tuple[Inline, ...], show_urls: bool) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.text)
        elif isinstance(node, Link):
            text = _plain(node.children, show_urls)
            parts.append(f"{text} ({node.url})" if show_urls and text.strip() != node.url else text)
        else:
            parts.append(_plain(node.children, show_urls))
    return "".join(parts)


def with_links(document: Document, link: str | None = None, image_url: str | None = None) -> Document:
    """The document with the broadcast's link and image URL appended, each on its own line.

    They form one last paragraph of links whose text is the URL, so a split never cuts one.
    A URL that cannot be a link (see :func:`url_problem`) is appended as plain text.
    """
    lines: list[Inline] = []
    for url in (link, image_url):
        url = _normalise(url or "").strip()
        if url:
            if lines:
                lines.append(Text("\n"))
            lines.append(Link(url, (Text(url),)) if url_problem(url) is None else Text(url))
    if not lines:
        return document
    return Document((*document.paragraphs, Paragraph(tuple(lines))))
