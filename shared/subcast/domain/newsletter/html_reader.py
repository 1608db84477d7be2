"""HTML blocks read from the sanitised tree: boilerplate skipped, layout tables unwrapped, data tables
kept as text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Kind, _Image, _Line, _Link, _RawBlock
from .html_tree import _BLOCK_TAGS, _SANITISER, _VOID, _Node, _TreeBuilder
from .text import _meaningful, _safe_url, _squash

_KIND_OF_TAG: dict[str, Kind] = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading"}
_KIND_OF_TAG.update({"li": "line", "dt": "line", "dd": "line"})  # h5, h6 and the rest: "paragraph"
_PIXEL_SIZE = re.compile(r"\s*0*[01](?:px)?\s*")


@dataclass(frozen=True)
class _Close:
    node: _Node


def _html_blocks(content: str) -> list[_RawBlock]:
    builder = _TreeBuilder()
    builder.feed(_SANITISER.clean(content))
    builder.close()
    return _HtmlReader().read(builder.root)


def _is_skipped(node: _Node) -> bool:
    """Preheaders, footers, social bars, bylines and anything hidden from the reader."""
    return (
        node.tag in ("footer", "nav")
        or "hidden" in node.attrs
        or "hidden" in node.attrs.get("style", "").split()
        or node.says("boilerplate")
    )


def _is_pixel(attrs: dict[str, str]) -> bool:
    sizes = (attrs.get("width"), attrs.get("height"))
    return "pixel" in attrs.get("style", "").split() or any(
        size is not None and _PIXEL_SIZE.fullmatch(size) for size in sizes
    )


def _text_length(node: _Node) -> int:
    length, stack = 0, [node]
    while stack:
        item = stack.pop()
        for child in item.children:
            if isinstance(child, str):
                length += len(child.strip())
            else:
                stack.append(child)
    return length


def _is_data_table(table: _Node) -> bool:
    """A real table (header cells, or rows of several short cells) rather than email layout."""
    if table.attrs.get("role") == "presentation":
        return False
    rows: list[list[_Node]] = []
    header = pictures = False
    stack = [child for child in table.children if isinstance(child, _Node)]
    while stack:
        item = stack.pop()
        if item.tag in ("table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote"):
            return False  # tables are nested, and headlines set, only for layout
        header = header or item.tag in ("th", "thead")
        pictures = pictures or item.tag == "img"
        if item.tag == "tr":
            rows.append(
                [cell for cell in item.children if isinstance(cell, _Node) and cell.tag in ("td", "th")]
            )
        stack += [child for child in item.children if isinstance(child, _Node)]
    if len(rows) < 2 or header:
        return len(rows) >= 2
    widths = [len(row) for row in rows]
    common = max(set(widths), key=widths.count)
    short = all(_text_length(cell) <= 200 for row in rows for cell in row)
    return not pictures and short and common >= 2 and widths.count(common) * 3 >= len(rows) * 2


@dataclass
class _Piece:
    text: str = ""
    bold: bool = False
    link: _Link | None = None
    image: _Image | None = None


_BREAK = _Piece("\n")


def _lines(pieces: list[_Piece]) -> list[_Line]:
    lines: list[_Line] = []
    current: list[_Piece] = []
    for piece in [*pieces, _BREAK]:
        if piece is not _BREAK:
            current.append(piece)
            continue
        text = _squash("".join(part.text for part in current))
        plain = "".join(part.text for part in current if not part.bold)
        images = [part.image for part in current if part.image is not None]
        free = "".join(part.text for part in current if part.link is None)
        if text or images:
            bold = _meaningful(text) and not _meaningful(plain)
            lines.append(_Line(text, bold, _links(current), images, free))
        current = []
    return lines


def _links(pieces: list[_Piece]) -> list[_Link]:
    links = list(dict.fromkeys(piece.link for piece in pieces if piece.link is not None))
    for link in links:
        link.text = _squash(link.text)
    return links


class _HtmlReader:
    """Walks the tree without recursion (email templates nest deep), collecting blocks.

    Layout tables are unwrapped: each cell is a block like a ``div``. A data table becomes one
    line per row, its cells joined with " | ".
    """

    def __init__(self) -> None:
        self.blocks: list[_RawBlock] = []
        self._pieces: list[_Piece] = []
        self._context: list[_Node] = []  # the open block elements
        self._lists: list[int] = []  # items so far in each open list; -1 for a bulleted one
        self._bold = 0
        self._link: _Link | None = None
        self._table: _Node | None = None  # the data table being read row by row
        self._cells: list[str] = []
        self._row_links: list[_Link] = []
        self._row_free = ""

    def read(self, root: _Node) -> list[_RawBlock]:
        stack: list[_Node | _Close | str] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                self._pieces.append(_Piece(item, self._bold > 0, self._link))
                if self._link is not None:
                    self._link.text += item
            elif isinstance(item, _Close):
                self._close(item.node)
            elif not _is_skipped(item) and self._open(item):
                stack.append(_Close(item))
                stack.extend(reversed(item.children))
        self._flush()
        return self.blocks

    def _open(self, node: _Node) -> bool:
        """Starts ``node``; False when its content is read already (or never)."""
        tag = node.tag
        if tag == "img":
            src = _safe_url(node.attrs.get("src"))
            if src and not _is_pixel(node.attrs):
                self._pieces.append(_Piece(link=self._link, image=_Image(src, self._link)))
        elif tag in ("br", "hr", "wbr"):
            self._pieces.append(_Piece(" ") if self._table is not None or tag == "wbr" else _BREAK)
        elif self._table is not None:
            if tag == "tr":
                self._cells, self._row_links, self._row_free, self._pieces = [], [], "", []
            elif tag in _BLOCK_TAGS:
                self._pieces.append(_Piece(" "))
        elif tag == "table" and _is_data_table(node):
            self._flush()
            self._table = node
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._context.append(node)
            if tag in ("ul", "ol"):
                self._lists.append(0 if tag == "ol" else -1)
            elif tag == "li" and self._lists and self._lists[-1] >= 0:
                self._lists[-1] += 1
                self._pieces.append(_Piece(f"{self._lists[-1]}. "))
            elif tag == "li":
                self._pieces.append(_Piece("\u2022 "))
        if tag in ("b", "strong"):
            self._bold += 1
        elif tag == "a":
            self._link = _Link(_safe_url(node.attrs.get("href")))
        return tag not in _VOID

    def _close(self, node: _Node) -> None:
        tag = node.tag
        if tag in ("b", "strong"):
            self._bold = max(0, self._bold - 1)
        elif tag == "a":
            self._link = None
        if self._table is not None:
            self._close_in_table(node)
        elif self._context and self._context[-1] is node:
            self._flush()
            self._context.pop()
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()

    def _close_in_table(self, node: _Node) -> None:
        tag = node.tag
        if tag in ("td", "th"):
            self._cells.append(_squash("".join(piece.text for piece in self._pieces)))
            self._row_links += [piece.link for piece in self._pieces if piece.link is not None]
            self._row_free += " " + "".join(piece.text for piece in self._pieces if piece.link is None)
            self._pieces = []
        elif tag == "tr" and any(map(_meaningful, self._cells)):
            links = _links([_Piece(link=link) for link in self._row_links])
            self.blocks.append(
                _RawBlock("line", [_Line(" | ".join(self._cells), False, links, [], self._row_free)])
            )
        elif tag == "caption":
            self.blocks.append(_RawBlock("paragraph", _lines(self._pieces)))
            self._pieces = []
        elif node is self._table:
            self._table, self._pieces = None, []
        elif tag in _BLOCK_TAGS:
            self._pieces.append(_Piece(" "))

    def _flush(self) -> None:
        lines = _lines(self._pieces)
        self._pieces = []
        if lines:
            top = self._context[-1] if self._context else _Node("#root", {})
            kind = _KIND_OF_TAG.get(top.tag, "paragraph")
            self.blocks.append(_RawBlock(kind, lines, top.says("subtitle")))
