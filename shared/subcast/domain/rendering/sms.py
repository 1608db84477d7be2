"""Broadcast text as SMS: plain text, and what it costs in segments.

An SMS has no formatting: bold and italic are dropped, a link is written ``text (url)`` (or
just the URL when that is its text), and the broadcast's link and image URL follow on their
own lines.

Encoding and segments (3GPP TS 23.038 / 23.040): a text made only of the GSM 7-bit default
alphabet and its extension table is sent as GSM-7, where each character is one septet and
each extension character (``^ { } \\ [ ~ ] | €`` and form feed) two, because it is preceded by
an escape. One GSM-7 SMS holds 160 septets; a longer text is sent as concatenated parts of
153 septets each (the rest carries the header that joins them), and an escape pair is never
split across parts. Any other character (an emoji, ``ç``, a curly quote) makes the whole text
UCS-2: 70 UTF-16 code units in a single SMS, 67 per part, and a surrogate pair (an emoji
outside the Basic Multilingual Plane) is never split across parts.

One message sent through the provider holds at most 1,600 characters (Twilio's limit; counted
here in UTF-16 units, never fewer than the provider counts); a longer broadcast is split into
several messages by the same policy as Telegram's (paragraph, line, sentence, space; never
inside a link), and each message says its encoding and segments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from subcast.domain.subscriber import Channel

from .markdown import Document, RenderedMessage
from .splitting import plain_parts

MAX_MESSAGE_LENGTH = 1600

GSM7 = "GSM-7"
UCS2 = "UCS-2"
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}  # units in a single SMS, units per concatenated part


@dataclass(frozen=True, slots=True)
class SmsSegments:
    """How one SMS text is billed."""

    encoding: str  # GSM-7 or UCS-2
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int  # 0 for an empty text


def sms_encoding(text: str) -> str:
    """GSM-7 when every character is in the GSM 7-bit alphabet (or its extension), else UCS-2."""
    return GSM7 if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text) else UCS2


def count_segments(text: str) -> SmsSegments:
    """The encoding, length in that encoding's units, and number of SMS segments of ``text``."""
    encoding = sms_encoding(text)
    if encoding == GSM7:
        costs = [2 if char in GSM7_EXTENSION else 1 for char in text]
    else:
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    single, per_part = _LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SmsSegments(encoding, units, 1 if units else 0)
    segments, used = 1, 0
    for cost in costs:  # a character that does not fit whole starts the next part
        if used + cost > per_part:
            segments, used = segments + 1, 0
        used += cost
    return SmsSegments(encoding, units, segments)


def render_sms(
    content: Document | str,
    link: str | None = None,
    image_url: str | None = None,
    *,
    max_length: int = MAX_MESSAGE_LENGTH,
) -> list[RenderedMessage]:
    """The broadcast as SMS bodies, each with its encoding and segment count."""
    messages = []
    for text in plain_parts(content, link, image_url, max_length):
        segments = count_segments(text)
        messages.append(RenderedMessage(text, text, encoding=segments.encoding, segments=segments.segments))
    return messages


def total_segments(messages: Iterable[RenderedMessage]) -> int:
    """The SMS segments billed for sending ``messages`` to one recipient."""
    return sum(message.segments or 0 for message in messages)


@dataclass(frozen=True)
class SmsRenderer:
    """SMS bodies with their encoding and segment count."""

    channel: ClassVar[Channel] = Channel.SMS
    max_length: int = MAX_MESSAGE_LENGTH

    def render(
        self, content: Document | str, link: str | None = None, image_url: str | None = None
    ) -> list[RenderedMessage]:
        return render_sms(content, link, image_url, max_length=self.max_length)
