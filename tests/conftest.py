"""Shared test set-up: never touch real AWS, whatever the developer's shell holds."""

from __future__ import annotations

import os

import pytest

for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)


@pytest.fixture(autouse=True)
def _real_clock():
    """Every test starts on real time, whatever the one before did to the clock."""
    from subcast import clock

    clock.move_to(None)
    yield
    clock.move_to(None)
