"""The three SQS queues between the functions, as typed senders."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict
from typing import Any

from subcast.adapters.aws import client
from subcast.domain.broadcast import DeliveryJob, ReleaseJob
from subcast.domain.conversation import Inbound, InboundKind
from subcast.domain.subscriber import Channel


def inbound_to_json(inbound: Inbound) -> str:
    values = asdict(inbound)
    values["received_at"] = inbound.received_at.isoformat()
    return json.dumps(values, default=str)


def inbound_from_json(body: str) -> Inbound:
    from datetime import datetime

    values: dict[str, Any] = json.loads(body)
    values["kind"] = InboundKind(values["kind"])
    values["channel"] = Channel(values["channel"])
    values["received_at"] = datetime.fromisoformat(values["received_at"])
    return Inbound(**values)


class CommandQueue:
    """FIFO: one message group per person keeps their commands in order; the provider id deduplicates."""

    def __init__(self, url: str, group_key: bytes) -> None:
        self.url = url
        self._group_key = group_key
        self.sqs = client("sqs")

    def group_of(self, channel: Channel, address: str) -> str:
        # Keyed hash: ordering per person without putting their address in SQS metadata.
        return hmac.new(self._group_key, f"{channel.value}:{address}".encode(), hashlib.sha256).hexdigest()

    def send(self, inbound: Inbound) -> None:
        self.sqs.send_message(
            QueueUrl=self.url,
            MessageBody=inbound_to_json(inbound),
            MessageGroupId=self.group_of(inbound.channel, inbound.address),
            MessageDeduplicationId=f"{inbound.channel.value}-{inbound.message_id}",
        )


class FanoutQueue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = client("sqs")

    def send(self, broadcast_ids: list[str]) -> None:
        for start in range(0, len(broadcast_ids), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps({"broadcast_id": broadcast_id})}
                for index, broadcast_id in enumerate(broadcast_ids[start : start + 10])
            ]
            _send_batch(self.sqs, self.url, entries)

    def send_shards(self, broadcast_id: str, shards: list[str]) -> None:
        """One message per audience shard of a broadcast: each is fanned out by its own invocation."""
        for start in range(0, len(shards), 10):
            entries = [
                {"Id": str(index), "MessageBody": json.dumps({"broadcast_id": broadcast_id, "shard": shard})}
                for index, shard in enumerate(shards[start : start + 10])
            ]
            _send_batch(self.sqs, self.url, entries)


class DeliveryQueue:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqs = client("sqs")

    def send(self, jobs: list[DeliveryJob] | list[ReleaseJob]) -> int:
        """Enqueue jobs ten to a request; returns the number of SQS requests made."""
        requests = 0
        for start in range(0, len(jobs), 10):
            entries = [
                {"Id": str(index), "MessageBody": job.model_dump_json()}
                for index, job in enumerate(jobs[start : start + 10])
            ]
            requests += _send_batch(self.sqs, self.url, entries)
        return requests


def _send_batch(sqs: Any, url: str, entries: list[dict[str, str]]) -> int:
    """send_message_batch, re-sending only the entries SQS reports as failed."""
    for requests in range(1, 6):
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        failed = {item["Id"] for item in response.get("Failed", [])}
        if not failed:
            return requests
        entries = [entry for entry in entries if entry["Id"] in failed]
    raise RuntimeError(f"SQS refused {len(entries)} messages five times")
