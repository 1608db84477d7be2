"""Turn one due broadcast into delivery jobs: page the audience shard by shard, resumably."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from subcast.adapters.audience import AudienceReader
from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.queues import DeliveryQueue, FanoutQueue
from subcast.clock import now
from subcast.domain.broadcast import JOB_SIZE, BroadcastStatus, DeliveryJob, job_id, reaches
from subcast.domain.subscriber import AUDIENCE_SHARDS

logger = Logger(child=True)
PAGE_SIZE = 1000
#: Enqueue (and checkpoint) once this many recipients are gathered: ten full jobs, one SQS batch request.
FLUSH_AT = JOB_SIZE * 10


@dataclass
class FanoutReport:
    recipients: int = 0
    jobs: int = 0
    finished: bool = False


def fan_out(
    broadcast_id: str,
    *,
    store: BroadcastStore,
    audience: AudienceReader,
    deliveries: DeliveryQueue,
    fanout: FanoutQueue,
    out_of_time: Callable[[], bool] = lambda: False,
) -> FanoutReport:
    """Enqueue jobs for every active subscriber the broadcast reaches.

    Progress is checkpointed on the broadcast after every page, so a crash or
    a redelivered message resumes where it stopped; a page enqueued twice is
    harmless because jobs are deterministic and deliveries have a barrier.
    """
    report = FanoutReport()
    broadcast = store.get(broadcast_id)
    if broadcast is None or broadcast.status in (BroadcastStatus.CANCELLED, BroadcastStatus.SENT):
        report.finished = True
        return report
    if broadcast.status is BroadcastStatus.SCHEDULED:
        if broadcast.send_at > now():
            logger.info("broadcast not due yet", extra={"broadcast_id": broadcast_id})
            return report
        store.start_sending(broadcast_id, now())

    raw_cursor = store.fanout_cursor(broadcast_id)
    cursor: dict[str, Any] = json.loads(raw_cursor) if raw_cursor else {"shard": 0, "start": None}
    buffered: list[str] = []
    while cursor["shard"] < AUDIENCE_SHARDS:
        if out_of_time():
            fanout.send([broadcast_id])  # continue in a fresh invocation from the last checkpoint
            logger.info("fan-out continues in a new invocation", extra={"broadcast_id": broadcast_id})
            return report
        members, last = audience.page(f"{cursor['shard']:02d}", cursor["start"], PAGE_SIZE)
        buffered += [member.subscriber_id for member in members if reaches(broadcast.topics, member.topics)]
        cursor = (
            {"shard": cursor["shard"], "start": last}
            if last
            else {"shard": cursor["shard"] + 1, "start": None}
        )
        # Recipients are gathered across pages and shards into full jobs; the
        # cursor is saved only once everything before it is on the queue.
        if len(buffered) < FLUSH_AT and cursor["shard"] < AUDIENCE_SHARDS:
            continue
        jobs = _jobs(broadcast_id, buffered)
        deliveries.send(jobs)
        report.recipients += len(buffered)
        report.jobs += len(jobs)
        following = json.dumps(cursor)
        if not store.checkpoint(broadcast_id, raw_cursor, following, len(buffered)):
            logger.info(
                "another invocation is fanning out this broadcast", extra={"broadcast_id": broadcast_id}
            )
            return report
        raw_cursor, buffered = following, []
    store.finish_fanout(broadcast_id)
    report.finished = True
    logger.info("fan-out finished", extra={"broadcast_id": broadcast_id, "jobs": report.jobs})
    return report


def _jobs(broadcast_id: str, recipients: list[str]) -> list[DeliveryJob]:
    chunks = (recipients[start : start + JOB_SIZE] for start in range(0, len(recipients), JOB_SIZE))
    return [
        DeliveryJob(broadcast_id=broadcast_id, job_id=job_id(broadcast_id, chunk), subscriber_ids=chunk)
        for chunk in chunks
    ]
