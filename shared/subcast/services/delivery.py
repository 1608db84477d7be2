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

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from aws_lambda_powertools import Logger

from subcast.adapters.deliveries import JobState, JobSuperseded
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, DeliveryJob
from subcast.services.sending import (
    UNSETTLED,
    JobIncomplete,
    PreparedChunk,
    Result,
    Sending,
    finish_sends,
    prepare_chunk,
    start_sends,
)

__all__ = ["CHUNK_LEASE", "JobIncomplete", "Sending", "deliver_job"]

logger = Logger(child=True)

#: Longer than the sender's timeout: a chunk's lease outlives the invocation that took it,
#: and shorter than the queue's visibility timeout, so a redelivered job finds it expired.
CHUNK_LEASE = timedelta(seconds=120)


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
    run = JobRun(job, sending, state)
    try:
        run.deliver(broadcast)
    except JobSuperseded:
        logger.info("another copy of the job took it over", extra={"job_id": job.job_id})
    return run.tally + run.unsaved


@dataclass
class JobRun:
    """One attempt at a job: where its ledger stands and what this attempt has settled."""

    job: DeliveryJob
    sending: Sending
    state: JobState
    tally: Counter[str] = field(default_factory=Counter)  # settled and on the ledger
    unsaved: Counter[str] = field(default_factory=Counter)  # settled, not yet on the ledger

    def __post_init__(self) -> None:
        self.recipients = sorted(set(self.job.subscriber_ids))
        self.version = self.state.version
        self.done, self.settled = self.state.done_through, set(self.state.settled)
        lost_chunk = self.state.inflight_through
        if lost_chunk is not None:
            # The lease ran out: the instance that took this chunk died while sending it.
            uncertain = [r for r in self.recipients if not self.state.is_settled(r) and r <= lost_chunk]
            self.unsaved.update({"failed": len(uncertain), "failed:uncertain": len(uncertain)})
            self.done = max(self.done, lost_chunk)
            logger.warning("a sender died mid-chunk; not sent again", extra={"uncertain": len(uncertain)})

    def deliver(self, broadcast: Broadcast) -> None:
        """Chunk after chunk; the next chunk is prepared while the current one is being sent."""
        sending, size = self.sending, self.sending.chunk
        pending = [r for r in self.recipients if r > self.done and r not in self.settled]
        chunks = [pending[start : start + size] for start in range(0, len(pending), size)]
        prepared: PreparedChunk | None = None
        retry: Result | None = None  # the first recipient to try again later, if any
        for index, chunk in enumerate(chunks):
            if sending.out_of_time():
                self.move(inflight=None)
                sending.deliveries.send([self.job])  # the same job again: its copy resumes after ``done``
                logger.info("job continues in a new invocation", extra={"job_id": self.job.job_id})
                return
            self.move(inflight=chunk[-1])
            try:
                if prepared is None:
                    prepared = prepare_chunk(broadcast, chunk, sending)
                start_sends(prepared, sending)
            except Exception:
                # Nothing of the chunk went out: give it back now rather than leave it to the lease,
                # which would count its recipients as uncertain.
                self.move(inflight=None)
                raise
            following, failure = None, None
            if index + 1 < len(chunks):
                try:
                    # A cancel that came in while the job runs stops it at the next chunk.
                    broadcast = sending.store.get(self.job.broadcast_id) or broadcast
                    following = prepare_chunk(broadcast, chunks[index + 1], sending)
                except Exception as error:  # settle this chunk first, then give up
                    failure = error
            unsettled = self.record(finish_sends(prepared, sending))
            retry = retry or next((r for r in unsettled if r.outcome == "retry"), None)
            abort = next((r for r in unsettled if r.outcome == "abort"), None)
            prepared = following
            if failure is not None or abort is not None:
                self.move(inflight=None)  # settle what went out; the rest waits for the job's next delivery
                if failure is not None:
                    raise failure
                assert abort is not None
                raise JobIncomplete(f"job {self.job.job_id} stopped: {abort.reason}")
        if retry is not None:
            # Someone could not be reached for now (5xx, or a 429 longer than we wait): everyone else
            # in the job is settled; the job comes back for them alone.
            self.move(inflight=None)
            raise JobIncomplete(f"job {self.job.job_id} has recipients to try again: {retry.reason}")
        self.sending.store.finish_job(
            self.job.broadcast_id, self.job.job_id, self.version, done_through=self.done, tally=self.unsaved,
            job_tally=self.state.tally + self.tally + self.unsaved, now=now(),
        )  # fmt: skip

    def record(self, results: list[Result]) -> list[Result]:
        """Note a chunk's results; returns those that settle nobody (to be tried again)."""
        for result in results:
            if result.outcome in UNSETTLED:
                continue
            self.unsaved[result.outcome] += 1
            if result.reason:
                self.unsaved[f"{result.outcome}:{result.reason}"] += 1
            self.settled.add(result.subscriber_id)
        # Move ``done`` over every recipient settled in a row; the rest stay in ``settled``.
        for recipient in self.recipients:
            if recipient <= self.done:
                continue
            if recipient not in self.settled:
                break
            self.done = recipient
        self.settled = {recipient for recipient in self.settled if recipient > self.done}
        return [result for result in results if result.outcome in UNSETTLED]

    def move(self, inflight: str | None) -> None:
        """Write what is settled to the ledger and take the chunk ending at ``inflight`` (None: none)."""
        moment = now()
        self.version = self.sending.store.move_job(
            self.job.broadcast_id, self.job.job_id, self.version, done_through=self.done,
            settled=frozenset(self.settled), tally=self.unsaved, inflight_through=inflight,
            lease_until=moment + CHUNK_LEASE if inflight is not None else None, now=moment,
        )  # fmt: skip
        self.tally += self.unsaved
        self.unsaved = Counter()
