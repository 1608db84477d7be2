"""A message's text as ``sendMessage`` sees it: markup parsed per ``parse_mode``, trimmed, length-checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .entities import EntityError, utf16_length
from .errors import bad_request
from .html_style import parse_html
from .markdown_style import parse_markdown, parse_markdown_v2

MAX_TEXT_LENGTH = 4096  # UTF-16 code units, after entity parsing and trimming

_TRIMMED = " \t\r\n\v\f"


def formatted_text(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse the markup as Telegram does, trim the text, check its length. Returns (text, entities)."""
    mode = parse_mode.lower()
    parsers: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
        "html": parse_html,
        "markdownv2": parse_markdown_v2,
        "markdown": parse_markdown,
    }
    if mode and mode not in parsers:
        raise bad_request("unsupported parse_mode")
    entities: list[dict[str, Any]] = []
    if mode:
        try:
            text, entities = parsers[mode](text)
        except EntityError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    text, entities = _trim(text, entities)
    if not text:
        raise bad_request("message text is empty")
    if utf16_length(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.lstrip(_TRIMMED)
    lead = utf16_length(text) - utf16_length(stripped)
    stripped = stripped.rstrip(_TRIMMED)
    length = utf16_length(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(length, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
