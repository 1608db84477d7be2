"""Publisher use cases: topics."""

from __future__ import annotations

from subcast.adapters.publishing import PublishingStore
from subcast.clock import now
from subcast.domain.topics import Topic, TopicRequest, TopicUpdate
from subcast.services.broadcasts import NotFound


def create_topic(store: PublishingStore, request: TopicRequest) -> Topic:
    topic = Topic(**request.model_dump(), created_at=now())
    store.create_topic(topic)
    return topic


def list_topics(store: PublishingStore, include_archived: bool = False) -> list[Topic]:
    topics = store.topics()
    return sorted(
        (topic for topic in topics if include_archived or topic.active), key=lambda topic: topic.slug
    )


def update_topic(store: PublishingStore, slug: str, update: TopicUpdate) -> Topic:
    """Change a topic's names, description or default flag; its slug stays."""
    changes = update.model_dump(exclude_unset=True)
    updated = store.update_topic(slug, changes)
    if updated is None:
        raise NotFound(f"no topic {slug}")
    return updated


def archive_topic(store: PublishingStore, slug: str) -> Topic:
    """No new broadcasts on it and no longer offered to subscribers; idempotent."""
    archived = store.archive_topic(slug, now())
    if archived is None:
        raise NotFound(f"no topic {slug}")
    return archived
