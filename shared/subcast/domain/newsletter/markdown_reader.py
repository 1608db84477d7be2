"""Markdown blocks, read line by line after raw HTML in it went through the same sanitiser."""

from __future__ import annotations

import html
import re

import nh3

from .blocks import Kind, _Image, _Line, _Link, _RawBlock
from .html_tree import _DROPPED_WITH_CONTENT
from .text import _meaningful, _safe_url, _squash

_MD_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>", re.IGNORECASE)
_MD_HTML_BREAK = re.compile(r"<br\b[^<>]*>", re.IGNORECASE)
_MD_HTML_BLOCK = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|tr|table|blockquote|hr|section|article|header)\b[^<>]*>",
    re.IGNORECASE,
)
_MD_FENCE = re.compile(r"\s{0,3}(`{3,}|~{3,})")
_MD_ATX = re.compile(r"\s{0,3}(#{1,6})(?:[ \t]+|$)")
_MD_SETEXT = re.compile(r"\s{0,3}(?:=+|-+)[ \t]*")
_MD_RULE = re.compile(r"\s{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_MD_ITEM = re.compile(r"\s*(?:[-*+]|(\d{1,9})[.)])[ \t]+")
_MD_QUOTES = re.compile(r"(?:[ \t]{0,3}>[ \t]?)*")
_MD_DEFINITION = re.compile(
    r"\s{0,3}\[([^\]]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*"
)
_MD_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_URL = r"(?:<[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))*)"
_TITLE = r"(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?"
_MD_IMAGE = re.compile(rf"!\[[^\[\]]*\]\([ \t]*({_URL}){_TITLE}[ \t]*\)")
_MD_INLINE = re.compile(
    rf"(?P<image>!\[[^\[\]]*\]\([ \t]*(?P<src>{_URL}){_TITLE}[ \t]*\))"
    rf"|\[(?P<label>(?:!\[[^\[\]]*\]\([^()\[\]]*\)|[^\[\]])*)\]\([ \t]*(?P<href>{_URL}){_TITLE}[ \t]*\)"
    r"|\[(?P<ref_label>[^\[\]]+)\](?:\[(?P<ref>[^\[\]]*)\])?"
    r"|(?P<bare>https?://[^\s<>()\[\]]+)",
    re.IGNORECASE,
)
_MD_BOLD_LINE = re.compile(r"(\*\*|__)(?:(?!\1).)+\1")
_MD_EMPHASIS = (
    re.compile(r"\*\*|__|~~|`"),
    re.compile(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<!\w)_(?=\S)|(?<=\S)_(?!\w)"),
)


def _sanitise_markdown(content: str) -> str:
    """Raw HTML in Markdown goes through the same sanitiser, which keeps only its text."""
    text = _MD_AUTOLINK.sub(r"[\1](\1)", content)
    text = _MD_HTML_BLOCK.sub("\n\n", _MD_HTML_BREAK.sub("\n", text))
    return html.unescape(nh3.clean(text, tags=set(), clean_content_tags=set(_DROPPED_WITH_CONTENT)))


def _plain(text: str) -> str:
    for pattern in _MD_EMPHASIS:
        text = pattern.sub("", text)
    return _squash(_MD_PLACEHOLDER.sub(lambda match: chr(int(match[1])), text))


def _md_url(raw: str) -> str | None:
    url = _MD_PLACEHOLDER.sub(lambda match: chr(int(match[1])), raw.strip())
    return _safe_url(url.removeprefix("<").removesuffix(">"))


def _md_line(source: str, references: dict[str, str]) -> _Line:
    """One line of Markdown: links and images taken out, emphasis and escapes resolved."""
    links: list[_Link] = []
    images: list[_Image] = []

    def replace(match: re.Match[str]) -> str:
        if match["image"] is not None:
            if src := _md_url(match["src"]):
                images.append(_Image(src, None))
            return ""
        if match["href"] is not None:
            link = _Link(_md_url(match["href"]))
            images.extend(
                _Image(src, link)
                for inner in _MD_IMAGE.finditer(match["label"])
                if (src := _md_url(inner[1]))
            )
            label = _MD_IMAGE.sub("", match["label"])
            link.text = _plain(label)
            links.append(link)
            return label
        if match["ref_label"] is not None:
            key = _squash(match["ref"] or match["ref_label"]).lower()
            if key not in references:
                return match[0]
            links.append(_Link(references[key], _plain(match["ref_label"])))
            return str(match["ref_label"])
        url = match["bare"].rstrip(".,;:!?'\"")
        links.append(_Link(_md_url(url), url))
        return match[0]

    def unlinked(match: re.Match[str]) -> str:
        unresolved = (
            match["ref_label"] is not None
            and _squash(match["ref"] or match["ref_label"]).lower() not in references
        )
        return match[0] if unresolved else " "

    escaped = _MD_ESCAPED.sub(lambda match: f"\x00{ord(match[1])}\x00", source)
    visible = _MD_INLINE.sub(replace, escaped)
    text = _plain(visible)
    bold = bool(_MD_BOLD_LINE.fullmatch(visible.strip())) and _meaningful(text)
    return _Line(text, bold, links, images, _plain(_MD_INLINE.sub(unlinked, escaped)))


def _markdown_blocks(content: str) -> list[_RawBlock]:
    references: dict[str, str] = {}
    sources: list[str] = []
    for line in _sanitise_markdown(content).split("\n"):
        if definition := _MD_DEFINITION.fullmatch(line):
            if url := _safe_url(definition[2]):
                references[_squash(definition[1]).lower()] = url
        else:
            sources.append(line)
    reader = _MarkdownReader(references)
    for line in sources:
        reader.read(line)
    reader.flush()
    return reader.blocks


class _MarkdownReader:
    """Markdown blocks, one line at a time: headings, paragraphs, lists, tables, code fences."""

    def __init__(self, references: dict[str, str]) -> None:
        self.blocks: list[_RawBlock] = []
        self._references = references
        self._paragraph: list[str] = []
        self._fence = ""
        self._code: list[str] = []

    def read(self, source: str) -> None:
        if self._fence:  # code is shown as it is, never read as headings or links
            if source.strip().startswith(self._fence):
                self.flush()
            elif source.strip():
                self._code.append(_squash(source))
            return
        quotes = _MD_QUOTES.match(source)
        line = source[quotes.end() :] if quotes else source
        if self._paragraph and _MD_SETEXT.fullmatch(line):
            self._add("heading", " ".join(self._paragraph))
            self._paragraph.clear()
            return
        starts_block = _MD_ATX.match(line) or _MD_FENCE.match(line) or _MD_ITEM.match(line)
        if line.strip() and not starts_block and not _MD_RULE.fullmatch(line) and line.lstrip()[:1] != "|":
            self._paragraph.append(line)
            return
        self.flush()
        if opening := _MD_FENCE.match(line):
            self._fence = opening[1][:3]
        elif heading := _MD_ATX.match(line):
            title = line[heading.end() :].rstrip()
            if title.endswith("#") and (not title.rstrip("#") or title.rstrip("#")[-1] in " \t"):
                title = title.rstrip("#").rstrip()  # the optional closing hashes
            self._add("heading" if len(heading[1]) <= 4 else "paragraph", title)
        elif _MD_RULE.fullmatch(line):
            return
        elif line.lstrip().startswith("|") and not set(line.strip()) <= set("|:- \t"):  # not |---|
            self.blocks.append(_RawBlock("line", [self._row(line)]))
        elif item := _MD_ITEM.match(line):
            entry = _md_line(line[item.end() :], self._references)
            entry.text = f"{item[1]}. {entry.text}" if item[1] else f"\u2022 {entry.text}"
            self.blocks.append(_RawBlock("line", [entry]))

    def flush(self) -> None:
        """Ends a paragraph or a code block. A paragraph's lines are one text (soft breaks), except
        after a hard break (two spaces or a backslash at the end) and after a bold first line,
        which may be a heading."""
        groups: list[list[str]] = [[]]
        for number, line in enumerate(self._paragraph):
            if number == 1 and _MD_BOLD_LINE.fullmatch(self._paragraph[0].strip()):
                groups.append([])
            groups[-1].append(line.rstrip().removesuffix("\\"))
            if line.endswith(("  ", "\\")):
                groups.append([])
        lines = [_md_line(" ".join(group), self._references) for group in groups if group]
        if lines:
            self.blocks.append(_RawBlock("paragraph", lines))
        if self._code:
            code = "\n".join(self._code)
            self.blocks.append(_RawBlock("line", [_Line(code, False, [], [], code)]))
        self._paragraph.clear()
        self._code.clear()
        self._fence = ""

    def _add(self, kind: Kind, text: str) -> None:
        self.blocks.append(_RawBlock(kind, [_md_line(text, self._references)]))

    def _row(self, line: str) -> _Line:
        cells = [_md_line(cell, self._references) for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        links = [link for cell in cells for link in cell.links]
        return _Line(
            " | ".join(cell.text for cell in cells), False, links, [], " ".join(cell.free for cell in cells)
        )
