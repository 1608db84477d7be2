"""Apply one message from a person: state change, consent record and replies, once per provider id."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from aws_lambda_powertools import Logger

from subcast.adapters.channels import (
    DeliveryUncertain,
    MessengerChannel,
    PermanentFailure,
    RateLimited,
    RecipientUnreachable,
    TemporaryFailure,
)
from subcast.adapters.subscribers import AlreadyApplied, OutboxReply, StaleSubscriber, SubscriberStore
from subcast.clock import now
from subcast.domain.commands import Command, Intent, parse_command
from subcast.domain.conversation import Brand, Inbound, InboundKind, decide
from subcast.domain.messages import language_from_client
from subcast.domain.topics import Topic, default_topics, topic_names
from subcast.services.referrals import ReferralProgramme

logger = Logger(child=True)
MAX_ATTEMPTS = 5
#: Topics are read only for the commands that show, change or start with them.
_TOPIC_INTENTS = frozenset({Intent.TOPICS, Intent.STATUS, Intent.ALERT, Intent.SUBSCRIBE})


class RepliesPending(Exception):
    """The message is applied, but its replies could not be sent yet; they stay in the outbox."""


def new_id() -> str:
    return secrets.token_hex(10)


def handle_inbound(
    inbound: Inbound,
    *,
    store: SubscriberStore,
    messenger: MessengerChannel,
    brand: Brand,
    address_hash: str,
    topics: Callable[[], list[Topic]] = list,
    referrals: ReferralProgramme | None = None,
) -> None:
    """Apply ``inbound`` exactly once and make sure its replies go out.

    The state change, the consent record and the replies (an outbox on the
    inbound marker) are written in one transaction, conditional on the
    provider's message id being new. A redelivery therefore changes nothing and
    only sends replies that a crash left unsent.
    """
    command = parse_command(inbound.text) if inbound.kind is InboundKind.MESSAGE else Command(Intent.UNKNOWN)
    # Signed terms alone ("+sport") are a TOPICS change only if they name topics: read those too.
    needs_topics = command.intent in _TOPIC_INTENTS or bool(command.signed_terms)
    all_topics = topics() if needs_topics else []
    for _attempt in range(MAX_ATTEMPTS):
        subscriber, consent = store.find_by_address(inbound.channel, inbound.address)
        language = subscriber.language if subscriber else language_from_client(inbound.client_language)
        known_topics = topic_names(all_topics, language)
        export = store.export_document(subscriber) if subscriber and command.intent is Intent.EXPORT else None
        progress = (
            referrals.progress(subscriber.subscriber_id)
            if referrals and subscriber and command.intent in (Intent.REFER, Intent.STATUS, Intent.EXPORT)
            else None
        )
        if export is not None and progress is not None:
            export["referrals"] = {"link": progress.link, "joined": progress.joined}
        outcome = decide(
            inbound,
            command,
            subscriber,
            consent,
            now=now(),
            brand=brand,
            address_hash=address_hash,
            new_id=new_id,
            known_topics=known_topics,
            default_topics=default_topics(all_topics),
            export=export,
            referrals=progress,
        )
        # Before the transaction (both idempotent, so a crash in between is redone), but never for a
        # redelivered DELETE CONFIRM: by now it could erase a subscription made after it.
        if outcome.erase and subscriber is not None and store.marker(inbound) is None:
            store.erase_personal_items(subscriber.subscriber_id)
            if referrals is not None:
                referrals.forget(subscriber.subscriber_id)
        replies = tuple(OutboxReply(inbound.channel, inbound.address, text) for text in outcome.replies)
        try:
            store.apply(inbound, outcome, subscriber, replies, address_hash)
        except AlreadyApplied:
            logger.info(
                "message applied before; finishing its replies", extra={"intent": command.intent.value}
            )
            marker = store.marker(inbound)
            if marker is not None:
                _send_replies(inbound, marker.outbox, marker.subscriber_id, store=store, messenger=messenger)
            return
        except StaleSubscriber:
            continue
        logger.info(
            "applied",
            extra={
                "intent": command.intent.value,
                "state": outcome.subscriber.state.value if outcome.subscriber else None,
            },
        )
        owner = outcome.subscriber or subscriber
        subscriber_id = owner.subscriber_id if owner else None
        _send_replies(inbound, replies, subscriber_id, store=store, messenger=messenger)
        return
    raise StaleSubscriber(f"subscriber kept changing over {MAX_ATTEMPTS} attempts")


def _send_replies(
    inbound: Inbound,
    replies: tuple[OutboxReply, ...],
    subscriber_id: str | None,
    *,
    store: SubscriberStore,
    messenger: MessengerChannel,
) -> None:
    """Send the outbox; if the provider cannot take it now, RepliesPending keeps it for a redelivery."""
    for reply in replies:
        try:
            messenger.send_text(reply.address, reply.text)
        except (RateLimited, TemporaryFailure) as error:
            # ProviderMisconfigured lands here too: the outbox waits until an operator fixes it.
            raise RepliesPending(str(error)) from None
        except DeliveryUncertain:
            logger.warning("no answer to a reply; not resent, to never send twice")
        except RecipientUnreachable:
            logger.info("reply not delivered: recipient unreachable")
            if subscriber_id:
                store.set_reachable(subscriber_id, reply.channel, reply.address, False)
            break
        except PermanentFailure as error:
            logger.error("reply rejected by the provider", extra={"error": str(error)})
    if replies:
        store.replies_sent(inbound, now())
