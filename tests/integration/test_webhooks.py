"""POST /webhooks/telegram: the real handler, a real API Gateway event, the template's FIFO queue."""

from __future__ import annotations

import json

from infra.fakes.updates import body, member_update, message_update
from infra.local.events import api_gateway_event
from infra.template import ApiRoute
from tests.integration.conftest import WEBHOOK_SECRET, invoke

ROUTE = ApiRoute("WebhooksFunction", "/webhooks/telegram", "POST")


def post(raw: bytes, secret: str | None = WEBHOOK_SECRET) -> tuple[int, dict]:
    headers = [("Content-Type", "application/json")]
    if secret is not None:
        headers.append(("X-Telegram-Bot-Api-Secret-Token", secret))
    response = invoke(
        "WebhooksFunction", api_gateway_event(ROUTE, ROUTE.path, {}, "", headers, raw, "127.0.0.1")
    )
    return response["statusCode"], json.loads(response["body"])


def test_a_verified_update_is_queued_per_chat_and_deduplicated_on_update_id(stack):
    # Given a message from chat 42
    update = message_update(1001, 42, "/start")

    # When Telegram posts it
    status, answer = post(body(update))

    # Then it is answered 200 and queued once, grouped by a hash of the chat, deduplicated on update_id
    assert (status, answer) == (200, {"ok": True})
    [message] = stack.receive("CommandsQueue")
    attributes = message["Attributes"]
    assert attributes["MessageDeduplicationId"] == "telegram-1001"
    assert "42" not in attributes["MessageGroupId"]
    assert json.loads(message["Body"])["text"] == "/start"


def test_a_resent_update_is_queued_only_once(stack):
    # Given Telegram resends the same update (it retries until it sees a 200)
    update = body(message_update(1002, 42, "STATUS"))

    # When it arrives three times
    results = [post(update)[0] for _ in range(3)]

    # Then every delivery is acknowledged but the queue holds one message
    assert results == [200, 200, 200]
    assert stack.depth("CommandsQueue") == 1


def test_a_forged_secret_is_refused_and_nothing_is_queued(stack):
    for secret in ("wrong", "", None, WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1]):
        # When an update arrives with a wrong or missing secret token
        status, answer = post(body(message_update(1003, 42, "STOP")), secret)

        # Then it is refused with 401 and the queue stays empty
        assert status == 401
        assert answer["error"]["code"] == "unauthorized"
    assert stack.depth("CommandsQueue") == 0


def test_a_malformed_update_is_a_400_and_changes_nothing(stack):
    for raw in (b"not json", b"[]", b'{"message": {"text": "hi"}}', b'{"update_id": "abc"}', b""):
        # When a malformed body arrives with the right secret
        status, answer = post(raw)

        # Then the answer is 400, without echoing the body
        assert status == 400, raw
        assert answer["error"]["code"] == "malformed_update"
        assert "hi" not in answer["error"]["message"]
    assert stack.depth("CommandsQueue") == 0


def test_an_oversized_body_is_a_413(stack):
    # Given an update padded far beyond any real one
    update = message_update(1004, 42, "x" * 300_000)

    # When it arrives
    status, _ = post(body(update))

    # Then it is refused and nothing is queued
    assert status == 413
    assert stack.depth("CommandsQueue") == 0


def test_updates_subcast_does_not_handle_are_acknowledged_and_ignored(stack):
    edited = {"update_id": 1005, "edited_message": message_update(1, 42, "edit")["message"]}
    group = message_update(1006, -100123, "/start")
    group["message"]["chat"]["type"] = "supergroup"
    callback = {
        "update_id": 1007,
        "callback_query": {"id": "1", "from": {"id": 42, "is_bot": False, "first_name": "A"}},
    }
    for update in (edited, group, callback):
        # When Telegram sends an update type subcast does not act on
        status, _ = post(body(update))

        # Then it gets 200 (so Telegram stops resending) and nothing is queued
        assert status == 200
    assert stack.depth("CommandsQueue") == 0


def test_blocking_the_bot_is_queued_as_a_reachability_change(stack):
    # When the person blocks the bot
    status, _ = post(body(member_update(1008, 42, "kicked")))

    # Then the change is queued for the commands function
    assert status == 200
    [message] = stack.receive("CommandsQueue")
    assert json.loads(message["Body"])["kind"] == "blocked"
