"""SQS (FIFO, per subscriber): apply each subscriber message once, in order."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from subcast.adapters.aws import client
from subcast.adapters.queues import inbound_from_json
from subcast.config import settings
from subcast.services.commands import RepliesPending, handle_inbound
from subcast.services.dependencies import (
    brand,
    hash_address,
    publishing_store,
    referral_programme,
    subscriber_store,
    telegram_bot,
)

logger = Logger()
metrics = Metrics()
# FIFO: after a failure, the rest of that person's messages in the batch are
# reported failed too, so their later commands never overtake an earlier one;
# other people's messages go on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
#: Seconds before a message whose replies could not be sent comes back, by receive count; shorter
#: than the queue's visibility timeout so one person's queue is not held for long.
REPLY_BACKOFF = (5, 15, 45, 120)


def record_handler(record: SQSRecord) -> None:
    inbound = inbound_from_json(record.body)
    try:
        handle_inbound(
            inbound,
            store=subscriber_store(),
            messenger=telegram_bot(),
            brand=brand(),
            address_hash=hash_address(inbound.channel.value, inbound.address),
            topics=publishing_store().topics,
            referrals=referral_programme(),
        )
    except RepliesPending:
        attempt = int(record.attributes.approximate_receive_count or 1)
        client("sqs").change_message_visibility(
            QueueUrl=settings().commands_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=REPLY_BACKOFF[min(attempt, len(REPLY_BACKOFF)) - 1],
        )
        raise


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
