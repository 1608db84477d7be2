"""Shared pieces of the operator commands: the deployed stack's outputs and its SSM parameters."""

from __future__ import annotations

import argparse
from typing import Any

import boto3

DEFAULT_STACK = "subcast"
PARAMETERS = {
    "telegram_bot_token": "/subcast/telegram/bot-token",
    "telegram_webhook_secret": "/subcast/telegram/webhook-secret",
    "address_hash_key": "/subcast/address-hash-key",
}


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--stack-name", default=DEFAULT_STACK, help="the CloudFormation stack (default: subcast)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: your AWS configuration)")
    return parser


def session(region: str | None) -> Any:
    return boto3.session.Session(region_name=region)


def stack_outputs(aws: Any, stack_name: str) -> dict[str, str]:
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def read_secret(aws: Any, name: str) -> str:
    value: str = aws.client("ssm").get_parameter(Name=PARAMETERS[name], WithDecryption=True)["Parameter"][
        "Value"
    ]
    return value
