"""Publisher use case: turn a newsletter issue into broadcast snippets, as drafts or spaced out in time."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from subcast.adapters.broadcasts import BroadcastStore
from subcast.adapters.publishing import ApiKey, PublishingStore
from subcast.adapters.queues import FanoutQueue
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, BroadcastRequest, Topics
from subcast.domain.constraints import REQUEST_CONFIG, WHOLE_NUMBER
from subcast.domain.newsletter import split_newsletter, to_markdown
from subcast.domain.rendering.markdown import url_problem
from subcast.services.broadcasts import Unprocessable, create_broadcast

#: A newsletter may be far larger than a broadcast request (email HTML is verbose).
MAX_NEWSLETTER_BYTES = 1024 * 1024


class Spacing(BaseModel):
    model_config = REQUEST_CONFIG

    start: AwareDatetime
    every_minutes: Annotated[int, Field(strict=True, ge=1, le=7 * 24 * 60), WHOLE_NUMBER]


class NewsletterRequest(BaseModel):
    """An issue to split: HTML or Markdown; without ``schedule`` the snippets stay drafts."""

    model_config = REQUEST_CONFIG

    format: Literal["html", "markdown"]
    content: Annotated[str, Field(min_length=1)]
    topics: Topics = Field(default_factory=list)
    schedule: Spacing | None = None
    teaser_budget: Annotated[int, Field(strict=True, ge=40, le=1000), WHOLE_NUMBER] = 280
    max_snippets: Annotated[int, Field(strict=True, ge=1, le=30), WHOLE_NUMBER] = 10


def import_newsletter(
    request: NewsletterRequest,
    key: ApiKey,
    idempotency_key: str | None,
    *,
    store: BroadcastStore,
    publishing: PublishingStore,
    fanout: FanoutQueue,
) -> list[Broadcast]:
    """One broadcast per snippet. With an Idempotency-Key, a retried import returns the same broadcasts."""
    snippets = split_newsletter(
        request.content,
        request.format,
        teaser_budget=request.teaser_budget,
        max_snippets=request.max_snippets,
    )
    if not snippets:
        raise Unprocessable(
            "no_stories", "no stories found in the newsletter (no headings with text under them)"
        )
    if request.schedule and request.schedule.start < now() - timedelta(minutes=5):
        raise Unprocessable("send_at_in_past", "schedule.start is in the past")
    created = []
    for index, snippet in enumerate(snippets):
        send_at = (
            request.schedule.start + timedelta(minutes=request.schedule.every_minutes * index)
            if request.schedule
            else None
        )
        broadcast_request = BroadcastRequest(
            text=to_markdown(snippet),
            topics=request.topics,
            send_at=send_at,
            link=snippet.link if snippet.link and not url_problem(snippet.link) else None,
            image_url=snippet.image_url if snippet.image_url and not url_problem(snippet.image_url) else None,
            draft=request.schedule is None,
        )
        broadcast, _ = create_broadcast(
            broadcast_request,
            key,
            f"{idempotency_key}#newsletter#{index}" if idempotency_key else None,
            store=store,
            publishing=publishing,
            fanout=fanout,
        )
        created.append(broadcast)
    return created
