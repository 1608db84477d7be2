"""Every minute (EventBridge schedule): queue due broadcasts for fan-out; end pauses that are over;
queue the release of held snippets (quiet hours over, digest time come)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from subcast.services.dependencies import (
    broadcast_store,
    delivery_queue,
    fanout_queue,
    held_store,
    subscriber_store,
)
from subcast.services.dispatch import dispatch_due, end_pauses, queue_releases

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    due = dispatch_due(store=broadcast_store(), fanout=fanout_queue())
    resumed = end_pauses(store=subscriber_store())
    releases = queue_releases(held=held_store(), deliveries=delivery_queue())
    metrics.add_metric(name="BroadcastsDispatched", unit=MetricUnit.Count, value=len(due))
    metrics.add_metric(name="PausesEnded", unit=MetricUnit.Count, value=resumed)
    metrics.add_metric(name="ReleasesQueued", unit=MetricUnit.Count, value=releases)
    return {"dispatched": len(due), "resumed": resumed, "releases": releases}
