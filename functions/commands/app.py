"""SQS (FIFO, per subscriber): apply each subscriber message once, in order."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from subcast.adapters.queues import inbound_from_json
from subcast.services.commands import handle_inbound
from subcast.services.dependencies import brand, hash_address, subscriber_store, telegram_bot

logger = Logger()
metrics = Metrics()
# FIFO: after a failure the rest of the batch is reported failed too, so a
# subscriber's later commands never overtake an earlier one.
processor = SqsFifoPartialProcessor()


def record_handler(record: SQSRecord) -> None:
    inbound = inbound_from_json(record.body)
    handle_inbound(
        inbound,
        store=subscriber_store(),
        messenger=telegram_bot(),
        brand=brand(),
        address_hash=hash_address(inbound.channel.value, inbound.address),
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
