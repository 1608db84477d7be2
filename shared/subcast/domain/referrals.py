"""The referral programme: a personal invitation link per subscriber, and who joined through it.

A code is derived from the subscriber id with a keyed hash, so it needs no
lookup table to create and cannot be guessed from an id. It travels in the
Telegram deep link (``/start r-<code>``, beside an optional ``t-<topic>``);
a person who confirms their subscription after arriving through it is
credited to the code, once, whatever they do later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

REFERRAL_PREFIX = "r-"
CODE_LENGTH = 10
_CODE = re.compile(rf"^[a-z2-7]{{{CODE_LENGTH}}}$")


@dataclass(frozen=True)
class Referrals:
    """What REFER and STATUS show: the personal link and how many subscribed through it."""

    link: str
    joined: int


def referral_code(subscriber_id: str, key: bytes) -> str:
    digest = hmac.new(key, f"referral:{subscriber_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:CODE_LENGTH]


def referral_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={REFERRAL_PREFIX}{code}"


def referral_in(source: str | None) -> str | None:
    """The referral code in a consent source (``deep_link:r-<code>_t-sport``), if it carries one."""
    payload = (source or "").removeprefix("deep_link:")
    for part in payload.split("_"):
        code = part.removeprefix(REFERRAL_PREFIX)
        if part.startswith(REFERRAL_PREFIX) and _CODE.fullmatch(code):
            return code
    return None
