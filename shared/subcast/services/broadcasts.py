"""Publisher use cases: broadcasts."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from subcast.adapters.broadcasts import EDITABLE, BroadcastStore, NotEditable
from subcast.adapters.cursors import decode_cursor, encode_cursor
from subcast.adapters.links import LinkStore
from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.adapters.queues import FanoutQueue
from subcast.clock import now
from subcast.domain.broadcast import (
    Broadcast,
    BroadcastRequest,
    BroadcastStatus,
    BroadcastUpdate,
    one_message_problem,
    resolve_send_at,
)
from subcast.domain.links import broadcast_document, links_of


class Unprocessable(Exception):
    """The request is well-formed but cannot be carried out as asked: 422 with ``code``, one of
    ``subcast.domain.constraints.UNPROCESSABLE_CODES``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
    links: LinkStore | None = None,
    tracking_base: str | None = None,
) -> tuple[Broadcast, bool]:
    """Schedule a broadcast; returns it and whether it is new (False: an Idempotency-Key replay).

    With ``track_links``, its links are registered for ``/l/<code>`` under ``tracking_base``.
    """
    moment = now()
    send_at = _send_at(request.send_at, moment)
    _check_topics(request.topics, publishing)
    broadcast = Broadcast(
        broadcast_id=f"b_{secrets.token_hex(8)}",
        text=request.text,
        topics=tuple(dict.fromkeys(request.topics)),
        attributes=request.attributes,
        link=request.link,
        image_url=request.image_url,
        send_at=send_at,
        status=BroadcastStatus.DRAFT if request.draft else BroadcastStatus.SCHEDULED,
        created_at=moment,
        created_by=key.key_id,
        tracking_base=tracking_base if request.track_links and tracking_base else None,
    )
    if broadcast.tracking_base and links is None:
        raise Unprocessable("tracking_unavailable", "link tracking is not available here")
    idempotency = None
    if idempotency_key:
        scope = hashlib.sha256(idempotency_key.encode()).hexdigest()
        request_hash = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        idempotency = (f"{key.key_id}#{scope}", request_hash)
    if links is not None and broadcast.tracking_base:
        # Before the broadcast exists, so no send can race ahead of its links (saving is idempotent).
        links.save(
            broadcast.broadcast_id,
            links_of(broadcast_document(request.text, request.link, request.image_url)),
        )
    stored = store.create(broadcast, idempotency, moment)
    created = stored.broadcast_id == broadcast.broadcast_id
    if created and stored.status is BroadcastStatus.SCHEDULED and send_at <= moment:
        # Start now rather than at the next scheduler tick; the tick would find it too.
        fanout.send([stored.broadcast_id])
    return stored, created


def _send_at(requested: datetime | None, moment: datetime) -> datetime:
    try:
        return resolve_send_at(requested, moment)
    except ValueError as error:
        raise Unprocessable("send_at_in_past", str(error)) from None


def _check_topics(topics: list[str], publishing: PublishingStore) -> None:
    if not topics:
        return
    known = {topic.slug: topic for topic in publishing.topics()}
    unknown = sorted(set(topics) - set(known))
    if unknown:
        raise Unprocessable(
            "unknown_topic", f"unknown topics: {', '.join(unknown)} (create them with POST /v1/topics)"
        )
    archived = sorted(slug for slug in topics if not known[slug].active)
    if archived:
        raise Unprocessable("archived_topic", f"archived topics: {', '.join(archived)}")


def edit_broadcast(
    broadcast_id: str,
    update: BroadcastUpdate,
    *,
    store: BroadcastStore,
    publishing: PublishingStore,
    fanout: FanoutQueue,
    links: LinkStore | None = None,
) -> Broadcast:
    """Change a draft or scheduled broadcast; NotEditable once sending has started."""
    current = get_broadcast(store, broadcast_id)
    if current.status not in EDITABLE:
        raise NotEditable(current.status)
    changes = update.model_dump(exclude_unset=True)
    if "topics" in changes:
        _check_topics(changes["topics"], publishing)
        changes["topics"] = list(dict.fromkeys(changes["topics"]))
    problem = one_message_problem(
        changes.get("text", current.text),
        changes.get("link", current.link),
        changes.get("image_url", current.image_url),
    )
    if problem:
        raise Unprocessable("does_not_fit_one_message", problem)
    moment = now()
    if "send_at" in changes:
        changes["send_at"] = _send_at(update.send_at, moment).isoformat()
    if current.tracking_base and links is not None:
        document = broadcast_document(
            changes.get("text", current.text),
            changes.get("link", current.link),
            changes.get("image_url", current.image_url),
        )
        links.save(broadcast_id, links_of(document))
    edited = store.edit(broadcast_id, changes, expected=current.status)
    if edited.status is BroadcastStatus.SCHEDULED and edited.send_at <= moment:
        fanout.send([broadcast_id])  # moved to now: start at once
    return edited


def schedule_broadcast(
    broadcast_id: str, send_at: datetime | None, *, store: BroadcastStore, fanout: FanoutQueue
) -> Broadcast:
    """A draft goes out at ``send_at`` (or now)."""
    moment = now()
    when = _send_at(send_at, moment)
    get_broadcast(store, broadcast_id)  # 404 before 409
    scheduled = store.schedule(broadcast_id, when)
    if when <= moment:
        fanout.send([broadcast_id])
    return scheduled


def list_broadcasts(
    store: BroadcastStore,
    *,
    status: BroadcastStatus | None,
    topic: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Broadcast], str | None]:
    """Newest first, filtered by status and topic; ``cursor`` continues a page (ValueError if forged)."""
    start = decode_cursor(cursor, {"pk", "sk", "list_pk", "list_at"}) if cursor else None

    def wanted(broadcast: Broadcast) -> bool:
        return (status is None or broadcast.status is status) and (topic is None or topic in broadcast.topics)

    found, following = store.page(limit, start, wanted)
    return found, encode_cursor(following)


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
