"""Read template.yaml: the one description of every resource subcast runs.

The local stack, the tests and the template checks all read the template
through this module, so nothing about functions, queues, routes or schedules
is declared twice.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
LOCAL_CODE_BUCKET = "subcast-local-code"


@dataclass(frozen=True)
class ApiRoute:
    """One API Gateway route of the template (SAM `Type: Api` event)."""

    function: str  # logical id
    path: str  # resource path as API Gateway sees it, e.g. /v1/broadcasts/{broadcast_id}
    method: str  # upper case


@dataclass(frozen=True)
class SqsSource:
    function: str
    queue: str  # logical id of the queue
    batch_size: int
    report_batch_item_failures: bool
    # ScalingConfig.MaximumConcurrency: how many invocations this source may have in flight at once.
    # None when the template leaves it out (Lambda then scales on its own; the local stack runs one).
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    expression: str  # rate(...) or cron(...)


@dataclass(frozen=True)
class DeadLetterQueue:
    """A queue and the dead-letter queue its RedrivePolicy names."""

    name: str  # what operators type: the queue's logical id without "Queue", lower case
    source: str  # logical id of the queue whose failed messages land here
    queue: str  # logical id of the dead-letter queue
    fifo: bool


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute
    timeout: int
    memory: int
    routes: tuple[ApiRoute, ...] = field(default=())
    sqs: tuple[SqsSource, ...] = field(default=())
    schedules: tuple[ScheduleSource, ...] = field(default=())

    @property
    def environments(self) -> int:
        """Execution environments the local stack runs: the largest MaximumConcurrency of the
        function's SQS sources, else one (API routes and schedules need no more than one)."""
        return max((source.maximum_concurrency or 1 for source in self.sqs), default=1)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain JSON data, intrinsic functions in their long form."""
    decoded, matches = decode_str(path.read_text())
    if matches or decoded is None:
        raise ValueError(f"{path} does not parse: {[str(m) for m in matches]}")
    result: dict[str, Any] = json.loads(json.dumps(decoded))
    return result


def _arn_logical_id(value: Any) -> str:
    """`!GetAtt Queue.Arn` (in either spelling) -> `Queue`."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    raise ValueError(f"expected !GetAtt <Queue>.Arn, got {value!r}")


@cache
def functions(path: Path = TEMPLATE_PATH) -> tuple[FunctionSpec, ...]:
    """Every AWS::Serverless::Function with its triggers, Globals applied."""
    template = load_template(path)
    globals_ = template.get("Globals", {}).get("Function", {})
    specs = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource["Properties"]}
        routes, sqs, schedules = [], [], []
        for event in props.get("Events", {}).values():
            eprops = event.get("Properties", {})
            if event["Type"] == "Api":
                routes.append(ApiRoute(logical_id, eprops["Path"], eprops["Method"].upper()))
            elif event["Type"] == "SQS":
                scaling = eprops.get("ScalingConfig", {}).get("MaximumConcurrency")
                sqs.append(
                    SqsSource(
                        logical_id,
                        _arn_logical_id(eprops["Queue"]),
                        int(eprops.get("BatchSize", 10)),
                        "ReportBatchItemFailures" in eprops.get("FunctionResponseTypes", []),
                        None if scaling is None else int(scaling),
                    )
                )
            elif event["Type"] in ("Schedule", "ScheduleV2"):
                expression = eprops.get("Schedule") or eprops["ScheduleExpression"]
                schedules.append(ScheduleSource(logical_id, expression))
            else:
                raise ValueError(f"{logical_id}: the local stack cannot run event type {event['Type']}")
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=(path.parent / props["CodeUri"]).resolve(),
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                routes=tuple(routes),
                sqs=tuple(sqs),
                schedules=tuple(schedules),
            )
        )
    return tuple(specs)


@cache
def dead_letter_queues(path: Path = TEMPLATE_PATH) -> tuple[DeadLetterQueue, ...]:
    """Every AWS::SQS::Queue with a RedrivePolicy, and its dead-letter queue."""
    found = []
    for logical_id, resource in load_template(path)["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::SQS::Queue" or "RedrivePolicy" not in props:
            continue
        found.append(
            DeadLetterQueue(
                name=logical_id.removesuffix("Queue").lower(),
                source=logical_id,
                queue=_arn_logical_id(props["RedrivePolicy"]["deadLetterTargetArn"]),
                fifo=str(props.get("FifoQueue", False)).lower() == "true",
            )
        )
    return tuple(found)


def api_routes(path: Path = TEMPLATE_PATH) -> list[ApiRoute]:
    """Every Api event of every function; ``method`` ANY where a path takes the methods it lacks."""
    return [route for spec in functions(path) for route in spec.routes]


@dataclass(frozen=True)
class GatewayResponse:
    """What API Gateway answers itself for one kind of refusal (SAM ``GatewayResponses``)."""

    status: int
    headers: dict[str, str]
    body: bytes


#: API Gateway's own status for the response kinds the local stack produces.
_DEFAULT_STATUS = {"MISSING_AUTHENTICATION_TOKEN": 403, "REQUEST_TOO_LARGE": 413, "DEFAULT_5XX": 502}


@cache
def gateway_response(kind: str, path: Path = TEMPLATE_PATH) -> GatewayResponse:
    """The template's answer for ``kind`` (e.g. MISSING_AUTHENTICATION_TOKEN: an unknown route), or API
    Gateway's default when the template configures none, so the local stack answers as AWS would."""
    for resource in load_template(path)["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Api":
            continue
        configured = resource.get("Properties", {}).get("GatewayResponses", {}).get(kind)
        if configured:
            headers = {
                name: str(value).strip("'")
                for name, value in configured.get("ResponseParameters", {}).get("Headers", {}).items()
            }
            body = configured.get("ResponseTemplates", {}).get("application/json", "")
            return GatewayResponse(
                int(configured.get("StatusCode", _DEFAULT_STATUS.get(kind, 400))), headers, body.encode()
            )
    defaults = {
        "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
        "DEFAULT_5XX": "Internal server error",
    }
    message = defaults.get(kind, "Request Entity Too Large")
    return GatewayResponse(
        _DEFAULT_STATUS.get(kind, 400),
        {"Content-Type": "application/json"},
        json.dumps({"message": message}).encode(),
    )


def code_key(code_uri: str) -> str:
    return code_uri.strip("/").replace("/", "-") + ".zip"


def translated_for_moto(path: Path = TEMPLATE_PATH, region: str = "us-east-1") -> dict[str, Any]:
    """The SAM template translated to plain CloudFormation, as AWS would see it.

    samtranslator rejects local CodeUri folders, so they are replaced by S3
    URIs in a bucket the caller fills. Resources the local stack serves itself
    (API Gateway: it routes the template's Api events; alarms: moto has no
    CloudFormation support for them) are left out of what moto creates.
    """
    from samtranslator.translator.transform import transform

    template = copy.deepcopy(load_template(path))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://{LOCAL_CODE_BUCKET}/{code_key(props['CodeUri'])}"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{LOCAL_CODE_BUCKET}/{code_key(props['ContentUri'])}"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    import os

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        translated: dict[str, Any] = transform(template, {}, _NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    skipped = ("AWS::ApiGateway::", "AWS::CloudWatch::", "AWS::Lambda::Permission")
    translated["Resources"] = {
        logical_id: resource
        for logical_id, resource in translated["Resources"].items()
        if not resource["Type"].startswith(skipped)
    }
    translated.pop("Outputs", None)
    return translated
