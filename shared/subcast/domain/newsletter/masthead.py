"""What a masthead is made of: issue number, date, the web version, the publication's name, the logo.

These are facts about single blocks and lines; which of them are the masthead (only those above
the first story) is decided in ``stories``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .blocks import _Block
from .text import _ABBREVIATION, _meaningful

_WEEKDAY = (
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag"
)
_MONTH = (
    r"(?:jan(?:uary|uar)?|j[äa]nner|feb(?:ruary|ruar)?|m[äa]r(?:ch|z)?|mrz|apr(?:il)?|ma[iy]|june?|juni"
    r"|july?|juli|aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)\b\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th|\.)?"
_DATE = (
    rf"(?:\b(?:{_WEEKDAY}),?\s+)?"
    r"(?:\b\d{4}-\d{1,2}-\d{1,2}\b"  # 2026-11-24
    r"|\b\d{1,2}[./]\s?\d{1,2}[./]\s?(?:\d{4}|\d{2})\b"  # 24.11.2026, 11/24/26
    rf"|\b{_MONTH}\s+\d{{4}}\b"  # November 2026
    rf"|\b{_DAY}\s*{_MONTH}(?:,?\s+\d{{4}}\b)?"  # 24 Nov 2026, 24. November
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?)"  # Nov 24, 2026
)
_ISSUE = (
    r"(?:\b(?:issue|edition|ausgabe|nummer|number|nr|no|vol(?:ume)?|jahrgang|folge|episode|heft)\b\.?:?\s*"
    r"|(?<!\w)[#№]\s?)#?\d+\b"
)
_VIEW_ONLINE = (
    r"\b(?:view|read|open|see)\s+(?:(?:this|the)\s+)?(?:(?:e-?mail|newsletter|issue|message|it)\s+)?"
    r"(?:online|in\s+(?:(?:your|a|the)\s+)?(?:web\s*)?browser)\b"
    r"|\b(?:web|online|browser)[\s-]?version\b|\bbrowseransicht\b"
    r"|\b(?:im|in\s+(?:ihrem|einem))\s+browser\s+(?:an(?:sehen|zeigen)|öffnen|lesen)\b"
)
_MARKER = re.compile(f"{_VIEW_ONLINE}|{_DATE}|{_ISSUE}", re.IGNORECASE)
_ONLY_WEEKDAY = re.compile(_WEEKDAY, re.IGNORECASE)
_PLACEHOLDER = "\x00"
# What sets the parts of a masthead line apart: "Issue 142 · 24 Nov 2026", "Rust Radar, issue 58".
_SEPARATOR = re.compile(r"\s*(?:[\u00b7\u2022|,/~\u2013\u2014]|\s-\s)\s*")
_NOT_IN_A_NAME = re.compile(r"[\d:;!?\x00]")
_SENTENCE_END = re.compile(r"(?<=[^\W\d_])[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")


def _names_beside_markers(line: str) -> int | None:
    """How many name parts stand beside issue number, date or "view online" in ``line`` (0 or 1),
    or None when ``line`` is not a masthead line.

    Each part between separators must be all markers, a weekday, or a short name: "Issue 142 ·
    24 Nov 2026" (0), "Rust Radar, issue 58" (1); not "Issue #142: Cold brew season" (a title
    after the colon) nor "Party on 24 Nov 2026" (the date is part of a sentence).
    """
    marked, found = _MARKER.subn(_PLACEHOLDER, line)
    if not found:
        return None
    names = 0
    for part in _SEPARATOR.split(marked):
        bare = part.replace(_PLACEHOLDER, "").strip(" .")
        if not _meaningful(bare) or (_PLACEHOLDER not in part and _ONLY_WEEKDAY.fullmatch(bare)):
            continue
        if _PLACEHOLDER in part or not _is_name(part):
            return None
        names += 1
    return names if names <= 1 else None


def _is_name(text: str) -> bool:
    """A publication's name or tagline: a few words, no figures, no sentence."""
    words = text.split()
    return 0 < len(words) <= 5 and not _NOT_IN_A_NAME.search(text) and not text.rstrip().endswith(".")


def _is_marker_only(line: str) -> bool:
    """Issue number, date or "view online" and nothing else: never a headline."""
    return _names_beside_markers(line) == 0


def _is_masthead_block(block: _Block) -> bool:
    """A block of masthead lines (a name may stand on a line of its own), or a logo linked home."""
    if not _meaningful(block.text):
        return bool(block.images and block.links) and all(map(_is_home, block.links))
    lines = [line for line in block.text.split("\n") if _meaningful(line)]
    marked = [line for line in lines if _names_beside_markers(line) is not None]
    return bool(marked) and all(line in marked or _is_name(line) for line in lines)


def _is_home(url: str) -> bool:
    """A link to a site's front page, where a publication's name and logo lead, not a story."""
    return urlsplit(url).path in ("", "/")


def _has_sentence(text: str) -> bool:
    """Whether ``text`` holds a sentence (as an intro does), not only a title or a tagline."""
    for end in _SENTENCE_END.finditer(text):
        if end.group()[0] != "." or not _ABBREVIATION.search(
            text[max(0, end.start() - 11) : end.start() + 1]
        ):
            return True
    return False
