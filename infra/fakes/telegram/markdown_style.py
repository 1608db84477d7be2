"""Telegram's MarkdownV2 and legacy Markdown styles, parsed to plain text and entities as Telegram does."""

from __future__ import annotations

import re
from typing import Any

from .entities import EntityError, MarkupText, is_space, make_entity, sort_entities, utf16_length

_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_MD2_RESERVED = "_*[]()~`>#+-=|{}.!\n"


def _reserved(char: str) -> EntityError:
    return EntityError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _read_md2_url(src: MarkupText, i: int) -> tuple[str, int]:
    """The URL of ``(...)`` from ``i``, backslash escapes resolved; returns it and the index of ')'."""
    chars: list[str] = []
    while i < src.size and src.at(i) != ")":
        if src.at(i) == "\\" and "\0" < src.at(i + 1) <= "~":
            chars.append(src.at(i + 1))
            i += 2
            continue
        chars.append(src.at(i))
        i += 1
    return "".join(chars), i


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2 style, with its rule that every reserved character is escaped."""
    src = MarkupText(text)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    nested: list[dict[str, Any]] = []  # kind, argument, offset, byte, out_index
    have_blockquote = False
    i = 0
    while i < src.size:
        char = src.at(i)
        if char == "\\" and "\0" < src.at(i + 1) <= "~":
            out.append(src.at(i + 1))
            utf16 += 1
            i += 2
            continue
        reserved = _MD2_RESERVED
        if nested and nested[-1]["kind"] in ("code", "pre", "pre_code"):
            reserved = "`"
        if char not in reserved:
            out.append(char)
            utf16 += utf16_length(char)
            i += 1
            continue
        is_end = False
        if nested:
            kind = nested[-1]["kind"]
            if have_blockquote and char == "\n" and (i + 1 == src.size or src.at(i + 1) != ">"):
                is_end = True
            elif kind == "bold":
                is_end = char == "*"
            elif kind == "italic":
                is_end = char == "_" and src.at(i + 1) != "_"
            elif kind == "code":
                is_end = char == "`"
            elif kind in ("pre", "pre_code"):
                is_end = char == "`" and src.at(i + 1) == "`" and src.at(i + 2) == "`"
            elif kind in ("text_link", "custom_emoji"):
                is_end = char == "]"
            elif kind == "underline":
                is_end = char == "_" and src.at(i + 1) == "_"
            elif kind == "strikethrough":
                is_end = char == "~"
            elif kind == "spoiler":
                is_end = char == "|" and src.at(i + 1) == "|"
        if not is_end:
            begin = i
            argument = ""
            kind = ""
            if char == "_":
                if src.at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif char == "*":
                kind = "bold"
            elif char == "~":
                kind = "strikethrough"
            elif char == "|":
                if src.at(i + 1) != "|":
                    raise _reserved(char)
                i += 1
                kind = "spoiler"
            elif char == "[":
                kind = "text_link"
            elif char == "`":
                if src.at(i + 1) == "`" and src.at(i + 2) == "`":
                    i += 3
                    kind = "pre"
                    language_end = i
                    while not is_space(src.at(language_end)) and src.at(language_end) != "`":
                        language_end += 1
                    if i != language_end and language_end < src.size and src.at(language_end) != "`":
                        kind = "pre_code"
                        argument = src.text[i:language_end]
                        i = language_end
                    if src.at(i) in "\n\r":
                        if src.at(i + 1) in "\n\r" and src.at(i) != src.at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif char == "!":
                if src.at(i + 1) != "[":
                    raise _reserved(char)
                i += 1
                kind = "custom_emoji"
            elif char == "\n":
                out.append("\n")
                utf16 += 1
                if i + 1 < src.size and src.at(i + 1) == ">":
                    i += 1
                    if not have_blockquote:
                        kind = "blockquote"
                        have_blockquote = True
            elif char == ">":
                if i != 0:
                    raise _reserved(char)
                kind = "blockquote"
                have_blockquote = True
            else:
                raise _reserved(char)
            if kind:
                nested.append(
                    {
                        "kind": kind,
                        "argument": argument,
                        "offset": utf16,
                        "byte": src.byte_offset(begin),
                        "out_index": len(out),
                    }
                )
            i += 1
            continue
        # the end of an entity
        top = nested[-1]
        kind = top["kind"]
        if char == "\n" and kind != "blockquote":
            raise EntityError(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {top['byte']}")
        argument = top["argument"]
        skip = utf16 == top["offset"]
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            if src.at(i + 1) != "(":
                url = "".join(out[top["out_index"] :])
            else:
                url_begin = i + 2
                url, i = _read_md2_url(src, url_begin)
                if src.at(i) != ")":
                    raise EntityError(f"Can't find end of a URL at byte offset {src.byte_offset(url_begin)}")
            if url:
                argument = url
            else:
                skip = True
        elif kind == "custom_emoji":
            if src.at(i + 1) != "(":
                raise EntityError("Custom emoji entity must contain a tg://emoji URL")
            url_begin = i + 2
            url, i = _read_md2_url(src, url_begin)
            if src.at(i) != ")":
                raise EntityError(
                    f"Can't find end of a custom emoji URL at byte offset {src.byte_offset(url_begin)}"
                )
            found = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
            if found is None:
                raise EntityError("Custom emoji URL must have an emoji identifier")
            argument = found[1]
        elif kind == "blockquote":
            have_blockquote = False
            out.append(char)
            utf16 += 1
        if not skip:
            offset = top["offset"]
            kind_out = "pre" if kind == "pre_code" else kind
            entities.append(make_entity(kind_out, offset, utf16 - offset, argument))
        nested.pop()
        i += 1
    if have_blockquote and nested and nested[-1]["kind"] == "blockquote":
        top = nested.pop()
        if utf16 > top["offset"]:
            entities.append(make_entity("blockquote", top["offset"], utf16 - top["offset"]))
    if nested:
        top = nested[-1]
        raise EntityError(f"Can't find end of {_MD2_NAMES[top['kind']]} entity at byte offset {top['byte']}")
    return "".join(out), sort_entities(entities)


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown style: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    src = MarkupText(text)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    i = 0
    while i < src.size:
        char = src.at(i)
        if char == "\\" and src.at(i + 1) in "_*`[" and src.at(i + 1) != "\0":
            out.append(src.at(i + 1))
            utf16 += 1
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            utf16 += utf16_length(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = False
        language = ""
        i += 1
        if char == "`" and src.at(i) == "`" and src.at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while not is_space(src.at(language_end)) and src.at(language_end) != "`":
                language_end += 1
            if i != language_end and language_end < src.size and src.at(language_end) != "`":
                language = src.text[i:language_end]
                i = language_end
            if src.at(i) in "\n\r":
                if src.at(i + 1) in "\n\r" and src.at(i) != src.at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = utf16
        while i < src.size and (
            src.at(i) != end_char or (is_pre and not (src.at(i + 1) == "`" and src.at(i + 2) == "`"))
        ):
            out.append(src.at(i))
            utf16 += utf16_length(src.at(i))
            i += 1
        if i == src.size:
            at = src.byte_offset(begin)
            raise EntityError(f"Can't find end of the entity starting at byte offset {at}")
        if utf16 != offset:
            length = utf16 - offset
            if char == "_":
                entities.append(make_entity("italic", offset, length))
            elif char == "*":
                entities.append(make_entity("bold", offset, length))
            elif char == "[":
                if src.at(i + 1) != "(":
                    url = src.text[begin + 1 : i]
                else:
                    i += 2
                    url_chars: list[str] = []
                    while i < src.size and src.at(i) != ")":
                        url_chars.append(src.at(i))
                        i += 1
                    url = "".join(url_chars)
                if url:
                    entities.append(make_entity("text_link", offset, length, url))
            elif is_pre:
                entities.append(make_entity("pre", offset, length, language))
            else:
                entities.append(make_entity("code", offset, length))
        if is_pre:
            i += 2
        i += 1
    return "".join(out), sort_entities(entities)
