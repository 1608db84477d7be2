"""Send one delivery job: each recipient at most once, within the provider's pace, counted once.

The job is sent chunk by chunk. Each chunk is taken in the job's ledger
before anything is sent and settled with the taking of the next one (one
write per chunk). A job that SQS delivers twice, or that the fan-out enqueued
twice, resumes after what is settled; a copy that finds another copy at work
comes back later. An instance that dies in the middle of a chunk leaves that
chunk *uncertain*: its recipients are counted as failed (``uncertain``) and
never sent again, because sending twice is the one thing a broadcast must not do.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
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
from subcast.adapters.deliveries import JobState, JobSuperseded
from subcast.adapters.held import HeldSnippet, HeldStore
from subcast.adapters.pacing import ChatSpacing, RateLimiter
from subcast.adapters.queues import DeliveryQueue
from subcast.adapters.subscribers import SubscriberStore
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, DeliveryJob
from subcast.domain.delivery_rules import Action, judge
from subcast.domain.links import broadcast_document, tracked
from subcast.domain.rendering.markdown import RenderedMessage
from subcast.domain.rendering.telegram import render_telegram
from subcast.domain.subscriber import Subscriber

logger = Logger(child=True)

#: Longer than the sender's timeout: a chunk's lease outlives the invocation that took it,
#: and shorter than the queue's visibility timeout, so a redelivered job finds it expired.
CHUNK_LEASE = timedelta(seconds=120)
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


@dataclass(frozen=True)
class Result:
    subscriber_id: str
    outcome: str  # sent | failed | skipped | held | retry | abort
    reason: str | None = None


def deliver_job(job: DeliveryJob, sending: Sending) -> Counter[str]:
    """Deliver what is left of a job; returns this attempt's tally (outcomes, and outcome:reason).

    Raises ``JobIncomplete`` when someone must be tried again later (the queue
    brings the job back), and hands the rest to a new copy of the job when the
    invocation runs short of time.
    """
    store = sending.store
    broadcast = store.get(job.broadcast_id)
    if broadcast is None:
        logger.warning("job for an unknown broadcast dropped", extra={"broadcast_id": job.broadcast_id})
        return Counter()
    state = store.job_state(job.broadcast_id, job.job_id)
    if state.recorded:
        store.complete_if_done(job.broadcast_id)  # the earlier copy may have died just before this
        return Counter()
    if state.busy(now()):
        raise JobIncomplete(f"job {job.job_id} is being sent by another copy")
    try:
        return _resume(job, broadcast, state, sending)
    except JobSuperseded:
        logger.info("another copy of the job took it over", extra={"job_id": job.job_id})
        return Counter()


def _resume(job: DeliveryJob, broadcast: Broadcast, state: JobState, sending: Sending) -> Counter[str]:
    store = sending.store
    recipients = sorted(set(job.subscriber_ids))
    tally: Counter[str] = Counter()  # this attempt's, all of it
    unsaved: Counter[str] = Counter()  # this attempt's, not yet on the ledger
    done, settled = state.done_through, set(state.settled)
    if state.inflight_through is not None:
        # The lease ran out: the instance that took this chunk died while sending it.
        uncertain = [r for r in recipients if not state.is_settled(r) and r <= state.inflight_through]
        unsaved.update({"failed": len(uncertain), "failed:uncertain": len(uncertain)})
        done = max(done, state.inflight_through)
        logger.warning(
            "a sender died mid-chunk; its recipients are not sent again", extra={"count": len(uncertain)}
        )
    pending = [r for r in recipients if r > done and r not in settled]
    version = state.version
    chunks = [pending[start : start + sending.chunk] for start in range(0, len(pending), sending.chunk)]
    for index, chunk in enumerate(chunks):
        if sending.out_of_time():
            store.move_job(
                job.broadcast_id, job.job_id, version, done_through=done, settled=frozenset(settled),
                tally=unsaved, inflight_through=None, lease_until=None, now=now(),
            )  # fmt: skip
            sending.deliveries.send([job])  # the same job again: its copy resumes after ``done``
            logger.info(
                "job continues in a new invocation", extra={"remaining": len(pending) - index * sending.chunk}
            )
            return tally + unsaved
        moment = now()
        version = store.move_job(
            job.broadcast_id, job.job_id, version, done_through=done, settled=frozenset(settled),
            tally=unsaved, inflight_through=chunk[-1], lease_until=moment + CHUNK_LEASE, now=moment,
        )  # fmt: skip
        tally += unsaved
        unsaved = Counter()
        try:
            if index:  # a cancel that came in while the job runs stops it at the next chunk
                broadcast = store.get(job.broadcast_id) or broadcast
            results = send_chunk(broadcast, chunk, sending)
        except Exception:
            # Nothing of the chunk was sent (send_chunk settles whatever it sent): give it back now
            # rather than leave it to the lease, which would count its recipients as uncertain.
            store.move_job(
                job.broadcast_id, job.job_id, version, done_through=done, settled=frozenset(settled),
                tally=Counter(), inflight_through=None, lease_until=None, now=now(),
            )  # fmt: skip
            raise
        stopped = next((result for result in results if result.outcome in UNSETTLED), None)
        for result in results:
            if result.outcome in UNSETTLED:
                continue
            unsaved[result.outcome] += 1
            if result.reason:
                unsaved[f"{result.outcome}:{result.reason}"] += 1
            settled.add(result.subscriber_id)
        done, settled = _advance(done, settled, recipients)
        if stopped is not None:
            # Settle what went out, leave the rest to the job's next delivery.
            store.move_job(
                job.broadcast_id, job.job_id, version, done_through=done, settled=frozenset(settled),
                tally=unsaved, inflight_through=None, lease_until=None, now=now(),
            )  # fmt: skip
            raise JobIncomplete(f"job {job.job_id} stopped: {stopped.reason}")
    store.finish_job(
        job.broadcast_id, job.job_id, version, done_through=done, tally=unsaved,
        job_tally=state.tally + tally + unsaved, now=now(),
    )  # fmt: skip
    return tally + unsaved


def _advance(done: str, settled: set[str], recipients: list[str]) -> tuple[str, set[str]]:
    """Move ``done`` over every recipient settled in a row; the rest stay in ``settled``."""
    for recipient in recipients:
        if recipient <= done:
            continue
        if recipient not in settled:
            break
        done = recipient
    return done, {recipient for recipient in settled if recipient > done}


def send_chunk(broadcast: Broadcast, chunk: list[str], sending: Sending) -> list[Result]:
    """Judge and send one chunk: profiles read in one request just before, sends paced and in parallel."""
    profiles = sending.subscribers.get_many(chunk)
    results: dict[str, Result] = {}
    to_send: list[tuple[Subscriber, str | None]] = []  # with the cap period a slot was taken in
    for subscriber_id in chunk:
        subscriber = profiles.get(subscriber_id)
        result, period = _judge_one(broadcast, subscriber_id, subscriber, sending)
        if result is not None:
            results[subscriber_id] = result
        elif subscriber is not None:
            to_send.append((subscriber, period))
    if to_send:
        message = rendered(broadcast)
        slots = sending.pacer.reserve(len(to_send))

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

        recipients = [subscriber for subscriber, _ in to_send]
        sent = _pool(sending.concurrency).map(send, recipients, slots)
        for (subscriber, _), result in zip(to_send, sent, strict=True):
            results[subscriber.subscriber_id] = result
        for subscriber, period in to_send:
            _after_send(broadcast, subscriber, period, results[subscriber.subscriber_id], sending)
    return [results[subscriber_id] for subscriber_id in chunk]


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
    broadcast: Broadcast, subscriber_id: str, subscriber: Subscriber | None, sending: Sending
) -> tuple[Result | None, str | None]:
    """(the result for a recipient who gets nothing now, None to send; the cap period counted in)."""
    moment = now()
    verdict = judge(broadcast, subscriber, moment)
    if verdict.action is Action.SKIP or subscriber is None:
        return Result(subscriber_id, "skipped", verdict.reason), None
    cap, period = subscriber.cap, verdict.cap_period
    if cap is None or period is None:
        period = None
    elif not sending.held.count_against_cap(subscriber_id, period, broadcast.broadcast_id, cap.count, moment):
        return Result(subscriber_id, "skipped", "cap"), None
    if verdict.action is Action.HOLD:
        assert verdict.reason is not None and verdict.release_at is not None
        sending.held.hold(
            HeldSnippet(subscriber_id, broadcast.broadcast_id, verdict.reason, verdict.release_at)
        )
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
            [slot] = sending.pacer.reserve(1)
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
