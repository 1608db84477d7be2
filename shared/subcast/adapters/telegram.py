"""Telegram: the webhook's Update format in, the Bot API's sendMessage out.

Wire formats as documented at core.telegram.org/bots/api. Only the fields
subcast uses are modelled; everything else in an Update is accepted and ignored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import urllib3
from pydantic import BaseModel, ConfigDict, Field

from subcast.adapters.channels import (
    DeliveryUncertain,
    PermanentFailure,
    ProviderMisconfigured,
    RateLimited,
    RecipientUnreachable,
    TemporaryFailure,
)
from subcast.domain.conversation import Inbound, InboundKind
from subcast.domain.subscriber import Channel


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TelegramUser(_Lenient):
    id: int
    is_bot: bool = False
    first_name: str = ""
    language_code: str | None = None


class TelegramChat(_Lenient):
    id: int
    type: str


class TelegramMessage(_Lenient):
    message_id: int
    date: int
    chat: TelegramChat
    sender: TelegramUser | None = Field(default=None, alias="from")
    text: str | None = None


class TelegramChatMember(_Lenient):
    status: str
    user: TelegramUser


class TelegramChatMemberUpdated(_Lenient):
    chat: TelegramChat
    sender: TelegramUser = Field(alias="from")
    date: int
    old_chat_member: TelegramChatMember
    new_chat_member: TelegramChatMember


class TelegramUpdate(_Lenient):
    update_id: int
    message: TelegramMessage | None = None
    my_chat_member: TelegramChatMemberUpdated | None = None


def inbound_from_update(update: TelegramUpdate) -> Inbound | None:
    """The update as an Inbound event, or None for updates subcast does not act on."""
    message_id = str(update.update_id)
    if update.message is not None and update.message.chat.type == "private":
        message = update.message
        return Inbound(
            kind=InboundKind.MESSAGE,
            channel=Channel.TELEGRAM,
            address=str(message.chat.id),
            message_id=message_id,
            received_at=datetime.fromtimestamp(message.date, UTC),
            text=message.text or "",
            client_language=message.sender.language_code if message.sender else None,
        )
    member = update.my_chat_member
    if member is not None and member.chat.type == "private":
        status = member.new_chat_member.status
        if status not in ("kicked", "member"):
            return None
        return Inbound(
            kind=InboundKind.BLOCKED if status == "kicked" else InboundKind.UNBLOCKED,
            channel=Channel.TELEGRAM,
            address=str(member.chat.id),
            message_id=message_id,
            received_at=datetime.fromtimestamp(member.date, UTC),
        )
    return None


_UNREACHABLE_HINTS = (
    "bot was blocked by the user",
    "user is deactivated",
    "chat not found",
    "bot was kicked",
    "bot can't initiate conversation",
    "have no rights to send",
)


class TelegramBot:
    """A Bot API client for one bot token, sharing one connection pool per process."""

    channel = Channel.TELEGRAM

    def __init__(self, api_base: str, token: str, http: urllib3.PoolManager | None = None) -> None:
        self._url = f"{api_base.rstrip('/')}/bot{token}"
        self._http = http or _pool()

    @staticmethod
    @cache
    def username_of(api_base: str, token: str) -> str:
        """The bot's username (getMe), once per process and token."""
        me = TelegramBot(api_base, token)._call("getMe", {})
        return str(me["username"])

    def send_text(self, address: str, text: str, parse_mode: str | None = None) -> str:
        payload = {"chat_id": address, "text": text}
        if parse_mode:
            payload["parse_mode"] = parse_mode
        result = self._call("sendMessage", payload)
        return str(result["message_id"])

    def _call(self, method: str, payload: dict[str, Any]) -> Any:
        try:
            response = self._http.request(
                "POST",
                f"{self._url}/{method}",
                body=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json"},
                timeout=urllib3.Timeout(connect=3.0, read=10.0),
                retries=False,
            )
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as error:
            # Never put the URL in the message: it contains the bot token.
            raise TemporaryFailure(f"Telegram {method}: {type(error).__name__}") from None
        except urllib3.exceptions.HTTPError as error:
            # The request may have reached Telegram (read timeout, connection dropped mid-answer).
            raise DeliveryUncertain(f"Telegram {method}: {type(error).__name__}") from None
        try:
            answer = json.loads(response.data or b"{}")
        except ValueError:
            answer = {}
        if response.status == 200 and answer.get("ok"):
            return answer.get("result")
        description = str(answer.get("description", ""))
        if response.status == 429:
            retry_after = (answer.get("parameters") or {}).get("retry_after") or response.headers.get(
                "Retry-After"
            )
            raise RateLimited(float(retry_after or 1))
        if response.status >= 500:
            raise TemporaryFailure(f"Telegram {method}: HTTP {response.status}")
        if response.status in (401, 404):
            raise ProviderMisconfigured(
                f"Telegram {method}: HTTP {response.status} (check the bot token and API base)"
            )
        if response.status in (400, 403) and any(hint in description.lower() for hint in _UNREACHABLE_HINTS):
            raise RecipientUnreachable(description)
        raise PermanentFailure(f"Telegram {method}: HTTP {response.status} {description}")


_POOL: urllib3.PoolManager | None = None


def _pool() -> urllib3.PoolManager:
    global _POOL
    if _POOL is None:
        _POOL = urllib3.PoolManager(maxsize=16)
    return _POOL
