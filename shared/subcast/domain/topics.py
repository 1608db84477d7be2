"""Topics: what a publisher writes about, and what subscribers choose from (TOPICS, ALERT)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from subcast.domain.constraints import NEVER_NULL, REQUEST_CONFIG, Matching, not_null
from subcast.domain.messages import Language

TOPIC_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


TopicSlug = Annotated[
    str,
    Matching(
        TOPIC_SLUG,
        "a topic slug is 1-32 characters of a-z, 0-9 and '-', starting and ending with a letter or digit",
    ),
]
#: Surrounding blanks are stripped after the checks (so the checks are the schema's), and a name needs one
#: visible character.
TopicName = Annotated[
    str,
    Field(min_length=1, max_length=80),
    Matching(re.compile(r"\S"), "must not be blank"),
    AfterValidator(str.strip),
]
Description = Annotated[str, Field(max_length=500), AfterValidator(str.strip)]


class TopicRequest(BaseModel):
    """What a publisher sends to create a topic."""

    model_config = REQUEST_CONFIG

    slug: TopicSlug
    name: TopicName
    name_de: TopicName | None = None  # shown to German-speaking subscribers; else ``name``
    description: Description = ""
    default: StrictBool = False  # new subscribers start with the default topics (all topics when none is)


class TopicUpdate(BaseModel):
    """What a publisher may change of a topic (its slug stays: subscribers' choices refer to it)."""

    model_config = REQUEST_CONFIG | ConfigDict(json_schema_extra={"minProperties": 1})

    name: TopicName | None = NEVER_NULL  # every topic has a name; name_de and description may go (null)
    name_de: TopicName | None = None
    description: Description | None = None
    default: StrictBool | None = NEVER_NULL

    _not_null = field_validator("name", "default", mode="before")(not_null)

    @model_validator(mode="after")
    def _something(self) -> TopicUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, name_de, description, default")
        return self


class Topic(TopicRequest):
    model_config = ConfigDict(extra="ignore")

    created_at: datetime
    archived_at: datetime | None = None  # archived: no new broadcasts, not offered to subscribers

    @property
    def active(self) -> bool:
        return self.archived_at is None

    def name_in(self, language: Language) -> str:
        return (self.name_de if language is Language.DE else None) or self.name


def topic_names(topics: list[Topic], language: Language) -> dict[str, str]:
    """The topics subscribers can choose, by slug, named in their language."""
    return {topic.slug: topic.name_in(language) for topic in topics if topic.active}


def default_topics(topics: list[Topic]) -> tuple[str, ...] | None:
    """What a new subscriber starts with: the default topics, or every topic (None) when none is marked."""
    chosen = tuple(sorted(topic.slug for topic in topics if topic.active and topic.default))
    return chosen or None
