"""Telegram Update JSON as Telegram sends it to a webhook (core.telegram.org/bots/api#update)."""

from __future__ import annotations

import json
import time
from typing import Any


def message_update(update_id: int, chat_id: int, text: str, language_code: str = "en") -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Ann", "language_code": language_code}
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def member_update(update_id: int, chat_id: int, status: str) -> dict[str, Any]:
    """my_chat_member: the person blocked ("kicked") or restarted ("member") the bot."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Ann"}
    bot = {"id": 7000000001, "is_bot": True, "first_name": "subcast", "username": "subcast_bot"}
    old_status, new_status = ("member", "kicked") if status == "kicked" else ("kicked", "member")
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": person,
            "date": int(time.time()),
            "old_chat_member": {"status": old_status, "user": bot},
            "new_chat_member": {"status": new_status, "user": bot, "until_date": 0},
        },
    }


def body(update: dict[str, Any]) -> bytes:
    return json.dumps(update).encode()
