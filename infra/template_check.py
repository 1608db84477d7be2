"""Checks of template.yaml that cfn-lint cannot make: `python -m infra.template_check`.

Each check takes the template as plain data (see `infra.template.load_template`) and returns a
list of problems, one clear sentence each, so tests can run it on a modified copy. `main` runs
them all on the real template, prints every problem and exits 1, or prints a one-line summary.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import sys
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from unittest.mock import patch

from infra.template import LOCAL_CODE_BUCKET, ROOT, code_key, load_template

Template = dict[str, Any]
DLQ_RETENTION = 1_209_600  # 14 days, SQS's maximum
API_FUNCTION = "ApiFunction"
RUNTIME = "python3.12"


def _resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template.get("Resources", {}).items() if res.get("Type") == type_}


def _props(template: Template, logical_id: str) -> dict[str, Any]:
    """A resource's properties; for functions, with Globals applied (the resource wins)."""
    resource = template["Resources"][logical_id]
    props = resource.get("Properties", {})
    if resource["Type"] == "AWS::Serverless::Function":
        return {**template.get("Globals", {}).get("Function", {}), **props}
    return dict(props)


def _target(value: Any) -> str | None:
    """The logical id behind `!Ref X` or `!GetAtt X.Attr` (either spelling), else None."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def _references(value: Any) -> set[str]:
    """Every logical id referenced by Ref or GetAtt anywhere inside `value`."""
    if isinstance(value, dict):
        own = {target} if (target := _target(value)) else set()
        return own.union(*map(_references, value.values()))
    return set().union(*map(_references, value)) if isinstance(value, list) else set()


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _events(template: Template, function: str, type_: str) -> list[tuple[str, dict[str, Any]]]:
    events = _props(template, function).get("Events") or {}
    return [(name, ev.get("Properties", {})) for name, ev in events.items() if ev.get("Type") == type_]


def with_s3_code(template: Template) -> Template:
    """A copy whose local CodeUri/ContentUri folders are s3:// URIs (samtranslator rejects folders)."""
    template = copy.deepcopy(template)
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://{LOCAL_CODE_BUCKET}/{code_key(props[key])}"
    return template


def check_translation(template: Template) -> list[str]:
    """The SAM transform must accept the template (cfn-lint lets e.g. `Type: SQSS` through)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    region = {"AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    try:
        with patch.dict(os.environ, region):
            transform(with_s3_code(template), {}, _NoManagedPolicies())
    except InvalidDocumentException as error:
        return [f"SAM transform: {cause.message}" for cause in error.causes] or [str(error)]
    except Exception as error:
        return [f"SAM transform failed: {type(error).__name__}: {error}"]
    return []


def _redrive(props: dict[str, Any]) -> dict[str, Any] | None:
    policy = props.get("RedrivePolicy")
    return json.loads(policy) if isinstance(policy, str) else policy


def dead_letter_queues(template: Template) -> set[str]:
    """Logical ids of the queues that some queue's RedrivePolicy targets."""
    queues = _resources(template, "AWS::SQS::Queue")
    policies = [_redrive(queue.get("Properties", {})) or {} for queue in queues.values()]
    targets = {_target(policy.get("deadLetterTargetArn")) for policy in policies}
    return {target for target in targets if target in queues}


def check_queues(template: Template) -> list[str]:
    """Every work queue redrives to a template DLQ (1-10 receives); DLQs keep 14 days, FIFO matches."""
    queues, dlqs, problems = _resources(template, "AWS::SQS::Queue"), dead_letter_queues(template), []
    for lid, queue in queues.items():
        props = queue.get("Properties", {})
        if lid in dlqs:
            if str(props.get("MessageRetentionPeriod")) != str(DLQ_RETENTION):
                retention = props.get("MessageRetentionPeriod")
                problems.append(f"DLQ {lid}: MessageRetentionPeriod is {retention}, expected {DLQ_RETENTION}")
            continue
        policy = _redrive(props)
        if not policy:
            problems.append(f"SQS queue {lid} has no RedrivePolicy (and is no queue's dead-letter queue)")
            continue
        dlq = _target(policy.get("deadLetterTargetArn"))
        if dlq not in queues:
            problems.append(f"SQS queue {lid}: RedrivePolicy deadLetterTargetArn is no queue of the template")
        elif _true(props.get("FifoQueue")) != _true(queues[dlq].get("Properties", {}).get("FifoQueue")):
            problems.append(f"SQS queue {lid} and its dead-letter queue {dlq} must both be FIFO or both not")
        count = policy.get("maxReceiveCount")
        if not str(count).isdigit() or not 1 <= int(count) <= 10:
            problems.append(f"SQS queue {lid}: RedrivePolicy maxReceiveCount is {count}, expected 1 to 10")
    return problems


def check_event_sources(template: Template) -> list[str]:
    """Each SQS event: queue VisibilityTimeout >= 6 x function Timeout, ReportBatchItemFailures on."""
    queues, problems = _resources(template, "AWS::SQS::Queue"), []
    for function in _resources(template, "AWS::Serverless::Function"):
        timeout = int(_props(template, function).get("Timeout", 3))
        for name, props in _events(template, function, "SQS"):
            where = f"{function} SQS event {name}"
            if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
                problems.append(f"{where}: FunctionResponseTypes must contain ReportBatchItemFailures")
            queue = _target(props.get("Queue"))
            if queue not in queues:
                problems.append(f"{where}: Queue is not a queue of the template")
                continue
            visibility = int(queues[queue].get("Properties", {}).get("VisibilityTimeout", 30))
            if visibility < 6 * timeout:
                problems.append(
                    f"{where}: queue {queue} VisibilityTimeout {visibility}s is less than 6 x the "
                    f"function Timeout {timeout}s = {6 * timeout}s"
                )
    return problems


def check_alarms(template: Template) -> list[str]:
    """Every DLQ has a CloudWatch alarm on ApproximateNumberOfMessagesVisible that references it."""
    watched: set[str] = set()
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm.get("Properties", {})
        metrics = [props.get("Dimensions"), props.get("Metrics")]
        if "ApproximateNumberOfMessagesVisible" in json.dumps(props):
            watched |= _references(metrics)
    return [
        f"dead-letter queue {dlq} has no CloudWatch alarm on ApproximateNumberOfMessagesVisible"
        for dlq in sorted(dead_letter_queues(template) - watched)
    ]


def check_tables(template: Template) -> list[str]:
    """DynamoDB tables: on-demand, point-in-time recovery, SSE, and retained on stack deletion."""
    problems = []
    for lid, table in _resources(template, "AWS::DynamoDB::Table").items():
        props = table.get("Properties", {})
        rules = {
            "BillingMode must be PAY_PER_REQUEST": props.get("BillingMode") == "PAY_PER_REQUEST",
            "point-in-time recovery must be enabled": _true(
                (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
            ),
            "SSESpecification.SSEEnabled must be true": _true(
                (props.get("SSESpecification") or {}).get("SSEEnabled")
            ),
            "DeletionPolicy must be Retain": table.get("DeletionPolicy") == "Retain",
        }
        problems += [f"DynamoDB table {lid}: {rule}" for rule, kept in rules.items() if not kept]
    return problems


def check_functions(template: Template) -> list[str]:
    """Functions run python3.12 and carry a least-privilege Policies list."""
    problems = []
    for lid in _resources(template, "AWS::Serverless::Function"):
        props = _props(template, lid)
        if props.get("Runtime") != RUNTIME:
            problems.append(f"function {lid}: Runtime is {props.get('Runtime')}, expected {RUNTIME}")
        policies = props.get("Policies")
        if not isinstance(policies, list) or not policies:
            problems.append(f"function {lid}: Policies must be a non-empty list (least privilege)")
            continue
        for policy in policies:
            if isinstance(policy, str) and policy.rsplit("/", 1)[-1] == "AdministratorAccess":
                problems.append(f"function {lid}: AdministratorAccess is not least privilege")
            statements = policy.get("Statement", []) if isinstance(policy, dict) else []
            for statement in statements if isinstance(statements, list) else [statements]:
                actions = statement.get("Action", [])
                if "*" in (actions if isinstance(actions, list) else [actions]):
                    problems.append(f'function {lid}: an inline policy statement allows Action "*"')
    return problems


@cache
def chalice_routes(app_file: Path, attribute: str = "app") -> frozenset[tuple[str, str]]:
    """(path, METHOD) of every route of the Chalice app defined in `app_file`."""
    os.environ.setdefault("TABLE_NAME", "template-check")
    spec = importlib.util.spec_from_file_location(f"_template_check_{app_file.parent.name}", app_file)
    assert spec is not None and spec.loader is not None, app_file
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    routes = getattr(module, attribute).routes
    return frozenset((path, method.upper()) for path, methods in routes.items() for method in methods)


def check_api_routes(template: Template, root: Path = ROOT) -> list[str]:
    """Each Chalice route of ApiFunction is exactly one of its Api events, and vice versa; every path
    has one ``any`` event besides, so that a method it lacks answers 405 (see check_other_methods).

    Chalice routes on the API Gateway resource path, so a catch-all {proxy+} event answers 405.
    """
    if API_FUNCTION not in _resources(template, "AWS::Serverless::Function"):
        return [f"template has no {API_FUNCTION}"]
    props = _props(template, API_FUNCTION)
    module, _, attribute = props["Handler"].rpartition(".")
    app_routes = chalice_routes((root / props["CodeUri"] / f"{module}.py").resolve(), attribute)
    seen: dict[tuple[str, str], list[str]] = {}
    app_paths = {path for path, _ in app_routes}
    foreign = []
    for name, event in _events(template, API_FUNCTION, "Api"):
        path, method = event.get("Path", ""), str(event.get("Method", "")).upper()
        if method != "ANY":
            seen.setdefault((path, method), []).append(name)
        elif path not in app_paths:
            foreign.append(f"{API_FUNCTION} Api event {name} (ANY {path}) is no Chalice route")
    problems = [
        f"{API_FUNCTION}: Api events {', '.join(n)} repeat {m} {p}"
        for (p, m), n in seen.items()
        if len(n) > 1
    ]
    problems += [
        f"Chalice route {m} {p} has no Api event in {API_FUNCTION}" for p, m in app_routes - seen.keys()
    ]
    problems += [
        f"{API_FUNCTION} Api event {seen[p, m][0]} ({m} {p}) is no Chalice route"
        for p, m in seen.keys() - app_routes
    ]
    return sorted(problems + foreign)


def check_other_methods(template: Template) -> list[str]:
    """Every path with Api events also has exactly one ``any`` event of the same function, and no
    ``any`` event makes up a path of its own.

    API Gateway answers a method that a path lacks exactly as it answers an unknown path; only an
    ``any`` method lets the function answer 405 with an Allow header.
    """
    problems = []
    for function in _resources(template, "AWS::Serverless::Function"):
        methods: dict[str, list[str]] = {}
        for _name, event in _events(template, function, "Api"):
            methods.setdefault(str(event.get("Path", "")), []).append(str(event.get("Method", "")).upper())
        for path, declared in sorted(methods.items()):
            if "{proxy+}" in path:
                continue
            others = declared.count("ANY")
            if others == 0:
                problems.append(
                    f"{function}: {path} has no `any` Api event, so other methods would answer 404"
                )
            elif others > 1:
                problems.append(f"{function}: {path} has {others} `any` Api events")
            elif len(declared) == 1:
                problems.append(
                    f"{function}: {path} has only an `any` Api event; it names no method it serves"
                )
    return problems


#: What API Gateway answers itself, and the status it must answer with (None: its own default).
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "REQUEST_TOO_LARGE": 413,
    "THROTTLED": 429,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}


def check_gateway_responses(template: Template) -> list[str]:
    """Every Serverless API answers what API Gateway says itself in the API's error shape
    (``{"error": {"code", "message"}}``), an unknown path with 404 rather than 403."""
    problems = []
    for api in _resources(template, "AWS::Serverless::Api"):
        responses = _props(template, api).get("GatewayResponses", {})
        for kind, status in GATEWAY_RESPONSES.items():
            response = responses.get(kind)
            if not isinstance(response, dict):
                problems.append(f"{api}: GatewayResponses lacks {kind}")
                continue
            if status is not None and str(response.get("StatusCode")) != str(status):
                problems.append(f"{api}: GatewayResponses {kind} must answer {status}")
            try:
                body = json.loads(response.get("ResponseTemplates", {}).get("application/json", ""))
                shaped = set(body) == {"error"} and {"code", "message"} <= set(body["error"])
            except (ValueError, TypeError, AttributeError):
                shaped = False
            if not shaped:
                problems.append(
                    f'{api}: GatewayResponses {kind} must answer {{"error": {{"code", "message"}}}}'
                )
            header = response.get("ResponseParameters", {}).get("Headers", {}).get("Content-Type")
            if header != "'application/json'":
                problems.append(f"{api}: GatewayResponses {kind} must set Content-Type 'application/json'")
    return problems


def _distribution(requirement: str) -> str:
    """PEP 503 normalised name of a requirement line: extras, versions and markers dropped."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement.strip()


def check_layer_requirements(template: Template, root: Path = ROOT) -> list[str]:
    """The layer's requirements.txt names the project's dependencies, boto3 excepted (in the runtime)."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_distribution(dep) for dep in project.get("dependencies", [])} - {"boto3"}
    problems = []
    for lid in _resources(template, "AWS::Serverless::LayerVersion"):
        path = root / _props(template, lid)["ContentUri"] / "requirements.txt"
        if not path.is_file():
            problems.append(f"layer {lid}: {path.relative_to(root)} is missing")
            continue
        lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
        listed = {_distribution(line) for line in lines if line and not line.startswith("-")}
        for name in sorted(wanted - listed):
            problems.append(f"layer {lid}: {path.relative_to(root)} lacks {name} (in pyproject dependencies)")
        for name in sorted(listed - wanted):
            problems.append(f"layer {lid}: {path.relative_to(root)} lists {name}, not a pyproject dependency")
    return problems


CHECKS: tuple[Callable[[Template], list[str]], ...] = (
    check_translation,
    check_queues,
    check_event_sources,
    check_alarms,
    check_tables,
    check_functions,
    check_api_routes,
    check_other_methods,
    check_gateway_responses,
    check_layer_requirements,
)


def run_checks(template: Template) -> list[str]:
    """Every problem every check finds."""
    return [problem for check in CHECKS for problem in check(template)]


def main() -> int:
    template = load_template()
    problems = run_checks(template)
    for problem in problems:
        print(f"template.yaml: {problem}", file=sys.stderr)
    if problems:
        print(f"template.yaml: {len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"template.yaml: all {len(CHECKS)} checks passed ({', '.join(c.__name__ for c in CHECKS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
