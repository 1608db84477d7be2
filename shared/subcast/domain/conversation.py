"""What subcast does with one message from a person: the subscriber state machine.

``decide`` is pure: given who sent what (and what we know of them), it returns
the new subscriber state, the consent record to write and the replies to
send. The service persists all of it at once, exactly once per provider
message id.

    (none) --START--> pending --YES--> active --STOP--> cancelled --START--> pending
                         \\--STOP--> cancelled
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from subcast.domain.commands import Command, Intent
from subcast.domain.messages import Language, language_from_client, render
from subcast.domain.privacy import PRIVACY_INTENTS, privacy_request
from subcast.domain.referrals import Referrals, referral_in
from subcast.domain.settings import SETTINGS_INTENTS, change_setting, status_text, topics_shorthand
from subcast.domain.subscriber import (
    Channel,
    ChannelAddress,
    ConsentRecord,
    InboxEntry,
    Subscriber,
    SubscriberState,
    text_version,
)


class InboundKind(StrEnum):
    MESSAGE = "message"  # the person wrote something
    BLOCKED = "blocked"  # the person blocked the bot / left the chat
    UNBLOCKED = "unblocked"  # the person came back


@dataclass(frozen=True)
class Inbound:
    """One thing a person did in their messenger, normalised across providers."""

    kind: InboundKind
    channel: Channel
    address: str
    message_id: str  # the provider's id: update_id, wamid, MessageSid ...
    received_at: datetime
    text: str = ""
    client_language: str | None = None


@dataclass(frozen=True)
class Brand:
    name: str
    description: str


@dataclass(frozen=True)
class Outcome:
    subscriber: Subscriber | None = None  # the state to persist; None: nothing changes
    consent: ConsentRecord | None = None  # the consent record to create or replace
    replies: tuple[str, ...] = field(default=())
    inbox: InboxEntry | None = None  # kept for the publisher
    erase: bool = False  # remove every personal item (DELETE CONFIRM); ``subscriber`` is the tombstone
    credit_referral: str | None = None  # the referral code this confirmation is credited to


#: Settings a returning subscriber (START after STOP) gets back.
KEPT_ON_RETURN = ("timezone", "quiet_hours", "digest", "cap", "filters", "alerts")
#: At most one "send HELP" hint per subscriber in this time.
HINT_INTERVAL = timedelta(hours=1)
MAX_INBOX_TEXT = 2000


def decide(
    inbound: Inbound,
    command: Command,
    subscriber: Subscriber | None,
    consent: ConsentRecord | None,
    *,
    now: datetime,
    brand: Brand,
    address_hash: str,
    new_id: Callable[[], str],
    known_topics: dict[str, str] | None = None,
    default_topics: tuple[str, ...] | None = None,
    export: dict[str, Any] | None = None,
    referrals: Referrals | None = None,
) -> Outcome:
    """The effect of one inbound event on one (possibly unknown) person at the moment ``now``."""
    if inbound.kind is not InboundKind.MESSAGE:
        return _reachability(inbound, subscriber)
    language = subscriber.language if subscriber else _client_language(inbound)
    # Any message proves the person can be reached again.
    if subscriber and not _reachable(subscriber, inbound):
        subscriber = subscriber.with_reachability(inbound.channel, inbound.address, True)
        reached_again: Subscriber | None = subscriber
    else:
        reached_again = None

    def say(key: str, **params: object) -> str:
        return render(key, language, brand=brand.name, description=brand.description, **params)

    # "+sport -tech" alone is TOPICS when the terms name topics; only here are the topics known.
    command = topics_shorthand(command, subscriber.topics if subscriber else None, known_topics or {})
    intent = command.intent
    state = subscriber.state if subscriber else None

    if intent is Intent.STOP:
        if subscriber is None or state in (SubscriberState.CANCELLED, SubscriberState.ERASED):
            return Outcome(subscriber=reached_again, replies=(say("stop.not_subscribed"),))
        withdrawn = (
            consent.model_copy(update={"withdrawn_at": now, "withdraw_message_id": inbound.message_id})
            if consent and consent.withdrawn_at is None
            else None
        )
        cancelled = subscriber.model_copy(update={"state": SubscriberState.CANCELLED, "state_since": now})
        return Outcome(subscriber=cancelled, consent=withdrawn, replies=(say("stop.done"),))

    if intent is Intent.SUBSCRIBE:
        if state in (SubscriberState.ACTIVE, SubscriberState.PAUSED):
            return Outcome(subscriber=reached_again, replies=(say("subscribe.already"),))
        if state is SubscriberState.PENDING and consent is not None and consent.withdrawn_at is None:
            return Outcome(subscriber=reached_again, replies=(consent.optin_text,))
        question = say("optin.question")
        subscriber_id = subscriber.subscriber_id if subscriber else new_id()
        record = ConsentRecord(
            consent_id=new_id(),
            subscriber_id=subscriber_id,
            channel=inbound.channel,
            address_hash=address_hash,
            source=f"deep_link:{command.payload}" if command.payload else "direct",
            requested_at=now,
            request_message_id=inbound.message_id,
            optin_text_version=text_version("optin.question", language, question),
            optin_text=question,
        )
        pending = Subscriber(
            subscriber_id=subscriber_id,
            state=SubscriberState.PENDING,
            addresses=subscriber.addresses
            if subscriber
            else (ChannelAddress(channel=inbound.channel, address=inbound.address),),
            language=language,
            topics=subscriber.topics
            if subscriber
            else _topics_from_payload(command.payload, known_topics) or default_topics,
            created_at=subscriber.created_at if subscriber else now,
            state_since=now,
            consent_id=record.consent_id,
            version=subscriber.version if subscriber else 0,
            # Someone coming back finds the settings they left with (STOP keeps them; DELETE does not).
            **({name: getattr(subscriber, name) for name in KEPT_ON_RETURN} if subscriber else {}),
        )
        return Outcome(subscriber=pending, consent=record, replies=(question,))

    if intent is Intent.CONFIRM:
        if state is SubscriberState.PENDING and subscriber and consent and consent.withdrawn_at is None:
            confirmed = consent.model_copy(
                update={"confirmed_at": now, "confirm_message_id": inbound.message_id}
            )
            active = subscriber.model_copy(update={"state": SubscriberState.ACTIVE, "state_since": now})
            return Outcome(
                subscriber=active,
                consent=confirmed,
                replies=(say("optin.welcome"),),
                credit_referral=referral_in(consent.source),
            )
        if state in (SubscriberState.ACTIVE, SubscriberState.PAUSED):
            return Outcome(subscriber=reached_again, replies=(say("subscribe.already"),))
        return Outcome(subscriber=reached_again, replies=(say("optin.nothing_to_confirm"),))

    if intent is Intent.STATUS:
        if subscriber is None or state is SubscriberState.ERASED:
            return Outcome(replies=(say("status.not_subscribed"),))
        return Outcome(
            subscriber=reached_again,
            replies=(status_text(subscriber, brand.name, known_topics or {}, referrals),),
        )

    if intent in SETTINGS_INTENTS:
        if subscriber is None or state in (SubscriberState.CANCELLED, SubscriberState.ERASED):
            return Outcome(subscriber=reached_again, replies=(say("settings.not_subscribed"),))
        changed, reply = change_setting(
            command, subscriber, now=now, brand_name=brand.name, known_topics=known_topics or {}
        )
        return Outcome(subscriber=changed or reached_again, replies=(reply,))

    if intent is Intent.HELP:
        return Outcome(subscriber=reached_again, replies=(say("help.body"),))
    if intent in PRIVACY_INTENTS:
        if subscriber is None or state is SubscriberState.ERASED:
            return Outcome(replies=(say("status.not_subscribed"),))
        changed, replies, erase = privacy_request(
            command, subscriber, now=now, brand_name=brand.name, export=export
        )
        return Outcome(subscriber=changed or reached_again, replies=replies, erase=erase)
    if intent is Intent.FEEDBACK:
        text = command.argument.strip()
        if not text:
            return Outcome(subscriber=reached_again, replies=(say("feedback.empty"),))
        if subscriber is None or state is SubscriberState.ERASED:
            return Outcome(replies=(say("feedback.thanks"),))  # nothing kept of a stranger
        entry = InboxEntry(
            subscriber_id=subscriber.subscriber_id,
            kind="feedback",
            text=text[:MAX_INBOX_TEXT],
            received_at=now,
            message_id=inbound.message_id,
        )
        return Outcome(subscriber=reached_again, replies=(say("feedback.thanks"),), inbox=entry)
    if intent is Intent.UNKNOWN:
        if subscriber is None or state is SubscriberState.ERASED:
            return Outcome(replies=(say("unknown.hint"),))
        entry = InboxEntry(
            subscriber_id=subscriber.subscriber_id,
            kind="unknown",
            text=inbound.text[:MAX_INBOX_TEXT],
            received_at=now,
            message_id=inbound.message_id,
        )
        last = subscriber.last_hint_at
        if last is not None and now - last < HINT_INTERVAL:
            return Outcome(subscriber=reached_again, inbox=entry)  # kept, but no second hint this hour
        hinted = subscriber.model_copy(update={"last_hint_at": now})
        return Outcome(subscriber=hinted, replies=(say("unknown.hint"),), inbox=entry)
    if intent is Intent.REFER:
        subscribed = state in (SubscriberState.ACTIVE, SubscriberState.PAUSED)
        if not subscribed or referrals is None:
            return Outcome(subscriber=reached_again, replies=(say("refer.not_subscribed"),))
        return Outcome(
            subscriber=reached_again,
            replies=(say("refer.link", link=referrals.link, joined=referrals.joined),),
        )
    if intent is Intent.UPGRADE:
        return Outcome(subscriber=reached_again, replies=(say("upgrade.no_plan"),))
    return Outcome(subscriber=reached_again, replies=(say("command.not_yet"),))


def _reachability(inbound: Inbound, subscriber: Subscriber | None) -> Outcome:
    # Blocking is not leaving: every setting is kept and nothing is deleted,
    # we only stop trying until the person comes back. No reply: they cannot read it.
    if subscriber is None:
        return Outcome()
    reachable = inbound.kind is InboundKind.UNBLOCKED
    if _reachable(subscriber, inbound) == reachable:
        return Outcome()
    return Outcome(subscriber=subscriber.with_reachability(inbound.channel, inbound.address, reachable))


def _reachable(subscriber: Subscriber, inbound: Inbound) -> bool:
    return all(
        item.reachable
        for item in subscriber.addresses
        if (item.channel, item.address) == (inbound.channel, inbound.address)
    )


def _client_language(inbound: Inbound) -> Language:
    return language_from_client(inbound.client_language)


def _topics_from_payload(payload: str | None, known_topics: dict[str, str] | None) -> tuple[str, ...] | None:
    """Deep-link payload segments ``t-<topic>`` choose topics (``r-<code>`` is a referral, see
    ``referrals``); a topic the publisher does not offer is ignored when the offer is known."""
    if not payload:
        return None
    topics = tuple(part[2:] for part in payload.split("_") if part.startswith("t-") and len(part) > 2)
    if known_topics:
        topics = tuple(topic for topic in topics if topic in known_topics)
    return topics or None
