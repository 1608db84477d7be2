"""/v1/keys: API keys for tools and colleagues, each with only the scopes it needs (admin only)."""

from __future__ import annotations

from typing import Any

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey, KeyNotFound
from subcast.publisher_api.http import ApiError, Conflict, Routes, json_response
from subcast.services.api_keys import (
    KeyRequest,
    LastAdminKey,
    Scope,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
)
from subcast.services.dependencies import publishing_store

routes = Routes("keys")


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "name": key.name,
        "scopes": list(key.scopes),
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@routes.route("/v1/keys", "POST", Scope.ADMIN)
def create_key_view(key: ApiKey) -> Response:
    """A new key; the secret is in this response and never again."""
    request = routes.body(KeyRequest)
    scopes = tuple(dict.fromkeys(scope.value for scope in request.scopes))
    secret, created = issue_api_key(publishing_store(), request.name, scopes)
    return json_response(201, {**key_json(created), "key": secret})


@routes.route("/v1/keys", "GET", Scope.ADMIN)
def list_keys_view(key: ApiKey) -> Response:
    return json_response(200, {"keys": [key_json(item) for item in list_api_keys(publishing_store())]})


@routes.route("/v1/keys/{key_id}", "DELETE", Scope.ADMIN)
def revoke_key_view(key: ApiKey, key_id: str) -> Response:
    """Revoke a key at once and for good (requests with it answer 401 from now on)."""
    try:
        revoked = revoke_api_key(publishing_store(), key_id)
    except KeyNotFound:
        raise ApiError(404, "not_found", f"no API key {key_id}") from None
    except LastAdminKey:
        raise Conflict("last_admin_key", "this is the last active admin key; create another first") from None
    return json_response(200, key_json(revoked))
