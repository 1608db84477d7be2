"""Send one delivery job: each recipient exactly once, within the provider's pace, counted once."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

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
from subcast.adapters.pacing import TokenBucket
from subcast.adapters.queues import DeliveryQueue
from subcast.adapters.subscribers import SubscriberStore
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, DeliveryJob, job_id
from subcast.domain.delivery_rules import Action, judge
from subcast.domain.links import broadcast_document, tracked
from subcast.domain.rendering.markdown import RenderedMessage
from subcast.domain.rendering.telegram import render_telegram
from subcast.domain.subscriber import Subscriber

logger = Logger(child=True)

#: Longer than the sender's timeout: a claim outlives the invocation that took it,
#: and shorter than the queue's visibility timeout, so a redelivered job finds it expired.
CLAIM_LEASE = timedelta(seconds=120)
TEMPORARY_RETRIES = 3
MAX_RATE_LIMIT_WAIT = 30.0


class JobIncomplete(Exception):
    """Some recipients could not be settled now; the queue redelivers the job later."""


@dataclass(frozen=True)
class Sending:
    """What a job needs besides the job itself."""

    store: BroadcastStore
    subscribers: SubscriberStore
    messenger: MessengerChannel
    pacer: TokenBucket
    deliveries: DeliveryQueue
    held: HeldStore
    brand_name: str = ""
    out_of_time: Callable[[], bool] = lambda: False
    sleep: Callable[[float], None] = time.sleep


def deliver_job(job: DeliveryJob, sending: Sending) -> Counter[str]:
    """Deliver a job and add its tally to the broadcast once; returns the tally.

    Each recipient is claimed with a conditional write before the send, so a
    redelivered or duplicated job never sends twice; the tally counts only
    the recipients this job claimed. When time runs short, the rest of the
    recipients go back on the queue as a job of their own.
    """
    store = sending.store
    broadcast = store.get(job.broadcast_id)
    if broadcast is None:
        logger.warning("job for an unknown broadcast dropped", extra={"broadcast_id": job.broadcast_id})
        return Counter()
    tally: Counter[str] = Counter()
    incomplete = 0
    recipients = list(dict.fromkeys(job.subscriber_ids))
    for index, subscriber_id in enumerate(recipients):
        if sending.out_of_time():
            rest = recipients[index:]
            sending.deliveries.send(
                [
                    DeliveryJob(
                        broadcast_id=job.broadcast_id,
                        job_id=job_id(job.broadcast_id, rest),
                        subscriber_ids=rest,
                    )
                ]
            )
            logger.info("job split: the rest continues in a new job", extra={"remaining": len(rest)})
            break
        claim = store.claim(job.broadcast_id, subscriber_id, job.job_id, now(), CLAIM_LEASE)
        if not claim.taken:
            if claim.job_id != job.job_id:
                continue  # another job holds this recipient and counts it
            if claim.state == "claimed":
                incomplete += 1  # an earlier attempt of this job is (or died) mid-send: wait out its lease
            else:
                tally[claim.state or "failed"] += 1
                if claim.reason:
                    tally[f"{claim.state}:{claim.reason}"] += 1
            continue
        # Read just before sending: someone who sent STOP a moment ago gets nothing.
        subscriber = sending.subscribers.get(subscriber_id)
        outcome, reason, hold = _deliver_one(broadcast, subscriber, sending)
        if outcome in ("retry", "abort"):
            store.release(job.broadcast_id, subscriber_id)
            if outcome == "abort":
                raise JobIncomplete(f"job {job.job_id} stopped: {reason}")
            incomplete += 1
            continue
        together_with = sending.held.hold_write(hold) if hold else None
        store.settle(job.broadcast_id, subscriber_id, outcome, reason, together_with=together_with)
        if reason == "unreachable" and subscriber is not None:
            mark_unreachable(subscriber, sending)
        tally[outcome] += 1
        if reason:
            tally[f"{outcome}:{reason}"] += 1
    if incomplete:
        raise JobIncomplete(f"{incomplete} recipients of job {job.job_id} are not settled yet")
    store.record_job(job.broadcast_id, job.job_id, dict(tally), now())
    return tally


def mark_unreachable(subscriber: Subscriber, sending: Sending) -> None:
    primary = subscriber.primary
    sending.subscribers.set_reachable(
        subscriber.subscriber_id, primary.channel, primary.address, False, expected_version=subscriber.version
    )


def _deliver_one(
    broadcast: Broadcast, subscriber: Subscriber | None, sending: Sending
) -> tuple[str, str | None, HeldSnippet | None]:
    """(outcome, reason, snippet to hold) for one claimed recipient.

    Outcomes: sent, failed, skipped, held, or retry/abort (the claim is given back).
    """
    moment = now()
    verdict = judge(broadcast, subscriber, moment)
    if verdict.action is Action.SKIP or subscriber is None:
        return "skipped", verdict.reason, None
    cap, period = subscriber.cap, verdict.cap_period
    if (
        cap is not None
        and period is not None
        and not sending.held.count_against_cap(
            subscriber.subscriber_id, period, broadcast.broadcast_id, cap.count, moment
        )
    ):
        return "skipped", "cap", None
    if verdict.action is Action.HOLD:
        assert verdict.reason is not None and verdict.release_at is not None
        hold = HeldSnippet(
            subscriber.subscriber_id, broadcast.broadcast_id, verdict.reason, verdict.release_at
        )
        return "held", verdict.reason, hold
    message = broadcast_message(
        broadcast.broadcast_id, broadcast.text, broadcast.link, broadcast.image_url, broadcast.tracking_base
    )
    outcome, reason = send_text(subscriber.primary.address, message.text, sending, message.parse_mode)
    if outcome in ("retry", "abort") and cap is not None and period is not None:
        sending.held.uncount(subscriber.subscriber_id, period, broadcast.broadcast_id)
    return outcome, reason, None


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
    address: str, text: str, sending: Sending, parse_mode: str | None = None
) -> tuple[str, str | None]:
    """Send one message within the provider's pace: ("sent"|"failed"|"retry"|"abort", reason)."""
    waited = 0.0
    for attempt in range(TEMPORARY_RETRIES + 1):
        sending.pacer.acquire()
        try:
            sending.messenger.send_text(address, text, parse_mode)
            return "sent", None
        except RateLimited as limited:
            sending.pacer.pause(limited.retry_after)
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
