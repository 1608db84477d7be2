"""Accept a messenger webhook: verify it, normalise it, queue it per person, answer fast."""

from __future__ import annotations

import hmac
from enum import StrEnum

from pydantic import ValidationError

from subcast.adapters.queues import CommandQueue
from subcast.adapters.telegram import TelegramUpdate, inbound_from_update

#: Telegram updates are a few KB; anything this large is not one.
MAX_WEBHOOK_BYTES = 256 * 1024


class WebhookRejected(Exception):
    """The caller's fault: answered with ``status``, nothing is queued."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class WebhookResult(StrEnum):
    QUEUED = "queued"
    IGNORED = "ignored"  # valid, but nothing subcast acts on (answered 200 so Telegram stops resending)


def accept_telegram_update(
    body: bytes, secret_header: str | None, *, expected_secret: str, queue: CommandQueue
) -> WebhookResult:
    """Verify the secret token in constant time, parse the Update and queue it for the commands function."""
    if not secret_header or not hmac.compare_digest(secret_header.encode(), expected_secret.encode()):
        raise WebhookRejected(401, "unauthorized", "missing or wrong X-Telegram-Bot-Api-Secret-Token")
    if len(body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected(413, "too_large", f"an update is at most {MAX_WEBHOOK_BYTES} bytes")
    try:
        update = TelegramUpdate.model_validate_json(body)
    except ValidationError as error:
        # Only the location of the problem, never the input (it may hold personal data).
        where = ", ".join(".".join(str(part) for part in issue["loc"]) or "body" for issue in error.errors())
        raise WebhookRejected(400, "malformed_update", f"not a Telegram Update: check {where}") from None
    inbound = inbound_from_update(update)
    if inbound is None:
        return WebhookResult.IGNORED
    queue.send(inbound)
    return WebhookResult.QUEUED
