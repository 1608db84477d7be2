"""/v1/topics: the topics subscribers choose from."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.domain.topics import TopicRequest, TopicUpdate
from subcast.publisher_api.http import ApiError, Routes, json_response
from subcast.services.api_keys import Scope
from subcast.services.dependencies import publishing_store
from subcast.services.topics import archive_topic, create_topic, list_topics, update_topic

routes = Routes("topics")


@routes.route("/v1/topics", "POST", Scope.TOPICS)
def create_topic_view(key: ApiKey) -> Response:
    topic = create_topic(publishing_store(), routes.body(TopicRequest))
    return json_response(201, topic.model_dump(mode="json"))


@routes.route("/v1/topics", "GET", Scope.TOPICS)
def list_topics_view(key: ApiKey) -> Response:
    """Active topics by slug; ``?include_archived=true`` adds the archived ones."""
    flag = routes.params().get("include_archived", "false").lower()
    if flag not in ("true", "false"):
        raise ApiError(400, "invalid_request", "include_archived must be true or false")
    topics = list_topics(publishing_store(), include_archived=flag == "true")
    return json_response(200, {"topics": [topic.model_dump(mode="json") for topic in topics]})


@routes.route("/v1/topics/{slug}", "PATCH", Scope.TOPICS)
def update_topic_view(key: ApiKey, slug: str) -> Response:
    topic = update_topic(publishing_store(), slug, routes.body(TopicUpdate))
    return json_response(200, topic.model_dump(mode="json"))


@routes.route("/v1/topics/{slug}/archive", "POST", Scope.TOPICS)
def archive_topic_view(key: ApiKey, slug: str) -> Response:
    return json_response(200, archive_topic(publishing_store(), slug).model_dump(mode="json"))
