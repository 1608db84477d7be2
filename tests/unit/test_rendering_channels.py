"""Rendering for SMS, WhatsApp and Messenger, and the one interface every channel is rendered through."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subcast.domain.rendering import RenderedMessage, Renderer, renderer_for
from subcast.domain.rendering.markdown import Bold, Document, Paragraph, Text, parse, plain_text, utf16_length
from subcast.domain.rendering.messenger import render_messenger
from subcast.domain.rendering.sms import GSM7, UCS2, SmsSegments, count_segments, render_sms, total_segments
from subcast.domain.rendering.whatsapp import render_whatsapp, to_whatsapp
from subcast.domain.subscriber import Channel

FRAGMENTS = [
    "**", "*", "__", "_", "***", "[", "]", "(", ")", "\\", "\\*", "\n", "\n\n", " ", ". ", "word", "<b>",
    "&amp;", "😀", "👍🏽", "€", "é", "ç", "{x}", "\t", "\r\n",
]  # fmt: skip
LINKS = ["[link](https://example.org/a_b?x=1)", "[](https://example.org)", "**[b](https://e.org)**"]
#: Text without links: its parts must hold every visible character, in order.
linkless_markdown = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join),
)
markdown_text = st.lists(st.sampled_from(FRAGMENTS + LINKS), max_size=40).map("".join)
PLAIN_RENDERERS = {"sms": render_sms, "whatsapp": render_whatsapp, "messenger": render_messenger}


def no_whitespace(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- SMS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, SmsSegments(GSM7, 160, 1)),
        ("a" * 161, SmsSegments(GSM7, 161, 2)),
        ("a" * 306, SmsSegments(GSM7, 306, 2)),
        ("a" * 307, SmsSegments(GSM7, 307, 3)),
        ("€" * 80, SmsSegments(GSM7, 160, 1)),  # an extension character is two septets
        ("€" * 81, SmsSegments(GSM7, 162, 2)),
        ("{[x]}^~|\\", SmsSegments(GSM7, 17, 1)),  # eight extension characters and an x
        ("a" * 152 + "€" + "a" * 152, SmsSegments(GSM7, 306, 3)),  # the escape pair is not split
        ("Grüße aus Köln: 5 £, 3 ¥ @ Ñ §1 ¿sì? ¡Å! Ø æ É Δ", SmsSegments(GSM7, 48, 1)),
        ("ж" * 70, SmsSegments(UCS2, 70, 1)),
        ("ж" * 71, SmsSegments(UCS2, 71, 2)),
        ("a" * 68 + "😀", SmsSegments(UCS2, 70, 1)),  # one emoji makes it UCS-2, and counts 2
        ("a" * 69 + "😀", SmsSegments(UCS2, 71, 2)),
        ("ж" * 134, SmsSegments(UCS2, 134, 2)),
        ("ж" * 66 + "😀" + "ж" * 66, SmsSegments(UCS2, 134, 3)),  # a surrogate pair is not split
        ("ç", SmsSegments(UCS2, 1, 1)),  # only the capital Ç is in the GSM alphabet
        ("Ç", SmsSegments(GSM7, 1, 1)),
        ("“curly”", SmsSegments(UCS2, 7, 1)),
        ("", SmsSegments(GSM7, 0, 0)),
    ],
)
def test_sms_encoding_and_segments(text: str, expected: SmsSegments) -> None:
    assert count_segments(text) == expected


def test_an_sms_is_plain_text_with_links_written_out() -> None:
    # Given a broadcast with formatting, a link and an image URL
    # When it is rendered for SMS
    [message] = render_sms(
        "**Sale**: 20% off at [our shop](https://e.org/s)", image_url="https://e.org/i.png"
    )
    # Then formatting is dropped and every URL is written out
    assert message.text == "Sale: 20% off at our shop (https://e.org/s)\n\nhttps://e.org/i.png"
    assert message.plain_text == message.text and message.parse_mode is None
    assert (message.encoding, message.segments) == (GSM7, 1)


def test_a_long_sms_is_split_into_messages_with_their_segments() -> None:
    # Given 107 sentences of 27 characters and a final emoji
    markdown = "Lorem ipsum dolor sit amet. " * 107 + "😀"
    # When rendered for SMS
    messages = render_sms(markdown)
    # Then the first message holds the 57 sentences that fit 1,600 characters: 1,595 GSM-7 septets
    assert len(messages[0].text) == 57 * 28 - 1
    # And the second the other 50 and the emoji: 1,400 + 2 UTF-16 units of UCS-2
    assert utf16_length(messages[1].text) == 50 * 28 + 2
    assert [(message.encoding, message.segments) for message in messages] == [(GSM7, 11), (UCS2, 21)]
    assert total_segments(messages) == 32


# -- WhatsApp ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "formatted"),
    [
        ("**bold** and *italic* and ***both***", "*bold* and _italic_ and *_both_*"),
        ("**one\ntwo**", "*one*\n*two*"),  # WhatsApp does not format across a line break
        ("[the story](https://e.org/s) here", "the story (https://e.org/s) here"),
        ("[](https://e.org/s)", "https://e.org/s"),
        ("**[the story](https://e.org/s)**", "*the story (https://e.org/s)*"),
        ("<b>&amp;</b>", "<b>&amp;</b>"),
    ],
)
def test_whatsapp_formatting(markdown: str, formatted: str) -> None:
    [message] = render_whatsapp(markdown)
    assert message.text == formatted


def test_whatsapp_markers_touch_the_text() -> None:
    # Given bold around padded text (as a split part or a built document may have)
    doc = Document((Paragraph((Text("a"), Bold((Text(" padded "),)), Text("b"))),))
    # Then the whitespace stays outside the markers, where WhatsApp needs it
    assert to_whatsapp(doc) == "a *padded* b"


def test_whatsapp_counts_its_markers_towards_the_limit() -> None:
    # Given 1,500 bold words: 5,999 characters of text, 8,999 with markers
    messages = render_whatsapp(" ".join(["**abc**"] * 1500))
    # Then it takes three messages, not two: each fits 4,096 with its markers
    assert len(messages) == 3
    assert all(utf16_length(message.text) <= 4096 for message in messages)
    assert messages[0].text.startswith("*abc* *abc*")


# -- Messenger -----------------------------------------------------------------------------


def test_messenger_is_plain_text_split_at_2000() -> None:
    [short] = render_messenger("**Hi** [there](https://e.org)", link="https://e.org/more")
    assert short.text == "Hi there (https://e.org)\n\nhttps://e.org/more"
    messages = render_messenger("One sentence here. " * 250)
    assert len(messages) == 3 and all(len(message.text) <= 2000 for message in messages)
    assert all(message.text.endswith(".") for message in messages)


# -- every channel ---------------------------------------------------------------------------


@pytest.mark.parametrize("channel", list(Channel))
def test_each_channel_has_a_renderer(channel: Channel) -> None:
    # Given the renderer for a channel
    renderer: Renderer = renderer_for(channel)
    # When it renders a broadcast
    messages = renderer.render("**Hello** world", link="https://e.org")
    # Then it is that channel's renderer, and an empty broadcast is no message
    assert renderer.channel == channel
    assert len(messages) == 1 and isinstance(messages[0], RenderedMessage)
    assert messages[0].parse_mode == ("HTML" if channel is Channel.TELEGRAM else None)
    assert (messages[0].segments is not None) == (channel is Channel.SMS)
    assert renderer.render("  \n ") == []


@given(
    st.sampled_from(sorted(PLAIN_RENDERERS)), st.one_of(markdown_text, linkless_markdown), st.integers(8, 80)
)
@settings(max_examples=300)
def test_every_part_fits_its_limit(channel: str, markdown: str, max_length: int) -> None:
    # A link line must fit with at least one character of its text: 8 units hold "x (url)" for no URL,
    # so links get a limit above their URL's length
    limit = max_length + (40 if "](" in markdown else 0)
    for message in PLAIN_RENDERERS[channel](markdown, max_length=limit):
        assert 0 < utf16_length(message.text) <= limit
        assert message.text == message.text.strip()


@given(st.sampled_from(sorted(PLAIN_RENDERERS)), linkless_markdown, st.integers(2, 80))
@settings(max_examples=300)
def test_parts_hold_every_visible_character(channel: str, markdown: str, max_length: int) -> None:
    messages = PLAIN_RENDERERS[channel](markdown, max_length=max_length)
    shown = "".join(message.plain_text for message in messages)
    assert no_whitespace(shown) == no_whitespace(plain_text(parse(markdown)))


@given(linkless_markdown)
def test_sms_segments_match_the_text(markdown: str) -> None:
    for message in render_sms(markdown, max_length=200):
        assert message.segments == count_segments(message.text).segments
        assert message.encoding == count_segments(message.text).encoding
