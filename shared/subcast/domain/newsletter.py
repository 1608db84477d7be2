"""A newsletter issue split into broadcast snippets: headline, teaser within a budget, link, image.

Pure, no I/O. HTML is sanitised with nh3 (the Rust ammonia sanitiser) before anything reads it,
then walked with the standard library's ``html.parser``. Markdown passes through the same
sanitiser, so raw HTML inside it cannot smuggle a script through, and is then read line by line.
Both readers produce the same blocks (headings, paragraphs, list and table lines); one set of
rules turns blocks into stories: boilerplate out, a story per heading, a teaser cut at a sentence
or a word.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urlsplit

import nh3
from pydantic import BaseModel, ConfigDict

from subcast.domain.broadcast import utf16_length

#: A "heading" longer than this is a paragraph set in a large font.
HEADLINE_LIMIT = 200
#: Below this a teaser cannot hold a few words and an ellipsis.
MIN_TEASER_BUDGET = 16
#: Longer content is cut here; the API should refuse it first (413). Email clients clip at ~100 kB.
MAX_CONTENT_CHARS = 300_000
#: Tags open at once beyond this are cut off: the HTML parser slows quadratically with depth.
MAX_NESTING = 1000
ELLIPSIS = "…"

Format = Literal["html", "markdown"]
Kind = Literal["heading", "paragraph", "line"]


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
    parts = [f"**{_escape(snippet.headline)}**"] if snippet.headline else []
    if snippet.teaser:
        parts.append(_escape(snippet.teaser))
    return "\n".join(parts)


def _escape(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text)


_MARKUP = re.compile(r"([\\*_\[\]()])")  # what the subset lets a backslash escape


# ------------------------------------------------------------------ text, links, teasers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Soft hyphen, combining grapheme joiner, zero-width spaces: email preheaders pad with them.
_INVISIBLE = re.compile("[\u00ad\u034f\u180e\u200b\u2060\ufeff]")
_SPACE = re.compile(r"\s+")
_HTTP_URL = re.compile(r"https?://[^\s\"'<>`\\\x00-\x20\x7f]+", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
# Void elements and those whose end tag may be left out: they do not deepen the document.
_FLAT_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    | {"p", "li", "dt", "dd", "tr", "td", "th", "tbody", "thead", "tfoot", "option", "optgroup"}
    | {"rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body"}
)
_CLOSERS = "\"')]\u00ab\u00bb\u2018\u2019\u201c\u201d\u201e"
_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:\w|\d{1,2}|dr|mr|mrs|ms|st|vs|etc|bzw|usw|ca|nr|vgl|z\.b|e\.g|i\.e)\.$", re.I
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_CJK_STOPS = "\u3002\uff01\uff1f"  # ideographic full stop, fullwidth ! and ?


def _valid_text(content: str) -> str:
    """Lone surrogates become U+FFFD and control characters go: the sanitiser needs valid UTF-8.

    Size and nesting are bounded here, so no content can keep the parser busy for long.
    """
    text = content.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))[:MAX_CONTENT_CHARS]
    depth = 0
    for tag in _TAG.finditer(text):
        if tag[2].lower() not in _FLAT_TAGS:
            depth = max(0, depth - 1) if tag[1] else depth + 1
            if depth > MAX_NESTING:
                return text[: tag.start()]
    return text


def _squash(text: str) -> str:
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


def _meaningful(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _safe_url(value: str | None) -> str | None:
    """An absolute http(s) URL with a host, or None; checked again whatever the sanitiser did."""
    url = (value or "").strip()
    if not _HTTP_URL.fullmatch(url):
        return None
    try:
        return url if urlsplit(url).hostname else None
    except ValueError:  # a malformed IPv6 host
        return None


def _fit(text: str, budget: int) -> str:
    """``text`` within ``budget`` UTF-16 units, cut at a sentence end, else a word end, plus "…"."""
    if utf16_length(text) <= budget:
        return text
    room, used, end = budget - 2, 0, 0  # two units for " …" after a sentence
    while end < len(text) and used + utf16_length(text[end]) <= room:
        used += utf16_length(text[end])
        end += 1
    sentence = word = 0
    for cut in range(1, end + 1):
        before, after = text[cut - 1], text[cut] if cut < len(text) else " "
        if after.isspace() and not before.isspace():
            word = cut
            head = text[max(0, cut - 24) : cut].rstrip(_CLOSERS)
            if head.endswith((".", "!", "?", "…")) and not _ABBREVIATION.search(head[-12:]):
                sentence = cut
        elif before in _CJK_STOPS:
            sentence = word = cut
        elif _CJK.match(before) or _CJK.match(after):
            word = cut  # CJK text breaks between characters, not at spaces
    if sentence and sentence * 2 >= end:  # a sentence end, unless it throws away half the room
        return f"{text[:sentence]} {ELLIPSIS}"
    if _meaningful(words := text[:word].rstrip(" ,;:-(\n\u2013\u2014")):
        return f"{words}{ELLIPSIS}"
    return f"{text[:end].rstrip()}{ELLIPSIS}"  # one unbreakable token longer than the budget


# ------------------------------------------------------------------ blocks, from either reader


@dataclass(eq=False)
class _Link:
    href: str | None  # None when it was not an absolute http(s) link
    text: str = ""


@dataclass(frozen=True)
class _Image:
    src: str
    link: _Link | None  # the link around it: a social icon goes with its link


@dataclass
class _Line:
    text: str
    bold: bool
    links: list[_Link]
    images: list[_Image]
    free: str = ""  # the text outside any link


@dataclass
class _RawBlock:
    kind: Kind
    lines: list[_Line]
    subtitle: bool = False


@dataclass
class _Block:
    kind: Kind
    text: str
    links: list[str] = field(default_factory=list)
    read_more: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    subtitle: bool = False


_UNSUBSCRIBE = re.compile(
    r"unsubscribe|\bunsub\b|opt[-_ ]?out|abmelden|abbestellen|austragen|d[ée]sinscri|darse de baja"
    r"|manage[-_ ](?:your[-_ ])?(?:preferences|subscription)|update (?:your )?(?:subscription )?preferences"
    r"|list-manage\.com/(?:unsubscribe|profile)|e-?mail[-_ ]preferences|disable_email",
    re.IGNORECASE,
)
_JUNK_TEXT = re.compile(
    r"view (?:this )?(?:e-?mail |newsletter |message )?(?:in (?:your |a |the )?(?:web ?)?browser|online)"
    r"|(?:im )?browser(?:version)?|online-?version|web-?version"
    r"|im browser (?:an(?:sehen|zeigen)|öffnen|lesen)|subscribe(?: now| here)?|(?:jetzt )?abonnieren"
    r"|share(?: this post)?|teilen|leave a comment|comment|like|restack|upgrade to paid"
    r"|(?:open|read) in (?:the )?app|get the app|start writing|forward(?: to a friend)?|weiterleiten"
    r"|follow us|folge uns|folgen sie uns|facebook|twitter|x|instagram|linkedin|youtube|tiktok"
    r"|mastodon|threads|bluesky|xing|whatsapp|telegram|website|impressum|datenschutz(?:erklärung)?"
    r"|privacy(?: policy)?|terms(?: of (?:use|service))?",
    re.IGNORECASE,
)
_SOCIAL_HOST = re.compile(
    r"(?:^|\.)(?:facebook\.com|fb\.com|twitter\.com|x\.com|instagram\.com|linkedin\.com|youtube\.com"
    r"|tiktok\.com|pinterest\.[a-z.]+|threads\.net|bsky\.app|mastodon\.social|xing\.com)$"
)
_SHARE_URL = re.compile(r"sharer|/intent/|sharearticle|[?&]action=(?:share|restack|like)|/app-link/", re.I)
_READ_MORE = re.compile(
    r"(?:^|\W)(?:read (?:more|on|it\b|the \w+)|continue reading|keep reading|full (?:story|article|report)"
    r"|learn more|find out more|weiterlesen|mehr (?:lesen|erfahren|dazu)|zum (?:artikel|beitrag|text)"
    r"|lire la suite|leer más)|[\u2192\u00bb\u203a]\s*$",
    re.IGNORECASE,
)
_FOOTER_TEXT = re.compile(
    r"you(?:'re| are) receiving this|you (?:have )?received this (?:e-?mail|newsletter|message)"
    r"|our mailing address is|all rights reserved|alle rechte vorbehalten|add us to your address book"
    r"|forwarded this e-?mail|was forwarded to you|having trouble viewing"
    r"|view (?:this )?(?:e-?mail |newsletter )?in (?:your |a )?(?:web ?)?browser"
    r"|im browser (?:an(?:sehen|zeigen)|öffnen|lesen)|wird (?:nicht|nicht richtig) angezeigt"
    r"|sie erhalten diese[n]? (?:e-?mail|newsletter|nachricht)|no longer (?:wish|want) to receive",
    re.IGNORECASE,
)


def _is_unsubscribe(link: _Link) -> bool:
    return bool(_UNSUBSCRIBE.search(link.text) or _UNSUBSCRIBE.search(link.href or ""))


def _is_junk(link: _Link) -> bool:
    """Unsubscribe, view-in-browser, social, share and subscribe links: never a story's link."""
    label = link.text.strip(" |!.:>-\u00b7\u2022\u2013\u2014\u2192\u00bb\u203a")
    if _JUNK_TEXT.fullmatch(label) or _is_unsubscribe(link) or _SHARE_URL.search(link.href or ""):
        return True
    host = (urlsplit(link.href).hostname or "") if link.href else ""
    return bool(_SOCIAL_HOST.search(host)) and not _meaningful(label)


def _is_read_more(link: _Link) -> bool:
    return len(link.text) <= 50 and bool(_READ_MORE.search(link.text))


def _clean_blocks(raw_blocks: list[_RawBlock]) -> Iterator[_Block]:
    """Footers out; junk links and their icons out; a paragraph's bold first line is a heading."""
    for raw in raw_blocks:
        blocks: list[_Block] = []
        links = [link for line in raw.lines for link in line.links]
        text = "\n".join(line.text for line in raw.lines)
        if raw.kind != "heading" and (_FOOTER_TEXT.search(text) or any(map(_is_unsubscribe, links))):
            continue
        junk = {link for link in links if _is_junk(link)}
        lines = [_cleaned_line(line, junk) for line in raw.lines]
        first = next((number for number, line in enumerate(lines) if line.text), None)
        if raw.kind == "heading":
            yield _joined("heading", lines, " ", raw.subtitle)
            continue
        if (
            raw.kind == "paragraph"
            and first is not None
            and _is_bold_headline(raw.lines[first], lines[first])
        ):
            blocks.append(_joined("paragraph", lines[:first], "\n"))
            blocks.append(_joined("heading", lines[first : first + 1], " "))
            lines = lines[first + 1 :]
        blocks.append(_joined(raw.kind, lines, "\n", raw.subtitle))
        yield from (block for block in blocks if block.text or block.links or block.read_more or block.images)


def _cleaned_line(line: _Line, junk: set[_Link]) -> _Block:
    """A line without junk links; its text goes too when only link labels and arrows are left."""
    useful = [link for link in line.links if link not in junk]
    more = {link for link in useful if _is_read_more(link)}
    kept = _meaningful(line.free) or any(_meaningful(link.text) for link in useful if link not in more)
    return _Block(
        "paragraph",
        line.text if kept else "",
        [link.href for link in useful if link.href and link not in more],
        [link.href for link in useful if link.href and link in more],
        [image.src for image in line.images if image.link not in junk],
    )


def _is_bold_headline(line: _Line, cleaned: _Block) -> bool:
    text = cleaned.text
    return line.bold and utf16_length(text) <= 150 and not text.endswith((".", ",", ";"))


def _joined(kind: Kind, lines: list[_Block], glue: str, subtitle: bool = False) -> _Block:
    return _Block(
        kind,
        glue.join(line.text for line in lines if line.text),
        [href for line in lines for href in line.links],
        [href for line in lines for href in line.read_more],
        [src for line in lines for src in line.images],
        subtitle,
    )


# ------------------------------------------------------------------ stories


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


# ------------------------------------------------------------------ HTML

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
_KIND_OF_TAG: dict[str, Kind] = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading"}
_KIND_OF_TAG.update({"li": "line", "dt": "line", "dd": "line"})  # h5, h6 and the rest: "paragraph"
_VOID = frozenset({"br", "wbr", "img", "hr"})
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0*(?:\.0*)?\s*(?:;|!|$)", re.I
)
_NO_HEIGHT_STYLE = re.compile(r"max-height\s*:\s*0(?![.\d])", re.I)
_OVERFLOW_HIDDEN_STYLE = re.compile(r"overflow\s*:\s*hidden", re.I)
_PIXEL_STYLE = re.compile(r"(?:^|;)\s*(?:width|height)\s*:\s*0*[01](?:px)?\s*(?:;|!|$)", re.I)
_PIXEL_SIZE = re.compile(r"\s*0*[01](?:px)?\s*")
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


@dataclass(frozen=True)
class _Close:
    node: _Node


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


# ------------------------------------------------------------------ Markdown

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
