"""The response bodies of the /v1 API as pydantic models: views build their answers through them,
and the OpenAPI document describes them, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from subcast.domain.broadcast import BroadcastStatus
from subcast.domain.subscriber import ConsentRecord, SubscriberState
from subcast.domain.topics import Topic
from subcast.services.publisher_settings import CapSetting


class FieldProblemOut(BaseModel):
    field: str = Field(
        description='the field\'s path: "text", "topics[2]", "schedule.start"; "body" for the whole'
    )
    message: str = Field(description="what to send instead, for a person")


class Problem(BaseModel):
    code: str = Field(description="machine-readable, e.g. invalid_request, not_found, send_at_in_past")
    message: str = Field(description="what is wrong, for a person: one sentence per field")
    fields: list[FieldProblemOut] | None = Field(
        default=None, description="each field of the request that is wrong, with one sentence (400 and 422)"
    )


class ErrorBody(BaseModel):
    error: Problem


class TopicList(BaseModel):
    topics: list[Topic]


class KeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="the secret: shown in this answer only, never again")


class KeyList(BaseModel):
    keys: list[KeyOut]


class Counts(BaseModel):
    recipients: int = Field(description="found by fan-out so far")
    sent: int
    failed: int
    skipped: int
    held: int = Field(description="held for the subscriber's quiet hours or digest")
    delivered_later: int = Field(description="of those held, sent later")
    pending: int
    skipped_by: dict[str, int] = Field(
        description="paused, unreachable, not_active, topics, alert, filter, cap ..."
    )
    failed_by: dict[str, int] = Field(description="unreachable, uncertain, rejected")
    held_by: dict[str, int] = Field(description="quiet_hours, digest")


class BroadcastOut(BaseModel):
    id: str
    text: str
    topics: list[str]
    attributes: dict[str, float | str]
    link: str | None
    image_url: str | None
    send_at: datetime
    status: BroadcastStatus
    created_at: datetime
    counts: Counts
    fanout_complete: bool
    track_links: bool
    clicks: dict[str, int] | None = Field(
        default=None, description="clicks per URL, when links are tracked (GET of one broadcast only)"
    )


class BroadcastList(BaseModel):
    broadcasts: list[BroadcastOut]
    next_cursor: str | None


class BroadcastsCreated(BaseModel):
    broadcasts: list[BroadcastOut]


class InboxEntryOut(BaseModel):
    subscriber_id: str | None
    kind: str = Field(description="feedback or unknown")
    text: str | None
    received_at: datetime | None


class InboxOut(BaseModel):
    entries: list[InboxEntryOut]
    next_cursor: str | None


class SubscriberRow(BaseModel):
    id: str
    state: SubscriberState
    topics: list[str] | None
    language: str | None
    timezone: str | None
    created_at: datetime | None
    state_since: datetime | None
    paused_until: datetime | None


class SubscriberList(BaseModel):
    subscribers: list[SubscriberRow]
    next_cursor: str | None
    counts: dict[str, int]


class ChannelOut(BaseModel):
    channel: str
    reachable: bool


class SubscriberDetail(BaseModel):
    """Settings and consent history; never an address (channels only with their reachability)."""

    model_config = ConfigDict(extra="allow")

    subscriber_id: str
    state: SubscriberState
    language: str
    topics: list[str] | None
    channels: list[ChannelOut]
    consent: list[ConsentRecord]


class SettingsOut(BaseModel):
    """The publisher's settings for the whole deployment."""

    frequency_cap: CapSetting | None = Field(description="the most each subscriber receives; null: no cap")
    updated_at: datetime | None = Field(description="when they were last changed; null: never")


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
