"""/v1/topics: the topics subscribers choose from."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.adapters.publishing import ApiKey
from subcast.domain.broadcast import TopicRequest
from subcast.publisher_api.http import Routes, json_response
from subcast.services.api_keys import Scope
from subcast.services.broadcasts import create_topic, list_topics
from subcast.services.dependencies import publishing_store

routes = Routes("topics")


@routes.route("/v1/topics", "POST", Scope.TOPICS)
def create_topic_view(key: ApiKey) -> Response:
    topic = create_topic(publishing_store(), routes.body(TopicRequest))
    return json_response(201, topic.model_dump(mode="json"))


@routes.route("/v1/topics", "GET", Scope.TOPICS)
def list_topics_view(key: ApiKey) -> Response:
    return json_response(
        200, {"topics": [t.model_dump(mode="json") for t in list_topics(publishing_store())]}
    )
