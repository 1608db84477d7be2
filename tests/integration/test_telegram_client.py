"""The Bot API client's reading of real HTTP answers: what may be retried, what must never be sent twice."""

from __future__ import annotations

import socket
import threading

import pytest

from infra.fakes.telegram import running
from subcast.adapters.channels import (
    DeliveryUncertain,
    PermanentFailure,
    ProviderMisconfigured,
    RateLimited,
    RecipientUnreachable,
    TemporaryFailure,
)
from subcast.adapters.telegram import TelegramBot

TOKEN = "321:client-token"


@pytest.fixture
def bot():
    with running(TOKEN) as fake:
        yield fake


def test_a_sent_message_returns_its_id(bot):
    assert TelegramBot(bot.base_url, TOKEN).send_text("5", "hello") == "1"
    assert bot.sent("5")[0]["text"] == "hello"


@pytest.mark.parametrize(
    ("arrange", "expected"),
    [
        (lambda fake: fake.block("5"), RecipientUnreachable),
        (lambda fake: fake.throttle_next(1, retry_after=7), RateLimited),
        (lambda fake: fake.fail_next(1, status=500), TemporaryFailure),
        (lambda fake: fake.fail_next(1, status=502, description="Bad Gateway"), TemporaryFailure),
        (
            lambda fake: fake.fail_next(1, status=400, description="Bad Request: chat not found"),
            RecipientUnreachable,
        ),
        (
            lambda fake: fake.fail_next(1, status=400, description="Bad Request: message is too long"),
            PermanentFailure,
        ),
    ],
)
def test_provider_answers_are_classified(bot, arrange, expected):
    # Given the provider will answer with an error
    arrange(bot)

    # When a message is sent
    with pytest.raises(expected) as raised:
        TelegramBot(bot.base_url, TOKEN).send_text("5", "hello")

    # Then it is classified so the caller knows whether to retry, and nothing was delivered
    assert bot.sent("5") == []
    if expected is RateLimited:
        assert raised.value.retry_after == 7


def test_a_wrong_token_or_base_is_a_configuration_problem_not_a_recipient_problem(bot):
    with pytest.raises(ProviderMisconfigured):
        TelegramBot(bot.base_url, "321:wrong").send_text("5", "hello")
    with pytest.raises(ProviderMisconfigured):
        TelegramBot(bot.base_url + "/not-the-api", TOKEN).send_text("5", "hello")


def test_the_token_never_appears_in_an_error(bot):
    bot.fail_next(1, status=500)
    with pytest.raises(TemporaryFailure) as raised:
        TelegramBot(bot.base_url, TOKEN).send_text("5", "hello")
    assert "client-token" not in str(raised.value)


def test_no_connection_at_all_may_be_retried():
    # Given nothing listens on a port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    # Then the send did not happen and may be retried
    with pytest.raises(TemporaryFailure):
        TelegramBot(f"http://127.0.0.1:{port}", TOKEN).send_text("5", "hello")


def test_a_connection_dropped_after_the_request_is_uncertain_and_not_retryable():
    # Given a server that reads the whole request, then hangs up without answering
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = []

    def hang_up():
        connection, _ = server.accept()
        received.append(connection.recv(65536))
        connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()

    # When a message is sent to it
    with pytest.raises(DeliveryUncertain) as raised:
        TelegramBot(f"http://127.0.0.1:{server.getsockname()[1]}", TOKEN).send_text("5", "hello")
    thread.join(5)
    server.close()

    # Then the request did arrive, so it is reported as uncertain (a retry could send it twice)
    assert b"sendMessage" in received[0]
    assert not isinstance(raised.value, TemporaryFailure)
