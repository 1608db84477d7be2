"""The local gateway's metering routes and the Bot API stand-in's rate and counts (no moto needed)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from infra.fakes.telegram import FakeBotApi
from infra.local.gateway import GatewayServer
from infra.local.metering import Meter
from infra.local.stack import LocalStack, bot_rate

TOKEN = "4711:routes-token"


def serve(meter: Meter | None, rate: float | None = None) -> Iterator[LocalStack]:
    stack = LocalStack(port=0, meter=meter)
    stack.gateway = GatewayServer(("127.0.0.1", 0), stack)
    stack.port = stack.gateway.server_address[1]
    stack.bot_api = FakeBotApi(TOKEN, rate_limit_per_second=rate)
    thread = threading.Thread(target=stack.gateway.serve_forever, daemon=True)
    thread.start()
    try:
        yield stack
    finally:
        stack.gateway.shutdown()
        stack.gateway.server_close()


@pytest.fixture
def metered() -> Iterator[LocalStack]:
    yield from serve(Meter(), rate=0.001)  # one send, then 429 for the next 1,000 seconds


@pytest.fixture
def unmetered() -> Iterator[LocalStack]:
    yield from serve(None)


def call(stack: LocalStack, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.base_url}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_bot_rate_comes_from_the_environment():
    assert bot_rate({}) is None
    assert bot_rate({"SUBCAST_LOCAL_BOT_RATE": "30"}) == 30.0
    assert bot_rate({"SUBCAST_LOCAL_BOT_RATE": " 2.5 "}) == 2.5
    for wrong in ("0", "-1", "fast", "nan", "inf"):
        with pytest.raises(ValueError, match="SUBCAST_LOCAL_BOT_RATE"):
            bot_rate({"SUBCAST_LOCAL_BOT_RATE": wrong})


def test_metering_routes_answer_404_when_metering_is_off(unmetered):
    status, body = call(unmetered, "GET", "/_local/metering")
    assert status == 404 and "SUBCAST_LOCAL_METERING=1" in body["error"]["message"]
    assert call(unmetered, "POST", "/_local/metering/reset")[0] == 404


def test_metering_reports_invocations_and_the_bot_counts_since_the_last_reset(metered):
    # Given a metered invocation and two sends to the stand-in, the second one over its rate
    with metered.meter.invocation("SenderFunction", 256):
        pass
    for chat in (1, 2):
        call(metered, "POST", f"/_local/telegram/bot{TOKEN}/sendMessage", {"chat_id": chat, "text": "hi"})

    # When the metering is read
    status, report = call(metered, "GET", "/_local/metering")

    # Then it has the invocation, and the stand-in's counts
    assert status == 200
    assert report["lambda"]["SenderFunction"]["invocations"] == 1
    assert report["totals"]["lambda"]["invocations"] == 1
    assert report["telegram"] == {
        "serving": False,  # TELEGRAM_API_BASE is not pointed at it in this test
        "rate_limit_per_second": 0.001,
        "requests": 2,
        "sent": 1,
        "throttled": 1,
    }
    assert call(metered, "GET", "/_local/telegram/stats")[1]["throttled"] == 1

    # And a reset needs a POST, and starts every count from zero
    assert call(metered, "GET", "/_local/metering/reset")[0] == 405
    status, fresh = call(metered, "POST", "/_local/metering/reset")
    assert status == 200 and fresh["lambda"] == {} and fresh["aws"] == {}
    assert fresh["telegram"]["requests"] == fresh["telegram"]["sent"] == fresh["telegram"]["throttled"] == 0
