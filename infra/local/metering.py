"""Metering: what the handlers' AWS calls and invocations would cost, counted from the real calls.

On when ``SUBCAST_LOCAL_METERING=1``; nothing is hooked otherwise. A ``Meter`` registers botocore
event hooks (``before-parameter-build`` to read the request and the stored items before a write,
``after-call`` to bill the answer) and keeps, per caller, service and operation: requests, errors,
and what AWS would bill (DynamoDB read/write request units, SQS requests; see ``billing``).

Who is counted, and as whom:
- the handlers' clients come from boto3's default session (``subcast.adapters.aws.client``): a call
  is counted under the function whose invocation runs on the calling thread, or ``unattributed``
  when a handler made it from a thread of its own (feeds polls in a thread pool);
- the local pollers' SQS client comes from a session of its own (``workers.sqs_client``) and is
  watched apart, as ``event_source``: Lambda's event source mapping makes those requests in AWS,
  and they are billed too;
- provisioning uses sessions of its own and is never seen; the stack resets the meter once its own
  set-up (the bootstrap API key) is done.

Sizes of stored items are read straight from the moto backend this process hosts (no request, so
not counted). Query/Scan calls that hide what they read (a filter, a projection, a count) are
repeated once without them on an unwatched client to measure the items read. The time the hooks
take is left out of the handlers' billed duration.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from infra.local.billing import (
    BILLED_ERRORS,
    ItemStore,
    Units,
    needs_rescan,
    planned_writes,
    read_call_units,
    sqs_billed_requests,
    write_call_units,
)
from infra.local.stored_items import MotoItemStore, Rescans

ENVIRONMENT_FLAG = "SUBCAST_LOCAL_METERING"
EVENT_SOURCE = "event_source"
UNATTRIBUTED = "unattributed"

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_READS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"})
_CONTEXT_KEY = "subcast_meter"


def metering_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(ENVIRONMENT_FLAG, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class CallTally:
    requests: int = 0
    errors: int = 0
    billed_requests: int = 0  # SQS: a request per call and per started 64 KB; DynamoDB: requests
    fifo_billed_requests: int = 0  # the part of billed_requests made on FIFO queues
    read_units: float = 0.0
    write_units: float = 0.0


@dataclass
class InvocationTally:
    memory_mb: int
    invocations: int = 0
    errors: int = 0
    duration_ms: float = 0.0
    billed_duration_ms: int = 0  # per invocation rounded up to the millisecond, as Lambda bills
    gb_seconds: float = 0.0


@dataclass
class _Call:
    caller: str
    service: str
    operation: str
    params: Mapping[str, Any]
    region: str
    writes: list[Any]


class Meter:
    """Counts AWS calls of watched clients, and invocations (see the module's docstring)."""

    def __init__(self, items: ItemStore | None = None) -> None:
        self.items: ItemStore = items if items is not None else MotoItemStore()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._calls: dict[tuple[str, str, str], CallTally] = {}
        self._lambda: dict[str, InvocationTally] = {}
        self._watched: list[tuple[Any, str]] = []  # (event emitter, unique id prefix)
        self.rescans = Rescans()
        self.hook_failures = 0
        self.reset()

    # ------------------------------------------------------------------ what to watch
    def watch_default_session(self) -> None:
        """Count every client made from now on from boto3's default session (the handlers' clients).

        Clients copy their session's hooks when they are made: call this before the first one is.
        """
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        self.watch_events(boto3.DEFAULT_SESSION.events, None)

    def watch_client(self, client: Any, caller: str) -> None:
        """Count one client's calls under ``caller`` (the pollers' client: ``EVENT_SOURCE``)."""
        self.watch_events(client.meta.events, caller)

    def watch_events(self, events: Any, caller: str | None) -> None:
        """Hook an event emitter; ``caller`` None means the function invoked on the calling thread."""
        prefix = f"subcast-meter-{id(self)}-{len(self._watched)}"

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            who = caller or getattr(self._local, "function", None) or UNATTRIBUTED
            self._timed(self._before, who, params, model, context)

        def after(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            self._timed(self._after, http_response, parsed, context)

        events.register("before-parameter-build", before, unique_id=f"{prefix}-before")
        events.register("after-call", after, unique_id=f"{prefix}-after")
        self._watched.append((events, prefix))

    def unwatch(self) -> None:
        """Remove every hook this meter registered."""
        for events, prefix in self._watched:
            events.unregister("before-parameter-build", unique_id=f"{prefix}-before")
            events.unregister("after-call", unique_id=f"{prefix}-after")
        self._watched.clear()

    # ------------------------------------------------------------------ invocations
    @contextmanager
    def invocation(self, function: str, memory_mb: int) -> Iterator[None]:
        """Attribute the calling thread's AWS calls to ``function`` and bill the time it runs."""
        local = self._local
        previous = getattr(local, "function", None)
        local.function = function
        overhead_before = getattr(local, "overhead", 0.0)
        started = time.perf_counter()
        failed = True
        try:
            yield
            failed = False
        finally:
            seconds = time.perf_counter() - started - (getattr(local, "overhead", 0.0) - overhead_before)
            local.function = previous
            self._record_invocation(function, memory_mb, max(seconds, 0.0), failed)

    def _record_invocation(self, function: str, memory_mb: int, seconds: float, failed: bool) -> None:
        milliseconds = seconds * 1000
        with self._lock:
            tally = self._lambda.setdefault(function, InvocationTally(memory_mb))
            tally.invocations += 1
            tally.errors += int(failed)
            tally.duration_ms += milliseconds
            billed = max(1, math.ceil(milliseconds))
            tally.billed_duration_ms += billed
            tally.gb_seconds += billed / 1000 * memory_mb / 1024

    # ------------------------------------------------------------------ hooks
    def _timed(self, hook: Any, *args: Any) -> None:
        started = time.perf_counter()
        try:
            hook(*args)
        except Exception as error:  # metering must never break a handler's call
            with self._lock:
                self.hook_failures += 1
            if self.hook_failures <= 3:
                print(f"metering: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        finally:
            self._local.overhead = getattr(self._local, "overhead", 0.0) + time.perf_counter() - started

    def _before(self, caller: str, params: dict[str, Any], model: Any, context: dict[str, Any]) -> None:
        service = model.service_model.service_name
        region = str(context.get("client_region") or "us-east-1")
        writes: list[Any] = []
        if service == "dynamodb" and model.name in _WRITES:
            writes = planned_writes(model.name, params, region, self.items)
        context[_CONTEXT_KEY] = _Call(caller, service, model.name, params, region, writes)

    def _after(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        call: _Call | None = context.pop(_CONTEXT_KEY, None)
        if call is None:
            return
        error = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
        units, billed, fifo = Units(), 1, False
        if call.service == "dynamodb" and (error is None or error in BILLED_ERRORS):
            units = self._dynamodb_units(call, parsed, error is not None, http_response.url)
        elif call.service == "sqs":
            billed = sqs_billed_requests(call.operation, call.params, parsed if error is None else {})
            fifo = str(call.params.get("QueueUrl", "")).endswith(".fifo")
        with self._lock:
            tally = self._calls.setdefault((call.caller, call.service, call.operation), CallTally())
            tally.requests += 1
            tally.errors += int(error is not None)
            tally.billed_requests += billed
            tally.fifo_billed_requests += billed if fifo else 0
            tally.read_units += units.read
            tally.write_units += units.write

    def _dynamodb_units(self, call: _Call, parsed: dict[str, Any], failed: bool, url: str) -> Units:
        if call.operation in _WRITES:
            return write_call_units(call.writes, call.region, self.items, failed)
        if call.operation in _READS:
            scanned = None
            if call.operation in ("Query", "Scan") and needs_rescan(call.params):
                scanned = self.rescans.scanned_size(call.operation, call.params, parsed, call.region, url)
            return read_call_units(call.operation, call.params, parsed, call.region, self.items, scanned)
        return Units()

    # ------------------------------------------------------------------ report
    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._lambda.clear()
            self._since = time.monotonic()
            self._since_wall = datetime.now(UTC)

    def report(self) -> dict[str, Any]:
        """Counts since the last reset (the JSON of ``GET /_local/metering``)."""
        with self._lock:
            calls = {key: CallTally(**asdict(tally)) for key, tally in self._calls.items()}
            invocations = {name: InvocationTally(**asdict(tally)) for name, tally in self._lambda.items()}
            seconds = time.monotonic() - self._since
        aws: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        totals: dict[str, dict[str, dict[str, Any]]] = {"handlers": {}, EVENT_SOURCE: {}}
        for (caller, service, operation), tally in sorted(calls.items()):
            shown = _shown(service, tally)
            aws.setdefault(caller, {}).setdefault(service, {})[operation] = shown
            group = totals[EVENT_SOURCE if caller == EVENT_SOURCE else "handlers"].setdefault(service, {})
            for field, value in shown.items():
                group[field] = _rounded(group.get(field, 0) + value)
        functions = {name: _rounded_all(asdict(tally)) for name, tally in sorted(invocations.items())}
        lambda_total: dict[str, Any] = dict.fromkeys(("invocations", "errors", "billed_duration_ms"), 0)
        lambda_total["gb_seconds"] = 0.0
        for invoked in invocations.values():
            for field in lambda_total:
                lambda_total[field] = _rounded(lambda_total[field] + getattr(invoked, field))
        return {
            "since": self._since_wall.isoformat(),
            "seconds": round(seconds, 3),
            "aws": aws,
            "lambda": functions,
            "totals": {**totals, "lambda": lambda_total},
            "hook_failures": self.hook_failures,
        }


def _shown(service: str, tally: CallTally) -> dict[str, Any]:
    shown: dict[str, Any] = {"requests": tally.requests, "errors": tally.errors}
    if service == "dynamodb":
        shown.update(read_units=tally.read_units, write_units=tally.write_units)
    elif service == "sqs":
        shown.update(billed_requests=tally.billed_requests, fifo_billed_requests=tally.fifo_billed_requests)
    return _rounded_all(shown)


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _rounded_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _rounded(value) for name, value in values.items()}
