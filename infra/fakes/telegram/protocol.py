"""The wire: request parameters as the Bot API server decodes them, parameter checks, JSON responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from .errors import bad_request


def read_parameters(query: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Query string parameters, overridden by those of the body (JSON, url-encoded or multipart)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    content_type = lowered.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    if media_type == "application/json":
        try:
            decoded = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad_request("can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise bad_request("can't parse JSON object")
        params.update(decoded)
    elif media_type == "application/x-www-form-urlencoded":
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise bad_request("can't decode form data") from None
    elif media_type == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    params[name] = payload.decode("utf-8", errors="replace")
    return params


def as_text(value: Any) -> str:
    """A parameter as the Bot API server sees it: strings as they are, anything else as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def as_chat_id(chat_id: int | str) -> int:
    return int(chat_id)


def parse_chat_id(value: str) -> int:
    value = value.strip()
    if not value:
        raise bad_request("chat_id is empty")
    try:
        chat_id = int(value)
    except ValueError:
        raise bad_request("chat not found") from None
    if chat_id == 0:
        raise bad_request("chat not found")
    return chat_id


def chat_for(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "title": "Supergroup", "type": "supergroup"}
    return {"id": chat_id, "title": "Group", "type": "group"}


def blocked_description(chat_id: int) -> str:
    if chat_id > 0:
        return "Forbidden: bot was blocked by the user"
    if str(chat_id).startswith("-100"):
        return "Forbidden: bot was kicked from the supergroup chat"
    return "Forbidden: bot was kicked from the group chat"


def parse_json_array(value: str, name: str) -> list[Any]:
    try:
        decoded = json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None
    if not isinstance(decoded, list):
        raise bad_request(f'field "{name}" must be of type Array')
    return decoded


def check_reply_markup(value: str) -> dict[str, Any] | None:
    """Check reply_markup; return it if it is an inline keyboard (Telegram echoes those in the Message)."""
    try:
        markup = json.loads(value)
    except ValueError:
        raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    echoed = []
    for row in rows:
        echoed_row = []
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("InlineKeyboardButton must be an Object")
            if not isinstance(button.get("text"), str):
                raise bad_request('can\'t find field "text"')
            data = button.get("callback_data")
            if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64):
                raise bad_request("BUTTON_DATA_INVALID")
            echoed_row.append(button)
        echoed.append(echoed_row)
    return {"inline_keyboard": echoed}


def json_response(status: int, envelope: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return status, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body
