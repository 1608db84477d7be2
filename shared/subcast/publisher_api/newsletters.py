"""/v1/newsletters: a newsletter issue in, broadcast snippets (drafts or scheduled) out."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.publisher_api.broadcasts import IDEMPOTENCY_KEY, broadcast_json, idempotency_key_of
from subcast.publisher_api.http import Routes, json_response
from subcast.publisher_api.schemas import BroadcastsCreated
from subcast.services.api_keys import Scope
from subcast.services.dependencies import broadcast_store, fanout_queue, publishing_store
from subcast.services.newsletters import MAX_NEWSLETTER_BYTES, NewsletterRequest, import_newsletter

routes = Routes("newsletters")


@routes.route(
    "/v1/newsletters",
    "POST",
    Scope.BROADCASTS,
    body=NewsletterRequest,
    response=BroadcastsCreated,
    status=201,
    errors=(400, 409, 413, 415, 422),
    headers=(IDEMPOTENCY_KEY,),
)
def import_newsletter_view(key: ApiKey) -> Response:
    """Split an issue into snippets; drafts without ``schedule``, else spaced ``every_minutes`` apart."""
    request = routes.body(NewsletterRequest, max_bytes=MAX_NEWSLETTER_BYTES)
    created = import_newsletter(
        request,
        key,
        idempotency_key_of(routes),
        store=broadcast_store(),
        publishing=publishing_store(),
        fanout=fanout_queue(),
    )
    return json_response(201, {"broadcasts": [broadcast_json(broadcast) for broadcast in created]})
