"""The parser benchmark's corpus (bench/parser.py): complete, correctly labelled, and the bench runs.

No timed assertions: the figures depend on the machine; only their presence is checked.
"""

from __future__ import annotations

import json

import pytest

from bench.parser import (
    ARGUMENT_PARSERS,
    CORPUS,
    TELEGRAM_MAX_TEXT,
    Sample,
    measure,
    report,
    webhook_body,
)
from subcast.domain.commands import Intent, parse_command


def test_the_corpus_covers_every_intent():
    # Given every intent the parser knows
    every_intent = set(Intent)

    # When the corpus is read for its labels
    labelled = {sample.intent for sample in CORPUS}

    # Then none is missing: a new intent needs its messages in the bench
    assert every_intent - labelled == set()


@pytest.mark.parametrize("sample", CORPUS, ids=lambda sample: f"{sample.intent}:{sample.text[:40]!r}")
def test_every_corpus_message_parses_to_its_label(sample: Sample):
    # When the message is parsed
    command = parse_command(sample.text)

    # Then it has the intent it is labelled with
    assert command.intent is sample.intent


def test_the_corpus_reaches_telegrams_longest_message_and_no_further():
    # Given Telegram's count of a text's length (UTF-16 code units)
    lengths = [len(sample.text.encode("utf-16-le")) // 2 for sample in CORPUS]

    # Then the longest message is as long as Telegram allows, and none is longer
    assert max(lengths) == TELEGRAM_MAX_TEXT


def test_every_argument_parser_gets_arguments_from_the_corpus():
    # When the bench runs once, with as little repetition as possible
    figures = measure(repetitions=1, inner=1, warmup=0)

    # Then each argument parser was timed on at least one argument
    timed = {argument.parser: argument.arguments for argument in figures.arguments}
    assert set(timed) == {name for name, _ in ARGUMENT_PARSERS.values()}
    assert all(count > 0 for count in timed.values())


def test_the_bench_runs_and_reports_every_figure():
    # When the bench runs with a tiny repetition count
    figures = measure(repetitions=2, inner=1, warmup=1)
    printed = report(figures)

    # Then every figure is there, and no corpus message parsed to another intent
    assert figures.messages == len(CORPUS)
    assert figures.mislabelled == ()
    assert figures.commands_per_second > 0
    assert figures.decode_median_us > 0
    assert figures.parse_over_decode > 0
    assert set(figures.median_us_by_kind) == {"chat", "command", "long", "opt-out"}
    for words in ("commands/s", "Telegram's 30 msg/s", "p99", "json.loads", "parse / decode"):
        assert words in printed
    assert "MISLABELLED" not in printed


def test_the_bench_names_a_message_that_parses_to_another_intent():
    # Given a sample labelled with the wrong intent
    wrong = Sample("STOP", Intent.HELP)

    # When the bench runs on it
    figures = measure([wrong], repetitions=1, inner=1, warmup=0)

    # Then it is reported, not silently timed
    assert figures.mislabelled == (wrong,)
    assert "MISLABELLED: 'STOP' is not help" in report(figures)


def test_the_decoded_update_carries_the_message_as_sent():
    # Given a message with umlauts, emoji and full-width letters
    text = "Bitte keine Nachrichten mehr 🙏 \uff33\uff34\uff2f\uff30"

    # When its webhook body is decoded
    update = json.loads(webhook_body(7, text))

    # Then the text is the one the subscriber sent
    assert update["message"]["text"] == text
    assert update["update_id"] == 7
