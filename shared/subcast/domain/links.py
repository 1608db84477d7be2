"""Link tracking: a broadcast's links go through ``/l/<code>``, which counts the click and redirects.

Nothing about the person who clicks is kept: a code stands for one URL of one broadcast, and
a click only adds one to that URL's count. The code carries the broadcast id, so the redirect
finds the link with one key lookup and the broadcast's clicks are read with one query.
"""

from __future__ import annotations

import base64
import hashlib
import re

from subcast.domain.rendering.document import (
    Bold,
    Document,
    Inline,
    Italic,
    Link,
    Paragraph,
    with_links,
)
from subcast.domain.rendering.markdown import parse

CODE = re.compile(r"^(b_[0-9a-f]{16})-([a-z2-7]{10})$")


def link_hash(url: str) -> str:
    return base64.b32encode(hashlib.sha256(url.encode()).digest()).decode().lower()[:10]


def link_code(broadcast_id: str, url: str) -> str:
    return f"{broadcast_id}-{link_hash(url)}"


def parse_code(code: str) -> tuple[str, str] | None:
    """(broadcast id, link hash) of a code this module made, else None."""
    match = CODE.fullmatch(code)
    return (match.group(1), match.group(2)) if match else None


def links_of(document: Document) -> list[str]:
    """Every link target in a document, in order, once each."""
    found: dict[str, None] = {}

    def walk(nodes: tuple[Inline, ...]) -> None:
        for node in nodes:
            if isinstance(node, Link):
                found[node.url] = None
            if isinstance(node, Bold | Italic | Link):
                walk(node.children)

    for paragraph in document.paragraphs:
        walk(paragraph.children)
    return list(found)


def broadcast_document(text: str, link: str | None, image_url: str | None) -> Document:
    """The broadcast as it will be shown: its Markdown, then its link and image lines."""
    return with_links(parse(text), link, image_url)


def tracked(document: Document, base_url: str, broadcast_id: str) -> Document:
    """The document with every link pointing at its tracking redirect; the visible text stays."""

    def map_nodes(nodes: tuple[Inline, ...]) -> tuple[Inline, ...]:
        mapped: list[Inline] = []
        for node in nodes:
            if isinstance(node, Link):
                target = f"{base_url.rstrip('/')}/l/{link_code(broadcast_id, node.url)}"
                mapped.append(Link(target, map_nodes(node.children)))
            elif isinstance(node, Bold):
                mapped.append(Bold(map_nodes(node.children)))
            elif isinstance(node, Italic):
                mapped.append(Italic(map_nodes(node.children)))
            else:
                mapped.append(node)
        return tuple(mapped)

    return Document(tuple(Paragraph(map_nodes(paragraph.children)) for paragraph in document.paragraphs))
