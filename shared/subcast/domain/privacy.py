"""EXPORT and DELETE: a subscriber's data to take away, and erasure on request (GDPR Art. 17, 20).

Pure: the service hands in the data to export; erasure is returned as a
tombstone subscriber plus a flag, and the store removes what it must.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from subcast.domain.commands import Command, Intent
from subcast.domain.messages import render
from subcast.domain.subscriber import Subscriber, SubscriberState

PRIVACY_INTENTS = frozenset({Intent.EXPORT, Intent.DELETE})
#: Room for the JSON in one Telegram message (4,096 UTF-16 units), with margin for the part header.
EXPORT_CHUNK = 3500


def export_messages(subscriber: Subscriber, document: dict[str, Any], brand_name: str) -> tuple[str, ...]:
    """The subscriber's data as JSON, in as many messages as it takes, each marked 'part n/m'."""
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True, default=str)
    chunks = [text[start : start + EXPORT_CHUNK] for start in range(0, len(text), EXPORT_CHUNK)]
    header = render("export.header", subscriber.language, brand=brand_name, parts=len(chunks))
    return (header, *(f"({number}/{len(chunks)})\n{chunk}" for number, chunk in enumerate(chunks, 1)))


def privacy_request(
    command: Command,
    subscriber: Subscriber,
    *,
    now: datetime,
    brand_name: str,
    export: dict[str, Any] | None,
) -> tuple[Subscriber | None, tuple[str, ...], bool]:
    """(changed subscriber, replies, erase?) for EXPORT, DELETE and DELETE CONFIRM."""
    language = subscriber.language
    if command.intent is Intent.EXPORT:
        return None, export_messages(subscriber, export or {}, brand_name), False
    if command.argument.split()[:1] != ["confirm"]:
        return None, (render("delete.confirm_question", language, brand=brand_name),), False
    # Built afresh rather than copied, so a setting added later can never survive erasure.
    tombstone = Subscriber(
        subscriber_id=subscriber.subscriber_id,
        state=SubscriberState.ERASED,
        addresses=(),
        language=subscriber.language,
        created_at=subscriber.created_at,
        state_since=now,
        consent_id=subscriber.consent_id,
        version=subscriber.version,
    )
    return tombstone, (render("delete.done", language, brand=brand_name),), True
