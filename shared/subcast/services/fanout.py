"""Turn one due broadcast into delivery jobs: every audience shard in parallel, resumably.

A broadcast's fan-out message starts it and hands out one message per shard;
each shard is then paged by its own invocations, concurrently with the others,
so no invocation pages through a whole audience. A page's jobs are written to
the shard's checkpoint before they are enqueued (see ``adapters.fanouts``): a
crash in between enqueues the very same jobs again, and the job ledger makes
the second copy harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from subcast.adapters.audience import AudienceReader
from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.fanouts import ShardProgress
from subcast.adapters.queues import DeliveryQueue, FanoutQueue
from subcast.clock import now
from subcast.domain.broadcast import JOB_SIZE, Broadcast, BroadcastStatus, DeliveryJob, delivery_job, reaches
from subcast.domain.subscriber import AUDIENCE_SHARDS

logger = Logger(child=True)
#: Index entries read per page: ten full jobs, one SQS batch request, one checkpoint.
PAGE_SIZE = JOB_SIZE * 10
SHARDS = [f"{shard:02d}" for shard in range(AUDIENCE_SHARDS)]


@dataclass
class FanoutReport:
    recipients: int = 0
    jobs: int = 0
    finished: bool = False


def fan_out(
    broadcast_id: str,
    shard: str | None,
    *,
    store: BroadcastStore,
    audience: AudienceReader,
    deliveries: DeliveryQueue,
    fanout: FanoutQueue,
    out_of_time: Callable[[], bool] = lambda: False,
) -> FanoutReport:
    """Start a due broadcast (``shard`` None: hand out its shards), or fan out one shard of it."""
    report = FanoutReport()
    broadcast = store.get(broadcast_id)
    if broadcast is None or broadcast.status in (BroadcastStatus.CANCELLED, BroadcastStatus.SENT):
        report.finished = True
        return report
    if shard is None:
        if broadcast.status is BroadcastStatus.SCHEDULED:
            if broadcast.send_at > now():
                logger.info("broadcast not due yet", extra={"broadcast_id": broadcast_id})
                return report
            store.start_sending(broadcast_id, now())
        fanout.send_shards(broadcast_id, SHARDS)
        return report
    return _fan_out_shard(broadcast, shard, store, audience, deliveries, fanout, out_of_time)


def _fan_out_shard(
    broadcast: Broadcast,
    shard: str,
    store: BroadcastStore,
    audience: AudienceReader,
    deliveries: DeliveryQueue,
    fanout: FanoutQueue,
    out_of_time: Callable[[], bool],
) -> FanoutReport:
    report = FanoutReport()
    broadcast_id = broadcast.broadcast_id
    progress = store.shard_progress(broadcast_id, shard)
    if not progress.plan_enqueued:
        # The last invocation planned these jobs but may have died before they were on the queue.
        _enqueue(broadcast_id, shard, progress, store, deliveries, report)
    while not progress.done:
        if out_of_time():
            fanout.send_shards(broadcast_id, [shard])  # go on in a fresh invocation from the checkpoint
            logger.info("shard continues in a new invocation", extra={"broadcast_id": broadcast_id})
            return report
        start = json.loads(progress.cursor) if progress.cursor else None
        members, last = audience.page(shard, start, PAGE_SIZE)
        recipients = [member.subscriber_id for member in members if reaches(broadcast.topics, member.topics)]
        plan = [recipients[index : index + JOB_SIZE] for index in range(0, len(recipients), JOB_SIZE)]
        cursor = json.dumps(last) if last else None
        if not store.plan_page(
            broadcast_id, shard, progress.version, cursor=cursor, plan=plan, now=now(), shards=len(SHARDS)
        ):
            logger.info("another invocation is fanning out this shard", extra={"broadcast_id": broadcast_id})
            return report
        progress = ShardProgress(
            version=progress.version + 1,
            cursor=cursor,
            plan=tuple(tuple(job) for job in plan),
            plan_enqueued=not plan,
            done=cursor is None,
        )
        report.recipients += len(recipients)
        if plan:
            _enqueue(broadcast_id, shard, progress, store, deliveries, report)
    report.finished = True
    return report


def _enqueue(
    broadcast_id: str,
    shard: str,
    progress: ShardProgress,
    store: BroadcastStore,
    deliveries: DeliveryQueue,
    report: FanoutReport,
) -> None:
    jobs = _jobs(broadcast_id, shard, progress.plan)
    if jobs:
        deliveries.send(jobs)
    store.plan_enqueued(broadcast_id, shard, progress.version, now())
    report.jobs += len(jobs)


def _jobs(broadcast_id: str, shard: str, plan: tuple[tuple[str, ...], ...]) -> list[DeliveryJob]:
    jobs, after = [], None
    for recipients in plan:
        if recipients:
            jobs.append(delivery_job(broadcast_id, shard, after, list(recipients)))
            after = max(recipients)
    return jobs
