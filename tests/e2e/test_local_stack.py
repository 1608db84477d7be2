"""End to end: `python -m infra.local` as a subprocess, a Bot API test server, a person and a publisher."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from infra.fakes.telegram import FakeBotApi, running
from infra.fakes.updates import message_update
from infra.local import process
from infra.template import gateway_response
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

TOKEN = "4711:e2e-token"
SECRET = "e2e-webhook-secret"
KEY = "sc_e2e00000_e2e-bootstrap-key-for-tests-only"
CHAT = 777001


@pytest.fixture(scope="module")
def bot() -> Iterator[FakeBotApi]:
    with running(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(bot) -> Iterator[process.LocalStackProcess]:
    started = process.start(
        {
            "TELEGRAM_API_BASE": bot.base_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SUBCAST_BOOTSTRAP_API_KEY": KEY,
            "BRAND_NAME": "Daily Bugle",
            "SUBCAST_SCHEDULE_SECONDS": "1",
            "SUBCAST_LOCAL_METERING": "1",
        }
    )
    yield started
    assert started.stop() == 0, started.log()


def send(stack, update_id: int, text: str, chat: int = CHAT, secret: str = SECRET) -> int:
    status, _ = stack.request(
        "POST",
        "/webhooks/telegram",
        message_update(update_id, chat, text),
        {"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    return status


def texts(bot, chat: int = CHAT) -> list[str]:
    return [message["text"] for message in bot.sent(chat)]


def api(stack, method: str, path: str, body=None, key: str = KEY):
    return stack.request(method, path, body, {"Authorization": f"Bearer {key}"})


def test_health_lists_every_worker(stack):
    status, health = stack.request("GET", "/_local/health")
    assert status == 200 and health["ok"]
    # One poller per execution environment the template's ScalingConfig allows (one without it)
    assert set(health["workers"]) == {
        "poller-CommandsFunction",
        "poller-FanoutFunction-1",
        "poller-FanoutFunction-2",
        "poller-SenderFunction-1",
        "poller-SenderFunction-2",
        "schedule-DispatcherFunction",
        "schedule-FeedsFunction",
    }
    instances = {name: function["instances"] for name, function in health["functions"].items()}
    assert instances["FanoutFunction"] == 2 and instances["SenderFunction"] == 2
    assert instances["CommandsFunction"] == instances["ApiFunction"] == 1


def test_subscribe_confirm_receive_stop_and_nothing_more(stack, bot):
    # Given a person who subscribes and confirms
    assert send(stack, 1, "/start") == 200
    wait_for(lambda: len(texts(bot)) == 1)
    assert "Daily Bugle would like to send you" in texts(bot)[0]
    assert send(stack, 2, "YES") == 200
    wait_for(lambda: len(texts(bot)) == 2)

    # When the publisher broadcasts with the bootstrap key
    status, created = api(stack, "POST", "/v1/broadcasts", {"text": "Extra! Spider-Man seen downtown"})
    assert status == 201, created

    # Then the person receives it, and the broadcast reports it as sent
    wait_for(lambda: "Extra! Spider-Man seen downtown" in texts(bot))
    done = wait_for(
        lambda: (lambda r: r if r[1]["status"] == "sent" else None)(
            api(stack, "GET", f"/v1/broadcasts/{created['id']}")
        )
    )
    assert done[1]["counts"] == {
        "recipients": 1,
        "sent": 1,
        "failed": 0,
        "skipped": 0,
        "held": 0,
        "delivered_later": 0,
        "pending": 0,
        "skipped_by": {},
        "failed_by": {},
        "held_by": {},
    }

    # When they send STOP
    assert send(stack, 3, "STOP") == 200
    wait_for(lambda: "unsubscribed" in texts(bot)[-1])
    after_stop = len(texts(bot))

    # Then a later broadcast reaches nobody, and they get nothing more
    status, second = api(stack, "POST", "/v1/broadcasts", {"text": "Second edition"})
    assert status == 201
    final = wait_for(
        lambda: (lambda r: r if r[1]["status"] == "sent" else None)(
            api(stack, "GET", f"/v1/broadcasts/{second['id']}")
        )
    )
    assert final[1]["counts"]["recipients"] == 0
    assert len(texts(bot)) == after_stop


def test_forged_malformed_and_repeated_webhooks_change_nothing(stack, bot):
    chat = CHAT + 1
    # When a forged update and a malformed one arrive
    assert send(stack, 100, "/start", chat=chat, secret="forged") == 401
    status, _ = stack.request(
        "POST", "/webhooks/telegram", b"{not json", {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert status == 400

    # And a real one is delivered three times
    for _ in range(3):
        assert send(stack, 101, "/start", chat=chat) == 200
    wait_for(lambda: texts(bot, chat))
    time.sleep(1.5)  # give any duplicate the time to show up

    # Then exactly one opt-in question was sent
    assert len(texts(bot, chat)) == 1


def test_a_scheduled_broadcast_goes_out_when_the_clock_reaches_it(stack, bot):
    chat = CHAT + 2
    # Given an active subscriber and a broadcast scheduled for tomorrow
    send(stack, 200, "/start", chat=chat)
    wait_for(lambda: texts(bot, chat))
    send(stack, 201, "JA", chat=chat)
    wait_for(lambda: len(texts(bot, chat)) == 2)
    _, now = stack.request("GET", "/_local/clock")
    tomorrow = datetime.fromisoformat(now["now"]) + timedelta(days=1)
    status, created = api(
        stack, "POST", "/v1/broadcasts", {"text": "Tomorrow's news", "send_at": tomorrow.isoformat()}
    )
    assert status == 201 and created["status"] == "scheduled"
    time.sleep(2.5)  # two scheduler ticks
    assert "Tomorrow's news" not in texts(bot, chat)

    # When the local clock moves past send_at
    status, moved = stack.request(
        "POST", "/_local/clock", {"now": (tomorrow + timedelta(minutes=1)).isoformat()}
    )
    assert status == 200 and moved["moved"]

    # Then it is delivered
    wait_for(lambda: "Tomorrow's news" in texts(bot, chat))
    stack.request("POST", "/_local/clock", {"now": None})


def test_the_sandbox_page_and_its_config_are_served(stack):
    status, page = stack.request("GET", "/_local/sandbox")
    assert status == 200 and "<html" in page.lower()
    status, config = stack.request("GET", "/_local/sandbox/config")
    assert (
        status == 200 and config["webhook_path"] == "/webhooks/telegram" and config["secret_token"] == SECRET
    )


def test_unknown_paths_answer_404_as_the_template_configures_the_gateway(stack):
    # Given the template's answer for a route API Gateway does not have
    expected = json.loads(gateway_response("MISSING_AUTHENTICATION_TOKEN").body)
    for method, path in [("GET", "/v2/nothing"), ("POST", "/v1/topics/sport/nothing"), ("DELETE", "/")]:
        # When such a route is called
        status, body = stack.request(method, path)
        # Then it is a 404 in the API's error shape, not API Gateway's default 403
        assert (status, body) == (404, expected)
        assert body["error"]["code"] == "not_found" and "openapi.json" in body["error"]["message"]


def test_a_method_a_path_lacks_answers_405_with_allow(stack):
    # When the API and the webhook are called with methods they do not take
    for method, path, allowed in [
        ("PUT", "/v1/topics", {"GET", "POST"}),
        ("GET", "/webhooks/telegram", {"POST"}),
    ]:
        request = urllib.request.Request(f"{stack.base_url}{path}", method=method)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        # Then each answers 405 in the error shape, naming the methods it has
        assert refused.value.code == 405
        assert set(refused.value.headers["Allow"].replace(" ", "").split(",")) == allowed
        assert json.loads(refused.value.read())["error"]["code"] == "method_not_allowed"


def test_metering_counts_what_a_command_cost(stack, bot):
    chat = CHAT + 3
    # Given counts started afresh
    status, _ = stack.request("POST", "/_local/metering/reset")
    assert status == 200

    # When a person sends /start and gets the opt-in question
    assert send(stack, 300, "/start", chat=chat) == 200
    wait_for(lambda: texts(bot, chat))

    # Then the webhook's FIFO send, the command's DynamoDB writes and the poller's requests are counted
    def metered():
        _, report = stack.request("GET", "/_local/metering")
        source = report["aws"].get("event_source", {}).get("sqs", {})
        return report if "DeleteMessageBatch" in source and "CommandsFunction" in report["lambda"] else None

    report = wait_for(metered)
    assert report["aws"]["WebhooksFunction"]["sqs"]["SendMessage"]["fifo_billed_requests"] >= 1
    commands = report["aws"]["CommandsFunction"]["dynamodb"]
    assert sum(operation["write_units"] for operation in commands.values()) >= 1
    assert report["lambda"]["CommandsFunction"]["billed_duration_ms"] >= 1
    assert report["totals"]["handlers"]["dynamodb"]["write_units"] >= 1
    assert report["totals"]["event_source"]["sqs"]["requests"] >= 2
    # And the stack's own Bot API stand-in is not the one answering here (the test's server is)
    assert report["telegram"]["serving"] is False
    status, stats = stack.request("GET", "/_local/telegram/stats")
    assert status == 200 and stats["rate_limit_per_second"] is None
