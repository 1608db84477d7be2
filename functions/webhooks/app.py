"""POST /webhooks/telegram: verify, normalise, queue per subscriber, answer 200 fast."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from subcast.config import secret
from subcast.services.dependencies import command_queue
from subcast.services.webhooks import WebhookRejected, accept_telegram_update

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()


@app.post("/webhooks/telegram")
def telegram_webhook() -> Response[Any]:
    event = app.current_event
    body = event.body or ""
    raw = base64.b64decode(body) if event.is_base64_encoded else body.encode()
    try:
        result = accept_telegram_update(
            raw,
            event.headers.get("X-Telegram-Bot-Api-Secret-Token"),
            expected_secret=secret("telegram_webhook_secret"),
            queue=command_queue(),
        )
    except WebhookRejected as rejected:
        logger.warning("webhook rejected", extra={"status": rejected.status, "code": rejected.code})
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        return Response(
            status_code=rejected.status,
            content_type=content_types.APPLICATION_JSON,
            body={"error": {"code": rejected.code, "message": rejected.message}},
        )
    metrics.add_metric(name=f"Webhook{result.value.capitalize()}", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body={"ok": True})


@app.route("/webhooks/telegram", method=["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def other_methods() -> Response[Any]:
    # Reached through the path's `any` event: Telegram only ever POSTs.
    return Response(
        status_code=405,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": "method_not_allowed", "message": "webhooks are POSTed"}},
        headers={"Allow": "POST"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
