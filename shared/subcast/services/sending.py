"""How messages are sent: one at a time within the provider's pace, or a chunk of a job in parallel.

A chunk is *prepared* (profiles read in one request, each recipient judged,
holds and cap slots written, send slots reserved) before it is *sent*, so the
sender can prepare the next chunk while the current one is on the wire and the
provider's schedule never waits for subcast's own bookkeeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache

from aws_lambda_powertools import Logger

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.channels import (
    DeliveryUncertain,
    MessengerChannel,
    PermanentFailure,
    ProviderMisconfigured,
    RateLimited,
    RecipientUnreachable,
    TemporaryFailure,
)
from subcast.adapters.held import HeldSnippet, HeldStore
from subcast.adapters.pacing import ChatSpacing, RateLimiter
from subcast.adapters.queues import DeliveryQueue
from subcast.adapters.subscribers import SubscriberStore
from subcast.clock import now
from subcast.domain.broadcast import Broadcast
from subcast.domain.delivery_rules import Action, judge
from subcast.domain.links import broadcast_document, tracked
from subcast.domain.preferences import FrequencyCap
from subcast.domain.rendering.markdown import RenderedMessage
from subcast.domain.rendering.telegram import render_telegram
from subcast.domain.subscriber import Subscriber

logger = Logger(child=True)

TEMPORARY_RETRIES = 3
MAX_RATE_LIMIT_WAIT = 30.0
#: Outcomes that settle nobody: the recipient is tried again with the job.
UNSETTLED = ("retry", "abort")


class JobIncomplete(Exception):
    """Some recipients could not be settled now; the queue redelivers the job later."""


@dataclass(frozen=True)
class Sending:
    """What a job needs besides the job itself."""

    store: BroadcastStore
    subscribers: SubscriberStore
    messenger: MessengerChannel
    pacer: RateLimiter
    deliveries: DeliveryQueue
    held: HeldStore
    brand_name: str = ""
    out_of_time: Callable[[], bool] = lambda: False
    sleep: Callable[[float], None] = time.sleep
    chat_spacing: ChatSpacing | None = None
    chunk: int = 20
    concurrency: int = 4
    pool: ThreadPoolExecutor | None = None  # the instance's send threads (default: one per process)
    publisher_cap: Callable[[], FrequencyCap | None] = lambda: None  # the publisher's frequency cap


@dataclass(frozen=True)
class Result:
    subscriber_id: str
    outcome: str  # sent | failed | skipped | held | retry | abort
    reason: str | None = None


@dataclass
class PreparedChunk:
    """A chunk judged and with its send slots reserved; ``results`` holds who gets nothing now."""

    broadcast: Broadcast
    chunk: list[str]
    results: dict[str, Result] = field(default_factory=dict)
    to_send: list[tuple[Subscriber, str | None]] = field(default_factory=list)  # with a cap period
    slots: list[float] = field(default_factory=list)
    sends: list[Future[Result]] = field(default_factory=list)


def prepare_chunk(broadcast: Broadcast, chunk: list[str], sending: Sending) -> PreparedChunk:
    """Read the chunk's profiles (one request, just before sending), judge each, reserve the send slots.

    Holds and cap slots are written here; both are idempotent, so preparing a chunk again is harmless.
    """
    prepared = PreparedChunk(broadcast, chunk)
    # Eventually consistent, at half the price of the read that is a delivery's largest cost: a STOP
    # shows within about a second, and a send comes up to a chunk's window after its read anyway.
    profiles = sending.subscribers.get_many(chunk, consistent=False)
    publisher_cap = sending.publisher_cap()
    for subscriber_id in chunk:
        subscriber = profiles.get(subscriber_id)
        result, period = _judge_one(broadcast, subscriber_id, subscriber, sending, publisher_cap)
        if result is not None:
            prepared.results[subscriber_id] = result
        elif subscriber is not None:
            prepared.to_send.append((subscriber, period))
    prepared.slots = sending.pacer.reserve(len(prepared.to_send))
    return prepared


def start_sends(prepared: PreparedChunk, sending: Sending) -> None:
    """Hand the chunk's sends to the pool; each waits for its slot."""
    message = rendered(prepared.broadcast)

    def send(subscriber: Subscriber, slot: float) -> Result:
        try:
            address = subscriber.primary.address
            outcome, reason = send_text(address, message.text, sending, message.parse_mode, slot)
        except Exception:
            # Not a provider answer (those are classified in send_text) but a fault of ours:
            # the request did not go out, so the recipient is tried again with the job.
            logger.exception("send failed before reaching the provider")
            return Result(subscriber.subscriber_id, "retry", "fault")
        return Result(subscriber.subscriber_id, outcome, reason)

    pool = sending.pool or _pool(sending.concurrency)
    prepared.sends = [
        pool.submit(send, subscriber, slot)
        for (subscriber, _), slot in zip(prepared.to_send, prepared.slots, strict=True)
    ]


def finish_sends(prepared: PreparedChunk, sending: Sending) -> list[Result]:
    """Wait for the chunk's sends; every recipient's result, in chunk order."""
    for (subscriber, period), future in zip(prepared.to_send, prepared.sends, strict=True):
        result = future.result()
        prepared.results[subscriber.subscriber_id] = result
        _after_send(prepared.broadcast, subscriber, period, result, sending)
    return [prepared.results[subscriber_id] for subscriber_id in prepared.chunk]


def _after_send(
    broadcast: Broadcast, subscriber: Subscriber, period: str | None, result: Result, sending: Sending
) -> None:
    """Bookkeeping after a send; a failure here must not lose the record of what was sent."""
    try:
        if result.outcome in UNSETTLED and period is not None:
            sending.held.uncount(subscriber.subscriber_id, period, broadcast.broadcast_id)
        if result.reason == "unreachable":
            mark_unreachable(subscriber, sending)
    except Exception:
        logger.exception("bookkeeping after a send failed", extra={"outcome": result.outcome})


def _judge_one(
    broadcast: Broadcast,
    subscriber_id: str,
    subscriber: Subscriber | None,
    sending: Sending,
    publisher_cap: FrequencyCap | None,
) -> tuple[Result | None, str | None]:
    """(the result for a recipient who gets nothing now, None to send; the cap period counted in)."""
    moment = now()
    verdict = judge(broadcast, subscriber, moment, publisher_cap)
    if verdict.action is Action.SKIP or subscriber is None:
        return Result(subscriber_id, "skipped", verdict.reason), None
    cap, period = verdict.cap, verdict.cap_period
    if cap is None or period is None:
        period = None
    elif not sending.held.count_against_cap(subscriber_id, period, broadcast.broadcast_id, cap.count, moment):
        return Result(subscriber_id, "skipped", "cap"), None
    if verdict.action is Action.HOLD:
        assert verdict.reason is not None and verdict.release_at is not None
        snippet = HeldSnippet(subscriber_id, broadcast.broadcast_id, verdict.reason, verdict.release_at)
        sending.held.hold(snippet)
        return Result(subscriber_id, "held", verdict.reason), None
    return None, period


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send")


def mark_unreachable(subscriber: Subscriber, sending: Sending) -> None:
    primary = subscriber.primary
    sending.subscribers.set_reachable(
        subscriber.subscriber_id, primary.channel, primary.address, False, expected_version=subscriber.version
    )


def rendered(broadcast: Broadcast) -> RenderedMessage:
    return broadcast_message(
        broadcast.broadcast_id, broadcast.text, broadcast.link, broadcast.image_url, broadcast.tracking_base
    )


@lru_cache(maxsize=32)
def broadcast_message(
    broadcast_id: str, text: str, link: str | None, image_url: str | None, tracking_base: str | None
) -> RenderedMessage:
    """The broadcast as its Telegram message, rendered once per process rather than per recipient."""
    document = broadcast_document(text, link, image_url)
    if tracking_base:
        document = tracked(document, tracking_base, broadcast_id)
    [message] = render_telegram(document)[:1]  # one message: the API refuses broadcasts that are longer
    return message


def send_text(
    address: str,
    text: str,
    sending: Sending,
    parse_mode: str | None = None,
    slot: float | None = None,
) -> tuple[str, str | None]:
    """Send one message within the provider's pace: ("sent"|"failed"|"retry"|"abort", reason).

    ``slot`` is a time already reserved for it; without one, a slot is reserved now.
    """
    waited = 0.0
    for attempt in range(TEMPORARY_RETRIES + 1):
        if slot is None:
            sending.pacer.acquire()
        else:
            sending.pacer.wait_for(slot)
            slot = None
        if sending.chat_spacing is not None:
            sending.chat_spacing.wait(address)
        try:
            sending.messenger.send_text(address, text, parse_mode)
            return "sent", None
        except RateLimited as limited:
            sending.pacer.pause(limited.retry_after)  # for every sender of this bot
            waited += limited.retry_after
            if waited > MAX_RATE_LIMIT_WAIT:
                return "retry", "rate_limited"
        except RecipientUnreachable:
            return "failed", "unreachable"
        except DeliveryUncertain:
            logger.warning("no answer from the provider; not resent, to never send twice")
            return "failed", "uncertain"
        except ProviderMisconfigured as error:
            logger.error("provider refuses our credential or endpoint", extra={"error": str(error)})
            return "abort", "misconfigured"
        except PermanentFailure as error:
            logger.error("message rejected by the provider", extra={"error": str(error)})
            return "failed", "rejected"
        except TemporaryFailure:
            if attempt == TEMPORARY_RETRIES:
                return "retry", "temporary"
            sending.sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
    return "retry", "rate_limited"
