"""Publishers' broadcast text, written in a small Markdown subset, parsed into a document.

Publishers write in a small Markdown subset:

* ``**bold**`` or ``__bold__``, ``*italic*`` or ``_italic_``. Bold may sit inside italic and
  italic inside bold, one level deep; ``***both***`` is bold around italic.
* ``[text](https://example.com/page)``: a link. Only http and https URLs with a host make a link;
  anything else (``javascript:``, ``mailto:``, a bare word) stays literal text, as typed.
  A link with blank text shows its URL.
* A line break is a line break; a blank line starts a new paragraph.
* A backslash makes the next markup character literal: ``\\*`` ``\\_`` ``\\[`` ``\\]`` ``\\(`` ``\\)``
  ``\\\\``. Before any other character a backslash is just a backslash.

Everything else is literal text: ``<b>`` or ``&amp;`` typed by a publisher is shown exactly so.
An opening marker needs text right after it and a closing marker text right before it, so
``2 * 3 * 4`` stays as typed, and an ``_`` inside a word (``snake_case``) is never a marker.
Markers that do not pair up are literal. Parsing never raises.

The text is first normalised the way Telegram would show it, so every channel shows the same
thing: Unicode NFC, ``\\r\\n``/``\\r``/U+2028/U+2029 become ``\\n``, other control characters
(tab included) become spaces, bidi embedding/override controls (U+202A-U+202E) are removed
and lone surrogates become U+FFFD. Trailing spaces of a line and blank lines around
paragraphs are dropped.

What the renderers share lives beside the parser and is importable from here too: the document,
plain text and the link/image lines in :mod:`.document`, and :func:`~.splitting.split_document`,
which cuts a document into parts that each fit a channel's limits, in :mod:`.splitting`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import TypeAlias

from .document import (
    MAX_URL_LENGTH,
    Bold,
    Document,
    Inline,
    Italic,
    Link,
    Paragraph,
    RenderedMessage,
    Text,
    Wrapper,
    _append,
    _normalise,
    inline_text,
    plain_text,
    url_problem,
    utf16_length,
    with_links,
)
from .splitting import split_document

__all__ = [
    "MAX_URL_LENGTH",
    "Bold",
    "Document",
    "Inline",
    "Italic",
    "Link",
    "Paragraph",
    "RenderedMessage",
    "Text",
    "Wrapper",
    "as_document",
    "escape_markdown",
    "inline_text",
    "parse",
    "plain_text",
    "split_document",
    "url_problem",
    "utf16_length",
    "validate",
    "with_links",
]

_ESCAPABLE = frozenset("\\*_[]()")
_MARKUP = re.compile(r"([\\*_\[\]()])")
_BOLD, _ITALIC, _LINK = "bold", "italic", "link"
_ANYTHING = frozenset({_BOLD, _ITALIC, _LINK})
_Closers: TypeAlias = dict[tuple[str, int], list[int]]  # (marker, width) -> where it could close
# A link's URL: no whitespace, parentheses only in balanced pairs one deep (Wikipedia's "Fork_(software)").
_URL = re.compile(r"(?:[^\s()]|\([^\s()]*\))*")


def parse(markdown: str) -> Document:
    """The publisher's text as a document. Never raises."""
    return _parse(markdown)[0]


def validate(markdown: str) -> list[str]:
    """What in the text will not come out as the publisher probably meant (empty when all is well).

    Markers that do not pair up are shown literally, which is often intended (``5 * 3``), so
    they are not reported; links whose URL cannot be a link are.
    """
    return _parse(markdown)[1]


def escape_markdown(text: str) -> str:
    """``text`` with every markup character escaped, so that it is shown literally."""
    return _MARKUP.sub(r"\\\1", text)


def as_document(content: Document | str) -> Document:
    """``content`` parsed, unless it is a document already."""
    return content if isinstance(content, Document) else parse(content)


def _parse(markdown: str) -> tuple[Document, list[str]]:
    problems: list[str] = []
    paragraphs = []
    for block in _blocks(_normalise(markdown)):
        paragraphs.append(Paragraph(_ParagraphParser(block, problems).parse(0, len(block), _ANYTHING)))
    return Document(tuple(paragraphs)), problems


def _blocks(text: str) -> list[str]:
    blocks: list[str] = []
    lines: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip():
            lines.append(line.rstrip())
        elif lines:
            blocks.append("\n".join(lines).strip())
            lines = []
    return blocks


@dataclass(frozen=True, slots=True)
class _LinkSyntax:
    text_start: int
    text_end: int
    url: str
    after: int
    problem: str | None


class _ParagraphParser:
    """One paragraph's inline markup; ``parse(start, end, allowed)`` reads one nesting level.

    Closers are found by one scan per level (``_closers``) that tokenises exactly like the
    main loop (escapes, links, marker runs), so the work stays linear per level.
    """

    def __init__(self, text: str, problems: list[str]) -> None:
        self.text = text
        self.problems = problems
        self.closing_bracket = _match_brackets(text)
        self.links: dict[int, _LinkSyntax | None] = {}

    def parse(self, start: int, end: int, allowed: frozenset[str]) -> tuple[Inline, ...]:
        text = self.text
        closers = self._closers(start, end, allowed)
        nodes: list[Inline] = []
        literal: list[str] = []
        i = start
        while i < end:
            char = text[i]
            if char == "\\" and i + 1 < end and text[i + 1] in _ESCAPABLE:
                literal.append(text[i + 1])
                i += 2
                continue
            if char == "[" and _LINK in allowed and (link := self.link_at(i, end)) is not None:
                if link.problem is None:
                    _add_literal(nodes, literal)
                    nodes.append(self._link(link, allowed))
                    i = link.after
                    continue
                shown = text[link.text_start : link.text_end][:40]
                self.problems.append(f"link [{shown}]: {link.problem}; it is shown as typed")
            if char in "*_":
                run_end = _run_end(text, i, end)
                emphasis = self._emphasis(i, run_end, end, allowed, closers)
                if emphasis is None:
                    literal.append(text[i:run_end])
                    i = run_end
                    continue
                prefix, node, i = emphasis
                literal.append(prefix)
                _add_literal(nodes, literal)
                nodes.append(node)
                continue
            literal.append(char)
            i += 1
        _add_literal(nodes, literal)
        return tuple(nodes)

    def link_at(self, i: int, end: int) -> _LinkSyntax | None:
        if i not in self.links:
            self.links[i] = self._read_link(i)
        link = self.links[i]
        return link if link is not None and link.after <= end else None

    def _read_link(self, i: int) -> _LinkSyntax | None:
        text = self.text
        close = self.closing_bracket.get(i)
        if close is None or text[close + 1 : close + 2] != "(":
            return None
        match = _URL.match(text, close + 2)  # always matches, perhaps nothing
        url_end = match.end() if match else close + 2
        end = url_end
        while text[end : end + 1] == " ":
            end += 1
        if text[end : end + 1] != ")":
            return None
        url = text[close + 2 : url_end]
        return _LinkSyntax(i + 1, close, url, end + 1, url_problem(url))

    def _link(self, link: _LinkSyntax, allowed: frozenset[str]) -> Link:
        children = self.parse(link.text_start, link.text_end, allowed - {_LINK})
        if not inline_text(children).strip():
            children = (Text(link.url),)
        return Link(link.url, children)

    def _emphasis(
        self, i: int, run_end: int, end: int, allowed: frozenset[str], closers: _Closers
    ) -> tuple[str, Inline, int] | None:
        """The emphasis opened by the marker run at ``i``: (literal prefix, node, index after it)."""
        text = self.text
        marker = text[i]
        if run_end >= end or text[run_end].isspace():
            return None
        if marker == "_" and i > 0 and text[i - 1].isalnum():
            return None
        if run_end - i >= 2 and _BOLD in allowed:
            close = _first_after(closers[marker, 2], i + 2)
            if close is not None:
                return "", Bold(self.parse(i + 2, close, allowed - {_BOLD})), close + 2
        if _ITALIC in allowed:
            close = _first_after(closers[marker, 1], run_end)
            if close is not None:
                italic = Italic(self.parse(run_end, close, allowed - {_ITALIC}))
                return text[i : run_end - 1], italic, close + 1
        return None

    def _closers(self, start: int, end: int, allowed: frozenset[str]) -> _Closers:
        """Where a bold (width 2) or italic (width 1) marker could close, for ``*`` and ``_``."""
        text = self.text
        closers: _Closers = {(m, w): [] for m in "*_" for w in (1, 2)}
        k = start
        while k < end:
            char = text[k]
            if char == "\\" and k + 1 < end and text[k + 1] in _ESCAPABLE:
                k += 2
                continue
            if char == "[" and _LINK in allowed:
                link = self.link_at(k, end)
                if link is not None and link.problem is None:
                    k = link.after
                    continue
            if char not in "*_":
                k += 1
                continue
            run_end = _run_end(text, k, end)
            length = run_end - k
            word_follows = char == "_" and run_end < len(text) and text[run_end].isalnum()
            for width in (1, 2):
                position = run_end - width
                if (width == 2 and length < 2) or (width == 1 and length == 2) or word_follows:
                    continue
                if position > 0 and not text[position - 1].isspace():
                    closers[char, width].append(position)
            k = run_end
        return closers


def _match_brackets(text: str) -> dict[int, int]:
    """Each unescaped ``[`` that has a balanced ``]``, mapped to it."""
    matches: dict[int, int] = {}
    open_brackets: list[int] = []
    k = 0
    while k < len(text):
        if text[k] == "\\" and k + 1 < len(text) and text[k + 1] in _ESCAPABLE:
            k += 2
            continue
        if text[k] == "[":
            open_brackets.append(k)
        elif text[k] == "]" and open_brackets:
            matches[open_brackets.pop()] = k
        k += 1
    return matches


def _run_end(text: str, i: int, end: int) -> int:
    k = i
    while k < end and text[k] == text[i]:
        k += 1
    return k


def _first_after(positions: list[int], after: int) -> int | None:
    index = bisect_right(positions, after)
    return positions[index] if index < len(positions) else None


def _add_literal(nodes: list[Inline], literal: list[str]) -> None:
    if literal:
        _append(nodes, Text("".join(literal)))
        literal.clear()
