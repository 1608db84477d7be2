"""An in-memory stand-in for the Telegram Bot API server (standard library only).

``FakeBotApi`` answers Bot API calls the way ``api.telegram.org`` does: the
same paths (``/bot<token>/<method>``, methods case-insensitive), the same
parameter encodings (JSON body, url-encoded or multipart form, query string),
the same envelopes (``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": ..., "description": ...}`` with the HTTP status equal to the
error code) and the same error texts. ``serve`` puts it behind a real HTTP
server, so code under test only needs its API base URL pointed at it.

What it implements: ``getMe``, ``sendMessage``, ``setWebhook``,
``deleteWebhook``, ``getWebhookInfo`` and ``answerCallbackQuery``. Every chat
exists (positive ids are private chats) unless ``block`` was called for it.
``sendMessage`` parses ``parse_mode`` text as Telegram does (HTML, MarkdownV2,
legacy Markdown): the Message it returns carries the plain text and its
``entities``, and malformed markup is refused with Telegram's "can't parse
entities" error. Text is trimmed and must then be 1-4096 UTF-16 code units.

Test hooks: ``sent`` (what the bot sent), ``calls`` (every payload received),
``block``/``unblock``, ``fail_next``, ``throttle_next`` and an optional global
rate limit (``rate_limit_per_second``) that answers real 429s.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["MAX_TEXT_LENGTH", "FakeBotApi", "serve"]

MAX_TEXT_LENGTH = 4096  # UTF-16 code units, after entity parsing and trimming

_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]*)$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
_WEBHOOK_PORTS = (80, 88, 443, 8443)
_TRIMMED = " \t\r\n\v\f"

_METHODS = ("getMe", "sendMessage", "setWebhook", "deleteWebhook", "getWebhookInfo", "answerCallbackQuery")
_CANONICAL = {name.lower(): name for name in _METHODS}


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


class FakeBotApi:
    """A Telegram Bot API server for one bot, in memory. Every public method is thread-safe."""

    def __init__(
        self,
        token: str,
        *,
        rate_limit_per_second: float | None = None,
        bot_username: str = "subcast_bot",
        bot_first_name: str = "subcast",
        monotonic: Callable[[], float] = time.monotonic,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        if rate_limit_per_second is not None and rate_limit_per_second <= 0:
            raise ValueError("rate_limit_per_second must be positive")
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_user: dict[str, Any] = {
            "id": int(prefix) if prefix.isdigit() and len(prefix) < 19 else 7000000001,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._monotonic = monotonic
        self._wall_time = wall_time
        self._rate = rate_limit_per_second
        self._bucket_capacity = max(1.0, rate_limit_per_second or 1.0)
        self._bucket_tokens = self._bucket_capacity
        self._bucket_at: float | None = None
        self._throttled = 0
        self._requests = 0
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._sent: list[dict[str, Any]] = []
        self._seq = 0
        self._message_ids: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._injected: deque[_ApiError] = deque()
        self._webhook: dict[str, Any] = {}

    # ----------------------------------------------------------------- test hooks

    @property
    def request_count(self) -> int:
        """Every HTTP request received, whatever it was answered."""
        with self._lock:
            return self._requests

    @property
    def throttled_count(self) -> int:
        """Sends refused with 429 by the rate limiter (not those queued by ``throttle_next``)."""
        with self._lock:
            return self._throttled

    @property
    def webhook(self) -> dict[str, Any]:
        """The webhook as set: url ("" if none), secret_token, max_connections, allowed_updates."""
        with self._lock:
            return copy.deepcopy(self._webhook) if self._webhook else {"url": ""}

    def sent(self, chat_id: int | str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Messages the bot sent, oldest first: the Message returned to the bot plus ``seq`` (1, 2, ...)."""
        wanted = None if chat_id is None else _as_chat_id(chat_id)
        with self._lock:
            return [
                copy.deepcopy(message)
                for message in self._sent
                if message["seq"] > after and (wanted is None or message["chat"]["id"] == wanted)
            ]

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Payloads of the API calls received (valid token, known method), oldest first, failed ones too.

        Values are as decoded from the request: typed for a JSON body, strings for forms and query strings.
        """
        wanted = None if method is None else method.lower()
        with self._lock:
            return [copy.deepcopy(payload) for name, payload in self._calls if wanted in (None, name.lower())]

    def block(self, chat_id: int | str) -> None:
        """The user blocks the bot: sendMessage to the chat answers 403 until ``unblock``."""
        with self._lock:
            self._blocked.add(_as_chat_id(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(_as_chat_id(chat_id))

    def is_blocked(self, chat_id: int | str) -> bool:
        with self._lock:
            return _as_chat_id(chat_id) in self._blocked

    def fail_next(self, count: int, status: int = 500, description: str = "Internal Server Error") -> None:
        """The next ``count`` API calls (whatever the method) fail with ``status`` and ``description``."""
        with self._lock:
            self._injected.extend(_ApiError(status, description) for _ in range(count))

    def throttle_next(self, count: int, retry_after: int = 1) -> None:
        """The next ``count`` API calls answer 429 with ``parameters.retry_after``."""
        with self._lock:
            self._injected.extend(_too_many_requests(retry_after) for _ in range(count))

    # ----------------------------------------------------------------- the server

    def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request. ``path`` is like ``/bot<token>/sendMessage``, query string allowed."""
        with self._lock:
            self._requests += 1
            try:
                result, description = self._dispatch(method, path, body, headers)
            except _ApiError as error:
                envelope: dict[str, Any] = {
                    "ok": False,
                    "error_code": error.code,
                    "description": error.description,
                }
                if error.parameters:
                    envelope["parameters"] = error.parameters
                return _json_response(error.code, envelope)
            envelope = {"ok": True, "result": result}
            if description:
                envelope["description"] = description
            return _json_response(200, envelope)

    def _dispatch(
        self, http_method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[Any, str | None]:
        split = urlsplit(path)
        match = _PATH.match(split.path)
        if match is None:
            raise _ApiError(404, "Not Found")
        if match["token"] != self.token:
            raise _ApiError(401, "Unauthorized")
        name = _CANONICAL.get(match["method"].lower())
        if name is None:
            raise _ApiError(404, "Not Found")
        payload = _read_parameters(split.query, body, headers)
        self._calls.append((name, copy.deepcopy(payload)))
        if self._injected:
            raise self._injected.popleft()
        params = {key: _as_text(value) for key, value in payload.items()}
        handler: Callable[[dict[str, str]], tuple[Any, str | None]] = getattr(self, f"_api_{name}")
        return handler(params)

    # ----------------------------------------------------------------- methods

    def _api_getMe(self, params: dict[str, str]) -> tuple[Any, str | None]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }, None

    def _api_sendMessage(self, params: dict[str, str]) -> tuple[Any, str | None]:
        chat_id = _parse_chat_id(params.get("chat_id", ""))
        text, entities = _formatted_text(params.get("text", ""), params.get("parse_mode", ""))
        if "entities" in params and not params.get("parse_mode"):
            entities = _parse_json_array(params["entities"], "entities")
        reply_markup = _reply_markup(params["reply_markup"]) if "reply_markup" in params else None
        self._take_send_token()
        if chat_id in self._blocked:
            raise _ApiError(403, _blocked_description(chat_id))
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": _chat(chat_id),
            "date": int(self._wall_time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        self._seq += 1
        self._sent.append({**copy.deepcopy(message), "seq": self._seq})
        return message, None

    def _api_setWebhook(self, params: dict[str, str]) -> tuple[Any, str | None]:
        url = params.get("url", "")
        if not url:
            return self._api_deleteWebhook(params)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _bad_request("bad webhook: Failed to parse webhook URL") from None
        if parts.scheme.lower() != "https":
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not parts.hostname:
            raise _bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if port is not None and port not in _WEBHOOK_PORTS:
            raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token", "")
        if len(secret) > 256:
            raise _bad_request("secret token is too long")
        if not _SECRET_TOKEN.match(secret):
            raise _bad_request("secret token contains unallowed characters")
        max_connections = 40
        if params.get("max_connections"):
            try:
                max_connections = min(100, max(1, int(params["max_connections"])))
            except ValueError:
                max_connections = 40
        webhook: dict[str, Any] = {"url": url, "secret_token": secret, "max_connections": max_connections}
        if "allowed_updates" in params:
            webhook["allowed_updates"] = _parse_json_array(params["allowed_updates"], "allowed_updates")
        already = self._webhook == webhook
        self._webhook = webhook
        return True, "Webhook is already set" if already else "Webhook was set"

    def _api_deleteWebhook(self, params: dict[str, str]) -> tuple[Any, str | None]:
        had = bool(self._webhook)
        self._webhook = {}
        return True, "Webhook was deleted" if had else "Webhook is already deleted"

    def _api_getWebhookInfo(self, params: dict[str, str]) -> tuple[Any, str | None]:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            if "allowed_updates" in self._webhook:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info, None

    def _api_answerCallbackQuery(self, params: dict[str, str]) -> tuple[Any, str | None]:
        if not params.get("callback_query_id", "").strip():
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        return True, None

    # ----------------------------------------------------------------- rate limit

    def _take_send_token(self) -> None:
        """A token bucket of ``rate`` sends a second (burst ``max(1, rate)``), shared by every chat."""
        if self._rate is None:
            return
        now = self._monotonic()
        if self._bucket_at is not None:
            elapsed = max(0.0, now - self._bucket_at)
            self._bucket_tokens = min(self._bucket_capacity, self._bucket_tokens + elapsed * self._rate)
        self._bucket_at = now
        if self._bucket_tokens >= 1.0:
            self._bucket_tokens -= 1.0
            return
        self._throttled += 1
        wait = (1.0 - self._bucket_tokens) / self._rate
        raise _too_many_requests(max(1, math.ceil(wait)))


# --------------------------------------------------------------------- requests


def _read_parameters(query: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
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
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise _bad_request("can't parse JSON object")
        params.update(decoded)
    elif media_type == "application/x-www-form-urlencoded":
        try:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise _bad_request("can't decode form data") from None
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


def _as_text(value: Any) -> str:
    """A parameter as the Bot API server sees it: strings as they are, anything else as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_chat_id(chat_id: int | str) -> int:
    return int(chat_id)


def _parse_chat_id(value: str) -> int:
    value = value.strip()
    if not value:
        raise _bad_request("chat_id is empty")
    try:
        chat_id = int(value)
    except ValueError:
        raise _bad_request("chat not found") from None
    if chat_id == 0:
        raise _bad_request("chat not found")
    return chat_id


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "title": "Supergroup", "type": "supergroup"}
    return {"id": chat_id, "title": "Group", "type": "group"}


def _blocked_description(chat_id: int) -> str:
    if chat_id > 0:
        return "Forbidden: bot was blocked by the user"
    if str(chat_id).startswith("-100"):
        return "Forbidden: bot was kicked from the supergroup chat"
    return "Forbidden: bot was kicked from the group chat"


def _parse_json_array(value: str, name: str) -> list[Any]:
    try:
        decoded = json.loads(value)
    except ValueError:
        raise _bad_request(f"can't parse {name} JSON object") from None
    if not isinstance(decoded, list):
        raise _bad_request(f'field "{name}" must be of type Array')
    return decoded


def _reply_markup(value: str) -> dict[str, Any] | None:
    """Check reply_markup; return it if it is an inline keyboard (Telegram echoes those in the Message)."""
    try:
        markup = json.loads(value)
    except ValueError:
        raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise _bad_request("object expected as reply markup")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    echoed = []
    for row in rows:
        echoed_row = []
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request("InlineKeyboardButton must be an Object")
            if not isinstance(button.get("text"), str):
                raise _bad_request('can\'t find field "text"')
            data = button.get("callback_data")
            if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64):
                raise _bad_request("BUTTON_DATA_INVALID")
            echoed_row.append(button)
        echoed.append(echoed_row)
    return {"inline_keyboard": echoed}


def _json_response(status: int, envelope: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return status, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body


# --------------------------------------------------------------------- text and entities


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _formatted_text(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse the markup as Telegram does, trim the text, check its length. Returns (text, entities)."""
    mode = parse_mode.lower()
    parsers: dict[str, Callable[[str], tuple[str, list[dict[str, Any]]]]] = {
        "html": _parse_html,
        "markdownv2": _parse_markdown_v2,
        "markdown": _parse_markdown,
    }
    if mode and mode not in parsers:
        raise _bad_request("unsupported parse_mode")
    entities: list[dict[str, Any]] = []
    if mode:
        try:
            text, entities = parsers[mode](text)
        except _EntityError as error:
            raise _bad_request(f"can't parse entities: {error}") from None
    text, entities = _trim(text, entities)
    if not text:
        raise _bad_request("message text is empty")
    if _utf16_length(text) > MAX_TEXT_LENGTH:
        raise _bad_request("message is too long")
    return text, entities


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    stripped = text.lstrip(_TRIMMED)
    lead = _utf16_length(text) - _utf16_length(stripped)
    stripped = stripped.rstrip(_TRIMMED)
    length = _utf16_length(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(length, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


class _EntityError(Exception):
    pass


class _Text:
    """A cursor over markup text that reads past its end as NUL, as Telegram's C++ parsers do."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)

    def at(self, index: int) -> str:
        return self.text[index] if index < self.size else "\0"

    def byte_offset(self, index: int) -> int:
        return len(self.text[:index].encode("utf-8", errors="surrogatepass"))


def _is_space(char: str) -> bool:
    return char in " \t\r\n\0\v"


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _entity(kind: str, offset: int, length: int, argument: str = "") -> dict[str, Any]:
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = argument
    elif kind == "pre" and argument:
        entity["language"] = argument
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = argument
    return entity


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


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


def _decode_html_entity(src: _Text, pos: int) -> tuple[str | None, int]:
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
            raise _EntityError(
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


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML style: the supported tags, &lt; &gt; &amp; &quot; and numeric references."""
    src = _Text(text)
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
                utf16 += _utf16_length(decoded)
                i = after
                continue
        if char != "<":
            out.append(char)
            utf16 += _utf16_length(char)
            i += 1
            continue
        begin = i
        at = src.byte_offset(begin)
        i += 1
        if src.at(i) != "/":
            while not _is_space(src.at(i)) and src.at(i) != ">":
                i += 1
            if src.at(i) == "\0":
                raise _EntityError(f"Unclosed start tag at byte offset {at}")
            tag = src.text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise _EntityError(f'Unsupported start tag "{tag}" at byte offset {at}')
            argument = ""
            while src.at(i) != ">":
                while src.at(i) != "\0" and _is_space(src.at(i)):
                    i += 1
                if src.at(i) == ">":
                    break
                name_begin = i
                while not _is_space(src.at(i)) and src.at(i) != "=":
                    i += 1
                name = src.text[name_begin:i]
                if not name:
                    raise _EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
                while src.at(i) != "\0" and _is_space(src.at(i)):
                    i += 1
                if src.at(i) != "=":
                    raise _EntityError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {at}'
                    )
                i += 1
                while src.at(i) != "\0" and _is_space(src.at(i)):
                    i += 1
                if src.at(i) == "\0":
                    raise _EntityError(f'Unclosed start tag "{tag}" at byte offset {at}')
                if src.at(i) not in "'\"":
                    token_begin = i
                    while _is_ascii_alnum(src.at(i)) or src.at(i) in ".-":
                        i += 1
                    value = src.text[token_begin:i].lower()
                    if not _is_space(src.at(i)) and src.at(i) != ">":
                        raise _EntityError(
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
                    raise _EntityError(f"Unclosed start tag at byte offset {at}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise _EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
            nested.append((tag, argument, utf16, len(out)))
            i += 1
            continue
        # an end tag
        if not nested:
            raise _EntityError(f"Unexpected end tag at byte offset {at}")
        while not _is_space(src.at(i)) and src.at(i) != ">":
            i += 1
        end_tag = src.text[begin + 2 : i].lower()
        while _is_space(src.at(i)) and src.at(i) != "\0":
            i += 1
        if src.at(i) != ">":
            raise _EntityError(f"Unclosed end tag at byte offset {at}")
        tag, argument, offset, out_index = nested.pop()
        if end_tag and end_tag != tag:
            raise _EntityError(
                f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{end_tag}>"'
            )
        if utf16 > offset:
            length = utf16 - offset
            last = entities[-1] if entities else None
            same_span = last is not None and last["offset"] == offset and last["length"] == length
            if tag in _HTML_ENTITY_TYPES:
                entities.append(_entity(_HTML_ENTITY_TYPES[tag], offset, length))
            elif tag == "tg-emoji":
                if not argument.isdigit() or int(argument) == 0:
                    raise _EntityError("Invalid custom emoji identifier specified")
                entities.append(_entity("custom_emoji", offset, length, argument))
            elif tag == "a":
                url = argument or "".join(out[out_index:])
                if url:
                    entities.append(_entity("text_link", offset, length, url))
            elif tag == "pre":
                if same_span and last is not None and last["type"] == "code" and last.get("_language"):
                    entities[-1] = _entity("pre", offset, length, last["_language"])
                else:
                    entities.append(_entity("pre", offset, length))
            elif tag == "code":
                if same_span and last is not None and last["type"] == "pre" and argument:
                    entities[-1] = _entity("pre", offset, length, argument)
                else:
                    entities.append({**_entity("code", offset, length), "_language": argument})
        i += 1
    if nested:
        raise _EntityError(f"Can't find end tag corresponding to start tag {nested[-1][0]}")
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), _sorted(entities)


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


def _reserved(char: str) -> _EntityError:
    return _EntityError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _read_md2_url(src: _Text, i: int) -> tuple[str, int]:
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


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2 style, with its rule that every reserved character is escaped."""
    src = _Text(text)
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
            utf16 += _utf16_length(char)
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
                    while not _is_space(src.at(language_end)) and src.at(language_end) != "`":
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
            raise _EntityError(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {top['byte']}")
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
                    raise _EntityError(f"Can't find end of a URL at byte offset {src.byte_offset(url_begin)}")
            if url:
                argument = url
            else:
                skip = True
        elif kind == "custom_emoji":
            if src.at(i + 1) != "(":
                raise _EntityError("Custom emoji entity must contain a tg://emoji URL")
            url_begin = i + 2
            url, i = _read_md2_url(src, url_begin)
            if src.at(i) != ")":
                raise _EntityError(
                    f"Can't find end of a custom emoji URL at byte offset {src.byte_offset(url_begin)}"
                )
            found = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
            if found is None:
                raise _EntityError("Custom emoji URL must have an emoji identifier")
            argument = found[1]
        elif kind == "blockquote":
            have_blockquote = False
            out.append(char)
            utf16 += 1
        if not skip:
            offset = top["offset"]
            kind_out = "pre" if kind == "pre_code" else kind
            entities.append(_entity(kind_out, offset, utf16 - offset, argument))
        nested.pop()
        i += 1
    if have_blockquote and nested and nested[-1]["kind"] == "blockquote":
        top = nested.pop()
        if utf16 > top["offset"]:
            entities.append(_entity("blockquote", top["offset"], utf16 - top["offset"]))
    if nested:
        top = nested[-1]
        raise _EntityError(f"Can't find end of {_MD2_NAMES[top['kind']]} entity at byte offset {top['byte']}")
    return "".join(out), _sorted(entities)


def _parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown style: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    src = _Text(text)
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
            utf16 += _utf16_length(char)
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
            while not _is_space(src.at(language_end)) and src.at(language_end) != "`":
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
            utf16 += _utf16_length(src.at(i))
            i += 1
        if i == src.size:
            at = src.byte_offset(begin)
            raise _EntityError(f"Can't find end of the entity starting at byte offset {at}")
        if utf16 != offset:
            length = utf16 - offset
            if char == "_":
                entities.append(_entity("italic", offset, length))
            elif char == "*":
                entities.append(_entity("bold", offset, length))
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
                    entities.append(_entity("text_link", offset, length, url))
            elif is_pre:
                entities.append(_entity("pre", offset, length, language))
            else:
                entities.append(_entity("code", offset, length))
        if is_pre:
            i += 2
        i += 1
    return "".join(out), _sorted(entities)


# --------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBotApi
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotApi/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status, headers, payload = self.fake.handle(self.command, self.path, body, dict(self.headers.items()))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the fake, not the log
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # concurrent senders would otherwise wait for SYN retries


def serve(fake: FakeBotApi, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``fake`` over HTTP from a daemon thread; returns (server, base_url).

    ``base_url`` takes the place of ``https://api.telegram.org``: POST ``{base_url}/bot<token>/sendMessage``.
    Stop it with ``server.shutdown(); server.server_close()``.
    """
    handler = type("FakeBotApiHandler", (_Handler,), {"fake": fake})
    server = _Server((host, port), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram-bot-api", daemon=True
    )
    thread.start()
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return server, f"http://{shown}:{bound_port}"
