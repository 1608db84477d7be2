"""An issue assembled into snippets: either reader's blocks, cleaned, become stories (one per
heading), and each story a snippet with a teaser within its budget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict

from subcast.domain.rendering.markdown import escape_markdown

from .blocks import Kind, _Block, _clean_blocks
from .html_reader import _html_blocks
from .markdown_reader import _markdown_blocks
from .masthead import _has_sentence, _is_home, _is_marker_only, _is_masthead_block
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
    the headline's link, else a "read more" link, else the first link of the story. The masthead
    above the first story (logo, name, issue number, date, "view online", a shown preheader) is
    no story and gives no snippet (see ``_without_masthead``). Never raises
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
    stories = list(_stories(_clean_blocks(raw)))
    # An issue that is nothing but a "masthead" has none: what it holds is its content.
    return _snippets(_without_masthead(stories), teaser_budget, max_snippets) or _snippets(
        stories, teaser_budget, max_snippets
    )


def _snippets(stories: Iterable[_Story], budget: int, limit: int) -> list[Snippet]:
    snippets: list[Snippet] = []
    for story in stories:
        if len(snippets) >= limit:
            break
        snippet = _snippet(story, budget)
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
    blocks: list[_Block] = field(default_factory=list)

    @property
    def parts(self) -> list[tuple[Kind, str]]:
        return [(block.kind, block.text) for block in self.blocks if block.text]

    @property
    def links(self) -> list[str]:
        return [href for block in self.blocks for href in block.links]

    @property
    def read_more(self) -> list[str]:
        return [href for block in self.blocks for href in block.read_more]

    @property
    def images(self) -> list[str]:
        return [src for block in self.blocks for src in block.images]


def _stories(blocks: Iterable[_Block]) -> Iterator[_Story]:
    """A story per heading; a subtitle right under a headline is part of that story.

    Picture-only blocks right before a heading belong to it, as email cards put the picture
    above the headline; before any text of the issue but the masthead's they are the masthead,
    and dropped, unless they link where the headline links.
    """
    story = _Story()
    waiting: list[_Block] = []
    for block in blocks:
        if block.kind == "heading" and not (block.subtitle and story.headline and not story.parts):
            # Masthead lines above do not make the logo a story's picture.
            if not story.headline and all(map(_is_masthead_block, _texts(story))):
                waiting = [held for held in waiting if set(held.links) & set(block.links)]
            yield story
            story = _Story(block.text, block.links)
            waiting.append(_Block("paragraph", "", images=block.images))
        elif block.kind != "heading" and not block.text and not block.read_more and block.images:
            waiting.append(block)
            continue
        else:
            waiting.append(block)
        story.blocks += waiting
        waiting = []
    story.blocks += waiting
    yield story


def _texts(story: _Story) -> list[_Block]:
    return [block for block in story.blocks if block.text]


def _without_masthead(stories: list[_Story]) -> list[_Story]:
    """The stories without the masthead: what comes before the first story that keeps a headline.

    In that lead, and in that first story's own text:

    - a block of issue number, date or "view online" (a name may stand beside them or on a line
      of its own), and a logo (a picture linking to the home page), are masthead;
    - a headline of nothing but issue number and date is masthead; the text under it stays;
    - a story left without text is masthead, unless it links beyond the home page (as a story of
      a link list does);
    - text without a headline that holds no sentence (a title line, a tagline, a preheader shown
      above the logo) is masthead; an intro that says something in sentences stays.

    A first story with a headline and text of its own (more than a date) stays, however short;
    and an issue of nothing but such a "masthead" keeps it (``split_newsletter``).
    """
    kept: list[_Story] = []
    for number, story in enumerate(stories):
        blocks = [block for block in story.blocks if not _is_masthead_block(block)]
        marker_headline = _is_marker_only(story.headline)
        lead = replace(
            story,
            headline="" if marker_headline else story.headline,
            headline_links=[] if marker_headline else story.headline_links,
            blocks=blocks,
        )
        links = lead.headline_links + lead.read_more + lead.links
        if not any(block.text for block in blocks) and all(map(_is_home, links)):
            continue
        if not lead.headline and not any(_has_sentence(block.text) for block in blocks):
            continue
        kept.append(lead)
        if lead.headline:
            return kept + stories[number + 1 :]
    return kept


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
