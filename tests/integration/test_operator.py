"""Operator commands against moto: secrets go to SSM as SecureStrings, and existing ones are kept."""

from __future__ import annotations

import sys

import boto3
import pytest
from moto import mock_aws

from infra import secrets as secrets_command
from infra.operator import PARAMETERS


@pytest.fixture
def ssm(monkeypatch):
    with mock_aws():
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:first-token")
        monkeypatch.setattr(sys, "argv", ["secrets", "--region", "us-east-1"])
        yield boto3.client("ssm", region_name="us-east-1")


def value(ssm, name: str) -> dict:
    return ssm.get_parameter(Name=PARAMETERS[name], WithDecryption=True)["Parameter"]


def test_make_secrets_stores_the_token_and_generates_the_rest(ssm, capsys):
    # When an operator runs `make secrets` for the first time
    assert secrets_command.main() == 0

    # Then all three are SecureStrings, the generated ones long and in Telegram's secret_token alphabet
    token, secret, hash_key = (value(ssm, name) for name in PARAMETERS)
    assert {token["Type"], secret["Type"], hash_key["Type"]} == {"SecureString"}
    assert token["Value"] == "123:first-token"
    assert len(secret["Value"]) >= 64 and set(secret["Value"]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    )
    # And no secret value is printed
    printed = capsys.readouterr().out
    assert "first-token" not in printed and secret["Value"] not in printed


def test_running_it_again_keeps_the_hash_key_and_the_webhook_secret(ssm, monkeypatch):
    # Given secrets that exist
    secrets_command.main()
    before = {name: value(ssm, name)["Value"] for name in PARAMETERS}

    # When the operator runs it again with a new bot token
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:rotated-token")
    secrets_command.main()

    # Then the token is replaced but the hash key (which consent hashes depend on) and the webhook secret stay
    assert value(ssm, "telegram_bot_token")["Value"] == "123:rotated-token"
    assert value(ssm, "address_hash_key")["Value"] == before["address_hash_key"]
    assert value(ssm, "telegram_webhook_secret")["Value"] == before["telegram_webhook_secret"]


def test_a_token_that_is_not_a_bot_token_is_refused(ssm, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert secrets_command.main() == 2
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        value(ssm, "telegram_bot_token")
