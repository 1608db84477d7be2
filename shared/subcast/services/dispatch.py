"""The scheduler tick: hand broadcasts whose moment has come to fan-out, end pauses that are over,
and queue the release of snippets held for quiet hours or digests."""

from __future__ import annotations

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.held import HeldStore
from subcast.adapters.queues import DeliveryQueue, FanoutQueue
from subcast.adapters.subscribers import SubscriberStore
from subcast.clock import now
from subcast.domain.broadcast import JOB_SIZE, ReleaseJob
from subcast.domain.settings import resume
from subcast.domain.subscriber import SubscriberState


def dispatch_due(*, store: BroadcastStore, fanout: FanoutQueue) -> list[str]:
    """Queue every due broadcast for fan-out; a broadcast queued twice is started once."""
    due = store.due(now())
    if due:
        fanout.send(due)
    return due


def end_pauses(*, store: SubscriberStore) -> int:
    """Resume every subscriber whose pause has ended; returns how many were resumed.

    A subscriber who changed meanwhile (RESUME, STOP, a new PAUSE) is left as they are:
    the write is conditional on the version read here.
    """
    moment = now()
    resumed = 0
    for subscriber_id in store.pauses_ending(moment):
        subscriber = store.get(subscriber_id)
        if subscriber is None or subscriber.state is not SubscriberState.PAUSED:
            continue
        if subscriber.paused_until is None or subscriber.paused_until > moment:
            continue
        if store.replace(subscriber, resume(subscriber, moment)):
            resumed += 1
    return resumed


def queue_releases(*, held: HeldStore, deliveries: DeliveryQueue) -> int:
    """Queue release jobs for every subscriber with held snippets due; returns how many subscribers."""
    subscribers = held.due_subscribers(now())
    jobs = [
        ReleaseJob(release=subscribers[start : start + JOB_SIZE])
        for start in range(0, len(subscribers), JOB_SIZE)
    ]
    if jobs:
        deliveries.send(jobs)
    return len(subscribers)
