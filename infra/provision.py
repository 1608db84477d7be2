"""Create everything template.yaml declares in moto, the way CloudFormation would.

The SAM template is translated by samtranslator (as `sam deploy` does), then
created as a CloudFormation stack in moto. The functions' resolved
environments and the physical names come back from moto, so the local stack
and the tests run against exactly what the template describes.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import boto3
import botocore.loaders

from infra.template import (
    LOCAL_CODE_BUCKET,
    TEMPLATE_PATH,
    code_key,
    functions,
    load_template,
    translated_for_moto,
)

STACK_NAME = "subcast"


@dataclass(frozen=True)
class Deployment:
    """What a stack created: physical ids by logical id, and each function's environment."""

    stack_name: str
    region: str
    physical: dict[str, str]
    function_env: dict[str, dict[str, str]]

    def queue_url(self, logical_id: str) -> str:
        return self.physical[logical_id]

    def queue_arn(self, logical_id: str) -> str:
        url = self.physical[logical_id]
        account, name = url.rstrip("/").split("/")[-2:]
        return f"arn:aws:sqs:{self.region}:{account}:{name}"

    def environment(self) -> dict[str, str]:
        """The union of every function's environment; a name two functions set differently is an error.

        Handlers share one process locally, so they must agree on every value.
        """
        merged: dict[str, str] = {}
        for function, variables in self.function_env.items():
            for name, value in variables.items():
                if merged.get(name, str(value)) != str(value):
                    raise ValueError(f"{function} sets {name} differently from another function")
                merged[name] = str(value)  # Lambda environment values are strings
        return merged


def _upload_code(s3: Any, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": LOCAL_CODE_BUCKET}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    # moto only checks that the code object exists; the local stack imports the real folders.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs from the working tree")
    template = load_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        uri = props.get("CodeUri") or props.get("ContentUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            s3.put_object(Bucket=LOCAL_CODE_BUCKET, Key=code_key(uri), Body=buffer.getvalue())


@lru_cache(maxsize=4)
def _translated_body(region: str, template_version: int) -> str:
    """The translated template, once per region and version of template.yaml (translation is pure)."""
    del template_version  # part of the cache key only
    return json.dumps(translated_for_moto(TEMPLATE_PATH, region))


@cache
def _shared_loader() -> Any:
    return botocore.loaders.create_loader()


def provision(
    region: str = "us-east-1", endpoint_url: str | None = None, stack_name: str = STACK_NAME
) -> Deployment:
    """Create the stack in moto (in-process mock or a moto server at ``endpoint_url``)."""
    session = boto3.session.Session(region_name=region)
    # The service models are read-only: share their loader rather than parse them again per stack.
    session._session.register_component("data_loader", _shared_loader())
    s3 = session.client("s3", endpoint_url=endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    lambda_ = session.client("lambda", endpoint_url=endpoint_url)
    _upload_code(s3, region)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=_translated_body(region, TEMPLATE_PATH.stat().st_mtime_ns),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}")
    physical: dict[str, str] = {}
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            physical[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
    # The local stack polls the queues itself (moto cannot run the code without
    # Docker); an enabled mapping would make moto receive, and hide, the messages.
    for mapping in lambda_.list_event_source_mappings()["EventSourceMappings"]:
        lambda_.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    function_env = {}
    for spec in functions():
        configuration = lambda_.get_function_configuration(FunctionName=physical[spec.logical_id])
        function_env[spec.logical_id] = dict(configuration.get("Environment", {}).get("Variables", {}))
    return Deployment(stack_name, region, physical, function_env)
