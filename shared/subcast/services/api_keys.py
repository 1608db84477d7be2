"""Publisher API keys: created once, shown once, stored only as a hash, checked per request."""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from subcast.adapters.publishing import ApiKey, KeyNotFound, PublishingStore
from subcast.clock import now
from subcast.domain.constraints import REQUEST_CONFIG, Matching

KEY_PREFIX = "sc_"


class Scope(StrEnum):
    TOPICS = "topics"
    BROADCASTS = "broadcasts"
    SUBSCRIBERS_READ = "subscribers:read"
    ADMIN = "admin"


ALL_SCOPES = tuple(scope.value for scope in Scope)


class KeyRequest(BaseModel):
    """What an admin sends to create a key: a name to recognise it by and its scopes."""

    model_config = REQUEST_CONFIG

    name: Annotated[
        str,
        Field(min_length=1, max_length=80),
        Matching(re.compile(r"\S"), "must not be blank"),
        AfterValidator(str.strip),
    ]
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))


class LastAdminKey(Exception):
    """Revoking this key would leave no active admin key: nobody could manage keys any more."""


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the '{scope}' scope")
        self.scope = scope


def key_hash(key: str) -> str:
    # Keys are 256-bit random strings, so a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The public part of a key (safe to log and show): ``sc_<id>_<secret>`` -> ``<id>``."""
    # The secret part is URL-safe base64, which may itself contain "_".
    parts = key.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] + "_" == KEY_PREFIX and parts[1] else ""


def create_api_key(store: PublishingStore, name: str, scopes: tuple[str, ...], key: str | None = None) -> str:
    """Store a new key (or a given one, e.g. the bootstrap key) and return it; only its hash is kept."""
    return issue_api_key(store, name, scopes, key)[0]


def issue_api_key(
    store: PublishingStore, name: str, scopes: tuple[str, ...], key: str | None = None
) -> tuple[str, ApiKey]:
    """Like ``create_api_key``, also returning the stored record."""
    unknown = set(scopes) - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = key or f"{KEY_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    record = ApiKey(key_id=key_id_of(key) or key_hash(key)[:8], name=name, scopes=scopes, created_at=now())
    store.save_api_key(key_hash(key), record)
    return key, record


def authenticate(store: PublishingStore, authorization: str | None, scope: str) -> ApiKey:
    """The key behind an ``Authorization: Bearer`` header, if it has ``scope`` (or ``admin``)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    key = store.api_key(key_hash(token.strip()))
    if key is None:
        raise Unauthorized("unknown API key")
    if not key.active:
        raise Unauthorized("this API key was revoked")
    if scope not in key.scopes and Scope.ADMIN.value not in key.scopes:
        raise Forbidden(scope)
    store.key_used(key, now())
    return key


def list_api_keys(store: PublishingStore) -> list[ApiKey]:
    """Every key ever created (revoked ones too, marked), oldest first; never the key itself."""
    return sorted(store.api_keys(), key=lambda key: (key.created_at, key.key_id))


def revoke_api_key(store: PublishingStore, key_id: str) -> ApiKey:
    """Revoke a key at once; the last active admin key cannot be revoked."""
    keys = {key.key_id: key for key in store.api_keys()}
    target = keys.get(key_id)
    if target is None:
        raise KeyNotFound(key_id)
    if target.active and Scope.ADMIN.value in target.scopes:
        other_admins = [
            key
            for key in keys.values()
            if key.active and key.key_id != key_id and Scope.ADMIN.value in key.scopes
        ]
        if not other_admins:
            raise LastAdminKey(key_id)
    return store.revoke_api_key(key_id, now())
