"""Adapters built once per process (cold start) and shared by every invocation."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from subcast.adapters.audience import AudienceReader
from subcast.adapters.aws import client
from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.held import HeldStore
from subcast.adapters.links import LinkStore
from subcast.adapters.listing import SubscriberListing
from subcast.adapters.pacing import ChatSpacing, SharedRateLimiter
from subcast.adapters.publishing import PublishingStore
from subcast.adapters.queues import CommandQueue, DeliveryQueue, FanoutQueue
from subcast.adapters.referrals import ReferralStore
from subcast.adapters.subscribers import SubscriberStore
from subcast.adapters.telegram import TelegramBot
from subcast.config import secret, settings
from subcast.domain.conversation import Brand
from subcast.services.referrals import ReferralProgramme


@cache
def subscriber_store() -> SubscriberStore:
    return SubscriberStore(settings().table_name)


@cache
def broadcast_store() -> BroadcastStore:
    return BroadcastStore(settings().table_name)


@cache
def held_store() -> HeldStore:
    return HeldStore(settings().table_name)


@cache
def link_store() -> LinkStore:
    return LinkStore(settings().table_name)


@cache
def publishing_store() -> PublishingStore:
    return PublishingStore(settings().table_name)


@cache
def subscriber_listing() -> SubscriberListing:
    return SubscriberListing(settings().table_name)


@cache
def audience_reader() -> AudienceReader:
    return AudienceReader(settings().table_name)


@cache
def command_queue() -> CommandQueue:
    return CommandQueue(settings().commands_queue_url, address_hash_key())


@cache
def fanout_queue() -> FanoutQueue:
    return FanoutQueue(settings().fanout_queue_url)


@cache
def delivery_queue() -> DeliveryQueue:
    return DeliveryQueue(settings().delivery_queue_url)


@cache
def referral_programme() -> ReferralProgramme:
    return ReferralProgramme(ReferralStore(settings().table_name), address_hash_key(), bot_username)


def bot_username() -> str:
    """The bot's @username for invitation links: asked of Telegram once per process (getMe)."""
    current = settings()
    return TelegramBot.username_of(current.telegram_api_base, secret("telegram_bot_token"))


def telegram_bot() -> TelegramBot:
    """Not cached here: ``secret`` caches the token for five minutes, so a rotated one is picked up."""
    return TelegramBot(settings().telegram_api_base, secret("telegram_bot_token"))


@cache
def address_hash_key() -> bytes:
    return secret("address_hash_key").encode()


def hash_address(channel: str, address: str) -> str:
    """The keyed hash that stands for an address in consent and suppression records."""
    return hmac.new(address_hash_key(), f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()


def telegram_rate() -> SharedRateLimiter:
    """The bot's send schedule, shared through the table by every sender instance.

    Not cached here: each sender instance keeps its own (the handler module caches it).
    """
    current = settings()
    return SharedRateLimiter(
        client("dynamodb"),
        current.table_name,
        "telegram",
        secret("telegram_bot_token"),
        current.telegram_messages_per_second,
    )


def chat_spacing() -> ChatSpacing:
    return ChatSpacing(settings().telegram_seconds_per_chat)


def brand() -> Brand:
    current = settings()
    return Brand(name=current.brand_name, description=current.brand_description)


def reset() -> None:
    """Forget every built adapter and the settings (tests switch environments between cases)."""
    from subcast.adapters.aws import reset_clients

    for factory in (
        subscriber_store,
        broadcast_store,
        held_store,
        link_store,
        publishing_store,
        subscriber_listing,
        audience_reader,
        command_queue,
        fanout_queue,
        delivery_queue,
        address_hash_key,
        referral_programme,
        settings,
    ):
        factory.cache_clear()
    reset_clients()
