"""Contract tests of template.yaml: the real template passes every check, and each check bites.

Each check test breaks one thing in a deep copy of the real template and expects that check to
name the problem, so a check that silently stops looking makes its test fail.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file

from infra import template_check
from infra.template import ROOT, TEMPLATE_PATH, api_routes, functions, load_template
from infra.template_check import (
    chalice_routes,
    check_alarms,
    check_api_routes,
    check_event_sources,
    check_functions,
    check_gateway_responses,
    check_layer_requirements,
    check_other_methods,
    check_queues,
    check_tables,
    check_translation,
    run_checks,
)

Template = dict[str, Any]
CANCEL = "/v1/broadcasts/{broadcast_id}/cancel"


@pytest.fixture
def template() -> Template:
    """A deep copy of the real template, free to break."""
    return copy.deepcopy(load_template())


def props(template: Template, logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def events(template: Template, function: str) -> dict[str, Any]:
    return props(template, function)["Events"]


def mentions(problems: list[str], *words: str) -> bool:
    """Some single problem names every one of `words`."""
    return any(all(word in problem for word in words) for problem in problems)


# ------------------------------------------------------------------ the real template


def test_the_real_template_passes_every_check(template: Template) -> None:
    # Given the template as committed
    # When every check runs on it
    problems = run_checks(template)
    # Then none finds a problem
    assert problems == []


def test_cfn_lint_finds_no_error_in_the_real_template() -> None:
    # Given template.yaml on disk
    # When cfn-lint lints it with its default rules
    matches = lint_file(TEMPLATE_PATH)
    # Then no rule reports an error
    errors = [str(match) for match in matches if match.rule.id.startswith("E")]
    assert errors == []


def test_main_prints_a_one_line_summary_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the real template
    # When the command line entry point runs
    status = template_check.main()
    # Then it succeeds with exactly one line on stdout and nothing on stderr
    out, err = capsys.readouterr()
    assert status == 0
    assert len(out.strip().splitlines()) == 1 and "passed" in out
    assert err == ""


def test_main_names_each_problem_and_exits_non_zero(
    template: Template, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a template with two unrelated defects
    props(template, "DataTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False
    props(template, "CommandsQueue")["VisibilityTimeout"] = 60
    monkeypatch.setattr(template_check, "load_template", lambda: template)
    # When the command line entry point runs
    status = template_check.main()
    # Then it fails and names both problems on stderr
    _, err = capsys.readouterr()
    assert status == 1
    assert "DataTable" in err and "point-in-time recovery" in err
    assert "CommandsQueue VisibilityTimeout 60s" in err


# ------------------------------------------------------------------ SAM translation


def test_a_broken_event_type_fails_the_sam_transform(template: Template) -> None:
    # Given an SQS event whose type is misspelt (cfn-lint lets this through)
    events(template, "CommandsFunction")["Commands"]["Type"] = "SQSS"
    # When the template is translated
    problems = check_translation(template)
    # Then the transform's complaint names the function, the event and the bad type
    assert mentions(problems, "CommandsFunction", "Commands", "SQSS")


def test_the_translation_check_leaves_the_template_untouched(template: Template) -> None:
    # Given the real template with its local CodeUri folders
    before = copy.deepcopy(template)
    # When the translation check runs
    check_translation(template)
    # Then the caller's template still holds the local folders
    assert template == before
    assert props(template, "ApiFunction")["CodeUri"] == "functions/api/"


# ------------------------------------------------------------------ queues and DLQs


def test_a_queue_without_redrive_policy_is_reported(template: Template) -> None:
    # Given the fan-out queue without a dead-letter queue
    del props(template, "FanoutQueue")["RedrivePolicy"]
    # When the queue check runs
    problems = check_queues(template)
    # Then the queue is named as lacking a RedrivePolicy
    assert mentions(problems, "FanoutQueue ", "no RedrivePolicy")


@pytest.mark.parametrize("count", [0, 11, "many"])
def test_a_max_receive_count_outside_1_to_10_is_reported(template: Template, count: object) -> None:
    # Given a redrive policy that gives up never or too late
    props(template, "DeliveryQueue")["RedrivePolicy"]["maxReceiveCount"] = count
    # When the queue check runs
    problems = check_queues(template)
    # Then the count is reported for that queue
    assert mentions(problems, "DeliveryQueue", "maxReceiveCount", str(count))


def test_a_redrive_target_outside_the_template_is_reported(template: Template) -> None:
    # Given a dead-letter target that is a hard-coded ARN
    props(template, "FanoutQueue")["RedrivePolicy"]["deadLetterTargetArn"] = "arn:aws:sqs:us-east-1:1:x"
    # When the queue check runs
    problems = check_queues(template)
    # Then the queue is named
    assert mentions(problems, "FanoutQueue", "deadLetterTargetArn")


def test_a_redrive_policy_given_as_json_text_is_understood(template: Template) -> None:
    # Given a redrive policy written as a JSON string (CloudFormation accepts both)
    policy = props(template, "FanoutQueue")["RedrivePolicy"]
    props(template, "FanoutQueue")["RedrivePolicy"] = json.dumps(policy)
    # When the queue check runs
    problems = check_queues(template)
    # Then nothing is wrong
    assert problems == []


def test_a_dead_letter_queue_keeping_less_than_14_days_is_reported(template: Template) -> None:
    # Given a DLQ that keeps messages for the default 4 days
    del props(template, "DeliveryDeadLetterQueue")["MessageRetentionPeriod"]
    # When the queue check runs
    problems = check_queues(template)
    # Then the DLQ's retention is reported
    assert mentions(problems, "DeliveryDeadLetterQueue", "MessageRetentionPeriod", "1209600")


def test_a_fifo_queue_with_a_standard_dead_letter_queue_is_reported(template: Template) -> None:
    # Given the FIFO commands queue redriving to a standard queue
    dlq = props(template, "CommandsDeadLetterQueue")
    del dlq["FifoQueue"], dlq["QueueName"]
    # When the queue check runs
    problems = check_queues(template)
    # Then the pair is reported
    assert mentions(problems, "CommandsQueue", "CommandsDeadLetterQueue", "FIFO")


# ------------------------------------------------------------------ SQS event sources


def test_a_visibility_timeout_below_six_times_the_function_timeout_is_reported(template: Template) -> None:
    # Given the delivery queue hiding a message for less than 6 x the sender's 90 s
    props(template, "DeliveryQueue")["VisibilityTimeout"] = 539
    # When the event source check runs
    problems = check_event_sources(template)
    # Then the sender's event, the queue and both numbers are named
    assert mentions(problems, "SenderFunction", "DeliveryQueue", "539s", "540s")


def test_the_global_timeout_counts_for_functions_without_their_own(template: Template) -> None:
    # Given a global Timeout raised above what the commands queue allows (180 s / 6 = 30 s)
    template["Globals"]["Function"]["Timeout"] = 31
    # When the event source check runs
    problems = check_event_sources(template)
    # Then only the commands function (which has no Timeout of its own) is reported
    assert mentions(problems, "CommandsFunction", "CommandsQueue", "186s")
    assert not mentions(problems, "SenderFunction") and not mentions(problems, "FanoutFunction")


def test_an_sqs_event_without_report_batch_item_failures_is_reported(template: Template) -> None:
    # Given the sender's SQS event without partial batch responses
    del events(template, "SenderFunction")["Jobs"]["Properties"]["FunctionResponseTypes"]
    # When the event source check runs
    problems = check_event_sources(template)
    # Then the event is named
    assert mentions(problems, "SenderFunction", "Jobs", "ReportBatchItemFailures")


# ------------------------------------------------------------------ alarms


def test_a_dead_letter_queue_without_an_alarm_is_reported(template: Template) -> None:
    # Given no alarm on the delivery DLQ
    del template["Resources"]["DeliveryDeadLetterAlarm"]
    # When the alarm check runs
    problems = check_alarms(template)
    # Then exactly that DLQ is reported
    assert len(problems) == 1
    assert mentions(
        problems, "DeliveryDeadLetterQueue", "no CloudWatch alarm", "ApproximateNumberOfMessagesVisible"
    )


def test_an_alarm_watching_the_wrong_queue_does_not_count(template: Template) -> None:
    # Given the fan-out DLQ alarm pointed at the work queue instead
    dimension = props(template, "FanoutDeadLetterAlarm")["Dimensions"][0]
    dimension["Value"] = {"Fn::GetAtt": ["FanoutQueue", "QueueName"]}
    # When the alarm check runs
    problems = check_alarms(template)
    # Then the fan-out DLQ is unwatched
    assert mentions(problems, "FanoutDeadLetterQueue")


def test_an_alarm_on_another_metric_does_not_count(template: Template) -> None:
    # Given the commands DLQ alarm on a metric that says nothing about waiting dead letters
    props(template, "CommandsDeadLetterAlarm")["MetricName"] = "NumberOfMessagesSent"
    # When the alarm check runs
    problems = check_alarms(template)
    # Then the commands DLQ is unwatched
    assert mentions(problems, "CommandsDeadLetterQueue")


# ------------------------------------------------------------------ DynamoDB


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda t: t["Properties"].update(BillingMode="PROVISIONED"), "PAY_PER_REQUEST"),
        (lambda t: t["Properties"].pop("PointInTimeRecoverySpecification"), "point-in-time recovery"),
        (lambda t: t["Properties"]["SSESpecification"].update(SSEEnabled=False), "SSEEnabled"),
        (lambda t: t.update(DeletionPolicy="Delete"), "DeletionPolicy"),
    ],
    ids=["provisioned", "pitr-off", "sse-off", "deletion-policy-delete"],
)
def test_a_table_setting_out_of_line_is_reported(template: Template, break_it: Any, expected: str) -> None:
    # Given the data table with one setting changed
    break_it(template["Resources"]["DataTable"])
    # When the table check runs
    problems = check_tables(template)
    # Then that setting is reported for the table
    assert mentions(problems, "DataTable", expected)
    assert len(problems) == 1


# ------------------------------------------------------------------ functions


def test_a_global_runtime_other_than_python_3_12_is_reported_for_every_function(template: Template) -> None:
    # Given Globals switched to another runtime
    template["Globals"]["Function"]["Runtime"] = "python3.11"
    # When the function check runs
    problems = check_functions(template)
    # Then every function is reported
    assert {spec.logical_id for spec in functions()} == {
        lid for lid in template["Resources"] if mentions(problems, f"function {lid}:", "python3.11")
    }


def test_a_function_overriding_the_runtime_is_reported(template: Template) -> None:
    # Given one function that overrides the global runtime
    props(template, "SenderFunction")["Runtime"] = "python3.13"
    # When the function check runs
    problems = check_functions(template)
    # Then only that function is reported
    assert problems == ["function SenderFunction: Runtime is python3.13, expected python3.12"]


def test_a_function_without_policies_is_reported(template: Template) -> None:
    # Given a function with no Policies list
    del props(template, "DispatcherFunction")["Policies"]
    # When the function check runs
    problems = check_functions(template)
    # Then it is reported
    assert mentions(problems, "DispatcherFunction", "Policies")


def test_administrator_access_is_reported(template: Template) -> None:
    # Given a function granted AdministratorAccess
    props(template, "ApiFunction")["Policies"].append("arn:aws:iam::aws:policy/AdministratorAccess")
    # When the function check runs
    problems = check_functions(template)
    # Then it is reported
    assert mentions(problems, "ApiFunction", "AdministratorAccess")


def test_an_inline_statement_allowing_every_action_is_reported(template: Template) -> None:
    # Given an inline statement allowing Action "*"
    statement = {"Effect": "Allow", "Action": ["ssm:GetParameter", "*"], "Resource": "*"}
    props(template, "WebhooksFunction")["Policies"].append({"Statement": [statement]})
    # When the function check runs
    problems = check_functions(template)
    # Then it is reported
    assert mentions(problems, "WebhooksFunction", 'Action "*"')


# ------------------------------------------------------------------ Chalice routes vs Api events


def test_a_chalice_route_missing_from_the_template_is_reported(template: Template) -> None:
    # Given the template without the cancel route's Api event
    del events(template, "ApiFunction")["CancelBroadcast"]
    # When the route check runs
    problems = check_api_routes(template)
    # Then the Chalice route is reported as missing
    assert problems == [f"Chalice route POST {CANCEL} has no Api event in ApiFunction"]


def test_an_api_event_without_a_chalice_route_is_reported(template: Template) -> None:
    # Given an extra Api event the app does not serve
    extra = {"RestApiId": {"Ref": "PublicApi"}, "Path": "/v1/topics", "Method": "delete"}
    events(template, "ApiFunction")["DeleteTopic"] = {"Type": "Api", "Properties": extra}
    # When the route check runs
    problems = check_api_routes(template)
    # Then the event is reported
    assert problems == ["ApiFunction Api event DeleteTopic (DELETE /v1/topics) is no Chalice route"]


def test_a_proxy_event_instead_of_the_routes_is_reported(template: Template) -> None:
    # Given the per-route events replaced by one catch-all (which would answer 405 behind Chalice)
    catch_all = {"RestApiId": {"Ref": "PublicApi"}, "Path": "/v1/{proxy+}", "Method": "any"}
    routes = len([e for e in events(template, "ApiFunction").values() if e["Properties"]["Method"] != "any"])
    props(template, "ApiFunction")["Events"] = {"Everything": {"Type": "Api", "Properties": catch_all}}
    # When the route check runs
    problems = check_api_routes(template)
    # Then every Chalice route is missing and the catch-all is foreign
    assert len([p for p in problems if p.startswith("Chalice route")]) == routes >= 5
    assert mentions(problems, "Everything", "{proxy+}", "is no Chalice route")


def test_a_route_declared_twice_is_reported(template: Template) -> None:
    # Given two Api events for the same path and method
    events(template, "ApiFunction")["CancelAgain"] = copy.deepcopy(
        events(template, "ApiFunction")["CancelBroadcast"]
    )
    # When the route check runs
    problems = check_api_routes(template)
    # Then the repetition is reported
    assert mentions(problems, "CancelAgain", "CancelBroadcast", CANCEL)


def test_a_path_without_an_any_event_is_reported(template: Template) -> None:
    # Given the settings path without its `any` event (PATCH /v1/settings would answer the gateway's 404)
    del events(template, "ApiFunction")["SettingsOtherMethods"]
    # When the check for other methods runs
    problems = check_other_methods(template)
    # Then the path is named
    assert problems == ["ApiFunction: /v1/settings has no `any` Api event, so other methods would answer 404"]


def test_an_any_event_that_makes_up_a_path_is_reported(template: Template) -> None:
    # Given an `any` event on a path nothing else serves
    extra = {"RestApiId": {"Ref": "PublicApi"}, "Path": "/v1/nothing", "Method": "any"}
    events(template, "ApiFunction")["Nothing"] = {"Type": "Api", "Properties": extra}
    # When both route checks run
    problems = check_other_methods(template) + check_api_routes(template)
    # Then it is reported by both
    assert mentions(problems, "/v1/nothing", "only an `any` Api event")
    assert mentions(problems, "Nothing", "ANY /v1/nothing", "is no Chalice route")


def test_the_webhook_path_takes_other_methods_too(template: Template) -> None:
    # Given the webhook without its `any` event
    del events(template, "WebhooksFunction")["TelegramWebhookOtherMethods"]
    # When the check runs
    problems = check_other_methods(template)
    # Then it is reported
    assert mentions(problems, "WebhooksFunction", "/webhooks/telegram")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r.pop("MISSING_AUTHENTICATION_TOKEN"), ("lacks MISSING_AUTHENTICATION_TOKEN",)),
        (lambda r: r["MISSING_AUTHENTICATION_TOKEN"].update(StatusCode=403), ("must answer 404",)),
        (
            lambda r: r["DEFAULT_5XX"]["ResponseTemplates"].update({"application/json": '{"message": "x"}'}),
            ("DEFAULT_5XX", '"error"'),
        ),
        (lambda r: r["THROTTLED"].pop("ResponseParameters"), ("THROTTLED", "Content-Type")),
    ],
)
def test_gateway_responses_off_the_error_shape_are_reported(template: Template, change, words) -> None:
    # Given the API's own answers changed one way
    change(props(template, "PublicApi")["GatewayResponses"])
    # When the check runs
    problems = check_gateway_responses(template)
    # Then the change is named
    assert len(problems) == 1 and mentions(problems, "PublicApi", *words)


def test_the_real_template_answers_in_the_error_shape(template: Template) -> None:
    assert check_gateway_responses(template) == [] and check_other_methods(template) == []


# ------------------------------------------------------------------ layer requirements


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's pyproject.toml and the layer's requirements.txt."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "shared").mkdir()
    shutil.copy(ROOT / "shared" / "requirements.txt", tmp_path / "shared" / "requirements.txt")
    return tmp_path


def write_requirements(project: Path, *lines: str) -> None:
    (project / "shared" / "requirements.txt").write_text("# the layer\n" + "\n".join(lines) + "\n")


def test_the_copied_project_passes_the_layer_check(template: Template, project: Path) -> None:
    # Given an untouched copy
    # When the layer check runs on it
    # Then nothing is wrong
    assert check_layer_requirements(template, project) == []


def test_names_are_compared_ignoring_case_extras_and_versions(template: Template, project: Path) -> None:
    # Given the same distributions spelt differently
    write_requirements(
        project,
        "AWS_Lambda_Powertools",
        "Pydantic[email]==2.13.0",
        "chalice ; python_version>'3'",
        "NH3",
        "FeedParser",
    )
    # When the layer check runs
    # Then they count as the same
    assert check_layer_requirements(template, project) == []


def test_a_dependency_missing_from_the_layer_is_reported(template: Template, project: Path) -> None:
    # Given a layer requirements file without pydantic
    write_requirements(
        project, "aws-lambda-powertools[parser]>=3.37,<4", "chalice>=1.34,<2", "nh3", "feedparser"
    )
    # When the layer check runs
    problems = check_layer_requirements(template, project)
    # Then pydantic is named as missing
    assert problems == [
        "layer SharedLayer: shared/requirements.txt lacks pydantic (in pyproject dependencies)"
    ]


@pytest.mark.parametrize("extra", ["requests>=2", "boto3>=1.40"])
def test_a_distribution_only_in_the_layer_is_reported(template: Template, project: Path, extra: str) -> None:
    # Given the layer listing something the project does not depend on (or boto3, which Lambda provides)
    write_requirements(
        project, "aws-lambda-powertools[parser]", "pydantic", "chalice", "nh3", "feedparser", extra
    )
    # When the layer check runs
    problems = check_layer_requirements(template, project)
    # Then it is reported
    assert mentions(problems, "SharedLayer", f"lists {extra.split('>')[0]}")


# ------------------------------------------------------------------ infra.template.functions()


def test_functions_finds_every_serverless_function_with_its_triggers(template: Template) -> None:
    # Given the real template
    declared = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    # When infra.template reads its functions
    specs = {spec.logical_id: spec for spec in functions()}
    # Then it finds every function with its code folder, Globals applied
    assert set(specs) == declared
    for lid, spec in specs.items():
        assert spec.code_dir == (ROOT / props(template, lid)["CodeUri"]).resolve()
        assert (spec.code_dir / "app.py").is_file()
    assert specs["CommandsFunction"].timeout == 30 and specs["SenderFunction"].timeout == 90
    # And the commands function consumes the FIFO commands queue with partial batch failures
    (commands,) = specs["CommandsFunction"].sqs
    assert commands.queue == "CommandsQueue" and commands.report_batch_item_failures
    assert props(template, commands.queue)["FifoQueue"] is True
    # And fan-out and sender consume their queues
    assert [s.queue for s in specs["FanoutFunction"].sqs] == ["FanoutQueue"]
    assert [s.queue for s in specs["SenderFunction"].sqs] == ["DeliveryQueue"]
    # And the dispatcher runs on a rate schedule
    (tick,) = specs["DispatcherFunction"].schedules
    assert tick.expression.startswith("rate(")
    # And the webhooks and API functions carry their routes, the API's equal to the Chalice app's
    assert {(r.path, r.method) for r in specs["WebhooksFunction"].routes} >= {("/webhooks/telegram", "POST")}
    app_file = specs["ApiFunction"].code_dir / "app.py"
    served = {(r.path, r.method) for r in specs["ApiFunction"].routes if r.method != "ANY"}
    assert served == chalice_routes(app_file)
    # And every path also takes the methods it lacks (to answer 405), no other path
    assert {r.path for r in specs["ApiFunction"].routes if r.method == "ANY"} == {p for p, _ in served}
    assert set(api_routes()) == {route for spec in specs.values() for route in spec.routes}
