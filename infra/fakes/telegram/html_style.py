"""Telegram's HTML style (``parse_mode=HTML``), parsed to plain text and entities as Telegram does."""

from __future__ import annotations

from typing import Any

from .entities import (
    EntityError,
    MarkupText,
    is_ascii_alnum,
    is_space,
    make_entity,
    sort_entities,
    utf16_length,
)

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "span"}
    | {"pre", "code", "blockquote"}
)
_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(src: MarkupText, pos: int) -> tuple[str | None, int]:
    """The character of the reference at ``pos`` (a '&') and the index after it, or (None, pos)."""
    end = pos + 1
    code = 0
    if src.at(pos + 1) == "#":
        end += 1
        if src.at(pos + 2) == "x":
            end += 1
            while src.at(end) in "0123456789abcdefABCDEF" and src.at(end) != "\0":
                code = code * 16 + int(src.at(end), 16)
                end += 1
        else:
            while "0" <= src.at(end) <= "9":
                code = code * 10 + int(src.at(end))
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        if 0xD800 <= code <= 0xDFFF:
            raise EntityError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        while src.at(end).isascii() and src.at(end).isalpha():
            end += 1
        named = _HTML_NAMED.get(src.text[pos + 1 : end])
        if named is None:
            return None, pos
        char = named
    if src.at(end) == ";":
        end += 1
    return char, end


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML style: the supported tags, &lt; &gt; &amp; &quot; and numeric references."""
    src = MarkupText(text)
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    nested: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, index in out
    i = 0
    while i < src.size:
        char = src.at(i)
        if char == "&":
            decoded, after = _decode_html_entity(src, i)
            if decoded is not None:
                out.append(decoded)
                utf16 += utf16_length(decoded)
                i = after
                continue
        if char != "<":
            out.append(char)
            utf16 += utf16_length(char)
            i += 1
            continue
        begin = i
        at = src.byte_offset(begin)
        i += 1
        if src.at(i) != "/":
            while not is_space(src.at(i)) and src.at(i) != ">":
                i += 1
            if src.at(i) == "\0":
                raise EntityError(f"Unclosed start tag at byte offset {at}")
            tag = src.text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise EntityError(f'Unsupported start tag "{tag}" at byte offset {at}')
            argument = ""
            while src.at(i) != ">":
                while src.at(i) != "\0" and is_space(src.at(i)):
                    i += 1
                if src.at(i) == ">":
                    break
                name_begin = i
                while not is_space(src.at(i)) and src.at(i) != "=":
                    i += 1
                name = src.text[name_begin:i]
                if not name:
                    raise EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
                while src.at(i) != "\0" and is_space(src.at(i)):
                    i += 1
                if src.at(i) != "=":
                    raise EntityError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {at}'
                    )
                i += 1
                while src.at(i) != "\0" and is_space(src.at(i)):
                    i += 1
                if src.at(i) == "\0":
                    raise EntityError(f'Unclosed start tag "{tag}" at byte offset {at}')
                if src.at(i) not in "'\"":
                    token_begin = i
                    while is_ascii_alnum(src.at(i)) or src.at(i) in ".-":
                        i += 1
                    value = src.text[token_begin:i].lower()
                    if not is_space(src.at(i)) and src.at(i) != ">":
                        raise EntityError(
                            f"Unexpected end of name token at byte offset {src.byte_offset(token_begin)}"
                        )
                else:
                    quote = src.at(i)
                    i += 1
                    chars: list[str] = []
                    while src.at(i) != quote and src.at(i) != "\0":
                        if src.at(i) == "&":
                            decoded, after = _decode_html_entity(src, i)
                            if decoded is not None:
                                chars.append(decoded)
                                i = after
                                continue
                        chars.append(src.at(i))
                        i += 1
                    if src.at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if src.at(i) == "\0":
                    raise EntityError(f"Unclosed start tag at byte offset {at}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1
            continue
        # an end tag
        if not nested:
            raise EntityError(f"Unexpected end tag at byte offset {at}")
        while not is_space(src.at(i)) and src.at(i) != ">":
            i += 1
        end_tag = src.text[begin + 2 : i].lower()
        while is_space(src.at(i)) and src.at(i) != "\0":
            i += 1
        if src.at(i) != ">":
            raise EntityError(f"Unclosed end tag at byte offset {at}")
        tag, argument, offset, out_index = nested.pop()
        if end_tag and end_tag != tag:
            raise EntityError(
                f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            last = entities[-1] if entities else None
            same_span = last is not None and last["offset"] == offset and last["length"] == length
            if tag in _HTML_ENTITY_TYPES:
                entities.append(make_entity(_HTML_ENTITY_TYPES[tag], offset, length))
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise EntityError("Invalid custom emoji identifier specified")
                entities.append(make_entity("custom_emoji", offset, length, argument))
            elif tag == "a":
                url = argument or "".join(out[out_index:])
                if url:
                    entities.append(make_entity("text_link", offset, length, url))
            elif tag == "pre":
                if same_span and last is not None and last["type"] == "code" and last.get("_language"):
                    entities[-1] = make_entity("pre", offset, length, last["_language"])
                else:
                    entities.append(make_entity("pre", offset, length))
            elif tag == "code":
                if same_span and last is not None and last["type"] == "pre" and argument:
                    entities[-1] = make_entity("pre", offset, length, argument)
                else:
                    entities.append({**make_entity("code", offset, length), "_language": argument})
        i += 1
    if nested:
        raise EntityError(f"Can't find end tag corresponding to start tag {nested[-1][0]}")
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), sort_entities(entities)
