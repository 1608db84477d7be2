"""Subscribers, their channel addresses and their consent: the data the state machine works on."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from subcast.domain.messages import Language
from subcast.domain.preferences import Alert, Digest, Filters, FrequencyCap, QuietHours

#: Until a subscriber names a timezone (TZ), it is guessed from their language.
DEFAULT_ZONES = {Language.DE: "Europe/Berlin"}

#: Active subscribers are spread over this many audience shards so fan-out can
#: page them in parallel. Changing it re-shards every subscriber: treat as fixed.
AUDIENCE_SHARDS = 16


class SubscriberState(StrEnum):
    PENDING = "pending"  # opt-in asked, no answer yet
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    ERASED = "erased"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    MESSENGER = "messenger"


class ChannelAddress(BaseModel):
    """Where one person can be reached on one channel, and whether they can be right now."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    address: str  # Telegram chat id, phone number (E.164) or page-scoped id
    reachable: bool = True


class Subscriber(BaseModel):
    """One person, across channels; settings apply to every channel."""

    model_config = ConfigDict(frozen=True)

    subscriber_id: str
    state: SubscriberState
    addresses: tuple[ChannelAddress, ...]  # the first is where broadcasts go
    language: Language
    topics: tuple[str, ...] | None = None  # None: every topic (until they choose)
    timezone: str | None = None  # IANA name; None: guessed from the language (see ``zone``)
    paused_until: datetime | None = None  # while paused: when the pause ends by itself
    quiet_hours: QuietHours | None = None  # nothing arrives in this local window; held until it ends
    digest: Digest | None = None  # None: snippets one by one
    cap: FrequencyCap | None = None  # at most this many broadcast messages per local day or week
    filters: Filters = Filters()
    alerts: tuple[Alert, ...] = ()
    last_hint_at: datetime | None = None  # the "send HELP" hint is rate-limited
    created_at: datetime
    state_since: datetime
    consent_id: str | None = None  # the consent record of the current subscription
    version: int = 0  # optimistic locking: every write checks and bumps it

    @property
    def primary(self) -> ChannelAddress:
        return self.addresses[0]

    @property
    def zone(self) -> ZoneInfo:
        """The subscriber's timezone: their choice, else a guess from their language."""
        return ZoneInfo(self.timezone or DEFAULT_ZONES.get(self.language, "UTC"))

    @property
    def receives_broadcasts(self) -> bool:
        return self.state is SubscriberState.ACTIVE and self.primary.reachable

    def with_reachability(self, channel: Channel, address: str, reachable: bool) -> Subscriber:
        addresses = tuple(
            item.model_copy(update={"reachable": reachable})
            if (item.channel, item.address) == (channel, address)
            else item
            for item in self.addresses
        )
        return self.model_copy(update={"addresses": addresses})


class ConsentRecord(BaseModel):
    """Proof of one opt-in: who, where, when, what they were shown, how they confirmed, when they left.

    Kept after erasure: it holds only the hashed address, never the address itself.
    """

    model_config = ConfigDict(frozen=True)

    consent_id: str
    subscriber_id: str
    channel: Channel
    address_hash: str
    source: str  # "direct", or "deep_link:<payload>"
    requested_at: datetime
    request_message_id: str
    optin_text_version: str  # "<catalogue key>@<language>#<sha256 of the text shown>"
    optin_text: str  # the exact text shown
    confirmed_at: datetime | None = None
    confirm_message_id: str | None = None
    withdrawn_at: datetime | None = None
    withdraw_message_id: str | None = None


class InboxEntry(BaseModel):
    """A message kept for the publisher: FEEDBACK, or something subcast did not understand."""

    model_config = ConfigDict(frozen=True)

    subscriber_id: str
    kind: str  # "feedback" | "unknown"
    text: str
    received_at: datetime
    message_id: str


def audience_shard(subscriber_id: str) -> str:
    """The fan-out shard of a subscriber: stable, evenly spread, two digits."""
    digest = hashlib.sha256(subscriber_id.encode()).digest()
    return f"{int.from_bytes(digest[:4], 'big') % AUDIENCE_SHARDS:02d}"


def text_version(key: str, language: Language, text: str) -> str:
    """Identifies exactly which text a person was shown, so consent can be proven later."""
    return f"{key}@{language.value}#{hashlib.sha256(text.encode()).hexdigest()[:16]}"
