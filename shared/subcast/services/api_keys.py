"""Publisher API keys: created once, shown once, stored only as a hash, checked per request."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.clock import now

KEY_PREFIX = "sc_"


class Scope(StrEnum):
    TOPICS = "topics"
    BROADCASTS = "broadcasts"
    SUBSCRIBERS_READ = "subscribers:read"
    ADMIN = "admin"


ALL_SCOPES = tuple(scope.value for scope in Scope)


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
    parts = key.split("_")
    return parts[1] if len(parts) == 3 and parts[0] + "_" == KEY_PREFIX else ""


def create_api_key(store: PublishingStore, name: str, scopes: tuple[str, ...], key: str | None = None) -> str:
    """Store a new key (or a given one, e.g. the bootstrap key) and return it; only its hash is kept."""
    unknown = set(scopes) - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = key or f"{KEY_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    key_id = key_id_of(key) or key_hash(key)[:8]
    store.save_api_key(key_hash(key), ApiKey(key_id=key_id, name=name, scopes=scopes, created_at=now()))
    return key


def authenticate(store: PublishingStore, authorization: str | None, scope: str) -> ApiKey:
    """The key behind an ``Authorization: Bearer`` header, if it has ``scope`` (or ``admin``)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    key = store.api_key(key_hash(token.strip()))
    if key is None:
        raise Unauthorized("unknown API key")
    if scope not in key.scopes and Scope.ADMIN.value not in key.scopes:
        raise Forbidden(scope)
    return key
