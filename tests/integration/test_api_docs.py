"""/v1/docs: the API reference page, rendered on the server from the OpenAPI document.

Through the real Chalice handler with API Gateway events (the template in moto), and the renderer
alone with crafted documents for what the real one lacks (hostile text, every $ref shape).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from infra.local.events import api_gateway_event
from subcast.publisher_api.docs import frame
from subcast.publisher_api.docs_page import render
from subcast.publisher_api.openapi import document
from tests.integration.conftest import invoke
from tests.integration.test_api import assert_error, call, find_route

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
RULES = {"pattern": "pattern", "minLength": "min length", "maxLength": "max length"}
RULES |= {"minimum": "minimum", "maximum": "maximum", "minItems": "min items", "maxItems": "max items"}


def get_page(path: str = "/v1/docs") -> tuple[int, str, dict[str, str]]:
    """GET through ApiFunction without any key: (status, the body as text, lower-cased headers)."""
    route, parameters = find_route("GET", path)
    event = api_gateway_event(route, path, parameters, "", [("Accept", "text/html")], b"", "203.0.113.7")
    response = invoke("ApiFunction", event)
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    return response["statusCode"], response["body"], headers


def text_of(page: str) -> str:
    """The page without the optional line breaks it puts into paths."""
    return page.replace("<wbr>", "")


def schemas_in(value: Any) -> list[dict[str, Any]]:
    """Every (sub)schema object of a document part, however deeply nested."""
    if isinstance(value, list):
        return [schema for item in value for schema in schemas_in(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if "type" in value or "pattern" in value else []
    return own + [schema for item in value.values() for schema in schemas_in(item)]


class Elements(HTMLParser):
    """The tags and attribute names of a page, as a browser's parser would find them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}


def rendered(doc: dict[str, Any]) -> str:
    return render(doc, frame(), "body{}")


# ------------------------------------------------------------- through the API


def test_the_page_is_public_html_under_a_strict_policy_that_admits_only_its_own_style(stack):
    # Given no key at all
    # When the reference is fetched
    status, page, headers = get_page()

    # Then it is an HTML page
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert headers["x-content-type-options"] == "nosniff"

    # And its policy allows this origin only, no script, and of inline styles exactly the page's own
    policy = headers["content-security-policy"]
    assert policy.startswith("default-src 'self';") and "script-src 'none'" in policy
    (style,) = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    # And nothing on it comes from elsewhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_every_operation_of_the_document_has_its_anchor_its_path_and_a_contents_link(stack):
    # Given the OpenAPI document
    operations = [(path, op) for path, item in document()["paths"].items() for op in item.values()]

    # When the reference is fetched
    page = text_of(get_page()[1])

    # Then every operation has its anchor, a link to it in the contents, its path and its summary
    for path, operation in operations:
        anchor = f"op-{operation['operationId']}"
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page, anchor
        assert f"<code>{html.escape(path)}</code>" in page
        summary = html.escape(operation["summary"]).replace("`", "")
        assert summary in page.replace("<code>", "").replace("</code>", "")
    # And every schema a $ref names is on the page, as the target of its links
    for name in document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in page and f'href="#schema-{name}"' in page


def test_every_constraint_of_the_document_is_spelled_out(stack):
    # Given every rule the document's schemas and parameters carry (patterns, lengths, bounds, values)
    rules = {
        f"{label} <code>{html.escape(str(schema[key]))}</code>"
        for schema in schemas_in(document())
        for key, label in RULES.items()
        if key in schema
    }
    values = {value for schema in schemas_in(document()) for value in schema.get("enum", [])}

    # When the reference is fetched
    page = get_page()[1]

    # Then each is on the page, e.g. the broadcast text's pattern and maximum length
    assert "pattern <code>\\S</code>" in rules and "max length <code>4096</code>" in rules
    assert {rule for rule in rules if rule not in page} == set()
    assert {value for value in values if f"<code>{html.escape(value)}</code>" not in page} == set()


def test_the_page_is_no_operation_of_the_openapi_document(stack):
    # Given the OpenAPI document that /v1/openapi.json serves
    # When its paths are read
    paths = call("GET", "/v1/openapi.json")[1]["paths"]
    # Then the reference page is not among them (it answers HTML, not JSON)
    assert "/v1/docs" not in paths


def test_another_method_answers_405_in_the_api_error_shape(stack):
    # Given the reference page's path
    # When it is POSTed to
    status, body, headers = call("POST", "/v1/docs", {})
    # Then the answer is 405, naming GET
    assert_error((status, body, headers), 405, "method_not_allowed")
    assert headers["allow"] == "GET"


# ------------------------------------------------------- the renderer alone


def hostile_document() -> dict[str, Any]:
    """A document with markup in every text the page shows."""
    schema = {
        "type": "object",
        "description": HOSTILE,
        "properties": {HOSTILE: {"type": "string", "pattern": HOSTILE, "enum": [HOSTILE]}},
        "required": [HOSTILE],
    }
    operation = {
        "operationId": HOSTILE,
        "summary": HOSTILE,
        "description": f"`{HOSTILE}` and {HOSTILE}",
        "parameters": [
            {"name": HOSTILE, "in": "query", "description": HOSTILE, "schema": {"default": HOSTILE}}
        ],
        "requestBody": {"content": {HOSTILE: {"schema": {"$ref": f"#/components/schemas/{HOSTILE}"}}}},
        "responses": {"400": {"description": HOSTILE, "content": {"application/json": {"schema": schema}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": HOSTILE, "version": HOSTILE, "description": HOSTILE},
        "paths": {f"/v1/{HOSTILE}": {"get": operation}},
        "components": {"schemas": {HOSTILE: schema}, "securitySchemes": {HOSTILE: {"type": HOSTILE}}},
    }


def test_markup_in_the_document_is_shown_as_text_never_run():
    # Given a document with a script and an image handler in every text, code spans included
    doc = hostile_document()

    # When the page is rendered from it
    page = rendered(doc)

    # Then no element or attribute of the document made it into the page, only its escaped text
    elements = Elements()
    elements.feed(page)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert not [name for name in elements.attributes if name.startswith("on")]
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    # And every id and link target is made of safe characters only
    for target in re.findall(r'(?:id|href)="#?([^"]*)"', page):
        assert re.fullmatch(r"[A-Za-z0-9_-]+|openapi\.json|data:,", target), target


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ({"$ref": "#/components/schemas/Period"}, 'href="#schema-Period">Period</a>'),
        ({"anyOf": [{"$ref": "#/components/schemas/Period"}, {"type": "null"}]}, "Period</a> or null"),
        ({"type": "array", "items": {"$ref": "#/components/schemas/Period"}}, "array of <a"),
        ({"type": ["integer", "null"], "minimum": 1}, "integer or null"),
        ({"type": "string", "format": "date-time"}, "string (date-time)"),
    ],
)
def test_a_request_body_behind_a_ref_is_resolved_into_its_fields(field, shown):
    # Given an operation whose body is a $ref to an object with a required field of some shape
    doc = {
        "info": {"title": "T", "version": "1"},
        "paths": {"/v1/x": {"post": {"operationId": "make", "responses": {"201": {"description": "made"}}}}},
        "components": {
            "schemas": {
                "Body": {"type": "object", "properties": {"when": field}, "required": ["when"]},
                "Period": {"type": "string", "enum": ["day", "week"]},
            }
        },
    }
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}},
    }
    doc["paths"]["/v1/x"]["post"]["requestBody"] = body

    # When the page is rendered
    page = rendered(doc)

    # Then the operation lists the field, marked required, with its type and the enum's values
    operation = page[page.index('id="op-make"') : page.index("</article>")]
    assert "Request body" in operation and "<code>when</code>" in operation and "required" in operation
    assert shown in operation
    if "Period" in shown:
        assert "one of <code>day</code>, <code>week</code>" in operation
