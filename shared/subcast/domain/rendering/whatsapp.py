"""Broadcast text as WhatsApp text messages: ``*bold*``, ``_italic_``, links as plain URLs.

WhatsApp formats ``*text*`` bold and ``_text_`` italic when the markers touch the text, and
not across a line break, so a bold or italic run is marked line by line with its surrounding
whitespace kept outside the markers. A link is written ``text (url)`` (or just the URL when
that is its text); WhatsApp makes the URL clickable and may preview the first one. The
broadcast's link and image URL follow on their own lines.

WhatsApp has no escape syntax: a publisher's literal ``*word*`` (typed as ``\\*word\\*``) may
still show bold there. A message body holds at most 4,096 characters, counted here in UTF-16
code units with the markers; a longer broadcast is split by the same policy as Telegram's
(paragraph, line, sentence, space; never inside an entity or a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from subcast.domain.subscriber import Channel

from .markdown import (
    Bold,
    Document,
    Inline,
    Italic,
    RenderedMessage,
    Text,
    as_document,
    inline_text,
    plain_text,
    split_document,
    utf16_length,
    with_links,
)

MAX_MESSAGE_LENGTH = 4096


def to_whatsapp(document: Document) -> str:
    """The document in WhatsApp's formatting, without checking any limit."""
    return "\n\n".join(_formatted(paragraph.children) for paragraph in document.paragraphs)


def render_whatsapp(
    content: Document | str,
    link: str | None = None,
    image_url: str | None = None,
    *,
    max_length: int = MAX_MESSAGE_LENGTH,
) -> list[RenderedMessage]:
    """The broadcast as WhatsApp text message bodies."""

    def fits(part: Document) -> bool:
        return utf16_length(to_whatsapp(part)) <= max_length

    parts = split_document(with_links(as_document(content), link, image_url), fits)
    return [RenderedMessage(to_whatsapp(part), plain_text(part, show_urls=True)) for part in parts]


@dataclass(frozen=True)
class WhatsAppRenderer:
    """WhatsApp text message bodies."""

    channel: ClassVar[Channel] = Channel.WHATSAPP
    max_length: int = MAX_MESSAGE_LENGTH

    def render(
        self, content: Document | str, link: str | None = None, image_url: str | None = None
    ) -> list[RenderedMessage]:
        return render_whatsapp(content, link, image_url, max_length=self.max_length)


def _formatted(nodes: tuple[Inline, ...]) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.text)
        elif isinstance(node, Bold):
            parts.append(_marked(_formatted(node.children), "*"))
        elif isinstance(node, Italic):
            parts.append(_marked(_formatted(node.children), "_"))
        else:  # a link
            text = _formatted(node.children)
            parts.append(text if inline_text(node.children).strip() == node.url else f"{text} ({node.url})")
    return "".join(parts)


def _marked(text: str, marker: str) -> str:
    lines = []
    for line in text.split("\n"):
        core = line.strip()
        if core:
            lead, trail = line[: len(line) - len(line.lstrip())], line[len(line.rstrip()) :]
            line = f"{lead}{marker}{core}{marker}{trail}"
        lines.append(line)
    return "\n".join(lines)
