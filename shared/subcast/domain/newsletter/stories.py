"""An issue assembled into snippets: either reader's blocks, cleaned, become stories (one per
heading), and each story a snippet with a teaser within its budget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from subcast.domain.rendering.markdown import escape_markdown

from .blocks import Kind, _Block, _clean_blocks
from .html_reader import _html_blocks
from .markdown_reader import _markdown_blocks
from .text import HEADLINE_LIMIT, MIN_TEASER_BUDGET, _fit, _meaningful, _valid_text

Format = Literal["html", "markdown"]


class Snippet(BaseModel):
    """One story of an issue, ready to become a draft broadcast (the link travels separately)."""

    model_config = ConfigDict(frozen=True)

    headline: str
    teaser: str
    link: str | None = None
    image_url: str | None = None


def split_newsletter(
    content: str, format: Format, *, teaser_budget: int = 280, max_snippets: int = 30
) -> list[Snippet]:
    """The stories of one issue, in order, at most ``max_snippets`` of them.

    A story starts at a heading (h1-h4, ``#`` to ``####``, or a paragraph whose first line is all
    bold); its teaser is the text that follows, cut to ``teaser_budget`` UTF-16 code units (what
    Telegram counts, never fewer than Python characters) at a sentence or word end. Its link is
    the headline's link, else a "read more" link, else the first link of the story. Never raises
    on any content; only a budget below ``MIN_TEASER_BUDGET`` or a negative ``max_snippets`` is
    refused, being the caller's mistake.
    """
    if teaser_budget < MIN_TEASER_BUDGET:
        raise ValueError(f"teaser_budget must be at least {MIN_TEASER_BUDGET}")
    if max_snippets < 0:
        raise ValueError("max_snippets must not be negative")
    if format not in ("html", "markdown"):
        raise ValueError("format is 'html' or 'markdown'")
    text = _valid_text(content)
    raw = _html_blocks(text) if format == "html" else _markdown_blocks(text)
    snippets: list[Snippet] = []
    for story in _stories(_clean_blocks(raw)):
        if len(snippets) >= max_snippets:
            break
        snippet = _snippet(story, teaser_budget)
        if snippet is not None and snippet not in snippets:
            snippets.append(snippet)
    return snippets


def to_markdown(snippet: Snippet) -> str:
    """The broadcast text in subcast's Markdown subset: **headline**, a line break, the teaser.

    Markup characters in the text are backslash-escaped, so a headline like ``2*3`` stays text.
    The link is not repeated here: it goes out as the broadcast's link.
    """
    parts = [f"**{escape_markdown(snippet.headline)}**"] if snippet.headline else []
    if snippet.teaser:
        parts.append(escape_markdown(snippet.teaser))
    return "\n".join(parts)


@dataclass
class _Story:
    headline: str = ""
    headline_links: list[str] = field(default_factory=list)
    parts: list[tuple[Kind, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    read_more: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    def take(self, block: _Block) -> None:
        if block.text:
            self.parts.append((block.kind, block.text))
        self.links += block.links
        self.read_more += block.read_more
        self.images += block.images


def _stories(blocks: Iterable[_Block]) -> Iterator[_Story]:
    """A story per heading; a subtitle right under a headline is part of that story.

    Picture-only blocks right before a heading belong to it, as email cards put the picture
    above the headline; before any text of the issue they are the masthead, and dropped, unless
    they link where the headline links.
    """
    story = _Story()
    waiting: list[_Block] = []
    for block in blocks:
        if block.kind == "heading" and not (block.subtitle and story.headline and not story.parts):
            if not story.headline and not story.parts:  # the masthead, unless linked like the headline
                waiting = [held for held in waiting if set(held.links) & set(block.links)]
            yield story
            story = _Story(block.text, block.links)
            waiting.append(_Block("paragraph", "", images=block.images))
        elif block.kind != "heading" and not block.text and not block.read_more and block.images:
            waiting.append(block)
            continue
        else:
            waiting.append(block)
        for held in waiting:
            story.take(held)
        waiting = []
    for held in waiting:
        story.take(held)
    yield story


def _snippet(story: _Story, budget: int) -> Snippet | None:
    pieces: list[str] = []
    for number, (kind, text) in enumerate(story.parts):
        if number:  # lines of a list or table stay together; paragraphs get a blank line
            pieces.append("\n" if kind == story.parts[number - 1][0] == "line" else "\n\n")
        pieces.append(text)
    body = "".join(pieces)
    headline = _fit(story.headline, HEADLINE_LIMIT)
    teaser = _fit(body, budget)
    link = next(iter(story.headline_links + story.read_more + story.links), None)
    if not _meaningful(teaser) and (link is None or not _meaningful(headline)):
        return None  # a heading alone is a label ("Top stories"), not a story
    return Snippet(
        headline=headline if _meaningful(headline) else "",
        teaser=teaser if _meaningful(teaser) else "",
        link=link,
        image_url=next(iter(story.images), None),
    )
