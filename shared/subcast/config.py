"""Settings, parsed once per cold start from the environment the template sets."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Every environment variable subcast reads, in one validated place."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str
    commands_queue_url: str = ""
    fanout_queue_url: str = ""
    delivery_queue_url: str = ""
    telegram_api_base: str = "https://api.telegram.org"
    telegram_messages_per_second: float = Field(default=30.0, gt=0, le=1000)  # for the whole bot
    telegram_seconds_per_chat: float = Field(default=1.0, ge=0)
    # The sender: recipients per ledger move (a hard crash leaves at most one chunk uncertain),
    # and sends in flight at once within one instance (so provider latency does not cap the rate).
    send_chunk: int = Field(default=20, ge=1, le=100)
    send_concurrency: int = Field(default=4, ge=1, le=32)
    telegram_bot_token_param: str = ""
    telegram_webhook_secret_param: str = ""
    address_hash_key_param: str = ""
    brand_name: str = "subcast"
    brand_description: str = "short news snippets"
    public_base_url: str = ""  # tracked links; empty: where the API request came from
    feeds_allow_private_networks: bool = False  # the local stack's feeds live on loopback
    # Secrets given directly (the local stack and tests); in AWS they come from SSM.
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    address_hash_key: str = ""


@cache
def settings() -> Settings:
    """The settings of this process (cached: the environment does not change under a running Lambda)."""
    return Settings.model_validate({key.lower(): value for key, value in os.environ.items()})


def secret(name: str) -> str:
    """A secret by setting name: the environment value if set, else the SSM SecureString it names.

    ``name`` is e.g. ``telegram_bot_token``; its parameter name is read from
    ``<name>_param``. Parameters are cached for five minutes so that a rotated
    secret is picked up without a redeploy.
    """
    current = settings()
    direct = getattr(current, name)
    if direct:
        return str(direct)
    parameter_name = getattr(current, f"{name}_param")
    if not parameter_name:
        raise RuntimeError(f"{name} is not configured: set {name.upper()} or {name.upper()}_PARAM")
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(parameter_name, decrypt=True, max_age=300)
    return str(value)
