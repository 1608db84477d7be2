"""HTML sanitised with nh3 (the Rust ammonia sanitiser), then built into a tree with ``html.parser``.

Style and class attributes survive only as the markers the reader needs (hidden, pixel, role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3

_INLINE_TAGS = frozenset(
    {"a", "b", "strong", "em", "i", "u", "s", "strike", "del", "ins", "mark", "small", "sub", "sup"}
    | {"span", "code", "kbd", "samp", "q", "cite", "abbr", "time", "br", "wbr", "img"}
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "pre", "hr"}
    | {"blockquote", "figure", "figcaption", "header", "footer", "article", "section", "aside"}
    | {"nav", "main", "center", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"}
)
# Never reader-visible text. Any other tag not kept is unwrapped and its text kept.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "embed", "svg"}
    | {"math", "textarea", "select", "xmp", "noembed", "noframes", "plaintext"}
)
_VOID = frozenset({"br", "wbr", "img", "hr"})
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0*(?:\.0*)?\s*(?:;|!|$)", re.I
)
_NO_HEIGHT_STYLE = re.compile(r"max-height\s*:\s*0(?![.\d])", re.I)
_OVERFLOW_HIDDEN_STYLE = re.compile(r"overflow\s*:\s*hidden", re.I)
_PIXEL_STYLE = re.compile(r"(?:^|;)\s*(?:width|height)\s*:\s*0*[01](?:px)?\s*(?:;|!|$)", re.I)
_BOILERPLATE_CLASS = re.compile(
    r"preheader|preview-?text|footer|unsubscribe|mcnfollow|social|subscri[a-z]{0,12}-widget"
)


def _marker(tag: str, name: str, value: str) -> str | None:
    """Style and class survive sanitising only as the facts the reader needs: hidden, pixel, role."""
    if name == "style":
        collapsed = _NO_HEIGHT_STYLE.search(value) and _OVERFLOW_HIDDEN_STYLE.search(value)
        marks = {"hidden"} if _HIDDEN_STYLE.search(value) or collapsed else set()
        return " ".join(marks | ({"pixel"} if _PIXEL_STYLE.search(value) else set())) or None
    if name in ("class", "id"):
        words = [word for token in value.lower().split() for word in re.split(r"[-_]", token)]
        if _BOILERPLATE_CLASS.search(value.lower()) or {"share", "meta", "byline"} & set(words):
            return "boilerplate"
        return "subtitle" if re.search(r"subtitle|standfirst", value, re.I) else None
    if name == "role":
        return "presentation" if value.strip().lower() in ("presentation", "none") else None
    return value


_SANITISER = nh3.Cleaner(
    tags=set(_INLINE_TAGS | _BLOCK_TAGS),
    clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes={
        "*": {"style", "class", "id", "hidden"},
        "a": {"href"},
        "img": {"src", "width", "height"},
        "table": {"role"},
    },
    attribute_filter=_marker,
    url_schemes={"http", "https"},
    url_relative="deny",
    link_rel=None,
)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def says(self, marker: str) -> bool:
        return marker in (self.attrs.get("class"), self.attrs.get("id"))


class _TreeBuilder(HTMLParser):
    """The sanitised document as a tree; nh3's output is well formed, so nothing needs repair."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self._open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {name: value or "" for name, value in attrs})
        self._open[-1].children.append(node)
        if tag not in _VOID:
            self._open.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._open[-1].children.append(data)
