"""The publisher API (/v1): the real Chalice handler, real API Gateway events, the template in moto."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from infra.local.events import api_gateway_event, route_pattern
from infra.template import ApiRoute, api_routes
from subcast import clock
from subcast.adapters.subscribers import inbox_item
from subcast.services.api_keys import create_api_key
from subcast.services.dependencies import broadcast_store, publishing_store
from tests.integration.conftest import Stack, invoke

ROUTES = [route for route in api_routes() if route.function == "ApiFunction" and route.method != "ANY"]
#: Each path's `any` event: the methods the path lacks reach the app there and answer 405.
OTHER_METHODS = [route for route in api_routes() if route.function == "ApiFunction" and route.method == "ANY"]
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def find_route(method: str, path: str) -> tuple[ApiRoute, dict[str, str]]:
    """The template route that API Gateway would pick for this request, with its path parameters:
    the path's own method first, else its `any` event."""
    for routes in (ROUTES, OTHER_METHODS):
        for route in routes:
            match = route_pattern(route.path).fullmatch(path)
            if route.method in (method, "ANY") and match:
                return route, match.groupdict()
    raise AssertionError(f"template.yaml has no route {method} {path}")


def call(
    method: str,
    path: str,
    body: Any = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> tuple[int, Any, dict[str, str]]:
    """One request to ApiFunction: (status, JSON body, lower-cased headers). Bytes bodies are sent as-is."""
    route, parameters = find_route(method, path)
    sent = {"Content-Type": "application/json"}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    sent.update(headers or {})
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    event = api_gateway_event(
        route, path, parameters, query, list(sent.items()), raw, "203.0.113.7", method=method
    )
    response = invoke("ApiFunction", event)
    answer = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        answer[name.lower()] = values[-1]
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None, answer


def new_key(*scopes: str, name: str = "newsroom") -> str:
    return create_api_key(publishing_store(), name, scopes)


@pytest.fixture
def admin(stack: Stack) -> str:
    return new_key("admin", name="ops")


@pytest.fixture
def publisher(stack: Stack) -> str:
    """A key that may manage topics and broadcasts (not admin)."""
    return new_key("topics", "broadcasts")


def broadcast_items(stack: Stack) -> list[dict[str, Any]]:
    return [item for item in stack.scan() if item["pk"]["S"].startswith("BROADCAST#")]


def table_state(stack: Stack) -> list[str]:
    """Every item, as sorted JSON; a key's last use is bookkeeping, not a change a request makes."""
    return sorted(
        json.dumps({name: value for name, value in item.items() if name != "last_used_at"}, sort_keys=True)
        for item in stack.scan()
    )


@contextmanager
def changes_nothing(stack: Stack) -> Iterator[None]:
    """The block's requests leave the table and the fan-out queue exactly as they were."""
    table, broadcasts, queued = table_state(stack), len(broadcast_items(stack)), stack.depth("FanoutQueue")
    yield
    assert len(broadcast_items(stack)) == broadcasts
    assert table_state(stack) == table
    assert stack.depth("FanoutQueue") == queued


def assert_error(result: tuple[int, Any, dict[str, str]], status: int, code: str) -> str:
    """The contract's error shape with this status and code; returns the message."""
    got_status, body, _ = result
    assert (got_status, set(body)) == (status, {"error"}), body
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "fields"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    for problem in body["error"].get("fields", []):
        assert set(problem) == {"field", "message"} and problem["field"] and problem["message"], body
    return body["error"]["message"]


def create_topic(key: str, slug: str, name: str | None = None) -> dict[str, Any]:
    status, body, _ = call("POST", "/v1/topics", {"slug": slug, "name": name or slug.title()}, key)
    assert status == 201, body
    return body


def create_broadcast(key: str, **fields: Any) -> dict[str, Any]:
    status, body, _ = call("POST", "/v1/broadcasts", {"text": "Hello", **fields}, key)
    assert status == 201, body
    return body


def in_an_hour(tz: timezone = UTC) -> str:
    return (clock.now() + timedelta(hours=1)).astimezone(tz).isoformat()


# ------------------------------------------------------------------- auth

EVERY_ROUTE = [
    ("POST", "/v1/topics", {"slug": "sport", "name": "Sport"}),
    ("GET", "/v1/topics", None),
    ("POST", "/v1/broadcasts", {"text": "Hello"}),
    ("GET", "/v1/broadcasts/b_0123456789abcdef", None),
    ("POST", "/v1/broadcasts/b_0123456789abcdef/cancel", None),
    ("GET", "/v1/inbox", None),
    ("GET", "/v1/subscribers", None),
    ("GET", "/v1/subscribers/s00001", None),
    ("GET", "/v1/broadcasts", None),
    ("POST", "/v1/newsletters", {"format": "markdown", "content": "# A\n\ntext"}),
    ("POST", "/v1/feeds", {"url": "https://example.org/feed.xml", "topics": [], "mode": "draft"}),
    ("GET", "/v1/feeds", None),
    ("GET", "/v1/feeds/f_0123", None),
    ("DELETE", "/v1/feeds/f_0123", None),
    ("POST", "/v1/feeds/f_0123/resume", None),
    ("PATCH", "/v1/broadcasts/b_0123456789abcdef", {"text": "Hi"}),
    ("POST", "/v1/broadcasts/b_0123456789abcdef/schedule", None),
    ("PATCH", "/v1/topics/sport", {"name": "Sports"}),
    ("POST", "/v1/topics/sport/archive", None),
    ("POST", "/v1/keys", {"name": "ci", "scopes": ["broadcasts"]}),
    ("GET", "/v1/keys", None),
    ("DELETE", "/v1/keys/0123abcd", None),
    ("GET", "/v1/settings", None),
    ("PUT", "/v1/settings", {"frequency_cap": {"count": 3, "per": "day"}}),
]


#: Routes anyone may call: they hold no data.
PUBLIC_ROUTES = [
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
    ("GET", "/l/b_0123456789abcdef-abcdefghij"),
]


def test_the_helper_covers_every_api_route_of_the_template():
    # Given the template's ApiFunction routes
    # When the routes these tests call are looked up
    called = {find_route(method, path)[0] for method, path, _ in EVERY_ROUTE}
    called |= {find_route(method, path)[0] for method, path in PUBLIC_ROUTES}

    # Then every route of the template is exercised
    assert called == set(ROUTES)


@pytest.mark.parametrize(("method", "path", "body"), EVERY_ROUTE)
def test_a_request_without_authorization_is_401(stack, method, path, body):
    # Given no Authorization header
    with changes_nothing(stack):
        # When any route is called
        result = call(method, path, body)

    # Then it is refused with 401
    assert_error(result, 401, "unauthorized")


@pytest.mark.parametrize(
    "authorization", ["Basic c2M6c2VjcmV0", "Token {key}", "{key}", "Bearer", "Bearer   "]
)
def test_a_wrong_scheme_is_401(stack, admin, authorization):
    # Given a valid key sent with another scheme, or Bearer without a key
    header = {"Authorization": authorization.format(key=admin)}

    with changes_nothing(stack):
        # When it calls the API
        result = call("POST", "/v1/broadcasts", {"text": "Hello"}, headers=header)

    # Then it is refused with 401
    assert_error(result, 401, "unauthorized")


def test_an_unknown_key_is_401(stack, admin):
    # Given keys that were never issued (one differs from a real key by its last character)
    for key in ("sc_deadbeef_notakeyatall", admin[:-1] + ("A" if admin[-1] != "A" else "B")):
        with changes_nothing(stack):
            # When they call the API
            result = call("POST", "/v1/broadcasts", {"text": "Hello"}, key)

        # Then they are refused with 401
        assert_error(result, 401, "unauthorized")


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body", "needed"),
    [
        (("topics",), "POST", "/v1/broadcasts", {"text": "Hello"}, "broadcasts"),
        (("topics",), "GET", "/v1/broadcasts/b_0123456789abcdef", None, "broadcasts"),
        (("topics",), "POST", "/v1/broadcasts/b_0123456789abcdef/cancel", None, "broadcasts"),
        (("topics",), "GET", "/v1/broadcasts", None, "broadcasts"),
        (
            ("topics",),
            "POST",
            "/v1/newsletters",
            {"format": "markdown", "content": "# A\n\ntext"},
            "broadcasts",
        ),
        (("topics",), "PATCH", "/v1/broadcasts/b_0123456789abcdef", {"text": "Hi"}, "broadcasts"),
        (("topics",), "POST", "/v1/broadcasts/b_0123456789abcdef/schedule", None, "broadcasts"),
        (("broadcasts",), "POST", "/v1/topics", {"slug": "sport", "name": "Sport"}, "topics"),
        (("broadcasts",), "GET", "/v1/topics", None, "topics"),
        (("broadcasts",), "PATCH", "/v1/topics/sport", {"name": "Sports"}, "topics"),
        (("broadcasts",), "POST", "/v1/topics/sport/archive", None, "topics"),
        (("subscribers:read",), "POST", "/v1/broadcasts", {"text": "Hello"}, "broadcasts"),
        (("topics", "broadcasts"), "GET", "/v1/inbox", None, "subscribers:read"),
        (("topics", "broadcasts"), "GET", "/v1/subscribers", None, "subscribers:read"),
        (("topics", "broadcasts"), "GET", "/v1/subscribers/s00001", None, "subscribers:read"),
        (
            ("topics", "broadcasts", "subscribers:read"),
            "POST",
            "/v1/keys",
            {"name": "x", "scopes": ["topics"]},
            "admin",
        ),
        (("topics", "broadcasts", "subscribers:read"), "GET", "/v1/keys", None, "admin"),
        (("topics", "broadcasts", "subscribers:read"), "DELETE", "/v1/keys/0123abcd", None, "admin"),
    ],
)
def test_a_key_without_the_needed_scope_is_403(stack, scopes, method, path, body, needed):
    # Given a key that lacks the route's scope
    key = new_key(*scopes)

    with changes_nothing(stack):
        # When it calls the route
        result = call(method, path, body, key)

    # Then it is forbidden, and told which scope is missing
    assert needed in assert_error(result, 403, "forbidden")


def test_an_admin_key_is_allowed_everywhere(stack, admin):
    # Given a key with only the admin scope
    # When it uses every route
    topic = call("POST", "/v1/topics", {"slug": "sport", "name": "Sport"}, admin)
    topics = call("GET", "/v1/topics", key=admin)
    created = call("POST", "/v1/broadcasts", {"text": "Hello", "send_at": in_an_hour()}, admin)
    broadcast_id = created[1]["id"]
    fetched = call("GET", f"/v1/broadcasts/{broadcast_id}", key=admin)
    cancelled = call("POST", f"/v1/broadcasts/{broadcast_id}/cancel", key=admin)

    # Then every call succeeds
    statuses = [result[0] for result in (topic, topics, created, fetched, cancelled)]
    assert statuses == [201, 200, 201, 200, 200]


def test_api_keys_are_stored_only_as_a_hash(stack):
    # Given two freshly issued keys
    keys = [new_key("admin"), new_key("topics", "broadcasts")]

    # When the whole table is read
    stored = json.dumps(stack.scan())

    # Then neither key nor its secret part appears anywhere, yet both work
    for key in keys:
        assert key not in stored
        assert key.rsplit("_", 1)[1] not in stored
        assert call("GET", "/v1/topics", key=key)[0] == 200


# ----------------------------------------------------------------- topics


def test_creating_a_topic_answers_201_with_the_topic(stack, publisher):
    # Given a new topic
    request = {"slug": "sport", "name": "Sport", "description": "Results and fixtures"}

    # When it is created
    status, body, _ = call("POST", "/v1/topics", request, publisher)

    # Then the topic is echoed back with its creation time
    assert status == 201
    assert {key: body[key] for key in ("slug", "name", "description")} == request
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


def test_topics_are_listed_sorted_by_slug(stack, publisher):
    # Given topics created out of order
    for slug in ("weather", "culture", "sport", "business"):
        create_topic(publisher, slug)

    # When they are listed
    status, body, _ = call("GET", "/v1/topics", key=publisher)

    # Then they come sorted, each with name and description
    assert status == 200
    assert [topic["slug"] for topic in body["topics"]] == ["business", "culture", "sport", "weather"]
    assert body["topics"][0]["name"] == "Business" and body["topics"][0]["description"] == ""


def test_an_empty_topic_list(stack, publisher):
    # Given no topics
    # When they are listed
    status, body, _ = call("GET", "/v1/topics", key=publisher)

    # Then the list is empty
    assert (status, body) == (200, {"topics": []})


def test_a_duplicate_topic_is_409_and_keeps_the_first(stack, publisher):
    # Given a topic
    create_topic(publisher, "sport", "Sport")

    with changes_nothing(stack):
        # When a topic with the same slug is created
        result = call("POST", "/v1/topics", {"slug": "sport", "name": "Other"}, publisher)

    # Then it is refused as a conflict and the first one stays
    assert "sport" in assert_error(result, 409, "topic_exists")
    assert call("GET", "/v1/topics", key=publisher)[1]["topics"][0]["name"] == "Sport"


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "Sport News", "name": "Sport"},
        {"slug": "-x", "name": "Sport"},
        {"slug": "x-", "name": "Sport"},
        {"slug": "a" * 33, "name": "Sport"},
        {"slug": "", "name": "Sport"},
        {"slug": "sport", "name": ""},
        {"slug": "sport", "name": "   "},
        {"slug": "sport", "name": "x" * 81},
        {"slug": "sport", "name": "Sport", "description": "x" * 501},
        {"slug": "sport"},
        {"name": "Sport"},
        {"slug": "sport", "name": "Sport", "colour": "blue"},
        {"slug": 7, "name": "Sport"},
    ],
    ids=[
        "space-and-capitals",
        "leading-dash",
        "trailing-dash",
        "33-chars",
        "empty-slug",
        "empty-name",
        "blank-name",
        "long-name",
        "long-description",
        "missing-name",
        "missing-slug",
        "unknown-field",
        "number-slug",
    ],
)
def test_an_invalid_topic_is_400_and_changes_nothing(stack, publisher, body):
    with changes_nothing(stack):
        # When an invalid topic is posted
        result = call("POST", "/v1/topics", body, publisher)

    # Then it is refused with 400
    assert_error(result, 400, "invalid_request")


def test_a_32_character_slug_is_accepted(stack, publisher):
    # Given the longest slug allowed
    slug = "a" + "-b" * 15 + "c"

    # When it is created
    topic = create_topic(publisher, slug)

    # Then it is stored as given
    assert (len(slug), topic["slug"]) == (32, slug)


def test_the_validation_message_names_the_field(stack, publisher):
    # When a topic without a name is posted
    message = assert_error(call("POST", "/v1/topics", {"slug": "sport"}, publisher), 400, "invalid_request")

    # Then the message names the missing field
    assert "name" in message


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/topics", b'{"slug": "sport", "name": '),
        ("/v1/topics", b"slug=sport&name=Sport"),
        ("/v1/broadcasts", b"{'text': 'hi'}"),
        ("/v1/broadcasts", b"\xff\xfe not utf-8"),
    ],
)
def test_malformed_json_is_400(stack, publisher, path, raw):
    with changes_nothing(stack):
        # When a body that is not JSON arrives
        result = call("POST", path, raw, publisher)

    # Then it is refused as malformed
    assert_error(result, 400, "malformed_json")


@pytest.mark.parametrize("raw", [b'[{"slug": "sport", "name": "Sport"}]', b'"sport"', b"42", b"null", b""])
@pytest.mark.parametrize("path", ["/v1/topics", "/v1/broadcasts"])
def test_a_body_that_is_not_a_json_object_is_400(stack, publisher, path, raw):
    with changes_nothing(stack):
        # When a JSON array, scalar or nothing arrives
        result = call("POST", path, raw, publisher)

    # Then it is refused with 400
    assert result[0] == 400
    assert_error(result, 400, "malformed_json")


@pytest.mark.parametrize("path", ["/v1/topics", "/v1/broadcasts"])
def test_a_body_over_64_kib_is_413(stack, publisher, path):
    # Given a JSON object just over 64 KiB
    padding = "x" * (64 * 1024)
    raw = json.dumps({"slug": "sport", "name": "Sport", "text": "hi", "description": padding}).encode()

    with changes_nothing(stack):
        # When it is posted
        result = call("POST", path, raw, publisher)

    # Then it is refused as too large
    assert_error(result, 413, "too_large")


# ------------------------------------------------------------- broadcasts


@pytest.mark.parametrize(
    "body", [{"text": "Hello"}, {"text": "Hello", "send_at": None}, {"text": "Hi", "topics": []}]
)
def test_a_broadcast_for_now_is_scheduled_and_handed_to_fanout_at_once(stack, publisher, body):
    # When a broadcast without send_at is created
    status, broadcast, _ = call("POST", "/v1/broadcasts", body, publisher)

    # Then it is scheduled, nothing is counted yet, and exactly one fan-out message names it
    assert status == 201
    assert broadcast["status"] == "scheduled"
    assert broadcast["id"].startswith("b_")
    assert (broadcast["text"], broadcast["topics"]) == (body["text"], [])
    assert broadcast["counts"] == {
        "recipients": 0,
        "sent": 0,
        "failed": 0,
        "skipped": 0,
        "held": 0,
        "delivered_later": 0,
        "pending": 0,
        "skipped_by": {},
        "failed_by": {},
        "held_by": {},
    }
    assert broadcast["fanout_complete"] is False
    assert datetime.fromisoformat(broadcast["send_at"]) == datetime.fromisoformat(broadcast["created_at"])
    assert stack.depth("FanoutQueue") == 1
    [message] = stack.receive("FanoutQueue")
    assert json.loads(message["Body"]) == {"broadcast_id": broadcast["id"]}
    assert len(broadcast_items(stack)) == 1


def test_a_send_at_within_the_grace_period_means_now(stack, publisher):
    # Given a send_at two minutes ago (a client clock running behind)
    send_at = (clock.now() - timedelta(minutes=2)).isoformat()

    # When the broadcast is created
    broadcast = create_broadcast(publisher, send_at=send_at)

    # Then it goes out now
    assert datetime.fromisoformat(broadcast["send_at"]) > datetime.fromisoformat(send_at)
    assert stack.depth("FanoutQueue") == 1


def test_a_future_broadcast_waits_for_its_time(stack, publisher):
    # Given a send_at in an hour, with an offset
    send_at = in_an_hour(timezone(timedelta(hours=2)))

    # When the broadcast is created
    broadcast = create_broadcast(publisher, send_at=send_at)

    # Then it is scheduled for that moment, and nothing is handed to fan-out yet
    assert broadcast["status"] == "scheduled"
    assert datetime.fromisoformat(broadcast["send_at"]) == datetime.fromisoformat(send_at)
    assert stack.depth("FanoutQueue") == 0
    assert broadcast["id"] in broadcast_store().due(FAR_FUTURE)


@pytest.mark.parametrize(
    "offset",
    [
        pytest.param(UTC, id="utc"),
        pytest.param(NEW_YORK_WINTER, id="negative-offset"),
        pytest.param(timezone(timedelta(hours=5, minutes=30)), id="positive-offset"),
    ],
)
def test_a_broadcast_is_due_at_its_send_at_whatever_the_offset(stack, publisher, offset):
    # Given a broadcast for an hour from now, written in the publisher's offset
    broadcast = create_broadcast(publisher, send_at=in_an_hour(offset))

    # When the scheduler asks what is due now, and what is due two hours from now
    due_now = broadcast_store().due(clock.now())
    due_later = broadcast_store().due(clock.now() + timedelta(hours=2))

    # Then it is not due yet, and it is due once its moment has passed
    assert broadcast["id"] not in due_now
    assert broadcast["id"] in due_later


@pytest.mark.parametrize(
    ("send_at", "problem"),
    [
        ("2030-01-01T09:00:00", "without offset"),
        ("2030-01-01", "date only"),
        ("next tuesday", "not a date"),
    ],
)
def test_a_send_at_that_is_not_an_iso_moment_with_offset_is_400(stack, publisher, send_at, problem):
    with changes_nothing(stack):
        # When a broadcast is posted with such a send_at
        result = call("POST", "/v1/broadcasts", {"text": "Hello", "send_at": send_at}, publisher)

    # Then it is refused, naming send_at
    assert "send_at" in assert_error(result, 400, "invalid_request"), problem


def test_a_send_at_an_hour_ago_is_400(stack, publisher):
    # Given a send_at an hour in the past
    send_at = (clock.now() - timedelta(hours=1)).isoformat()

    with changes_nothing(stack):
        # When a broadcast is posted for then
        result = call("POST", "/v1/broadcasts", {"text": "Hello", "send_at": send_at}, publisher)

    # Then it is refused: nobody can send into the past
    assert "past" in assert_error(result, 422, "send_at_in_past")


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "\n\t "},
        {},
        {"text": None},
        {"text": 42},
        {"text": "Hello", "topics": "sport"},
        {"text": "Hello", "topics": ["Sport News"]},
        {"text": "Hello", "topics": [f"t{n}" for n in range(21)]},
        {"text": "Hello", "priority": "high"},
    ],
    ids=[
        "empty",
        "spaces",
        "whitespace",
        "missing-text",
        "null-text",
        "number-text",
        "topics-not-a-list",
        "invalid-slug",
        "21-topics",
        "unknown-field",
    ],
)
def test_an_invalid_broadcast_is_400_and_changes_nothing(stack, publisher, body):
    with changes_nothing(stack):
        # When an invalid broadcast is posted
        result = call("POST", "/v1/broadcasts", body, publisher)

    # Then it is refused with 400
    assert_error(result, 400, "invalid_request")


@pytest.mark.parametrize(
    ("text", "python_length", "accepted"),
    [
        ("x" * 4096, 4096, True),
        ("x" * 4097, 4097, False),
        ("😀" * 2048, 2048, True),
        ("😀" * 2049, 2049, False),
        ("x" * 4000 + "😀" * 49, 4049, False),
    ],
    ids=["4096-units", "4097-units", "2048-emoji", "2049-emoji", "mixed-4098-units"],
)
def test_text_length_is_measured_in_utf16_units(stack, publisher, text, python_length, accepted):
    # Given a text whose length Python and Telegram may count differently
    assert len(text) == python_length

    # When it is broadcast
    result = call("POST", "/v1/broadcasts", {"text": text}, publisher)

    # Then up to 4096 UTF-16 code units are accepted, and anything longer is refused unstored
    if accepted:
        assert result[0] == 201 and result[1]["text"] == text
        assert len(broadcast_items(stack)) == 1
    else:
        # (beyond 4,096 characters the schema refuses it; within them only UTF-16 counting can: 422)
        if python_length > 4096:
            assert "4096" in assert_error(result, 400, "invalid_request")
        else:
            assert "4096" in assert_error(result, 422, "text_too_long")
        assert broadcast_items(stack) == []
        assert stack.depth("FanoutQueue") == 0


def test_an_unknown_topic_is_422_naming_it(stack, publisher):
    # Given one existing topic
    create_topic(publisher, "sport")

    with changes_nothing(stack):
        # When a broadcast names it and a topic that does not exist
        result = call("POST", "/v1/broadcasts", {"text": "Hello", "topics": ["sport", "curling"]}, publisher)

    # Then it is refused, naming the unknown topic only
    message = assert_error(result, 422, "unknown_topic")
    assert "curling" in message
    assert "sport" not in message


def test_a_broadcast_to_existing_topics_is_created(stack, publisher):
    # Given two topics
    create_topic(publisher, "sport")
    create_topic(publisher, "weather")

    # When a broadcast names them (one twice)
    broadcast = create_broadcast(publisher, topics=["weather", "sport", "weather"])

    # Then it is created for those topics, each once
    assert broadcast["topics"] == ["weather", "sport"]
    assert stack.depth("FanoutQueue") == 1


# -------------------------------------------------------- Idempotency-Key


def test_a_retried_post_with_the_same_idempotency_key_replays_the_first(stack, publisher):
    # Given a broadcast posted with an Idempotency-Key
    body = {"text": "Hello", "topics": []}
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = call("POST", "/v1/broadcasts", body, publisher, headers)

    # When the same request is retried
    second = call("POST", "/v1/broadcasts", body, publisher, headers)

    # Then both answer 201 with the same broadcast, the retry marked as a replay, and only one exists
    assert (first[0], second[0]) == (201, 201)
    assert first[1] == second[1]
    assert "idempotent-replayed" not in first[2]
    assert second[2]["idempotent-replayed"] == "true"
    assert [item["pk"]["S"] for item in broadcast_items(stack)] == [f"BROADCAST#{first[1]['id']}"]
    assert stack.depth("FanoutQueue") == 1


def test_a_replay_of_a_future_broadcast_is_not_handed_to_fanout(stack, publisher):
    # Given a scheduled broadcast posted with an Idempotency-Key
    body = {"text": "Hello", "send_at": in_an_hour()}
    first = call("POST", "/v1/broadcasts", body, publisher, {"Idempotency-Key": "k1"})

    # When it is retried
    second = call("POST", "/v1/broadcasts", body, publisher, {"Idempotency-Key": "k1"})

    # Then it is the same broadcast, still waiting
    assert second[1]["id"] == first[1]["id"]
    assert stack.depth("FanoutQueue") == 0


def test_the_same_idempotency_key_with_a_different_body_is_409(stack, publisher):
    # Given a broadcast posted with an Idempotency-Key
    original = call("POST", "/v1/broadcasts", {"text": "Hello"}, publisher, {"Idempotency-Key": "k-1"})

    with changes_nothing(stack):
        # When the key is reused for another request
        result = call("POST", "/v1/broadcasts", {"text": "Goodbye"}, publisher, {"Idempotency-Key": "k-1"})

    # Then it is refused as a conflict, and the first broadcast is untouched
    assert_error(result, 409, "idempotency_key_reused")
    assert call("GET", f"/v1/broadcasts/{original[1]['id']}", key=publisher)[1]["text"] == "Hello"


def test_an_idempotency_key_belongs_to_one_api_key(stack, publisher):
    # Given one publisher's broadcast posted with an Idempotency-Key
    other = new_key("broadcasts", name="another desk")
    body = {"text": "Hello"}
    first = call("POST", "/v1/broadcasts", body, publisher, {"Idempotency-Key": "shared"})

    # When another API key sends the same request with the same Idempotency-Key
    second = call("POST", "/v1/broadcasts", body, other, {"Idempotency-Key": "shared"})

    # Then it gets a broadcast of its own
    assert (first[0], second[0]) == (201, 201)
    assert first[1]["id"] != second[1]["id"]
    assert "idempotent-replayed" not in second[2]
    assert len(broadcast_items(stack)) == 2
    assert stack.depth("FanoutQueue") == 2


def test_without_an_idempotency_key_every_post_is_a_new_broadcast(stack, publisher):
    # When the same request is posted twice without an Idempotency-Key
    ids = {create_broadcast(publisher)["id"] for _ in range(2)}

    # Then there are two broadcasts
    assert len(ids) == 2
    assert len(broadcast_items(stack)) == 2


def test_an_idempotency_key_is_free_again_after_24_hours(stack, publisher):
    # Given a broadcast posted with an Idempotency-Key
    first = call("POST", "/v1/broadcasts", {"text": "Monday"}, publisher, {"Idempotency-Key": "daily"})

    # When the key is used for another request 25 hours later (the record has expired, not yet been swept)
    clock.move_to(clock.now() + timedelta(hours=25))
    second = call("POST", "/v1/broadcasts", {"text": "Tuesday"}, publisher, {"Idempotency-Key": "daily"})

    # Then it is a new broadcast
    assert (first[0], second[0]) == (201, 201), second[1]
    assert second[1]["id"] != first[1]["id"]


@pytest.mark.parametrize(("length", "status"), [(255, 201), (256, 400)])
def test_an_idempotency_key_is_at_most_255_characters(stack, publisher, length, status):
    # Given an Idempotency-Key of this length
    headers = {"Idempotency-Key": "k" * length}

    # When a broadcast is posted with it
    result = call("POST", "/v1/broadcasts", {"text": "Hello"}, publisher, headers)

    # Then a key of 255 characters is honoured and one of 256 is refused unstored
    if status == 201:
        assert result[0] == 201
        assert len(broadcast_items(stack)) == 1
    else:
        assert_error(result, 400, "invalid_idempotency_key")
        assert broadcast_items(stack) == []
        assert stack.depth("FanoutQueue") == 0


# --------------------------------------------------------- read & cancel


def test_a_broadcast_can_be_read_with_its_counts(stack, publisher):
    # Given a broadcast
    created = create_broadcast(publisher, send_at=in_an_hour())

    # When it is read
    status, body, _ = call("GET", f"/v1/broadcasts/{created['id']}", key=publisher)

    # Then it is the same broadcast, with its delivery counts
    assert status == 200
    assert body == created
    assert body["counts"] == {
        "recipients": 0,
        "sent": 0,
        "failed": 0,
        "skipped": 0,
        "held": 0,
        "delivered_later": 0,
        "pending": 0,
        "skipped_by": {},
        "failed_by": {},
        "held_by": {},
    }


def test_a_broadcast_being_delivered_shows_its_progress(stack, publisher):
    # Given a broadcast whose fan-out found 5 recipients, of whom one job settled 3
    broadcast_id = create_broadcast(publisher)["id"]
    store = broadcast_store()
    store.start_sending(broadcast_id, clock.now())
    store.plan_page(
        broadcast_id,
        "00",
        0,
        cursor="page-1",
        plan=[["s1", "s2", "s3", "s4", "s5"]],
        now=clock.now(),
        shards=16,
    )
    tally = Counter({"sent": 1, "failed": 1, "skipped": 1, "failed:unreachable": 1, "skipped:paused": 1})
    store.finish_job(
        broadcast_id, "job-1", 0, done_through="s3", tally=tally, job_tally=tally, now=clock.now()
    )

    # When it is read
    status, body, _ = call("GET", f"/v1/broadcasts/{broadcast_id}", key=publisher)

    # Then it is sending, with its counts and what is still pending
    assert (status, body["status"], body["fanout_complete"]) == (200, "sending", False)
    assert body["counts"] == {
        "recipients": 5,
        "sent": 1,
        "failed": 1,
        "skipped": 1,
        "held": 0,
        "delivered_later": 0,
        "pending": 2,
        "skipped_by": {"paused": 1},
        "failed_by": {"unreachable": 1},
        "held_by": {},
    }


@pytest.mark.parametrize("broadcast_id", ["b_0123456789abcdef", "nothing", "BROADCAST"])
def test_an_unknown_broadcast_is_404(stack, publisher, broadcast_id):
    # When a broadcast that does not exist is read
    result = call("GET", f"/v1/broadcasts/{broadcast_id}", key=publisher)

    # Then it is not found
    assert_error(result, 404, "not_found")


def test_a_scheduled_broadcast_can_be_cancelled_once(stack, publisher):
    # Given a scheduled broadcast
    created = create_broadcast(publisher, send_at=in_an_hour())

    # When it is cancelled
    status, body, _ = call("POST", f"/v1/broadcasts/{created['id']}/cancel", key=publisher)

    # Then it is cancelled, as reading it confirms
    assert (status, body["id"], body["status"]) == (200, created["id"], "cancelled")
    assert call("GET", f"/v1/broadcasts/{created['id']}", key=publisher)[1]["status"] == "cancelled"

    with changes_nothing(stack):
        # And cancelling it again is a conflict
        again = call("POST", f"/v1/broadcasts/{created['id']}/cancel", key=publisher)
    assert "cancelled" in assert_error(again, 409, "not_cancellable")


def test_a_broadcast_for_now_can_be_cancelled_before_fanout_runs(stack, publisher):
    # Given a broadcast for now (already handed to fan-out)
    created = create_broadcast(publisher)

    # When it is cancelled
    status, body, _ = call("POST", f"/v1/broadcasts/{created['id']}/cancel", key=publisher)

    # Then it is cancelled
    assert (status, body["status"]) == (200, "cancelled")


def test_a_broadcast_being_sent_can_still_be_cancelled(stack, publisher):
    # Given a broadcast whose fan-out has started
    broadcast_id = create_broadcast(publisher)["id"]
    broadcast_store().start_sending(broadcast_id, clock.now())

    # When it is cancelled
    status, body, _ = call("POST", f"/v1/broadcasts/{broadcast_id}/cancel", key=publisher)

    # Then the rest of it is cancelled
    assert (status, body["status"]) == (200, "cancelled")


def test_a_sent_broadcast_cannot_be_cancelled(stack, publisher):
    # Given a broadcast that has gone out (to nobody: fan-out found no recipients)
    broadcast_id = create_broadcast(publisher)["id"]
    broadcast_store().start_sending(broadcast_id, clock.now())
    for shard in range(16):
        broadcast_store().plan_page(
            broadcast_id, f"{shard:02d}", 0, cursor=None, plan=[], now=clock.now(), shards=16
        )
    assert call("GET", f"/v1/broadcasts/{broadcast_id}", key=publisher)[1]["status"] == "sent"

    with changes_nothing(stack):
        # When it is cancelled
        result = call("POST", f"/v1/broadcasts/{broadcast_id}/cancel", key=publisher)

    # Then that is a conflict naming its status
    assert "sent" in assert_error(result, 409, "not_cancellable")


def test_cancelling_an_unknown_broadcast_is_404(stack, publisher):
    with changes_nothing(stack):
        # When a broadcast that does not exist is cancelled
        result = call("POST", "/v1/broadcasts/b_0123456789abcdef/cancel", key=publisher)

    # Then it is not found, and no item is created for it
    assert_error(result, 404, "not_found")


def test_a_cancelled_broadcast_is_never_due(stack, publisher):
    # Given two scheduled broadcasts, one of them cancelled
    kept = create_broadcast(publisher, send_at=in_an_hour())
    cancelled = create_broadcast(publisher, send_at=in_an_hour())
    call("POST", f"/v1/broadcasts/{cancelled['id']}/cancel", key=publisher)

    # When the scheduler asks what is due, far in the future
    due = broadcast_store().due(FAR_FUTURE)

    # Then only the kept one is
    assert kept["id"] in due
    assert cancelled["id"] not in due


# ------------------------------------------------------ the error contract


def test_an_unsupported_content_type_gets_the_contract_error_shape(stack, publisher):
    with changes_nothing(stack):
        # When a body is posted as XML
        result = call(
            "POST", "/v1/broadcasts", b"<text>Hello</text>", publisher, {"Content-Type": "application/xml"}
        )

    # Then the answer is a 4xx in the {"error": {...}} shape
    assert 400 <= result[0] < 500
    assert set(result[1]) == {"error"}


# ------------------------------------------------------------------ inbox


def test_the_inbox_lists_feedback_and_unknown_messages_newest_first_in_pages(stack):
    # Given three inbox entries of one subscriber
    from subcast.domain.subscriber import InboxEntry

    store = publishing_store()
    for minute, kind in ((1, "feedback"), (2, "unknown"), (3, "feedback")):
        entry = InboxEntry(
            subscriber_id="s1",
            kind=kind,
            text=f"message {minute}",
            received_at=datetime(2026, 11, 23, 10, minute, tzinfo=UTC),
            message_id=str(minute),
        )
        store.dynamodb.put_item(TableName=store.table, Item=inbox_item(entry))
    reader = new_key("subscribers:read")

    # When the publisher reads it two at a time
    status, first, _ = call("GET", "/v1/inbox", key=reader, query="limit=2")
    _, second, _ = call("GET", "/v1/inbox", key=reader, query=f"limit=2&cursor={first['next_cursor']}")

    # Then the newest come first and the second page holds the rest
    assert status == 200
    assert [entry["text"] for entry in first["entries"]] == ["message 3", "message 2"]
    assert [entry["text"] for entry in second["entries"]] == ["message 1"]
    assert second["next_cursor"] is None
    newest = first["entries"][0]
    assert (newest["subscriber_id"], newest["kind"]) == ("s1", "feedback")
    assert datetime.fromisoformat(newest["received_at"]) == datetime(2026, 11, 23, 10, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=0", 400, "invalid_request"),
        ("limit=101", 400, "invalid_request"),
        ("limit=ten", 400, "invalid_request"),
        # A string, as the schema says, but not one this API gave out: no schema can say so.
        ("cursor=not-a-cursor", 422, "invalid_cursor"),
        ("cursor=e30=", 422, "invalid_cursor"),
    ],
)
def test_bad_inbox_paging_is_refused(stack, query, status, code):
    reader = new_key("subscribers:read")
    with changes_nothing(stack):
        result = call("GET", "/v1/inbox", key=reader, query=query)
    assert_error(result, status, code)


# ------------------------------------------------------------- subscribers


def test_subscribers_are_listed_by_state_and_topic_with_counts_and_no_addresses(stack):
    # Given active subscribers with different topics, and others
    stack.add_subscriber(1, topics=("sport",))
    stack.add_subscriber(2, topics=("tech",))
    stack.add_subscriber(3)  # every topic
    stack.add_subscriber(4, "paused")
    stack.add_subscriber(5, "cancelled")
    reader = new_key("subscribers:read")

    # When the publisher lists active sport readers, and all active ones two at a time
    status, sport, _ = call("GET", "/v1/subscribers", key=reader, query="status=active&topic=sport")
    _, first, _ = call("GET", "/v1/subscribers", key=reader, query="limit=2")
    _, second, _ = call("GET", "/v1/subscribers", key=reader, query=f"limit=2&cursor={first['next_cursor']}")

    # Then the topic filter counts "every topic" as sport, pages add up, counts are per state
    assert status == 200
    assert [row["id"] for row in sport["subscribers"]] == ["s00001", "s00003"]
    assert [row["id"] for row in first["subscribers"] + second["subscribers"]] == [
        "s00001",
        "s00002",
        "s00003",
    ]
    assert sport["counts"] == {"pending": 0, "active": 3, "paused": 1, "cancelled": 1, "erased": 0}
    # And no address is ever part of it
    assert "10000" not in json.dumps([sport, first, second])


def test_one_subscriber_shows_settings_and_consent_without_the_address(stack):
    stack.add_subscriber(7, topics=("sport",))
    status, body, _ = call("GET", "/v1/subscribers/s00007", key=new_key("subscribers:read"))
    assert status == 200
    assert body["state"] == "active" and body["topics"] == ["sport"]
    assert body["channels"] == [{"channel": "telegram", "reachable": True}] and body["consent"] == []
    assert "100007" not in json.dumps(body)


def test_an_unknown_subscriber_is_a_404(stack):
    result = call("GET", "/v1/subscribers/nobody", key=new_key("subscribers:read"))
    assert_error(result, 404, "not_found")


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("status=sleeping", 400, "invalid_request"),
        ("limit=0", 400, "invalid_request"),
        ("limit=x", 400, "invalid_request"),
        ("cursor=e30=", 422, "invalid_cursor"),
        ("cursor=%%%", 422, "invalid_cursor"),
    ],
)
def test_bad_subscriber_listing_queries_are_refused(stack, query, status, code):
    reader = new_key("subscribers:read")
    with changes_nothing(stack):
        result = call("GET", "/v1/subscribers", key=reader, query=query)
    assert_error(result, status, code)
