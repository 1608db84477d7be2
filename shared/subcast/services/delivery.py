"""Send one delivery job: each recipient exactly once, within the provider's pace, counted once."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from aws_lambda_powertools import Logger

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.channels import (
    MessengerChannel,
    PermanentFailure,
    RateLimited,
    RecipientUnreachable,
    TemporaryFailure,
)
from subcast.adapters.pacing import TokenBucket
from subcast.adapters.subscribers import SubscriberStore
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, BroadcastStatus, DeliveryJob, reaches
from subcast.domain.subscriber import Subscriber

logger = Logger(child=True)

#: Longer than the sender's timeout: a claim outlives the invocation that took it,
#: and shorter than the queue's visibility timeout, so a redelivered job finds it expired.
CLAIM_LEASE = timedelta(seconds=120)
TEMPORARY_RETRIES = 3
MAX_RATE_LIMIT_WAIT = 30.0


class JobIncomplete(Exception):
    """Some recipients could not be settled now; the queue redelivers the job later."""


def deliver_job(
    job: DeliveryJob,
    *,
    store: BroadcastStore,
    subscribers: SubscriberStore,
    messenger: MessengerChannel,
    pacer: TokenBucket,
    sleep: Callable[[float], None] = time.sleep,
) -> Counter[str]:
    """Deliver a job and add its tally to the broadcast once; returns the tally."""
    broadcast = store.get(job.broadcast_id)
    if broadcast is None:
        logger.warning("job for an unknown broadcast dropped", extra={"broadcast_id": job.broadcast_id})
        return Counter()
    profiles = subscribers.get_many(job.subscriber_ids)
    tally: Counter[str] = Counter()
    incomplete = 0
    for subscriber_id in dict.fromkeys(job.subscriber_ids):
        claim = store.claim(job.broadcast_id, subscriber_id, job.job_id, now(), CLAIM_LEASE)
        if not claim.taken:
            if claim.job_id != job.job_id:
                continue  # another job holds this recipient and counts it
            if claim.state == "claimed":
                incomplete += 1  # an earlier attempt of this job is (or died) mid-send: wait out its lease
            else:
                tally[claim.state or "failed"] += 1
            continue
        outcome, reason = _deliver_one(broadcast, profiles.get(subscriber_id), messenger, pacer, sleep)
        if outcome == "retry":
            store.release(job.broadcast_id, subscriber_id)
            incomplete += 1
            continue
        store.settle(job.broadcast_id, subscriber_id, outcome, reason)
        if reason == "unreachable" and subscriber_id in profiles:
            primary = profiles[subscriber_id].primary
            subscribers.set_reachable(subscriber_id, primary.channel, primary.address, False)
        tally[outcome] += 1
    if incomplete:
        raise JobIncomplete(f"{incomplete} recipients of job {job.job_id} are not settled yet")
    store.record_job(job.broadcast_id, job.job_id, dict(tally), now())
    return tally


def _deliver_one(
    broadcast: Broadcast,
    subscriber: Subscriber | None,
    messenger: MessengerChannel,
    pacer: TokenBucket,
    sleep: Callable[[float], None],
) -> tuple[str, str | None]:
    """("sent"|"failed"|"skipped"|"retry", reason) for one claimed recipient."""
    if broadcast.status is BroadcastStatus.CANCELLED:
        return "skipped", "cancelled"
    # Eligibility is checked again at send time: someone who sent STOP after
    # fan-out must not get this broadcast.
    if subscriber is None or not subscriber.receives_broadcasts:
        return "skipped", "not_active"
    if not reaches(broadcast.topics, subscriber.topics):
        return "skipped", "topics"
    waited = 0.0
    for attempt in range(TEMPORARY_RETRIES + 1):
        pacer.acquire()
        try:
            messenger.send_text(subscriber.primary.address, broadcast.text)
            return "sent", None
        except RateLimited as limited:
            pacer.pause(limited.retry_after)
            waited += limited.retry_after
            if waited > MAX_RATE_LIMIT_WAIT:
                return "retry", "rate_limited"
        except RecipientUnreachable:
            return "failed", "unreachable"
        except PermanentFailure as error:
            logger.error("broadcast rejected by the provider", extra={"error": str(error)})
            return "failed", "rejected"
        except TemporaryFailure:
            if attempt == TEMPORARY_RETRIES:
                return "retry", "temporary"
            sleep(min(8.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not crypto
    return "retry", "rate_limited"
