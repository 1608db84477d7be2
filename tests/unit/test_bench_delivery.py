"""The delivery benchmark's arithmetic (bench/delivery.py): list prices applied to a meter report."""

from __future__ import annotations

import pytest

from bench.delivery import DeliveryFigures, _costs, report

METER_REPORT = {
    "aws": {
        "SenderFunction": {
            "dynamodb": {
                "UpdateItem": {"requests": 100, "errors": 0, "read_units": 0, "write_units": 150},
                "BatchGetItem": {"requests": 50, "errors": 0, "read_units": 500, "write_units": 0},
            },
        },
        "FanoutFunction": {"sqs": {"SendMessageBatch": {"requests": 1, "billed_requests": 1}}},
        "event_source": {
            "sqs": {
                "ReceiveMessage": {"requests": 900, "billed_requests": 900},  # mostly idle polls
                "DeleteMessageBatch": {"requests": 11, "billed_requests": 11},
            }
        },
    },
    "lambda": {
        "SenderFunction": {"invocations": 10, "billed_duration_ms": 20_000, "gb_seconds": 5.0},
        "FanoutFunction": {"invocations": 1, "billed_duration_ms": 1_000, "gb_seconds": 0.25},
    },
}


def test_costs_are_list_prices_per_million_deliveries():
    costs, units, handler_seconds = _costs(METER_REPORT, deliveries=1000)

    # 150 write units and 500 read units for 1,000 deliveries
    assert costs["dynamodb_writes"] == pytest.approx(150 * 0.625 / 1000)
    assert costs["dynamodb_reads"] == pytest.approx(500 * 0.125 / 1000)
    # SQS: the fan-out's send, the deletes, and one receive per batch handed to a function
    # (11 invocations), not the 900 idle polls
    assert units["sqs_requests"] == pytest.approx((1 + 11 + 11) / 1000)
    assert costs["sqs"] == pytest.approx(23 * 0.40 / 1000)
    assert costs["lambda_invocations"] == pytest.approx(11 * 0.20 / 1000)
    assert costs["lambda_duration"] == pytest.approx(5.25 * 0.0000166667 * 1e6 / 1000)
    assert handler_seconds["SenderFunction"] == pytest.approx(0.020)


def test_the_report_shows_every_figure_and_its_limit():
    costs, units, handler_seconds = _costs(METER_REPORT, deliveries=1000)
    figures = DeliveryFigures(
        subscribers=1000, rate=100.0, capacity=1200.0, seconds=10.5, achieved=95.0, sent=1000, lost=0,
        duplicates=0, throttled=2, requests=2002, costs=costs, units=units, fanout_seconds=1.2,
        floor_seconds=1.0, handler_seconds=handler_seconds, details={},
    )  # fmt: skip
    text = report(figures)
    assert "0.950" in text  # saturation = 95 / 100
    assert "1.20" in text  # fan-out overhead = 1.2 / 1.0
    assert f"${figures.cost_per_million:.3f}" in text
    assert "0 / 0" in text and "2 of 2002" in text
