"""/v1/keys: API keys for tools and colleagues, each with only the scopes it needs (admin only)."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey, KeyNotFound
from subcast.publisher_api.http import ApiError, Conflict, Routes, json_response
from subcast.publisher_api.schemas import KeyCreated, KeyList, KeyOut, dump
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


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.key_id,
        name=key.name,
        scopes=list(key.scopes),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@routes.route(
    "/v1/keys", "POST", Scope.ADMIN, body=KeyRequest, response=KeyCreated, status=201, errors=(400, 413, 415)
)
def create_key_view(key: ApiKey) -> Response:
    """A new key; the secret is in this response and never again."""
    request = routes.body(KeyRequest)
    scopes = tuple(dict.fromkeys(scope.value for scope in request.scopes))
    secret, created = issue_api_key(publishing_store(), request.name, scopes)
    return json_response(201, dump(KeyCreated(**key_out(created).model_dump(), key=secret)))


@routes.route("/v1/keys", "GET", Scope.ADMIN, response=KeyList)
def list_keys_view(key: ApiKey) -> Response:
    """Every key, revoked ones marked, with its last use; never a secret."""
    return json_response(
        200, dump(KeyList(keys=[key_out(item) for item in list_api_keys(publishing_store())]))
    )


@routes.route("/v1/keys/{key_id}", "DELETE", Scope.ADMIN, response=KeyOut, errors=(404, 409))
def revoke_key_view(key: ApiKey, key_id: str) -> Response:
    """Revoke a key at once and for good (requests with it answer 401 from now on)."""
    try:
        revoked = revoke_api_key(publishing_store(), key_id)
    except KeyNotFound:
        raise ApiError(404, "not_found", f"no API key {key_id}") from None
    except LastAdminKey:
        raise Conflict("last_admin_key", "this is the last active admin key; create another first") from None
    return json_response(200, dump(key_out(revoked)))
