"""Broadcast text as Telegram Bot API messages with ``parse_mode="HTML"``.

Markup: bold is ``<b>``, italic ``<i>``, a link ``<a href="...">``. In text, ``&``, ``<`` and
``>`` are written ``&amp;`` ``&lt;`` ``&gt;``; in the ``href`` value ``"`` is also written
``&quot;`` (Telegram decodes character references inside attribute values too, so a literal
``&`` in a URL must be ``&amp;``). A publisher's own ``<b>`` or ``&amp;`` is therefore shown
exactly as typed.

Limits: a message holds at most 4,096 UTF-16 code units of text *after* the markup is parsed
(an emoji counts 2, the URL of an ``<a>`` does not count) and at most 100 entities (each
``<b>``, ``<i>`` or ``<a>`` is one). Telegram trims whitespace around a message, so parts are
rendered without it.

Split policy: a broadcast that does not fit one message becomes several. Each part is the
longest that fits, cut at the best place within it: outside every entity (a bold or italic
run is closed at the end of one part and reopened in the next only when it alone is longer
than a message, and a link is cut only when its text alone is); at whitespace rather than
inside a word; preferring a cut in the second half of the part, then a paragraph break, then
a line break, then a sentence end, then any space, the latest one. A single word longer than
a message is hard-split, outside entities where possible and not inside an emoji sequence or
before a combining mark. The whitespace at each cut is dropped. See
:func:`subcast.domain.rendering.markdown.split_document`.

The broadcast's link and image URL are appended as a last paragraph, one link line each,
kept together with the end of the text. Sending the image as a photo (``sendPhoto``, caption
at most 1,024 UTF-16 units) or as the link preview (``link_preview_options.url``) is the
sender's choice; the renderer only makes sure the URL is in the message.
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
    plain_text,
    split_document,
    utf16_length,
    with_links,
)

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units of the parsed text
MAX_ENTITIES = 100
PARSE_MODE = "HTML"


def to_html(document: Document) -> str:
    """The document in Telegram's HTML style, without checking any limit."""
    return "\n\n".join(_html(paragraph.children) for paragraph in document.paragraphs)


def entity_count(document: Document) -> int:
    """How many formatting entities Telegram makes of the document's HTML."""
    return sum(_entities(paragraph.children) for paragraph in document.paragraphs)


def render_telegram(
    content: Document | str,
    link: str | None = None,
    image_url: str | None = None,
    *,
    max_length: int = MAX_MESSAGE_LENGTH,
    max_entities: int = MAX_ENTITIES,
) -> list[RenderedMessage]:
    """The broadcast as ``sendMessage`` texts, split by the module's policy (empty if there is no text)."""

    def fits(part: Document) -> bool:
        return utf16_length(plain_text(part)) <= max_length and entity_count(part) <= max_entities

    document = with_links(as_document(content), link, image_url)
    return [
        RenderedMessage(text=to_html(part), plain_text=plain_text(part), parse_mode=PARSE_MODE)
        for part in split_document(document, fits)
    ]


@dataclass(frozen=True)
class TelegramRenderer:
    """Telegram messages (HTML); the limits are Telegram's unless a test narrows them."""

    channel: ClassVar[Channel] = Channel.TELEGRAM
    max_length: int = MAX_MESSAGE_LENGTH
    max_entities: int = MAX_ENTITIES

    def render(
        self, content: Document | str, link: str | None = None, image_url: str | None = None
    ) -> list[RenderedMessage]:
        return render_telegram(
            content, link, image_url, max_length=self.max_length, max_entities=self.max_entities
        )


def _html(nodes: tuple[Inline, ...]) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(_escape(node.text))
        elif isinstance(node, Bold):
            parts.append(f"<b>{_html(node.children)}</b>")
        elif isinstance(node, Italic):
            parts.append(f"<i>{_html(node.children)}</i>")
        else:  # a link
            parts.append(f'<a href="{_escape(node.url, quote=True)}">{_html(node.children)}</a>')
    return "".join(parts)


def _escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _entities(nodes: tuple[Inline, ...]) -> int:
    return sum(0 if isinstance(node, Text) else 1 + _entities(node.children) for node in nodes)
