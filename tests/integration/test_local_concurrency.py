"""The local stack runs as many execution environments per function as the template's SQS sources allow."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
import types
from dataclasses import replace

import pytest

from infra.local.runtime import load_instances
from infra.local.workers import sqs_pollers
from infra.template import functions

REGION = "us-east-1"


def spec(logical_id: str):
    return next(spec for spec in functions() if spec.logical_id == logical_id)


def test_the_template_declares_the_concurrency_of_fanout_and_sender():
    assert [source.maximum_concurrency for source in spec("FanoutFunction").sqs] == [2]
    assert [source.maximum_concurrency for source in spec("SenderFunction").sqs] == [2]
    assert [source.maximum_concurrency for source in spec("CommandsFunction").sqs] == [None]
    assert spec("ApiFunction").environments == 1


@pytest.mark.parametrize(
    ("logical_id", "count"), [("FanoutFunction", 2), ("SenderFunction", 2), ("CommandsFunction", 1)]
)
def test_each_declared_environment_gets_its_own_module_and_its_own_poller(stack, logical_id, count):
    # When the local stack loads the function as the template declares it
    function = spec(logical_id)
    instances = load_instances(function, stack.deployment.physical[logical_id])
    pollers = sqs_pollers(instances, stack.deployment, stack.sqs, REGION, threading.Event())

    # Then there are as many environments and pollers as its MaximumConcurrency (one without)
    assert len(instances) == len(pollers) == count
    assert [poller.function for poller in pollers] == instances
    names = [poller.name for poller in pollers]
    assert names == (
        [f"poller-{logical_id}"] if count == 1 else [f"poller-{logical_id}-{n}" for n in range(1, count + 1)]
    )
    # And no module-level object (the handler module, Powertools' BatchProcessor) is shared
    modules = {sys.modules[instance.handler.__module__] for instance in instances}
    assert len(modules) == count
    assert len({id(module.processor) for module in modules}) == count
    assert len({id(instance.environment) for instance in instances}) == count


PROBE = """
import subcast_probe_shared as shared

processor = object()  # a module-level object: one per execution environment


def handler(event, context):
    shared.entered(id(processor))
    shared.barrier.wait(timeout=20)  # passes only when the other environment is inside its handler too
    return {"batchItemFailures": []}
"""


def test_two_jobs_on_the_delivery_queue_are_in_flight_at_once(stack, tmp_path, monkeypatch):
    # Given a handler we control on the sender's event source (DeliveryQueue, MaximumConcurrency 2),
    # which only returns once a second invocation is inside it at the same time
    (tmp_path / "app.py").write_text(textwrap.dedent(PROBE))
    shared = types.ModuleType("subcast_probe_shared")
    shared.barrier = threading.Barrier(2)
    shared.tokens = []
    shared.entered = shared.tokens.append
    monkeypatch.setitem(sys.modules, "subcast_probe_shared", shared)
    probe = replace(
        spec("SenderFunction"), logical_id="ProbeFunction", code_dir=tmp_path, handler="app.handler"
    )
    instances = load_instances(probe, "probe")
    stop = threading.Event()
    pollers = sqs_pollers(instances, stack.deployment, stack.sqs, REGION, stop)

    # When two jobs wait on the queue and the pollers run
    for number in range(2):
        stack.sqs.send_message(QueueUrl=stack.queue("DeliveryQueue"), MessageBody=f'{{"job": {number}}}')
    for poller in pollers:
        poller.start()
    deadline = time.monotonic() + 60
    try:
        while sum(instance.invocations for instance in instances) < 2 or stack.depth("DeliveryQueue"):
            assert time.monotonic() < deadline, "the two jobs were not handled"
            time.sleep(0.05)
    finally:
        stop.set()
        for poller in pollers:
            poller.join(timeout=5)

    # Then both environments were inside their handler together, once each, and nothing failed
    assert not shared.barrier.broken
    assert [instance.invocations for instance in instances] == [1, 1]
    assert [instance.errors for instance in instances] == [0, 0]
    assert len(set(shared.tokens)) == 2
