"""The fake Telegram Bot API answers over real HTTP as api.telegram.org does."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from infra.fakes.telegram import FakeBotApi, serve

TOKEN = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz"
CHAT = 4242


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A tiny Bot API client over urllib, returning (HTTP status, decoded JSON body)."""

    def __init__(self, base_url: str, token: str = TOKEN) -> None:
        self.base_url = base_url
        self.token = token

    def url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{self.token if token is None else token}/{method}"

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        encoding: str = "json",
        token: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        url = self.url(method, token)
        data: bytes | None = None
        headers: dict[str, str] = {}
        if encoding == "json":
            data = json.dumps(params or {}).encode()
            headers["Content-Type"] = "application/json"
        elif encoding == "form":
            data = urllib.parse.urlencode(params or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif encoding == "query":
            url += "?" + urllib.parse.urlencode(params or {})
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    def send(self, chat_id: int | str, text: str, **extra: Any) -> tuple[int, dict[str, Any]]:
        return self.call("sendMessage", {"chat_id": chat_id, "text": text, **extra})


@contextmanager
def start(fake: FakeBotApi) -> Iterator[tuple[FakeBotApi, Api]]:
    server, base_url = serve(fake)
    try:
        yield fake, Api(base_url)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def bot() -> Iterator[tuple[FakeBotApi, Api]]:
    with start(FakeBotApi(TOKEN)) as started:
        yield started


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited_bot(clock: ManualClock) -> Iterator[tuple[FakeBotApi, Api]]:
    with start(FakeBotApi(TOKEN, rate_limit_per_second=2, monotonic=clock)) as started:
        yield started


# ----------------------------------------------------------------------------- sendMessage


def test_send_message_as_json_returns_a_full_message_and_records_it(bot):
    fake, api = bot

    # When
    status, body = api.send(CHAT, "Hello there")

    # Then
    assert status == 200
    assert body["ok"] is True
    message = body["result"]
    assert message["message_id"] == 1
    assert message["text"] == "Hello there"
    assert message["chat"] == {"id": CHAT, "type": "private"}
    assert message["from"] == {
        "id": 123456,
        "is_bot": True,
        "first_name": "subcast",
        "username": "subcast_bot",
    }
    assert isinstance(message["date"], int) and message["date"] > 0
    assert fake.sent() == [{**message, "seq": 1}]


def test_send_message_as_form_reads_string_parameters(bot):
    fake, api = bot

    # When
    status, body = api.call("sendMessage", {"chat_id": str(CHAT), "text": "über form"}, encoding="form")

    # Then
    assert status == 200
    assert body["result"]["chat"]["id"] == CHAT
    assert body["result"]["text"] == "über form"
    assert fake.calls("sendMessage") == [{"chat_id": str(CHAT), "text": "über form"}]


def test_parameters_may_come_in_the_query_string_and_method_names_ignore_case(bot):
    fake, api = bot

    # When
    status, body = api.call("SENDMESSAGE", {"chat_id": CHAT, "text": "via query"}, encoding="query")

    # Then
    assert status == 200
    assert body["result"]["text"] == "via query"
    assert [message["text"] for message in fake.sent(CHAT)] == ["via query"]


def test_message_ids_increase_per_chat(bot):
    _, api = bot

    # When
    ids = [api.send(chat, "hi")[1]["result"]["message_id"] for chat in (1, 1, 2, 1, 2)]

    # Then
    assert ids == [1, 2, 1, 3, 2]


def test_calls_records_every_payload_including_failed_ones(bot):
    fake, api = bot
    # Given
    api.call("getMe")
    api.send(CHAT, "")

    # When
    send_calls = fake.calls("sendmessage")

    # Then
    assert send_calls == [{"chat_id": CHAT, "text": ""}]
    assert len(fake.calls()) == 2
    assert fake.request_count == 2


# ----------------------------------------------------------------------------- errors


def test_wrong_token_is_unauthorized(bot):
    fake, api = bot

    # When
    status, body = api.call("getMe", token="123456:wrong")

    # Then
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert fake.calls() == []


def test_unknown_method_is_not_found(bot):
    _, api = bot

    # When
    status, body = api.call("sendTelepathy", {"chat_id": CHAT})

    # Then
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_bad_request(bot, text):
    fake, api = bot

    # When
    status, body = api.send(CHAT, text)

    # Then
    assert status == 400
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
    assert fake.sent() == []


def test_missing_chat_id_is_a_bad_request(bot):
    _, api = bot

    # When
    status, body = api.call("sendMessage", {"text": "to nobody"})

    # Then
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


def test_text_length_is_counted_in_utf16_code_units(bot):
    fake, api = bot
    # Given: each emoji is one Python character but two UTF-16 code units
    too_long = "😀" * 2049
    longest = "😀" * 2048
    assert len(too_long) < 4096

    # When
    rejected = api.send(CHAT, too_long)
    accepted = api.send(CHAT, longest)

    # Then
    assert rejected == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
    )
    assert accepted[0] == 200
    assert [message["text"] for message in fake.sent()] == [longest]


def test_unsupported_parse_mode_is_a_bad_request(bot):
    _, api = bot

    # When
    status, body = api.send(CHAT, "hi", parse_mode="BBCode")

    # Then
    assert (status, body["description"]) == (400, "Bad Request: unsupported parse_mode")


# ----------------------------------------------------------------------------- formatting


def test_html_text_is_returned_as_plain_text_with_entities(bot):
    _, api = bot

    # When
    status, body = api.send(
        CHAT, '<b>Hi</b> &lt;3 <a href="https://example.com">there</a>', parse_mode="HTML"
    )

    # Then
    assert status == 200
    assert body["result"]["text"] == "Hi <3 there"
    assert body["result"]["entities"] == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 6, "length": 5, "url": "https://example.com"},
    ]


def test_unescaped_html_is_refused_as_telegram_does(bot):
    fake, api = bot

    # When
    status, body = api.send(CHAT, "1 < 2 <b>bold</b>", parse_mode="HTML")

    # Then
    assert status == 400
    assert body["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2'
    )
    assert fake.sent() == []


def test_markdown_v2_needs_reserved_characters_escaped(bot):
    _, api = bot

    # When
    refused = api.send(CHAT, "*Done*. Bye!", parse_mode="MarkdownV2")
    accepted = api.send(CHAT, "*Done*\\. Bye\\!", parse_mode="MarkdownV2")

    # Then
    assert refused[0] == 400
    assert refused[1]["description"] == (
        "Bad Request: can't parse entities: "
        "Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    assert accepted[0] == 200
    assert accepted[1]["result"]["text"] == "Done. Bye!"
    assert accepted[1]["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]


def test_inline_keyboards_are_echoed_and_callback_data_is_limited_to_64_bytes(bot):
    _, api = bot
    # Given
    keyboard = {"inline_keyboard": [[{"text": "Stop", "callback_data": "stop"}]]}
    oversized = {"inline_keyboard": [[{"text": "Stop", "callback_data": "x" * 65}]]}

    # When
    accepted = api.send(CHAT, "Choose", reply_markup=keyboard)
    refused = api.send(CHAT, "Choose", reply_markup=oversized)

    # Then
    assert accepted[1]["result"]["reply_markup"] == keyboard
    assert refused == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"},
    )


# ----------------------------------------------------------------------------- blocking and failures


def test_blocked_chat_answers_forbidden_until_unblocked(bot):
    fake, api = bot
    # Given
    fake.block(CHAT)

    # When
    blocked = api.send(CHAT, "anyone there?")
    other_chat = api.send(CHAT + 1, "hello")
    fake.unblock(str(CHAT))
    unblocked = api.send(CHAT, "welcome back")

    # Then
    assert blocked == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    assert other_chat[0] == 200
    assert unblocked[0] == 200
    assert [message["text"] for message in fake.sent(CHAT)] == ["welcome back"]


def test_fail_next_fails_exactly_that_many_calls(bot):
    fake, api = bot
    # Given
    fake.fail_next(2)

    # When
    results = [api.send(CHAT, f"try {n}") for n in range(3)]

    # Then
    assert [status for status, _ in results] == [500, 500, 200]
    assert results[0][1] == {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    assert [message["text"] for message in fake.sent()] == ["try 2"]


def test_fail_next_takes_a_status_and_description(bot):
    fake, api = bot
    # Given
    fake.fail_next(1, status=502, description="Bad Gateway")

    # When
    status, body = api.call("getMe")

    # Then
    assert (status, body) == (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


def test_throttle_next_answers_429_with_retry_after(bot):
    fake, api = bot
    # Given
    fake.throttle_next(1, retry_after=7)

    # When
    throttled = api.send(CHAT, "first")
    retried = api.send(CHAT, "first")

    # Then
    assert throttled == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    assert retried[0] == 200
    assert len(fake.sent()) == 1


def test_rate_limiter_refuses_sends_beyond_the_rate_with_retry_after(limited_bot, clock):
    fake, api = limited_bot
    # Given: two sends a second are allowed
    assert [api.send(chat, "ok")[0] for chat in (1, 2)] == [200, 200]

    # When
    status, body = api.send(3, "one too many")

    # Then
    assert status == 429
    assert body["description"] == "Too Many Requests: retry after 1"
    assert body["parameters"] == {"retry_after": 1}
    assert fake.throttled_count == 1
    assert len(fake.sent()) == 2


def test_rate_limiter_lets_sends_through_again_as_time_passes(limited_bot, clock):
    fake, api = limited_bot
    # Given: the budget is spent
    api.send(1, "a")
    api.send(2, "b")
    assert api.send(3, "c")[0] == 429

    # When: half a second refills one send
    clock.advance(0.5)
    refilled = api.send(3, "c")
    again = api.send(4, "d")

    # Then
    assert refilled[0] == 200
    assert again[0] == 429
    assert fake.throttled_count == 2


def test_rate_limiter_retry_after_is_whole_seconds_and_at_least_the_wait(clock):
    # Given: one send every four seconds
    with start(FakeBotApi(TOKEN, rate_limit_per_second=0.25, monotonic=clock)) as (fake, api):
        api.send(1, "a")

        # When
        status, body = api.send(1, "b")

        # Then
        assert status == 429
        assert body["parameters"]["retry_after"] == 4
        assert fake.throttled_count == 1


# ----------------------------------------------------------------------------- sent()


def test_sent_filters_by_chat_and_sequence(bot):
    fake, api = bot
    # Given
    for chat, text in [(1, "a"), (2, "b"), (1, "c"), (2, "d"), (1, "e")]:
        api.send(chat, text)

    # When
    chat_one = fake.sent(1)
    chat_one_after_first = fake.sent("1", after=chat_one[0]["seq"])
    everything_after_two = fake.sent(after=2)

    # Then
    assert [message["text"] for message in chat_one] == ["a", "c", "e"]
    assert [message["text"] for message in chat_one_after_first] == ["c", "e"]
    assert [(message["seq"], message["text"]) for message in everything_after_two] == [
        (3, "c"),
        (4, "d"),
        (5, "e"),
    ]


def test_concurrent_sends_are_all_recorded_once(bot):
    fake, api = bot

    # When
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: api.send(CHAT, f"m{n}")[0], range(40)))

    # Then
    assert statuses == [200] * 40
    messages = fake.sent(CHAT)
    assert sorted(message["message_id"] for message in messages) == list(range(1, 41))
    assert [message["seq"] for message in messages] == list(range(1, 41))


# ----------------------------------------------------------------------------- other methods


def test_get_me_describes_the_bot(bot):
    _, api = bot

    # When
    status, body = api.call("getMe")

    # Then
    assert status == 200
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "subcast_bot"


def test_webhook_is_set_read_and_deleted(bot):
    fake, api = bot
    # Given
    url = "https://example.com/webhooks/telegram"

    # When
    set_result = api.call(
        "setWebhook", {"url": url, "secret_token": "s3cret_-", "allowed_updates": ["message"]}
    )
    info = api.call("getWebhookInfo")
    stored = fake.webhook
    delete_result = api.call("deleteWebhook")
    info_after = api.call("getWebhookInfo")

    # Then
    assert set_result == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    assert info[1]["result"]["url"] == url
    assert info[1]["result"]["allowed_updates"] == ["message"]
    assert stored["secret_token"] == "s3cret_-"
    assert delete_result == (200, {"ok": True, "result": True, "description": "Webhook was deleted"})
    assert info_after[1]["result"]["url"] == ""


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"url": "http://example.com/hook"},
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"url": "https://example.com/hook", "secret_token": "no spaces"},
            "Bad Request: secret token contains unallowed characters",
        ),
    ],
)
def test_webhook_is_refused_as_telegram_refuses_it(bot, params, description):
    _, api = bot

    # When
    status, body = api.call("setWebhook", params)

    # Then
    assert (status, body["description"]) == (400, description)


def test_answer_callback_query_returns_true(bot):
    fake, api = bot

    # When
    status, body = api.call(
        "answerCallbackQuery", {"callback_query_id": "4382bfdwdsb323b2d9", "text": "Done"}
    )

    # Then
    assert (status, body) == (200, {"ok": True, "result": True})
    assert fake.calls("answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9", "text": "Done"}]
