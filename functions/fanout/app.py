"""SQS: a due broadcast hands out its audience shards; each shard becomes delivery jobs of many recipients."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, field_validator

from subcast.services.dependencies import audience_reader, broadcast_store, delivery_queue, fanout_queue
from subcast.services.fanout import SHARDS, fan_out

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
#: Hand over to a fresh invocation with this much time left (checkpointed, so nothing is lost).
SAFETY_MARGIN_MS = 20_000


class FanoutMessage(BaseModel):
    broadcast_id: str
    # None: the broadcast is due; start it and hand out its shards. Anything but a real shard is
    # refused (and ends in the dead-letter queue): it would count as a finished shard.
    shard: str | None = None

    @field_validator("shard")
    @classmethod
    def _a_real_shard(cls, shard: str | None) -> str | None:
        if shard is not None and shard not in SHARDS:
            raise ValueError(f"no audience shard {shard[:8]!r}")
        return shard


def record_handler(record: SQSRecord) -> None:
    message = FanoutMessage.model_validate_json(record.body)
    context = processor.lambda_context
    report = fan_out(
        message.broadcast_id,
        message.shard,
        store=broadcast_store(),
        audience=audience_reader(),
        deliveries=delivery_queue(),
        fanout=fanout_queue(),
        out_of_time=lambda: context is not None and context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
    )
    metrics.add_metric(name="DeliveryJobsQueued", unit=MetricUnit.Count, value=report.jobs)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
