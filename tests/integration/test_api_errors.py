"""What a publisher reads when a request is refused: one sentence per field with its path, 400 for
what the OpenAPI document already rules out, 422 with a documented code for the rest, 405 with
Allow for a method a path lacks, and a schema that carries every constraint the validators check."""

from __future__ import annotations

import re

import pytest

from subcast.domain.constraints import UNPROCESSABLE_CODES
from subcast.publisher_api.openapi import document
from tests.integration.test_api import assert_error, call, changes_nothing, create_topic, new_key

PYDANTIC_WORDS = ("Value error", "Input should", "function-after", "[key]", "float", "str]")


@pytest.fixture
def editor(stack) -> str:
    return new_key("topics", "broadcasts", "admin")


def fields(result) -> dict[str, str]:
    return {problem["field"]: problem["message"] for problem in result[1]["error"]["fields"]}


def test_every_field_that_is_wrong_gets_one_sentence_with_its_path(stack, editor):
    # Given a broadcast wrong in five places, one of them in two ways (the attribute's number or text)
    body = {
        "text": "   ",
        "topics": ["sport", "Sport News"],
        "attributes": {"kwh": True, "Bad-Name": 3, "label": ""},
        "link": "ftp://example.org/x",
        "colour": "red",
    }
    with changes_nothing(stack):
        # When it is posted
        result = call("POST", "/v1/broadcasts", body, editor)

    # Then it is a 400 naming each field once, by its path, in words a person can act on
    message = assert_error(result, 400, "invalid_request")
    assert fields(result) == {
        "text": "must contain more than blanks",
        "topics[1]": "a topic slug is 1-32 characters of a-z, 0-9 and '-', starting and ending with a letter "
        "or digit",
        "attributes.kwh": "must be a number or a text, not true/false, null, a list or an object",
        "attributes.Bad-Name": "an attribute name is 1-32 characters of a-z, 0-9 and '_'",
        "attributes.label": "a text value is 1-100 characters",
        "link": "must be a web address starting with http:// or https://, without blanks",
        "colour": "is not a field of this request; remove it",
    }
    # And the message is those sentences, without pydantic's internals
    assert message.startswith("text: must contain more than blanks. topics[1]: a topic slug")
    assert message.count(". ") >= 6
    assert not any(word in message for word in PYDANTIC_WORDS)


@pytest.mark.parametrize(
    ("body", "field", "sentence"),
    [
        ({"slug": "sport"}, "name", "is required"),
        ({"slug": "sport", "name": 7}, "name", "must be a text (a JSON string)"),
        ({"slug": "sport", "name": "x" * 81}, "name", "may be at most 80 characters"),
        ({"slug": "sport", "name": "Sport", "default": "yes"}, "default", "must be true or false"),
    ],
)
def test_topic_problems_read_as_sentences(stack, editor, body, field, sentence):
    with changes_nothing(stack):
        result = call("POST", "/v1/topics", body, editor)
    assert_error(result, 400, "invalid_request")
    assert fields(result) == {field: sentence}


@pytest.mark.parametrize(
    ("count", "accepted"), [(3, True), (3.0, True), (3.5, False), ("3", False), (True, False)]
)
def test_a_whole_number_is_one_in_json_s_sense(stack, editor, count, accepted):
    # Given a cap count as JSON may carry it (3.0 is the integer 3 to any JSON Schema validator)
    body = {"frequency_cap": {"count": count, "per": "day"}}
    # When it is put
    result = call("PUT", "/v1/settings", body, editor)
    # Then integers are taken, whatever their spelling; text, booleans and fractions are not
    if accepted:
        assert result[0] == 200 and result[1]["frequency_cap"] == {"count": 3, "per": "day"}
    else:
        assert_error(result, 400, "invalid_request")
        assert fields(result) == {"frequency_cap.count": "must be a whole number, e.g. 15"}


@pytest.mark.parametrize(
    ("image_url", "status", "code"),
    [
        ("https://example.org/a.png", 201, None),
        ("HTTP://EXAMPLE.ORG/A.PNG", 201, None),
        ("ftp://example.org/a.png", 400, "invalid_request"),
        ("data:image/png;base64,AAAA", 400, "invalid_request"),
        ("https://example.org/a b.png", 400, "invalid_request"),
        ("", 400, "invalid_request"),
        # The schema's pattern holds, but the address cannot work: only the validator can tell.
        ("https://:80/a.png", 422, "invalid_link"),
        ("https://example.org:99999/a.png", 422, "invalid_link"),
    ],
)
def test_image_urls_are_web_addresses(stack, editor, image_url, status, code):
    result = call("POST", "/v1/broadcasts", {"text": "Look", "image_url": image_url, "draft": True}, editor)
    if code is None:
        assert result[0] == status, result[1]
    else:
        assert_error(result, status, code)


def test_the_schema_holds_what_the_validators_check():
    # Given the OpenAPI document's request schemas
    schemas = document()["components"]["schemas"]
    broadcast = schemas["BroadcastRequest"]["properties"]
    feed = schemas["FeedRequest"]["properties"]
    # Then topic slugs, attribute names and values, URLs and whole numbers are constrained there
    slug = broadcast["topics"]["items"]["pattern"]
    assert re.search(slug, "sport-news") and not re.search(slug, "Sport News")
    attributes = broadcast["attributes"]
    assert attributes["propertyNames"]["pattern"] == "^[a-z0-9_]{1,32}$" and attributes["maxProperties"] == 20
    assert {"type": "string", "minLength": 1, "maxLength": 100} in attributes["additionalProperties"]["anyOf"]
    url = feed["url"]["pattern"]
    assert (
        re.search(url, "https://example.org/feed")
        and not re.search(url, "")
        and not re.search(url, "ftp://x")
    )
    assert broadcast["image_url"]["anyOf"][0]["pattern"] == url
    assert (
        feed["poll_minutes"]["type"],
        feed["poll_minutes"]["minimum"],
        feed["poll_minutes"]["maximum"],
    ) == (
        "integer",
        5,
        1440,
    )
    assert (feed["backfill"]["minimum"], feed["backfill"]["maximum"], feed["backfill"]["default"]) == (
        0,
        10,
        0,
    )
    count = schemas["CapSetting"]["properties"]["count"]
    assert (count["type"], count["minimum"], count["maximum"]) == ("integer", 1, 100)
    # And an edit's text, topics and attributes may be left out but never be null
    update = schemas["BroadcastUpdate"]["properties"]
    assert all("anyOf" not in update[name] for name in ("text", "topics", "attributes"))


def test_every_422_code_is_documented_where_it_can_happen():
    # Given the operations that take a body or a cursor
    paths = document()["paths"]
    described = paths["/v1/broadcasts"]["post"]["responses"]["422"]["description"]
    # Then their 422 answer lists every code with its meaning
    assert all(f"`{code}`" in described for code in UNPROCESSABLE_CODES)
    for path, method in [
        ("/v1/broadcasts", "get"),
        ("/v1/broadcasts/{broadcast_id}", "patch"),
        ("/v1/broadcasts/{broadcast_id}/schedule", "post"),
        ("/v1/newsletters", "post"),
        ("/v1/feeds", "post"),
        ("/v1/inbox", "get"),
        ("/v1/subscribers", "get"),
    ]:
        assert "422" in paths[path][method]["responses"], (path, method)


def test_a_schema_valid_send_at_in_the_past_is_422_with_its_code(stack, editor):
    with changes_nothing(stack):
        result = call("POST", "/v1/broadcasts", {"text": "x", "send_at": "2000-01-01T00:00:00Z"}, editor)
    assert "past" in assert_error(result, 422, "send_at_in_past")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/topics", {"GET", "POST"}),
        ("DELETE", "/v1/broadcasts", {"GET", "POST"}),
        ("POST", "/v1/broadcasts/b_0123456789abcdef", {"GET", "PATCH"}),
        ("GET", "/v1/broadcasts/b_0123456789abcdef/cancel", {"POST"}),
        ("PATCH", "/v1/settings", {"GET", "PUT"}),
        ("POST", "/v1/openapi.json", {"GET"}),
        ("HEAD", "/v1/keys", {"GET", "POST"}),
        ("OPTIONS", "/v1/feeds/f_1", {"GET", "DELETE"}),
    ],
)
def test_a_method_the_path_lacks_is_405_with_allow(stack, editor, method, path, allowed):
    with changes_nothing(stack):
        # When a path is called with a method it does not have (API Gateway routes it to the `any` event)
        result = call(method, path, None, editor)
    # Then the answer is 405 in the API's error shape, with the methods it has
    message = assert_error(result, 405, "method_not_allowed")
    assert set(result[2]["allow"].replace(" ", "").split(",")) == allowed
    assert method in message


def test_a_405_needs_no_key(stack):
    # A method that does not exist is refused before anything is looked up, key or not.
    result = call("PUT", "/v1/topics", {"slug": "x"})
    assert_error(result, 405, "method_not_allowed")


def test_a_known_topic_still_works_through_the_same_routes(stack, editor):
    # (the `any` events do not shadow the methods a path has)
    create_topic(editor, "sport")
    status, body, _ = call("GET", "/v1/topics", key=editor)
    assert status == 200 and [topic["slug"] for topic in body["topics"]] == ["sport"]
