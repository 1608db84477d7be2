"""Blocks, as either reader produces them, cleaned: footers and junk links out, bold headlines in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from subcast.domain.broadcast import utf16_length

from .text import _meaningful

Kind = Literal["heading", "paragraph", "line"]


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
