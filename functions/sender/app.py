"""SQS: delivery jobs of many recipients each; send each recipient the broadcast once, never twice.

A send the provider leaves uncertain (no answer, or the instance killed mid-chunk) is counted as
``failed: uncertain`` and not repeated: at most once for those, exactly once for everyone else.

The same queue carries release jobs: subscribers whose held snippets (quiet hours, digest) are due.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from subcast.adapters.pacing import ChatSpacing, SharedRateLimiter
from subcast.clock import now
from subcast.config import Settings, settings
from subcast.domain.broadcast import DeliveryJob, ReleaseJob
from subcast.services.delivery import Sending, deliver_job
from subcast.services.dependencies import (
    brand,
    broadcast_store,
    chat_spacing,
    delivery_queue,
    held_store,
    publishing_store,
    subscriber_store,
    telegram_bot,
    telegram_rate,
)
from subcast.services.publisher_settings import publisher_cap
from subcast.services.release import release_held

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
#: Hand the rest of a job to a new one with this much time left, well before the timeout.
SAFETY_MARGIN_MS = 15_000


@lru_cache(maxsize=1)
def instance(current: Settings) -> tuple[SharedRateLimiter, ChatSpacing, ThreadPoolExecutor]:
    """What this execution environment keeps between invocations (for as long as its settings hold):
    its view of the bot's send schedule, the chats it sent to last, and the threads its sends run on."""
    pool = ThreadPoolExecutor(max_workers=current.send_concurrency, thread_name_prefix="send")
    return telegram_rate(), chat_spacing(), pool


def record_handler(record: SQSRecord) -> None:
    body = json.loads(record.body)
    context = processor.lambda_context
    pacer, spacing, pool = instance(settings())
    sending = Sending(
        store=broadcast_store(),
        subscribers=subscriber_store(),
        messenger=telegram_bot(),
        pacer=pacer,  # one schedule per bot, shared with every other sender instance
        deliveries=delivery_queue(),
        held=held_store(),
        brand_name=brand().name,
        out_of_time=lambda: context is not None and context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
        chat_spacing=spacing,
        pool=pool,
        publisher_cap=lambda: publisher_cap(publishing_store(), now()),
        chunk=settings().send_chunk,
        concurrency=settings().send_concurrency,
    )
    if "release" in body:
        tally = release_held(ReleaseJob.model_validate(body), sending)
    else:
        tally = deliver_job(DeliveryJob.model_validate(body), sending)
    for outcome, count in tally.items():
        if ":" in outcome:
            continue  # by reason: counted on the broadcast, not as a metric
        metrics.add_metric(name=f"Deliveries_{outcome}", unit=MetricUnit.Count, value=count)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
