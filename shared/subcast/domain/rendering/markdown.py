"""Publishers' broadcast text as a small document, and what every channel renderer shares.

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

This module also holds what the renderers share: plain text, the link/image lines, and
:func:`split_document`, which cuts a document into parts that each fit a channel's limits.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeAlias
from urllib.parse import urlsplit

#: Longer URLs are not made into links: a link has to fit a 1,600-character SMS with its text.
MAX_URL_LENGTH = 1000

# -- the document ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text; a ``\\n`` inside it is a line break."""

    text: str


@dataclass(frozen=True, slots=True)
class Bold:
    """Bold text: ``**...**`` or ``__...__``."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Italic:
    """Italic text: ``*...*`` or ``_..._``."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A link to an http(s) ``url`` shown as its children."""

    url: str
    children: tuple[Inline, ...]


Inline: TypeAlias = Text | Bold | Italic | Link
Wrapper: TypeAlias = Bold | Italic | Link


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A block of text; it holds line breaks but never a blank line."""

    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A broadcast's text: paragraphs, shown with a blank line between them."""

    paragraphs: tuple[Paragraph, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message as a channel sends it.

    ``text`` is what goes into the provider's request (Telegram HTML, WhatsApp markup or plain
    text); ``plain_text`` is what the reader sees, without markup. For SMS, ``encoding``
    (``GSM-7`` or ``UCS-2``) and ``segments`` say how the message is billed.
    """

    text: str
    plain_text: str
    parse_mode: str | None = None
    encoding: str | None = None
    segments: int | None = None


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram (and most messengers) count it: an emoji is 2."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


# -- parsing --------------------------------------------------------------------------------

_ESCAPABLE = frozenset("\\*_[]()")
_MARKUP = re.compile(r"([\\*_\[\]()])")
_BOLD, _ITALIC, _LINK = "bold", "italic", "link"
_ANYTHING = frozenset({_BOLD, _ITALIC, _LINK})
_Closers: TypeAlias = dict[tuple[str, int], list[int]]  # (marker, width) -> where it could close
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_BIDI_CONTROL = re.compile("[\u202a-\u202e]")
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


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link (http or https, with a host), or None when it can."""
    if not url:
        return "the URL is empty"
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in url):
        return "the URL contains spaces, control or invisible formatting characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return "the URL is malformed"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https URLs can be links"
    if not host:
        return "the URL has no host"
    return None


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


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))
    return _BIDI_CONTROL.sub("", _CONTROL.sub(" ", _LINE_BREAK.sub("\n", text)))


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
        if not _plain(children, show_urls=False).strip():
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


def _append(nodes: list[Inline], node: Inline) -> None:
    if isinstance(node, Text) and nodes and isinstance(nodes[-1], Text):
        nodes[-1] = Text(nodes[-1].text + node.text)
    elif not isinstance(node, Text) or node.text:
        nodes.append(node)


# -- what every renderer shares -------------------------------------------------------------


def plain_text(document: Document, *, show_urls: bool = False) -> str:
    """The text a reader sees. ``show_urls`` writes a link as ``text (url)``, for channels without links."""
    return "\n\n".join(_plain(paragraph.children, show_urls) for paragraph in document.paragraphs)


def inline_text(nodes: tuple[Inline, ...], *, show_urls: bool = False) -> str:
    """The text a reader sees of some inline nodes (see :func:`plain_text`)."""
    return _plain(nodes, show_urls)


def _plain(nodes: tuple[Inline, ...], show_urls: bool) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append(node.text)
        elif isinstance(node, Link):
            text = _plain(node.children, show_urls)
            parts.append(f"{text} ({node.url})" if show_urls and text.strip() != node.url else text)
        else:
            parts.append(_plain(node.children, show_urls))
    return "".join(parts)


def with_links(document: Document, link: str | None = None, image_url: str | None = None) -> Document:
    """The document with the broadcast's link and image URL appended, each on its own line.

    They form one last paragraph of links whose text is the URL, so a split never cuts one.
    A URL that cannot be a link (see :func:`url_problem`) is appended as plain text.
    """
    lines: list[Inline] = []
    for url in (link, image_url):
        url = _normalise(url or "").strip()
        if url:
            if lines:
                lines.append(Text("\n"))
            lines.append(Link(url, (Text(url),)) if url_problem(url) is None else Text(url))
    if not lines:
        return document
    return Document((*document.paragraphs, Paragraph(tuple(lines))))


# -- splitting ------------------------------------------------------------------------------

_PARAGRAPH, _LINE, _SENTENCE, _SPACE = 0, 1, 2, 3
_SENTENCE_END = frozenset(".!?…")
_CLOSING_PUNCTUATION = frozenset("\"')]»\u201d\u2019")  # closing quotes and brackets after . ! ?
_FIRST_PROBE = 64


@dataclass(slots=True)
class _Flat:
    """The document one character at a time, each with the wrappers (by index) it sits in."""

    chars: list[str] = field(default_factory=list)
    paths: list[tuple[int, ...]] = field(default_factory=list)
    paragraph: list[int] = field(default_factory=list)
    wrappers: list[Wrapper] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Cut:
    end: int  # this part ends before chars[end]
    resume: int  # the next part starts at chars[resume] (whitespace in between is dropped)
    level: int


def split_document(document: Document, fits: Callable[[Document], bool]) -> list[Document]:
    """The document cut into parts that each satisfy ``fits`` (empty for an empty document).

    ``fits`` must be monotonic: if a part fits, every shorter part from the same start does.
    Cuts fall, in order of preference, outside every entity rather than inside bold/italic
    (closed at the end of one part, reopened in the next) and inside bold/italic rather
    than inside a link; at whitespace rather than inside a word; in the second half of
    the longest part that fits rather than the first; at a paragraph, then a line, then
    a sentence end, then a space; the latest such place. A word is hard-split only when no
    whitespace is left to cut at, preferably not inside a grapheme (combining mark, emoji
    sequence). The whitespace at a cut is dropped, as are leading and trailing whitespace
    of every part. Only when not even one character fits is a part too long.
    """
    flat = _Flat()
    for index, paragraph in enumerate(document.paragraphs):
        _flatten(flat, paragraph.children, (), index)
    cuts = _whitespace_cuts(flat)
    cut_ends = [cut.end for cut in cuts]
    parts: list[Document] = []
    start = _skip_space(flat, 0)
    while start < len(flat.chars):
        longest = _longest_fitting(flat, start, fits)
        if longest == len(flat.chars):
            parts.append(_slice(flat, start, longest))
            break
        cut = _choose_cut(flat, cuts, cut_ends, start, max(longest, start + 1))
        parts.append(_slice(flat, start, cut.end))
        start = _skip_space(flat, cut.resume)
    return parts


def _flatten(flat: _Flat, nodes: tuple[Inline, ...], path: tuple[int, ...], paragraph: int) -> None:
    for node in nodes:
        if isinstance(node, Text):
            flat.chars.extend(node.text)
            flat.paths.extend([path] * len(node.text))
            flat.paragraph.extend([paragraph] * len(node.text))
        else:
            flat.wrappers.append(node)
            _flatten(flat, node.children, (*path, len(flat.wrappers) - 1), paragraph)


def _skip_space(flat: _Flat, index: int) -> int:
    while index < len(flat.chars) and flat.chars[index].isspace():
        index += 1
    return index


def _slice(flat: _Flat, start: int, end: int) -> Document:
    """chars[start:end] without surrounding whitespace, as a document with the original nesting."""
    start = _skip_space(flat, start)
    while end > start and flat.chars[end - 1].isspace():
        end -= 1
    paragraphs = []
    while start < end:
        stop = start
        while stop < end and flat.paragraph[stop] == flat.paragraph[start]:
            stop += 1
        paragraphs.append(Paragraph(_rebuild(flat, start, stop)))
        start = stop
    return Document(tuple(paragraphs))


def _rebuild(flat: _Flat, start: int, end: int) -> tuple[Inline, ...]:
    root: list[Inline] = []
    open_wrappers: list[tuple[int, list[Inline]]] = []

    def close_innermost() -> None:
        index, children = open_wrappers.pop()
        parent = open_wrappers[-1][1] if open_wrappers else root
        wrapper = flat.wrappers[index]
        if isinstance(wrapper, Link) or _plain(tuple(children), show_urls=False).strip():
            _append(parent, replace(wrapper, children=tuple(children)))
        else:  # bold or italic around whitespace only: no entity (Telegram drops those too)
            for child in children:
                _append(parent, child)

    i = start
    while i < end:
        path = flat.paths[i]
        j = i
        while j < end and flat.paths[j] == path:
            j += 1
        shared = 0
        while shared < min(len(path), len(open_wrappers)) and open_wrappers[shared][0] == path[shared]:
            shared += 1
        while len(open_wrappers) > shared:
            close_innermost()
        open_wrappers.extend((index, []) for index in path[shared:])
        _append(open_wrappers[-1][1] if open_wrappers else root, Text("".join(flat.chars[i:j])))
        i = j
    while open_wrappers:
        close_innermost()
    return tuple(root)


def _whitespace_cuts(flat: _Flat) -> list[_Cut]:
    chars, paragraph = flat.chars, flat.paragraph
    cuts = []
    i = 0
    while i < len(chars):
        if i > 0 and paragraph[i] != paragraph[i - 1]:
            cuts.append(_Cut(i, i, _PARAGRAPH))
        if not chars[i].isspace():
            i += 1
            continue
        j = i
        while j < len(chars) and chars[j].isspace() and paragraph[j] == paragraph[i]:
            j += 1
        newlines = chars[i:j].count("\n")
        if newlines:
            level = _PARAGRAPH if newlines > 1 else _LINE
        else:
            level = _SENTENCE if _ends_sentence(chars, i) else _SPACE
        cuts.append(_Cut(i, j, level))
        i = j
    return cuts


def _ends_sentence(chars: list[str], end: int) -> bool:
    k = end - 1
    while k >= 0 and chars[k] in _CLOSING_PUNCTUATION:
        k -= 1
    return k >= 0 and chars[k] in _SENTENCE_END


def _longest_fitting(flat: _Flat, start: int, fits: Callable[[Document], bool]) -> int:
    """The largest end such that chars[start:end] fits (start when not even one character does).

    Probes grow from a short prefix so a part costs about its own length, whatever is left after it.
    """
    total = len(flat.chars)
    fitting, step = start, _FIRST_PROBE
    probe = min(start + step, total)
    while fits(_slice(flat, start, probe)):
        fitting = probe
        if probe == total:
            return total
        step *= 2
        probe = min(start + step, total)
    too_long = probe
    while too_long - fitting > 1:
        middle = (fitting + too_long) // 2
        if fits(_slice(flat, start, middle)):
            fitting = middle
        else:
            too_long = middle
    return fitting


def _choose_cut(flat: _Flat, cuts: list[_Cut], cut_ends: list[int], start: int, limit: int) -> _Cut:
    chars = flat.chars
    half = start + (limit - start) / 2
    best, best_key = _Cut(limit, limit, _SPACE + 1), (-3, 0, 0, 0, 0)
    for cut in cuts[bisect_right(cut_ends, start) : bisect_right(cut_ends, limit)]:
        key = (-_crossing(flat, cut), 1, int(cut.end >= half), -cut.level, cut.end)
        if key > best_key:
            best, best_key = cut, key
    for i in range(start + 1, min(limit, len(chars) - 1) + 1):
        if chars[i - 1].isspace() or chars[i].isspace() or flat.paragraph[i] != flat.paragraph[i - 1]:
            continue
        hard = _Cut(i, i, _SPACE + 1)
        key = (-_crossing(flat, hard), 0, int(not _joins(chars[i - 1], chars[i])), 0, i)
        if key > best_key:
            best, best_key = hard, key
    return best


def _crossing(flat: _Flat, cut: _Cut) -> int:
    """0 when the cut is outside every entity, 1 inside bold/italic only, 2 inside a link."""
    if cut.end == 0 or cut.resume >= len(flat.chars):
        return 0
    before, after = flat.paths[cut.end - 1], flat.paths[cut.resume]
    shared = 0
    while shared < min(len(before), len(after)) and before[shared] == after[shared]:
        shared += 1
    if not shared:
        return 0
    return 2 if any(isinstance(flat.wrappers[index], Link) for index in before[:shared]) else 1


def _joins(before: str, char: str) -> bool:
    """Whether ``before`` and ``char`` probably belong to one grapheme (a hard split looks broken there)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or "\u200d" in (before, char)
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or (0x1F1E6 <= ord(before) <= 0x1F1FF and 0x1F1E6 <= code <= 0x1F1FF)
    )
