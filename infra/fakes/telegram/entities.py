"""What the markup parsers share: a cursor over the markup, entity construction, UTF-16 lengths."""

from __future__ import annotations

from typing import Any


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


class EntityError(Exception):
    pass


class MarkupText:
    """A cursor over markup text that reads past its end as NUL, as Telegram's C++ parsers do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)

    def at(self, index: int) -> str:
        return self.text[index] if index < self.size else "\0"

    def byte_offset(self, index: int) -> int:
        return len(self.text[:index].encode("utf-8", errors="surrogatepass"))


def is_space(char: str) -> bool:
    return char in " \t\r\n\0\v"


def is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def make_entity(kind: str, offset: int, length: int, argument: str = "") -> dict[str, Any]:
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = argument
    elif kind == "pre" and argument:
        entity["language"] = argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = argument
    return entity


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))
