"""/v1/topics: the topics subscribers choose from."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.domain.topics import Topic, TopicRequest, TopicUpdate
from subcast.publisher_api.http import ApiError, Param, Routes, json_response
from subcast.publisher_api.schemas import TopicList
from subcast.services.api_keys import Scope
from subcast.services.dependencies import publishing_store
from subcast.services.topics import archive_topic, create_topic, list_topics, update_topic

routes = Routes("topics")


@routes.route(
    "/v1/topics",
    "POST",
    Scope.TOPICS,
    body=TopicRequest,
    response=Topic,
    status=201,
    errors=(400, 409, 413, 415),
)
def create_topic_view(key: ApiKey) -> Response:
    """Create a topic subscribers can choose."""
    topic = create_topic(publishing_store(), routes.body(TopicRequest))
    return json_response(201, topic.model_dump(mode="json"))


@routes.route(
    "/v1/topics",
    "GET",
    Scope.TOPICS,
    response=TopicList,
    errors=(400,),
    query=(Param("include_archived", {"type": "string", "enum": ["true", "false"]}),),
)
def list_topics_view(key: ApiKey) -> Response:
    """Active topics by slug; ``?include_archived=true`` adds the archived ones."""
    flag = routes.params().get("include_archived", "false").lower()
    if flag not in ("true", "false"):
        raise ApiError(400, "invalid_request", "include_archived must be true or false")
    topics = list_topics(publishing_store(), include_archived=flag == "true")
    return json_response(200, {"topics": [topic.model_dump(mode="json") for topic in topics]})


@routes.route(
    "/v1/topics/{slug}", "PATCH", Scope.TOPICS, body=TopicUpdate, response=Topic, errors=(400, 404, 413, 415)
)
def update_topic_view(key: ApiKey, slug: str) -> Response:
    """Change a topic's names, description or default flag (its slug stays)."""
    topic = update_topic(publishing_store(), slug, routes.body(TopicUpdate))
    return json_response(200, topic.model_dump(mode="json"))


@routes.route("/v1/topics/{slug}/archive", "POST", Scope.TOPICS, response=Topic, errors=(404,))
def archive_topic_view(key: ApiKey, slug: str) -> Response:
    """Archive a topic: no new broadcasts on it, no longer offered to subscribers."""
    return json_response(200, archive_topic(publishing_store(), slug).model_dump(mode="json"))
