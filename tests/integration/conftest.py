"""Integration tests: the template's resources in moto, real boto3 calls, a Bot API fake on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.fakes.telegram import FakeBotApi, running
from infra.local.runtime import LambdaContext, load_handler
from infra.provision import Deployment, provision
from infra.template import functions
from subcast.adapters.subscribers import profile_item
from subcast.domain.messages import Language
from subcast.domain.subscriber import Channel, ChannelAddress, Subscriber, SubscriberState
from subcast.services import dependencies

BOT_TOKEN = "999:integration-token"
WEBHOOK_SECRET = "integration-webhook-secret"


@dataclass
class Stack:
    """The provisioned template plus helpers to drive its queues."""

    deployment: Deployment
    bot: FakeBotApi
    sqs: Any
    dynamodb: Any

    def queue(self, logical_id: str) -> str:
        return self.deployment.queue_url(logical_id)

    def receive(self, logical_id: str, max_messages: int = 10) -> list[dict[str, Any]]:
        """Receive (and hide) messages as Lambda's poller would."""
        return self.sqs.receive_message(
            QueueUrl=self.queue(logical_id),
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def sqs_event(self, logical_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        from infra.local.events import sqs_event

        return sqs_event(messages, self.deployment.queue_arn(logical_id), "us-east-1")

    def depth(self, logical_id: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def add_subscriber(
        self,
        number: int,
        state: str = "active",
        topics: tuple[str, ...] | None = None,
        reachable: bool = True,
    ) -> Subscriber:
        """A subscriber profile written straight into the table (set-up, not the path under test)."""
        moment = datetime(2026, 11, 1, tzinfo=UTC)
        subscriber = Subscriber(
            subscriber_id=f"s{number:05d}",
            state=SubscriberState(state),
            addresses=(
                ChannelAddress(channel=Channel.TELEGRAM, address=str(100_000 + number), reachable=reachable),
            ),
            language=Language.EN,
            topics=topics,
            created_at=moment,
            state_since=moment,
            version=1,
        )
        self.dynamodb.put_item(TableName=self.deployment.physical["DataTable"], Item=profile_item(subscriber))
        return subscriber

    def scan(self) -> list[dict[str, Any]]:
        table = self.deployment.physical["DataTable"]
        items, kwargs = [], {}
        while True:
            page = self.dynamodb.scan(TableName=table, **kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


@pytest.fixture
def bot() -> Iterator[FakeBotApi]:
    with running(BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def stack(bot: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """template.yaml provisioned in an in-process moto, the functions' environment applied."""
    with mock_aws():
        deployment = provision()
        for name, value in deployment.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("TELEGRAM_API_BASE", bot.base_url)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET)
        monkeypatch.setenv("ADDRESS_HASH_KEY", "integration-hash-key")
        dependencies.reset()
        yield Stack(deployment, bot, boto3.client("sqs"), boto3.client("dynamodb"))
    dependencies.reset()


_HANDLERS: dict[str, Any] = {}


def handler(logical_id: str) -> Any:
    """The function's real handler, loaded from its CodeUri as the template names it (once per session)."""
    if logical_id not in _HANDLERS:
        spec = next(spec for spec in functions() if spec.logical_id == logical_id)
        _HANDLERS[logical_id] = (spec, load_handler(spec))
    return _HANDLERS[logical_id]


def invoke(logical_id: str, event: dict[str, Any]) -> Any:
    spec, function = handler(logical_id)
    return function(event, LambdaContext(logical_id, spec.memory, spec.timeout))
