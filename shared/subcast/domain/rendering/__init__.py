"""Broadcast text rendered for each channel behind one interface.

Publishers write a small Markdown subset (see :mod:`.markdown`); each channel turns the parsed
document, plus the broadcast's optional link and image URL, into the messages it sends:

* Telegram: HTML (``parse_mode="HTML"``), 4,096 UTF-16 units and 100 entities per message;
* WhatsApp: ``*bold*``/``_italic_`` text, 4,096 characters per message;
* SMS: plain text, at most 1,600 characters per message, with GSM-7/UCS-2 segment counts;
* Messenger: plain text, 2,000 characters per message.

A broadcast too long for one message is split into several by one policy (documented in
:mod:`.telegram`). Rendering is pure and never raises on any text; an empty text with no
link renders to no message at all.
"""

from __future__ import annotations

from typing import Protocol, assert_never

from subcast.domain.subscriber import Channel

from .markdown import (
    Bold,
    Document,
    Inline,
    Italic,
    Link,
    Paragraph,
    RenderedMessage,
    Text,
    escape_markdown,
    parse,
    plain_text,
    url_problem,
    validate,
)
from .messenger import MessengerRenderer
from .sms import SmsRenderer, SmsSegments, count_segments, total_segments
from .telegram import TelegramRenderer
from .whatsapp import WhatsAppRenderer


class Renderer(Protocol):
    """Turns a broadcast into the messages one channel sends, in order."""

    @property
    def channel(self) -> Channel: ...

    def render(
        self, content: Document | str, link: str | None = None, image_url: str | None = None
    ) -> list[RenderedMessage]:
        """``content`` is the publisher's Markdown text or a parsed document."""
        ...


def renderer_for(channel: Channel) -> Renderer:
    """The renderer for ``channel``, with that channel's limits."""
    match channel:
        case Channel.TELEGRAM:
            return TelegramRenderer()
        case Channel.WHATSAPP:
            return WhatsAppRenderer()
        case Channel.SMS:
            return SmsRenderer()
        case Channel.MESSENGER:
            return MessengerRenderer()
        case _:
            assert_never(channel)


__all__ = [
    "Bold",
    "Document",
    "Inline",
    "Italic",
    "Link",
    "MessengerRenderer",
    "Paragraph",
    "RenderedMessage",
    "Renderer",
    "SmsRenderer",
    "SmsSegments",
    "TelegramRenderer",
    "Text",
    "WhatsAppRenderer",
    "count_segments",
    "escape_markdown",
    "parse",
    "plain_text",
    "renderer_for",
    "total_segments",
    "url_problem",
    "validate",
]
