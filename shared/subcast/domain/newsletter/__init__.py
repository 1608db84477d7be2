"""A newsletter issue split into broadcast snippets: headline, teaser within a budget, link, image.

Pure, no I/O. HTML is sanitised with nh3 (the Rust ammonia sanitiser) before anything reads it,
then walked with the standard library's ``html.parser``. Markdown passes through the same
sanitiser, so raw HTML inside it cannot smuggle a script through, and is then read line by line.
Both readers produce the same blocks (headings, paragraphs, list and table lines); one set of
rules turns blocks into stories: boilerplate and the masthead out, a story per heading, a teaser
cut at a sentence or a word.
"""

from __future__ import annotations

from .blocks import Kind
from .stories import Format, Snippet, split_newsletter, to_markdown
from .text import ELLIPSIS, HEADLINE_LIMIT, MAX_CONTENT_CHARS, MAX_NESTING, MIN_TEASER_BUDGET

__all__ = [
    "ELLIPSIS",
    "HEADLINE_LIMIT",
    "MAX_CONTENT_CHARS",
    "MAX_NESTING",
    "MIN_TEASER_BUDGET",
    "Format",
    "Kind",
    "Snippet",
    "split_newsletter",
    "to_markdown",
]
