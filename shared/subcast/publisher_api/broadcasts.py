"""/v1/broadcasts: schedule, read and cancel broadcasts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.domain.broadcast import Broadcast, BroadcastRequest
from subcast.publisher_api.http import ApiError, Routes, json_response
from subcast.services.api_keys import Scope
from subcast.services.broadcasts import cancel_broadcast, create_broadcast, get_broadcast
from subcast.services.dependencies import broadcast_store, fanout_queue, publishing_store

routes = Routes("broadcasts")
logger = Logger(child=True)
MAX_IDEMPOTENCY_KEY = 255


def broadcast_json(broadcast: Broadcast) -> dict[str, Any]:
    counts = broadcast.counts
    return {
        "id": broadcast.broadcast_id,
        "text": broadcast.text,
        "topics": list(broadcast.topics),
        "attributes": broadcast.attributes,
        "send_at": broadcast.send_at.isoformat(),
        "status": broadcast.status.value,
        "created_at": broadcast.created_at.isoformat(),
        "counts": {
            "recipients": counts.recipients,
            "sent": counts.sent,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "held": counts.held,
            "delivered_later": counts.delivered_later,
            "pending": max(counts.recipients - counts.done, 0),
        },
        "fanout_complete": broadcast.fanout_done,
    }


@routes.route("/v1/broadcasts", "POST", Scope.BROADCASTS)
def create_broadcast_view(key: ApiKey) -> Response:
    idempotency_key = routes.request.headers.get("idempotency-key")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters"
        )
    request = routes.body(BroadcastRequest)
    broadcast, created = create_broadcast(
        request,
        key,
        idempotency_key,
        store=broadcast_store(),
        publishing=publishing_store(),
        fanout=fanout_queue(),
    )
    headers = {} if created else {"Idempotent-Replayed": "true"}
    logger.info(
        "broadcast scheduled", extra={"broadcast_id": broadcast.broadcast_id, "replayed": not created}
    )
    return json_response(201, broadcast_json(broadcast), headers)


@routes.route("/v1/broadcasts/{broadcast_id}", "GET", Scope.BROADCASTS)
def get_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    return json_response(200, broadcast_json(get_broadcast(broadcast_store(), broadcast_id)))


@routes.route("/v1/broadcasts/{broadcast_id}/cancel", "POST", Scope.BROADCASTS)
def cancel_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    return json_response(200, broadcast_json(cancel_broadcast(broadcast_store(), broadcast_id)))
