"""/v1/openapi.json: generated from the routes and models, valid OpenAPI 3.1, complete, public."""

from __future__ import annotations

from infra.template import api_routes
from tests.integration.test_api import call


def test_the_document_is_public_and_describes_every_route_of_the_template(stack):
    # Given no key at all
    # When the document is fetched
    status, document, headers = call("GET", "/v1/openapi.json")

    # Then it is there, and lists exactly the template's /v1 operations
    assert status == 200 and headers["content-type"] == "application/json"
    assert document["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = {
        (route.path, route.method)
        for route in api_routes()
        if route.function == "ApiFunction"
        and route.path.startswith("/v1/")
        and route.method != "ANY"
        and route.path != "/v1/docs"  # the reference page: HTML for people, no API operation
    }
    assert described == routes


def test_the_document_is_valid_openapi_and_its_examples_of_errors_match(stack):
    # Given the document
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    document = call("GET", "/v1/openapi.json")[1]

    # Then it validates against the OpenAPI 3.1 specification
    validate(document)

    # And a real error answer matches the documented error schema
    status, body, _ = call("GET", "/v1/topics")
    schema = {**document["components"]["schemas"]["ErrorBody"], "$defs": document["components"]["schemas"]}
    schema = _resolved(schema)
    Draft202012Validator(schema).validate(body)
    assert status == 401


def test_every_keyed_operation_documents_401_and_403_and_its_scope(stack):
    document = call("GET", "/v1/openapi.json")[1]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/v1/openapi.json":
                assert "security" not in operation
                continue
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert operation["security"] == [{"bearer": []}]


def _resolved(schema: dict) -> dict:
    """Rewrite #/components/schemas/ references to local $defs so a plain validator can follow them."""
    import json

    return json.loads(json.dumps(schema).replace("#/components/schemas/", "#/$defs/"))
