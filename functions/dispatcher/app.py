"""Every minute (EventBridge schedule): queue broadcasts whose send_at has come for fan-out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from subcast.services.dependencies import broadcast_store, fanout_queue
from subcast.services.dispatch import dispatch_due

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    due = dispatch_due(store=broadcast_store(), fanout=fanout_queue())
    metrics.add_metric(name="BroadcastsDispatched", unit=MetricUnit.Count, value=len(due))
    return {"dispatched": len(due)}
