"""``FakeBotApi``: the Bot API methods, their errors, the test hooks and the rate limit."""

from __future__ import annotations

import copy
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError, bad_request, too_many_requests
from .protocol import (
    as_chat_id,
    as_text,
    blocked_description,
    chat_for,
    check_reply_markup,
    json_response,
    parse_chat_id,
    parse_json_array,
    read_parameters,
)
from .text import formatted_text

_PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[^/]*)$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
_WEBHOOK_PORTS = (80, 88, 443, 8443)

_METHODS = ("getMe", "sendMessage", "setWebhook", "deleteWebhook", "getWebhookInfo", "answerCallbackQuery")
_CANONICAL = {name.lower(): name for name in _METHODS}


class FakeBotApi:
    """A Telegram Bot API server for one bot, in memory. Every public method is thread-safe."""

    base_url: str = ""  # where it is served ("http://127.0.0.1:<port>"), set by ``running``

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
        self._injected: deque[ApiError] = deque()
        self._webhook: dict[str, Any] = {}

    # ----------------------------------------------------------------- test hooks

    @property
    def request_count(self) -> int:
        """Every HTTP request received, whatever it was answered."""
        with self._lock:
            return self._requests

    @property
    def sent_count(self) -> int:
        """Messages sent so far (``len(sent())`` without copying them)."""
        with self._lock:
            return len(self._sent)

    @property
    def rate_limit_per_second(self) -> float | None:
        return self._rate

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
        wanted = None if chat_id is None else as_chat_id(chat_id)
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
            self._blocked.add(as_chat_id(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(as_chat_id(chat_id))

    def is_blocked(self, chat_id: int | str) -> bool:
        with self._lock:
            return as_chat_id(chat_id) in self._blocked

    def fail_next(self, count: int, status: int = 500, description: str = "Internal Server Error") -> None:
        """The next ``count`` API calls (whatever the method) fail with ``status`` and ``description``."""
        with self._lock:
            self._injected.extend(ApiError(status, description) for _ in range(count))

    def throttle_next(self, count: int, retry_after: int = 1) -> None:
        """The next ``count`` API calls answer 429 with ``parameters.retry_after``."""
        with self._lock:
            self._injected.extend(too_many_requests(retry_after) for _ in range(count))

    # ----------------------------------------------------------------- the server

    def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request. ``path`` is like ``/bot<token>/sendMessage``, query string allowed."""
        with self._lock:
            self._requests += 1
            try:
                result, description = self._dispatch(method, path, body, headers)
            except ApiError as error:
                envelope: dict[str, Any] = {
                    "ok": False,
                    "error_code": error.code,
                    "description": error.description,
                }
                if error.parameters:
                    envelope["parameters"] = error.parameters
                return json_response(error.code, envelope)
            envelope = {"ok": True, "result": result}
            if description:
                envelope["description"] = description
            return json_response(200, envelope)

    def _dispatch(
        self, http_method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[Any, str | None]:
        split = urlsplit(path)
        match = _PATH.match(split.path)
        if match is None:
            raise ApiError(404, "Not Found")
        if match["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        name = _CANONICAL.get(match["method"].lower())
        if name is None:
            raise ApiError(404, "Not Found")
        payload = read_parameters(split.query, body, headers)
        self._calls.append((name, copy.deepcopy(payload)))
        if self._injected:
            raise self._injected.popleft()
        params = {key: as_text(value) for key, value in payload.items()}
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
        chat_id = parse_chat_id(params.get("chat_id", ""))
        text, entities = formatted_text(params.get("text", ""), params.get("parse_mode", ""))
        if "entities" in params and not params.get("parse_mode"):
            entities = parse_json_array(params["entities"], "entities")
        reply_markup = check_reply_markup(params["reply_markup"]) if "reply_markup" in params else None
        self._take_send_token()
        if chat_id in self._blocked:
            raise ApiError(403, blocked_description(chat_id))
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": chat_for(chat_id),
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
            raise bad_request("bad webhook: Failed to parse webhook URL") from None
        if parts.scheme.lower() != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if port is not None and port not in _WEBHOOK_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token", "")
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET_TOKEN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = 40
        if params.get("max_connections"):
            try:
                max_connections = min(100, max(1, int(params["max_connections"])))
            except ValueError:
                max_connections = 40
        webhook: dict[str, Any] = {"url": url, "secret_token": secret, "max_connections": max_connections}
        if "allowed_updates" in params:
            webhook["allowed_updates"] = parse_json_array(params["allowed_updates"], "allowed_updates")
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
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
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
        raise too_many_requests(max(1, math.ceil(wait)))
