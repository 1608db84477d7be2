"""Every five minutes (EventBridge schedule): poll the feeds that are due and post their new entries."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from subcast.adapters.feeds import FeedFetcher, FeedStore
from subcast.clock import now
from subcast.config import settings
from subcast.services.dependencies import broadcast_store, fanout_queue, publishing_store
from subcast.services.feeds import broadcast_creator, poll_due_feeds

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current = settings()
    outcomes = poll_due_feeds(
        now(),
        feeds=FeedStore(current.table_name),
        fetcher=FeedFetcher(allow_private_networks=current.feeds_allow_private_networks),
        create=broadcast_creator(
            store=broadcast_store(), publishing=publishing_store(), fanout=fanout_queue()
        ),
    )
    results = Counter(outcome.result for outcome in outcomes)
    posted = sum(len(outcome.broadcasts) for outcome in outcomes)
    for result, count in results.items():
        metrics.add_metric(name=f"FeedPolls_{result}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="FeedItemsPosted", unit=MetricUnit.Count, value=posted)
    return {"polled": len(outcomes), "posted": posted, **results}
