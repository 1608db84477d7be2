"""/v1/broadcasts: schedule (or draft), list, read, edit, schedule drafts and cancel broadcasts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from chalice import Response  # type: ignore[attr-defined]
from pydantic import BaseModel

from subcast.adapters.broadcasts import NotEditable
from subcast.adapters.publishing import ApiKey
from subcast.config import settings
from subcast.domain.broadcast import Broadcast, BroadcastRequest, BroadcastStatus, BroadcastUpdate, SendAt
from subcast.domain.constraints import REQUEST_CONFIG
from subcast.publisher_api.http import (
    CURSOR,
    LIMIT,
    ApiError,
    Conflict,
    Param,
    Routes,
    bad_cursor,
    json_response,
    limit_of,
)
from subcast.publisher_api.schemas import BroadcastList, BroadcastOut, Counts, dump
from subcast.services.api_keys import Scope
from subcast.services.broadcasts import (
    NotFound,
    cancel_broadcast,
    create_broadcast,
    edit_broadcast,
    get_broadcast,
    list_broadcasts,
    schedule_broadcast,
)
from subcast.services.dependencies import broadcast_store, fanout_queue, link_store, publishing_store

routes = Routes("broadcasts")
logger = Logger(child=True)
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
    "a retried request with the same key returns the first result instead of creating another",
)


class ScheduleRequest(BaseModel):
    model_config = REQUEST_CONFIG

    send_at: SendAt = None


def broadcast_json(broadcast: Broadcast, clicks: dict[str, int] | None = None) -> dict[str, Any]:
    counts = broadcast.counts

    def by_reason(outcome: str) -> dict[str, int]:
        return {
            key.split(":", 1)[1]: count
            for key, count in sorted(counts.reasons.items())
            if key.startswith(f"{outcome}:")
        }

    return dump(
        BroadcastOut(
            id=broadcast.broadcast_id,
            text=broadcast.text,
            topics=list(broadcast.topics),
            attributes=broadcast.attributes,
            link=broadcast.link,
            image_url=broadcast.image_url,
            send_at=broadcast.send_at,
            status=broadcast.status,
            created_at=broadcast.created_at,
            counts=Counts(
                recipients=counts.recipients,
                sent=counts.sent,
                failed=counts.failed,
                skipped=counts.skipped,
                held=counts.held,
                delivered_later=counts.delivered_later,
                pending=max(counts.recipients - counts.done, 0),
                skipped_by=by_reason("skipped"),
                failed_by=by_reason("failed"),
                held_by=by_reason("held"),
            ),
            fanout_complete=broadcast.fanout_done,
            track_links=broadcast.tracking_base is not None,
            clicks=clicks,
        )
    )


def public_base_url() -> str:
    """Where subscribers reach this API: the configured base URL, else the one this request came to."""
    configured = settings().public_base_url
    if configured:
        return configured.rstrip("/")
    context = routes.request.context or {}
    domain = str(context.get("domainName") or "")
    if domain.endswith(".amazonaws.com"):
        return f"https://{domain}/{context.get('stage', '')}".rstrip("/")
    host = routes.request.headers.get("host") or domain
    return f"http://{host}"


def idempotency_key_of(routes: Routes) -> str | None:
    idempotency_key: str | None = routes.request.headers.get("idempotency-key")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters"
        )
    return idempotency_key


@routes.route(
    "/v1/broadcasts",
    "POST",
    Scope.BROADCASTS,
    body=BroadcastRequest,
    response=BroadcastOut,
    status=201,
    errors=(400, 409, 413, 415, 422),
    headers=(IDEMPOTENCY_KEY,),
)
def create_broadcast_view(key: ApiKey) -> Response:
    """Schedule a broadcast (send_at null: now), or keep it as a draft."""
    idempotency_key = idempotency_key_of(routes)
    request = routes.body(BroadcastRequest)
    broadcast, created = create_broadcast(
        request,
        key,
        idempotency_key,
        store=broadcast_store(),
        publishing=publishing_store(),
        fanout=fanout_queue(),
        links=link_store(),
        tracking_base=public_base_url(),
    )
    headers = {} if created else {"Idempotent-Replayed": "true"}
    logger.info(
        "broadcast scheduled", extra={"broadcast_id": broadcast.broadcast_id, "replayed": not created}
    )
    return json_response(201, broadcast_json(broadcast), headers)


@routes.route(
    "/v1/broadcasts",
    "GET",
    Scope.BROADCASTS,
    response=BroadcastList,
    errors=(400, 422),
    query=(
        Param("status", {"type": "string", "enum": [status.value for status in BroadcastStatus]}),
        Param("topic", {"type": "string"}),
        LIMIT,
        CURSOR,
    ),
)
def list_broadcasts_view(key: ApiKey) -> Response:
    """Broadcasts, newest first, by status and topic, a page at a time."""
    params = routes.params()
    try:
        status = BroadcastStatus(params["status"]) if "status" in params else None
    except ValueError:
        states = ", ".join(item.value for item in BroadcastStatus)
        raise ApiError(400, "invalid_request", f"status must be one of {states}") from None
    try:
        found, following = list_broadcasts(
            broadcast_store(),
            status=status,
            topic=params.get("topic"),
            limit=limit_of(params, default=20),
            cursor=params.get("cursor"),
        )
    except (ValueError, TypeError):
        raise bad_cursor() from None
    return json_response(
        200, {"broadcasts": [broadcast_json(item) for item in found], "next_cursor": following}
    )


@routes.route(
    "/v1/broadcasts/{broadcast_id}",
    "PATCH",
    Scope.BROADCASTS,
    body=BroadcastUpdate,
    response=BroadcastOut,
    errors=(400, 404, 409, 413, 415, 422),
)
def edit_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    """Change a draft or scheduled broadcast (409 once it is sending)."""
    update = routes.body(BroadcastUpdate)
    try:
        edited = edit_broadcast(
            broadcast_id,
            update,
            store=broadcast_store(),
            publishing=publishing_store(),
            fanout=fanout_queue(),
        )
    except NotEditable as error:
        raise Conflict("not_editable", f"a {error.status.value} broadcast cannot be changed") from None
    except KeyError:
        raise NotFound(f"no broadcast {broadcast_id}") from None
    return json_response(200, broadcast_json(edited))


@routes.route(
    "/v1/broadcasts/{broadcast_id}/schedule",
    "POST",
    Scope.BROADCASTS,
    body=ScheduleRequest,
    response=BroadcastOut,
    errors=(400, 404, 409, 413, 415, 422),
)
def schedule_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    """Schedule a draft for send_at (an empty body or null: now)."""
    raw = routes.request.raw_body or b""
    request = routes.body(ScheduleRequest) if raw.strip() else ScheduleRequest()
    try:
        scheduled = schedule_broadcast(
            broadcast_id, request.send_at, store=broadcast_store(), fanout=fanout_queue()
        )
    except NotEditable as error:
        raise Conflict("not_a_draft", f"a {error.status.value} broadcast cannot be scheduled again") from None
    except KeyError:
        raise NotFound(f"no broadcast {broadcast_id}") from None
    return json_response(200, broadcast_json(scheduled))


@routes.route("/v1/broadcasts/{broadcast_id}", "GET", Scope.BROADCASTS, response=BroadcastOut, errors=(404,))
def get_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    """A broadcast with its delivery counts (and clicks per link, when tracked)."""
    broadcast = get_broadcast(broadcast_store(), broadcast_id)
    clicks = link_store().clicks(broadcast_id) if broadcast.tracking_base else None
    return json_response(200, broadcast_json(broadcast, clicks))


@routes.route(
    "/v1/broadcasts/{broadcast_id}/cancel", "POST", Scope.BROADCASTS, response=BroadcastOut, errors=(404, 409)
)
def cancel_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    """Cancel a draft, scheduled or sending broadcast (recipients not yet sent to get nothing)."""
    return json_response(200, broadcast_json(cancel_broadcast(broadcast_store(), broadcast_id)))
