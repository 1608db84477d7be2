"""Broadcast text for Facebook Messenger: plain text, at most 2,000 characters per message.

The Send API's text messages have no formatting, so bold and italic are dropped and a link is
written ``text (url)`` (or just the URL when that is its text); the broadcast's link and image
URL follow on their own lines. Length is counted in UTF-16 code units, never fewer than Meta
counts. A longer broadcast is split by the same policy as Telegram's (paragraph, line,
sentence, space; never inside a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from subcast.domain.subscriber import Channel

from .markdown import Document, RenderedMessage
from .splitting import plain_parts

MAX_MESSAGE_LENGTH = 2000


def render_messenger(
    content: Document | str,
    link: str | None = None,
    image_url: str | None = None,
    *,
    max_length: int = MAX_MESSAGE_LENGTH,
) -> list[RenderedMessage]:
    """The broadcast as Messenger text messages."""
    return [RenderedMessage(text, text) for text in plain_parts(content, link, image_url, max_length)]


@dataclass(frozen=True)
class MessengerRenderer:
    """Messenger text messages."""

    channel: ClassVar[Channel] = Channel.MESSENGER
    max_length: int = MAX_MESSAGE_LENGTH

    def render(
        self, content: Document | str, link: str | None = None, image_url: str | None = None
    ) -> list[RenderedMessage]:
        return render_messenger(content, link, image_url, max_length=self.max_length)
