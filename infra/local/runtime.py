"""Load the template's handlers from their folders and invoke them as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infra.template import FunctionSpec

if TYPE_CHECKING:
    from infra.local.metering import Meter


@dataclass
class LambdaContext:
    """The context object handlers receive (the parts Powertools and handlers read)."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    region: str = "us-east-1"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


@dataclass
class LocalFunction:
    """One execution environment of a function: its own handler module, one invocation at a time."""

    spec: FunctionSpec
    physical_name: str
    handler: Callable[[dict[str, Any], Any], Any]
    invocations: int = 0
    errors: int = 0
    # One invocation at a time per environment, as in Lambda: Chalice and Powertools keep
    # the current request on module-level objects.
    environment: threading.Lock = field(default_factory=threading.Lock)
    instance: int = 1  # 1-based number of this environment among the function's
    meter: Meter | None = None  # set only when SUBCAST_LOCAL_METERING is on

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler with a fresh context; exceptions propagate as Lambda reports them."""
        with self.environment:
            self.invocations += 1
            context = LambdaContext(self.physical_name, self.spec.memory, self.spec.timeout)
            try:
                if self.meter is None:
                    return self.handler(event, context)
                with self.meter.invocation(self.spec.logical_id, self.spec.memory):
                    return self.handler(event, context)
            except Exception:
                self.errors += 1
                traceback.print_exc(file=sys.stderr)
                raise


def load_instances(spec: FunctionSpec, physical_name: str, meter: Meter | None = None) -> list[LocalFunction]:
    """The function's execution environments (``spec.environments`` of them), each with its handler
    module loaded afresh, so no module-level object (Powertools' BatchProcessor, a Chalice app, a
    cache) is shared between two invocations running at once."""
    count = spec.environments
    return [
        LocalFunction(
            spec,
            physical_name,
            load_handler(spec, instance if count > 1 else None),
            instance=instance,
            meter=meter,
        )
        for instance in range(1, count + 1)
    ]


def load_handler(spec: FunctionSpec, instance: int | None = None) -> Callable[[dict[str, Any], Any], Any]:
    """Import ``<CodeUri>/<module>.py`` under a name of its own and return the handler attribute.

    ``instance`` (1, 2, ...) loads another copy of the module under a name of its own, as a
    second execution environment would.
    """
    module_name, _, attribute = spec.handler.rpartition(".")
    path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    unique = f"subcast_function_{spec.logical_id}_{module_name.replace('.', '_')}"
    if instance is not None:
        unique = f"{unique}_{instance}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{spec.logical_id}: cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], Any] = getattr(module, attribute)
    return handler
