"""The publisher REST API under /v1 (Chalice). Routes only: the rules live in subcast.services."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from chalice import Chalice, Response
from pydantic import BaseModel, ValidationError

from subcast.adapters.broadcasts import IdempotencyConflict, NotCancellable
from subcast.adapters.publishing import ApiKey, TopicExists
from subcast.domain.broadcast import Broadcast, BroadcastRequest, TopicRequest
from subcast.domain.subscriber import SubscriberState
from subcast.services.api_keys import Forbidden, Scope, Unauthorized, authenticate
from subcast.services.broadcasts import (
    InvalidRequest,
    NotFound,
    cancel_broadcast,
    create_broadcast,
    create_topic,
    get_broadcast,
    list_topics,
)
from subcast.services.dependencies import (
    broadcast_store,
    fanout_queue,
    publishing_store,
    subscriber_listing,
    subscriber_store,
)

app = Chalice(app_name="subcast-api")
logger = Logger()
MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 255
JSON_HEADERS = {"Content-Type": "application/json"}
Model = TypeVar("Model", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, body=body, headers={**JSON_HEADERS, **(headers or {})})


def error_response(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})


#: Domain exceptions -> HTTP, in one place.
ERRORS: dict[type[Exception], tuple[int, str]] = {
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    InvalidRequest: (400, "invalid_request"),
    TopicExists: (409, "topic_exists"),
    IdempotencyConflict: (409, "idempotency_key_reused"),
}


def api_route(path: str, method: str, scope: Scope) -> Callable[[Callable[..., Response]], Any]:
    """A /v1 route: authenticates with ``scope`` and maps errors to ``{"error": {...}}``."""

    def decorate(view: Callable[..., Response]) -> Any:
        @functools.wraps(view)
        def wrapper(**params: str) -> Response:
            try:
                key = authenticate(
                    publishing_store(), app.current_request.headers.get("authorization"), scope.value
                )
                return view(key, **params)
            except ApiError as error:
                return error_response(error.status, error.code, error.message)
            except NotCancellable as error:
                return error_response(
                    409, "not_cancellable", f"a {error.status.value} broadcast cannot be cancelled"
                )
            except tuple(ERRORS) as error:
                status, code = ERRORS[type(error)]
                if code == "idempotency_key_reused":
                    message = "this Idempotency-Key was used for a different request"
                elif code == "topic_exists":
                    message = f"topic {error} exists already"
                else:
                    message = str(error)
                return error_response(status, code, message)

        # Every content type reaches the view, so that a wrong one gets our error shape, not Chalice's.
        return app.route(path, methods=[method], content_types=["*/*"])(wrapper)

    return decorate


def parse_body(model: type[Model]) -> Model:
    media_type = (app.current_request.headers.get("content-type") or "application/json").split(";")[0].strip()
    if media_type.lower() != "application/json" and not media_type.lower().endswith("+json"):
        raise ApiError(
            415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
        )
    raw = app.current_request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'body'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ApiError(400, "invalid_request", problems) from None


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


@api_route("/v1/topics", "POST", Scope.TOPICS)
def create_topic_view(key: ApiKey) -> Response:
    topic = create_topic(publishing_store(), parse_body(TopicRequest))
    return json_response(201, topic.model_dump(mode="json"))


@api_route("/v1/topics", "GET", Scope.TOPICS)
def list_topics_view(key: ApiKey) -> Response:
    return json_response(
        200, {"topics": [t.model_dump(mode="json") for t in list_topics(publishing_store())]}
    )


@api_route("/v1/broadcasts", "POST", Scope.BROADCASTS)
def create_broadcast_view(key: ApiKey) -> Response:
    idempotency_key = app.current_request.headers.get("idempotency-key")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters"
        )
    request = parse_body(BroadcastRequest)
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


@api_route("/v1/broadcasts/{broadcast_id}", "GET", Scope.BROADCASTS)
def get_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    return json_response(200, broadcast_json(get_broadcast(broadcast_store(), broadcast_id)))


@api_route("/v1/broadcasts/{broadcast_id}/cancel", "POST", Scope.BROADCASTS)
def cancel_broadcast_view(key: ApiKey, broadcast_id: str) -> Response:
    return json_response(200, broadcast_json(cancel_broadcast(broadcast_store(), broadcast_id)))


@api_route("/v1/inbox", "GET", Scope.SUBSCRIBERS_READ)
def inbox_view(key: ApiKey) -> Response:
    """Feedback and messages subscribers sent that subcast did not understand, newest first."""
    params = app.current_request.query_params or {}
    limit = _limit(params)
    try:
        page = publishing_store().inbox(limit, params.get("cursor"))
    except (ValueError, TypeError, ClientError) as error:
        if isinstance(error, ClientError) and error.response["Error"]["Code"] != "ValidationException":
            raise
        raise ApiError(400, "invalid_request", "cursor is not one this API gave out") from None
    return json_response(200, page.model_dump())


def _limit(params: dict[str, str]) -> int:
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise ApiError(400, "invalid_request", "limit must be a whole number from 1 to 100")
    return limit


@api_route("/v1/subscribers", "GET", Scope.SUBSCRIBERS_READ)
def list_subscribers_view(key: ApiKey) -> Response:
    """Subscribers by state (default active) and topic, paginated, with counts per state; never addresses."""
    params = app.current_request.query_params or {}
    try:
        state = SubscriberState(params.get("status", "active"))
    except ValueError:
        states = ", ".join(item.value for item in SubscriberState)
        raise ApiError(400, "invalid_request", f"status must be one of {states}") from None
    topic = params.get("topic")
    listing = subscriber_listing()
    try:
        rows, following = listing.page(state, topic, _limit(params), params.get("cursor"))
    except (ValueError, TypeError):
        raise ApiError(400, "invalid_request", "cursor is not one this API gave out") from None
    return json_response(200, {"subscribers": rows, "next_cursor": following, "counts": listing.counts()})


@api_route("/v1/subscribers/{subscriber_id}", "GET", Scope.SUBSCRIBERS_READ)
def get_subscriber_view(key: ApiKey, subscriber_id: str) -> Response:
    """One subscriber's settings and consent history (addresses only as keyed hashes)."""
    store = subscriber_store()
    subscriber = store.get(subscriber_id)
    if subscriber is None:
        raise ApiError(404, "not_found", f"no subscriber {subscriber_id}")
    body = subscriber.model_dump(mode="json", exclude={"addresses", "version", "last_hint_at"})
    body["channels"] = [
        {"channel": item.channel.value, "reachable": item.reachable} for item in subscriber.addresses
    ]
    body["consent"] = [record.model_dump(mode="json") for record in store.consent_history(subscriber_id)]
    return json_response(200, body)
