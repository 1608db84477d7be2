"""Broadcasts, their delivery jobs and counts, and the rule that decides which topics reach whom."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from subcast.domain.constraints import (
    NEVER_NULL,
    REQUEST_CONFIG,
    AttributeValue,
    Matching,
    NamedValues,
    not_null,
    unprocessable,
)
from subcast.domain.rendering.document import MAX_URL_LENGTH
from subcast.domain.rendering.markdown import url_problem, validate
from subcast.domain.rendering.telegram import render_telegram
from subcast.domain.topics import TOPIC_SLUG, TopicSlug

#: Telegram measures message length in UTF-16 code units.
MAX_TEXT_UTF16 = 4096
#: How far in the past a send_at may be and still mean "now" (client clock skew).
SEND_AT_GRACE = timedelta(minutes=5)
#: Recipients per delivery job: few, large SQS messages keep requests per delivery low.
JOB_SIZE = 100
TOPIC_PATTERN = TOPIC_SLUG.pattern
MAX_TOPICS = 20


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


ATTRIBUTE_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_ATTRIBUTES = 20
#: What subscriber alerts compare against (``ALERT energie kwh > 300``): names as alerts write them.
Attributes = Annotated[
    dict[
        Annotated[str, Matching(ATTRIBUTE_NAME, "an attribute name is 1-32 characters of a-z, 0-9 and '_'")],
        AttributeValue,
    ],
    Field(max_length=MAX_ATTRIBUTES),
    NamedValues,
]

#: http(s)://, a host part, then anything without blanks or control characters. What the schema
#: can say; the rest (a host that is no host, a port out of range) is checked by ``url_problem``.
WEB_URL = re.compile(
    r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f-\x9f/?#]+(?:[/?#][^\s\x00-\x1f\x7f-\x9f]*)?$"
)


def _web_url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise unprocessable("invalid_link", problem)
    return value


WebUrl = Annotated[
    str,
    Field(max_length=MAX_URL_LENGTH),
    Matching(WEB_URL, "must be a web address starting with http:// or https://, without blanks"),
    AfterValidator(_web_url),
]


def _text(text: str) -> str:
    if utf16_length(text) > MAX_TEXT_UTF16:
        raise unprocessable(
            "text_too_long", f"the text is longer than {MAX_TEXT_UTF16} UTF-16 code units (an emoji counts 2)"
        )
    problems = validate(text)
    if problems:
        raise unprocessable("invalid_link", "; ".join(problems))
    return text


#: A small Markdown subset: **bold**, *italic*, [links](https://...), line breaks.
BroadcastText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TEXT_UTF16),
    Matching(re.compile(r"\S"), "must contain more than blanks"),
    AfterValidator(_text),
]


def one_message_problem(text: str, link: str | None, image_url: str | None) -> str | None:
    """Why this broadcast would not fit one Telegram message (4,096 characters, 100 formats), if so.

    One message per broadcast keeps delivery all or nothing per recipient: a second part could
    fail after the first went out. Longer newsletters become several snippets instead.
    """
    if len(render_telegram(text, link, image_url)) > 1:
        return "text with its link and image does not fit one Telegram message; shorten it or split it"
    return None


def _iso_only(value: object) -> object:
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO-8601 date and time with an offset, e.g. 2026-12-24T08:00:00+01:00")
    return value


SendAt = Annotated[AwareDatetime | None, BeforeValidator(_iso_only)]
Topics = Annotated[list[TopicSlug], Field(max_length=MAX_TOPICS)]


class BroadcastRequest(BaseModel):
    """What a publisher sends to schedule a broadcast (or to keep it as a draft)."""

    model_config = REQUEST_CONFIG

    text: BroadcastText
    topics: Topics = Field(default_factory=list)
    send_at: SendAt = None
    attributes: Attributes = Field(default_factory=dict)
    link: WebUrl | None = None  # shown under the text
    image_url: WebUrl | None = None
    draft: StrictBool = False  # kept, not scheduled, until POST /v1/broadcasts/{id}/schedule
    track_links: StrictBool = False  # links go through /l/<code>, which counts clicks (nothing personal)

    @model_validator(mode="after")
    def _fits_one_message(self) -> BroadcastRequest:
        problem = one_message_problem(self.text, self.link, self.image_url)
        if problem:
            raise unprocessable("does_not_fit_one_message", problem)
        return self


class BroadcastUpdate(BaseModel):
    """What may change while a broadcast is a draft or scheduled; null removes link or image_url,
    a null send_at means now."""

    model_config = REQUEST_CONFIG | ConfigDict(json_schema_extra={"minProperties": 1})

    # Optional but never null (the schema says so; None here only means "not sent").
    text: BroadcastText | None = NEVER_NULL
    topics: Topics | None = NEVER_NULL
    send_at: SendAt = None
    attributes: Attributes | None = NEVER_NULL
    link: WebUrl | None = None
    image_url: WebUrl | None = None

    _not_null = field_validator("text", "topics", "attributes", mode="before")(not_null)

    @model_validator(mode="after")
    def _something(self) -> BroadcastUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of text, topics, send_at, attributes, link, image_url")
        return self


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryCounts(BaseModel):
    recipients: int = 0  # found by fan-out so far
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # no longer eligible at send time, or the broadcast was cancelled
    held: int = 0  # held for the subscriber's quiet hours or digest (settled: sent later)
    delivered_later: int = 0  # of those held, sent when the quiet hours ended or in the digest
    reasons: dict[str, int] = Field(default_factory=dict)  # "skipped:cap": 3, "held:quiet_hours": 1, ...

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped + self.held


class Broadcast(BaseModel):
    model_config = ConfigDict(frozen=True)

    broadcast_id: str
    text: str
    topics: tuple[str, ...]
    send_at: datetime
    status: BroadcastStatus
    created_at: datetime
    created_by: str  # api key id
    attributes: dict[str, float | str] = Field(default_factory=dict)
    link: str | None = None
    image_url: str | None = None
    tracking_base: str | None = None  # set when links are tracked: the base URL of /l/<code>
    counts: DeliveryCounts = Field(default_factory=DeliveryCounts)
    fanout_done: bool = False

    @property
    def complete(self) -> bool:
        return self.fanout_done and self.counts.done >= self.counts.recipients


def resolve_send_at(requested: datetime | None, now: datetime) -> datetime:
    """When a broadcast goes out: now, or the requested moment; raises for a moment long past."""
    if requested is None:
        return now
    if requested < now - SEND_AT_GRACE:
        raise ValueError("send_at is in the past")
    # Stored and compared in UTC: the due index orders moments as text.
    return max(requested, now).astimezone(UTC)


def reaches(broadcast_topics: tuple[str, ...], subscriber_topics: tuple[str, ...] | None) -> bool:
    """Whether a broadcast on these topics is for a subscriber with these topic choices.

    A broadcast without topics is for everyone; a subscriber who has not chosen
    topics receives every topic.
    """
    if not broadcast_topics or subscriber_topics is None:
        return True
    return not set(broadcast_topics).isdisjoint(subscriber_topics)


class DeliveryJob(BaseModel):
    """One SQS message for the sender: many recipients of one broadcast (ids only, no addresses).

    A job is a range of one audience shard, ``(after, through]`` in subscriber-id
    order; the fan-out fixes the ranges before it enqueues them, so the jobs of a
    broadcast never overlap and a recipient belongs to one job id however often
    that job is enqueued. The sender keeps the job's progress in a ledger.
    """

    broadcast_id: str
    job_id: str
    subscriber_ids: list[str] = Field(min_length=1, max_length=JOB_SIZE)
    shard: str = ""
    after: str | None = None


def job_id(broadcast_id: str, shard: str, through: str) -> str:
    """Deterministic: the job of a shard's range that ends at ``through``, however often enqueued."""
    digest = hashlib.sha256("\n".join([broadcast_id, shard, through]).encode()).hexdigest()
    return digest[:24]


def delivery_job(broadcast_id: str, shard: str, after: str | None, recipients: list[str]) -> DeliveryJob:
    """The job for ``recipients`` (in id order), the part of the shard's range after ``after``."""
    ordered = sorted(set(recipients))
    return DeliveryJob(
        broadcast_id=broadcast_id,
        job_id=job_id(broadcast_id, shard, ordered[-1]),
        subscriber_ids=ordered,
        shard=shard,
        after=after,
    )


class ReleaseJob(BaseModel):
    """One SQS message for the sender: subscribers whose held snippets (quiet hours, digest) are due."""

    release: list[str] = Field(min_length=1, max_length=JOB_SIZE)
