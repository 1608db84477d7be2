"""The parts of Lambda's service the local stack plays: SQS event source mappings and schedules."""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.events import rate_seconds, scheduled_event, sqs_event
from infra.local.runtime import LocalFunction
from subcast import clock

if TYPE_CHECKING:
    from infra.provision import Deployment


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class SqsPoller(threading.Thread):
    """Long-polls one queue and invokes one function with batches, honouring batchItemFailures.

    As in Lambda: a handler that raises fails the whole batch; a reported
    failure leaves that message on the queue to come back after its visibility
    timeout (and, after maxReceiveCount, to go to the dead-letter queue).
    """

    def __init__(
        self,
        function: LocalFunction,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_failures: bool,
        sqs: Any,
        region: str,
        stop: threading.Event,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name or f"poller-{function.spec.logical_id}", daemon=True)
        self.function, self.queue_url, self.queue_arn = function, queue_url, queue_arn
        self.batch_size, self.report_failures = min(batch_size, 10), report_failures
        self.sqs, self.region, self.stop_event = sqs, region, stop
        self.batches = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception as error:  # keep polling, as the service would
                _log(f"poller {self.function.spec.logical_id}: {type(error).__name__}: {error}")
                self.stop_event.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and hand it to the function; returns the number of messages handled."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        self.batches += 1
        started = time.monotonic()
        try:
            response = self.function.invoke(sqs_event(messages, self.queue_arn, self.region))
        except Exception:
            name = self.function.spec.logical_id
            _log(f"{name:<20} {len(messages)} messages  FAILED (back after the visibility timeout)")
            return len(messages)
        failed = set()
        if self.report_failures and isinstance(response, dict):
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )
        took = (time.monotonic() - started) * 1000
        status = f"{len(failed)} failed" if failed else "ok"
        _log(f"{self.function.spec.logical_id:<20} {len(messages)} messages  {status}  {took:.0f} ms")
        return len(messages)


def sqs_pollers(
    instances: list[LocalFunction], deployment: Deployment, sqs: Any, region: str, stop: threading.Event
) -> list[SqsPoller]:
    """The event source mappings of one function: per SQS source, one poller per environment it may
    use at once (its MaximumConcurrency, else one), each poller invoking an environment of its own.

    Threads are named ``poller-<Function>``, or ``poller-<Function>-<n>`` when there are several.
    """
    pollers = []
    spec = instances[0].spec
    for source in spec.sqs:
        count = min(source.maximum_concurrency or 1, len(instances))
        for function in instances[:count]:
            suffix = f"-{function.instance}" if count > 1 else ""
            pollers.append(
                SqsPoller(
                    function,
                    deployment.queue_url(source.queue),
                    deployment.queue_arn(source.queue),
                    source.batch_size,
                    source.report_batch_item_failures,
                    sqs,
                    region,
                    stop,
                    name=f"poller-{spec.logical_id}{suffix}",
                )
            )
    return pollers


class ScheduleRunner(threading.Thread):
    """Fires a rate() schedule (moto never fires them), and at once whenever the local clock moves."""

    def __init__(
        self,
        function: LocalFunction,
        expression: str,
        region: str,
        stop: threading.Event,
        every: float | None,
    ) -> None:
        super().__init__(name=f"schedule-{function.spec.logical_id}", daemon=True)
        self.function, self.region, self.stop_event = function, region, stop
        self.period = every if every is not None else rate_seconds(expression)
        self.rule_arn = f"arn:aws:events:{region}:123456789012:rule/{function.spec.logical_id}-schedule"
        self.wake = threading.Event()
        self.fired = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.fire()
            self.wake.wait(self.period)
            self.wake.clear()

    def fire(self) -> None:
        self.fired += 1
        try:
            self.function.invoke(scheduled_event(self.rule_arn, self.region, clock.now()))
        except Exception as error:
            _log(f"schedule {self.function.spec.logical_id}: {type(error).__name__}")


def sqs_client(region: str, endpoint_url: str | None) -> Any:
    """The pollers' SQS client, from a boto3 Session of its own on purpose: the handlers' clients come
    from boto3's default session, so metering hooks on that session never see the pollers' calls
    (metering counts them apart, as Lambda's event source mapping, on this client's own events)."""
    return boto3.session.Session(region_name=region).client("sqs", endpoint_url=endpoint_url)
