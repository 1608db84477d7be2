"""A document cut into parts that each fit a channel's limits (see :func:`split_document`)."""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .document import (
    Document,
    Inline,
    Link,
    Paragraph,
    Text,
    Wrapper,
    _append,
    inline_text,
    plain_text,
    utf16_length,
    with_links,
)

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
        if isinstance(wrapper, Link) or inline_text(tuple(children)).strip():
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


def plain_parts(
    content: Document | str, link: str | None, image_url: str | None, max_length: int
) -> list[str]:
    """The broadcast as plain-text messages of at most ``max_length`` UTF-16 units, links written out
    as ``text (url)``: what SMS and Messenger send."""
    from .markdown import as_document

    def fits(part: Document) -> bool:
        return utf16_length(plain_text(part, show_urls=True)) <= max_length

    parts = split_document(with_links(as_document(content), link, image_url), fits)
    return [plain_text(part, show_urls=True) for part in parts]
