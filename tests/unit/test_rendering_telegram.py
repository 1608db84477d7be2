"""Telegram HTML rendering (``rendering.telegram``), checked by the Bot API fake's own HTML parser.

Every rendered part is fed through ``infra.fakes.telegram.text.formatted_text``, which parses
``parse_mode=HTML`` as Telegram does (tags, character references, trimming, the 4,096 UTF-16
limit): it must be accepted, read exactly as the renderer says the reader sees it, and carry
no more than 100 entities.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.fakes.telegram.entities import utf16_length
from infra.fakes.telegram.text import formatted_text
from subcast.domain.rendering.markdown import RenderedMessage, escape_markdown, parse, plain_text, with_links
from subcast.domain.rendering.telegram import (
    MAX_ENTITIES,
    MAX_MESSAGE_LENGTH,
    TelegramRenderer,
    render_telegram,
)

FRAGMENTS = [
    "**", "*", "__", "_", "***", "[", "]", "(", ")", "](", "\\", "\\*", "\n", "\n\n", " ", ". ", "word",
    "<b>", "</i>", "<a href='x'>", "&amp;", "&#60;", "&#x1F600;", "&lt", "&quot;", '"', "'", "😀", "👍🏽",
    "€", "\t", "\r\n", "\x00", "\u2028", "\u202e",
    "[link](https://example.org/a_b?x=1&y=\"2\"&z=<3>)", "[bad](javascript:alert(1))", "**[b](https://e.org)**",
]  # fmt: skip
markdown_text = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join),
)
urls = st.one_of(st.none(), st.sampled_from(["https://e.org/story?a=1&b=2", "https://e.org/i.png", "nope"]))


def sent(message: RenderedMessage) -> tuple[str, list[dict[str, Any]]]:
    """What Telegram makes of the message: the text the reader sees and its entities (raises if rejected)."""
    assert message.parse_mode == "HTML"
    return formatted_text(message.text, message.parse_mode)


def no_whitespace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_bold_italic_and_links_become_entities_at_utf16_offsets() -> None:
    # Given text with an emoji before the formatting
    # When it is rendered
    [message] = render_telegram("😀 **bold**, *it* and [a link](https://e.org/?a=1&b=2)")
    # Then Telegram reads the formatting at UTF-16 offsets (the emoji counts 2)
    text, entities = sent(message)
    assert text == "😀 bold, it and a link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "italic", "offset": 9, "length": 2},
        {"type": "text_link", "offset": 16, "length": 6, "url": "https://e.org/?a=1&b=2"},
    ]
    assert message.text == '😀 <b>bold</b>, <i>it</i> and <a href="https://e.org/?a=1&amp;b=2">a link</a>'


def test_a_publishers_html_and_character_references_show_literally() -> None:
    # Given a publisher typing HTML and references
    # When it is rendered and read by Telegram
    [message] = render_telegram('<b>&amp;</b> &#60; &lt <a href="x"> 1 < 2 > 0')
    # Then the reader sees exactly what was typed, with no formatting
    assert sent(message) == ('<b>&amp;</b> &#60; &lt <a href="x"> 1 < 2 > 0', [])


def test_quotes_ampersands_and_angle_brackets_in_a_url_survive_the_href() -> None:
    url = "https://e.org/q?a=\"1\"&b='2'&c=<3>&amp=&#60;"
    [message] = render_telegram(f"[x]({url})")
    assert sent(message)[1] == [{"type": "text_link", "offset": 0, "length": 1, "url": url}]


def test_link_and_image_url_are_link_lines_after_the_text() -> None:
    # Given a broadcast with a link and an image URL
    # When it is rendered
    [message] = render_telegram("News", link="https://e.org/story", image_url="https://e.org/i.png")
    # Then each is a line of its own after a blank line
    text, entities = sent(message)
    assert text == "News\n\nhttps://e.org/story\nhttps://e.org/i.png"
    assert [entity["url"] for entity in entities] == ["https://e.org/story", "https://e.org/i.png"]


@pytest.mark.parametrize("markdown", ["", "  \n\n ", "\t"])
def test_an_empty_broadcast_is_no_message(markdown: str) -> None:
    assert render_telegram(markdown) == []
    assert len(render_telegram(markdown, link="https://e.org")) == 1


def test_a_long_broadcast_is_split_at_paragraphs_into_accepted_messages() -> None:
    # Given three paragraphs of 2,000 characters each, the first with bold in it
    paragraphs = ["**" + "a" * 10 + "** " + "word " * 397, "b" * 1999 + ".", "c " * 1000]
    # When it is rendered
    messages = render_telegram("\n\n".join(paragraphs))
    # Then it becomes two messages, cut at the paragraph break, each accepted by Telegram
    assert [message.plain_text[:3] for message in messages] == ["aaa", "c c"]
    assert messages[0].plain_text.endswith("b.")
    for message in messages:
        text, _ = sent(message)
        assert text == message.plain_text and utf16_length(text) <= MAX_MESSAGE_LENGTH
    assert no_whitespace("".join(m.plain_text for m in messages)) == no_whitespace(
        plain_text(parse("\n\n".join(paragraphs)))
    )


def test_emoji_count_two_towards_the_limit() -> None:
    # Given 3,000 emoji (6,000 UTF-16 units) in words of ten
    markdown = " ".join(["😀" * 10] * 300)
    # When rendered
    messages = render_telegram(markdown)
    # Then the first message is full at 4,094 UTF-16 units, though only 2,144 characters long
    assert len(messages) == 2
    first, _ = sent(messages[0])
    assert (utf16_length(first), len(first)) == (4094, 2144)
    assert utf16_length(sent(messages[1])[0]) <= MAX_MESSAGE_LENGTH


def test_no_message_carries_more_than_100_entities() -> None:
    # Given 250 bold words: short text, too many entities for one message
    messages = render_telegram(" ".join(f"**w{i}**" for i in range(250)))
    # Then it is split so that each message has at most 100 entities
    counts = [len(sent(message)[1]) for message in messages]
    assert counts == [100, 100, 50]


def test_a_single_word_longer_than_a_message_is_hard_split() -> None:
    messages = render_telegram("x" * 10_000)
    assert [len(sent(message)[0]) for message in messages] == [4096, 4096, 1808]


def test_a_bold_run_longer_than_a_message_is_reopened_in_the_next() -> None:
    messages = render_telegram("**" + ("bold words " * 500).strip() + "**")
    assert len(messages) == 2
    for message in messages:
        text, entities = sent(message)
        assert entities == [{"type": "bold", "offset": 0, "length": utf16_length(text)}]


def test_the_renderer_is_the_telegram_channel_with_its_limits() -> None:
    renderer = TelegramRenderer()
    assert renderer.channel == "telegram"
    assert (renderer.max_length, renderer.max_entities) == (MAX_MESSAGE_LENGTH, MAX_ENTITIES)
    assert renderer.render("**hi**", link="https://e.org") == render_telegram("**hi**", "https://e.org")


def check_parts(
    markdown: str, link: str | None, image_url: str | None, max_length: int, max_entities: int
) -> None:
    messages = render_telegram(markdown, link, image_url, max_length=max_length, max_entities=max_entities)
    whole = plain_text(with_links(parse(markdown), link, image_url))
    for message in messages:
        text, entities = sent(message)  # accepted by Telegram's parser
        assert text == message.plain_text  # the reader sees what the renderer says
        assert 0 < utf16_length(text) <= max_length
        assert len(entities) <= max_entities
    assert no_whitespace("".join(message.plain_text for message in messages)) == no_whitespace(whole)


@given(markdown_text, urls, urls)
@settings(max_examples=300)
def test_any_text_renders_to_messages_telegram_accepts(
    markdown: str, link: str | None, image: str | None
) -> None:
    check_parts(markdown, link, image, MAX_MESSAGE_LENGTH, MAX_ENTITIES)


# One character may need 2 UTF-16 units (an emoji) and 3 entities (bold, italic, link): the smallest limits.
@given(markdown_text, urls, st.integers(min_value=2, max_value=60), st.integers(min_value=3, max_value=6))
@settings(max_examples=300)
def test_splits_under_small_limits_are_accepted_and_lose_nothing(
    markdown: str, link: str | None, max_length: int, max_entities: int
) -> None:
    # Small limits make every input split, often inside words, links and entities
    check_parts(markdown, link, None, max_length, max_entities)


@given(
    st.lists(st.sampled_from([*FRAGMENTS, "long " * 50, "😀" * 30]), min_size=1, max_size=20),
    st.integers(1, 60),
)
@settings(max_examples=40, deadline=None)
def test_long_broadcasts_split_into_accepted_messages(fragments: list[str], repeat: int) -> None:
    check_parts(
        "".join(fragments) * repeat, "https://e.org/l", "https://e.org/i.png", MAX_MESSAGE_LENGTH, 100
    )


@given(st.text())
def test_escaped_text_reaches_the_reader_literally(text: str) -> None:
    # Given any text a publisher wants shown as is (escaped for Markdown)
    messages = render_telegram(escape_markdown(text))
    # Then Telegram shows it without formatting and with every visible character
    shown = "".join(sent(message)[0] for message in messages)
    assert all(sent(message)[1] == [] for message in messages)
    assert no_whitespace(shown) == no_whitespace(plain_text(parse(escape_markdown(text))))
