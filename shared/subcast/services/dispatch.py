"""The scheduler tick: hand broadcasts whose moment has come to fan-out."""

from __future__ import annotations

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.queues import FanoutQueue
from subcast.clock import now


def dispatch_due(*, store: BroadcastStore, fanout: FanoutQueue) -> list[str]:
    """Queue every due broadcast for fan-out; a broadcast queued twice is started once."""
    due = store.due(now())
    if due:
        fanout.send(due)
    return due
