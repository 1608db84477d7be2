"""/v1/subscribers and /v1/inbox: who subscribed, their settings and consent, and what they wrote.

Never an address: channels appear only with their reachability, consent only with keyed hashes.
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.domain.subscriber import SubscriberState
from subcast.publisher_api.http import (
    CURSOR,
    LIMIT,
    ApiError,
    Param,
    Routes,
    bad_cursor,
    json_response,
    limit_of,
)
from subcast.publisher_api.schemas import InboxOut, SubscriberDetail, SubscriberList, dump
from subcast.services.api_keys import Scope
from subcast.services.dependencies import publishing_store, subscriber_listing, subscriber_store

routes = Routes("subscribers")


@routes.route(
    "/v1/inbox", "GET", Scope.SUBSCRIBERS_READ, response=InboxOut, errors=(400, 422), query=(LIMIT, CURSOR)
)
def inbox_view(key: ApiKey) -> Response:
    """Feedback and messages subscribers sent that subcast did not understand, newest first."""
    params = routes.params()
    limit = limit_of(params)
    try:
        page = publishing_store().inbox(limit, params.get("cursor"))
    except (ValueError, TypeError, ClientError) as error:
        if isinstance(error, ClientError) and error.response["Error"]["Code"] != "ValidationException":
            raise
        raise bad_cursor() from None
    return json_response(200, dump(InboxOut.model_validate(page.model_dump())))


@routes.route(
    "/v1/subscribers",
    "GET",
    Scope.SUBSCRIBERS_READ,
    response=SubscriberList,
    errors=(400, 422),
    query=(
        Param("status", {"type": "string", "enum": [state.value for state in SubscriberState]}),
        Param("topic", {"type": "string"}),
        LIMIT,
        CURSOR,
    ),
)
def list_subscribers_view(key: ApiKey) -> Response:
    """Subscribers by state (default active) and topic, paginated, with counts per state."""
    params = routes.params()
    try:
        state = SubscriberState(params.get("status", "active"))
    except ValueError:
        states = ", ".join(item.value for item in SubscriberState)
        raise ApiError(400, "invalid_request", f"status must be one of {states}") from None
    listing = subscriber_listing()
    try:
        rows, following = listing.page(state, params.get("topic"), limit_of(params), params.get("cursor"))
    except (ValueError, TypeError):
        raise bad_cursor() from None
    listed = SubscriberList.model_validate(
        {"subscribers": rows, "next_cursor": following, "counts": listing.counts()}
    )
    return json_response(200, dump(listed))


@routes.route(
    "/v1/subscribers/{subscriber_id}", "GET", Scope.SUBSCRIBERS_READ, response=SubscriberDetail, errors=(404,)
)
def get_subscriber_view(key: ApiKey, subscriber_id: str) -> Response:
    """One subscriber's settings and consent history."""
    store = subscriber_store()
    subscriber = store.get(subscriber_id)
    if subscriber is None:
        raise ApiError(404, "not_found", f"no subscriber {subscriber_id}")
    body = subscriber.model_dump(mode="json", exclude={"addresses", "version", "last_hint_at"})
    body["channels"] = [
        {"channel": item.channel.value, "reachable": item.reachable} for item in subscriber.addresses
    ]
    body["consent"] = [record.model_dump(mode="json") for record in store.consent_history(subscriber_id)]
    return json_response(200, dump(SubscriberDetail.model_validate(body)))
