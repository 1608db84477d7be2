"""Publisher use cases: broadcasts."""

from __future__ import annotations

import hashlib
import secrets

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.adapters.queues import FanoutQueue
from subcast.clock import now
from subcast.domain.broadcast import (
    Broadcast,
    BroadcastRequest,
    BroadcastStatus,
    resolve_send_at,
)


class InvalidRequest(Exception):
    """The request is well-formed but cannot be carried out as asked."""


class NotFound(Exception):
    pass


def create_broadcast(
    request: BroadcastRequest,
    key: ApiKey,
    idempotency_key: str | None,
    *,
    store: BroadcastStore,
    publishing: PublishingStore,
    fanout: FanoutQueue,
) -> tuple[Broadcast, bool]:
    """Schedule a broadcast; returns it and whether it is new (False: an Idempotency-Key replay)."""
    moment = now()
    try:
        send_at = resolve_send_at(request.send_at, moment)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    if request.topics:
        topics = {topic.slug: topic for topic in publishing.topics()}
        unknown = sorted(set(request.topics) - set(topics))
        if unknown:
            raise InvalidRequest(f"unknown topics: {', '.join(unknown)} (create them with POST /v1/topics)")
        archived = sorted(slug for slug in request.topics if not topics[slug].active)
        if archived:
            raise InvalidRequest(f"archived topics: {', '.join(archived)}")
    broadcast = Broadcast(
        broadcast_id=f"b_{secrets.token_hex(8)}",
        text=request.text,
        topics=tuple(dict.fromkeys(request.topics)),
        attributes=request.attributes,
        send_at=send_at,
        status=BroadcastStatus.SCHEDULED,
        created_at=moment,
        created_by=key.key_id,
    )
    idempotency = None
    if idempotency_key:
        scope = hashlib.sha256(idempotency_key.encode()).hexdigest()
        request_hash = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        idempotency = (f"{key.key_id}#{scope}", request_hash)
    stored = store.create(broadcast, idempotency, moment)
    created = stored.broadcast_id == broadcast.broadcast_id
    if created and send_at <= moment:
        # Start now rather than at the next scheduler tick; the tick would find it too.
        fanout.send([stored.broadcast_id])
    return stored, created


def get_broadcast(store: BroadcastStore, broadcast_id: str) -> Broadcast:
    found = store.get(broadcast_id)
    if found is None:
        raise NotFound(f"no broadcast {broadcast_id}")
    return found


def cancel_broadcast(store: BroadcastStore, broadcast_id: str) -> Broadcast:
    try:
        return store.cancel(broadcast_id, now())
    except KeyError:
        raise NotFound(f"no broadcast {broadcast_id}") from None
