"""Text rules both readers share: valid, bounded input; squashed space; safe links; teasers cut
at a sentence or a word within a UTF-16 budget."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
