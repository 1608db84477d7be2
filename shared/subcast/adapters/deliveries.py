"""The ledger of delivery jobs: how far each job got, so a redelivered job never sends twice.

A job covers a range of one audience shard in subscriber-id order and is sent
in chunks. Its ledger item, ``JOB#<broadcast id>#<job id>`` / ``JOB``, says:

- ``done_through``: every recipient up to this id is settled (sent, failed,
  skipped or held), and ``settled``: ids beyond it settled out of order;
- ``inflight_through`` and ``lease_until``: the chunk being sent right now.
  An instance that died mid-chunk leaves it behind; once the lease is over,
  the recipients of that chunk are *uncertain* (some may have the message)
  and are counted as failed, never sent again;
- ``t:<outcome>`` / ``t:<outcome>:<reason>``: the job's tally so far;
- ``version``: every move is conditional on it, so two copies of a job can
  never both send a chunk.

One write per chunk moves the ledger (settling one chunk and taking the
next), instead of two per recipient; the last one, in a transaction, adds
the job's tally to the broadcast's counters exactly once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import (
    cancellation_reasons,
    from_item,
    is_conditional_failure,
    retry_on_conflict,
    to_item,
)

DELIVERY_TTL = timedelta(days=35)
OUTCOMES = ("sent", "failed", "skipped", "held")


@dataclass(frozen=True)
class JobState:
    """A job's ledger as read (version 0: never started)."""

    version: int = 0
    done_through: str = ""
    settled: frozenset[str] = frozenset()
    inflight_through: str | None = None
    lease_until: datetime | None = None
    tally: Counter[str] = field(default_factory=Counter)
    recorded: bool = False

    def is_settled(self, subscriber_id: str) -> bool:
        return subscriber_id <= self.done_through or subscriber_id in self.settled

    def busy(self, now: datetime) -> bool:
        """Another copy of the job is sending a chunk under a live lease."""
        return self.inflight_through is not None and self.lease_until is not None and self.lease_until > now


class JobSuperseded(Exception):
    """Another copy of the job moved the ledger: this copy stops and leaves the job to it."""


def _job_key(broadcast_id: str, job_id: str) -> dict[str, Any]:
    return to_item({"pk": f"JOB#{broadcast_id}#{job_id}", "sk": "JOB"})


def _tally_names(tally: Counter[str]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``ADD`` clauses for a tally kept as ``t:<key>`` attributes."""
    keys = sorted(key for key, count in tally.items() if count)
    clauses = ", ".join(f"#t{index} :t{index}" for index in range(len(keys)))
    names = {f"#t{index}": f"t:{key}" for index, key in enumerate(keys)}
    values = {f":t{index}": tally[key] for index, key in enumerate(keys)}
    return clauses, names, values


class DeliveryLedger:
    """Mixed into ``BroadcastStore``: job ledgers and the counters they feed."""

    table: str
    dynamodb: Any

    def complete_if_done(self, broadcast_id: str) -> None:
        """Provided by ``BroadcastStore``: sending -> sent once every recipient is settled."""
        raise NotImplementedError

    def job_state(self, broadcast_id: str, job_id: str) -> JobState:
        found = self.dynamodb.get_item(
            TableName=self.table, Key=_job_key(broadcast_id, job_id), ConsistentRead=True
        ).get("Item")
        if not found:
            return JobState()
        values = from_item(found)
        lease = values.get("lease_until")
        return JobState(
            version=int(values.get("version", 0)),
            done_through=values.get("done_through", ""),
            settled=frozenset(values.get("settled") or ()),
            inflight_through=values.get("inflight_through"),
            lease_until=datetime.fromisoformat(lease) if lease else None,
            tally=Counter(
                {name[2:]: int(count) for name, count in values.items() if name.startswith("t:") and count}
            ),
            recorded=bool(values.get("recorded")),
        )

    def move_job(
        self,
        broadcast_id: str,
        job_id: str,
        version: int,
        *,
        done_through: str,
        settled: frozenset[str],
        tally: Counter[str],
        inflight_through: str | None,
        lease_until: datetime | None,
        now: datetime,
    ) -> int:
        """Settle what was sent (``tally`` adds to the job's) and take the next chunk; the new version.

        Raises ``JobSuperseded`` when the ledger is no longer at ``version``.
        """
        add, names, values = _tally_names(tally)
        sets = ["done_through = :done", "version = :next", "expires_at = :expires"]
        removes = []
        values.update(
            {
                ":done": done_through,
                ":next": version + 1,
                ":expires": int((now + DELIVERY_TTL).timestamp()),
            }
        )
        if settled:
            sets.append("settled = :settled")
            values[":settled"] = sorted(settled)
        else:
            removes.append("settled")
        if inflight_through is not None and lease_until is not None:
            sets += ["inflight_through = :inflight", "lease_until = :lease"]
            values.update({":inflight": inflight_through, ":lease": lease_until.isoformat()})
        else:
            removes += ["inflight_through", "lease_until"]
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        if add:
            expression += " ADD " + add
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _job_key(broadcast_id, job_id),
            "UpdateExpression": expression,
            **self._at_version(version, values),
            "ExpressionAttributeValues": to_item(values),
            **({"ExpressionAttributeNames": names} if names else {}),
        }
        try:
            self.dynamodb.update_item(**update)
        except ClientError as error:
            if is_conditional_failure(error):
                raise JobSuperseded(job_id) from error
            raise
        return version + 1

    def finish_job(
        self,
        broadcast_id: str,
        job_id: str,
        version: int,
        *,
        done_through: str,
        tally: Counter[str],
        job_tally: Counter[str],
        now: datetime,
    ) -> None:
        """Settle the last chunk and add the whole job's tally to the broadcast, in one transaction."""
        add, names, values = _tally_names(tally)
        values.update(
            {
                ":done": done_through,
                ":next": version + 1,
                ":true": True,
                ":expires": int((now + DELIVERY_TTL).timestamp()),
            }
        )
        expression = (
            "SET done_through = :done, version = :next, recorded = :true, expires_at = :expires"
            " REMOVE inflight_through, lease_until, settled"
        )
        if add:
            expression += " ADD " + add
        counts = {f":{name}": job_tally.get(name, 0) for name in OUTCOMES}
        counts[":settled"] = sum(counts.values())
        by_reasons = sorted((key, count) for key, count in job_tally.items() if ":" in key and count)
        reason_names = {
            f"#r{index}": "r_" + key.replace(":", "_", 1) for index, (key, _) in enumerate(by_reasons)
        }
        counts.update({f":r{index}": count for index, (_, count) in enumerate(by_reasons)})
        by_reason = "".join(f", #r{index} :r{index}" for index in range(len(by_reasons)))
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _job_key(broadcast_id, job_id),
                    "UpdateExpression": expression,
                    **self._at_version(version, values),
                    "ExpressionAttributeValues": to_item(values),
                    **({"ExpressionAttributeNames": names} if names else {}),
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": to_item({"pk": f"BROADCAST#{broadcast_id}", "sk": "BROADCAST"}),
                    "UpdateExpression": (
                        "ADD sent :sent, failed :failed, skipped :skipped, held :held, settled :settled"
                        + by_reason
                    ),
                    "ExpressionAttributeValues": to_item(counts),
                    **({"ExpressionAttributeNames": reason_names} if reason_names else {}),
                }
            },
        ]
        try:
            retry_on_conflict(lambda: self.dynamodb.transact_write_items(TransactItems=writes))
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise JobSuperseded(job_id) from error
            raise  # a conflict or throttling that outlived the retries: SQS redelivers the job
        self.complete_if_done(broadcast_id)

    @staticmethod
    def _at_version(version: int, values: dict[str, Any]) -> dict[str, str]:
        if version == 0:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        values[":version"] = version
        return {"ConditionExpression": "version = :version"}
