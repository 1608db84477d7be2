"""The OpenAPI 3.1 document of /v1, generated from the routes and their pydantic models.

Served at ``GET /v1/openapi.json`` (no key needed: it holds no data).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from chalice import Response  # type: ignore[attr-defined]
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from subcast.domain.constraints import UNPROCESSABLE_CODES
from subcast.publisher_api.http import Routes, RouteSpec, json_response
from subcast.publisher_api.schemas import ErrorBody
from subcast.services.api_keys import Scope

routes = Routes("openapi")
ERROR_TEXT = {
    400: "the request is malformed or invalid; nothing changed",
    401: "no key, an unknown key or a revoked one",
    403: "the key lacks the scope",
    404: "not found",
    409: "conflicts with the current state; nothing changed",
    413: "the body is too large",
    415: "the body is not JSON",
    422: "well-formed, but breaks a rule no schema can express; nothing changed. `error.code` is one of: "
    + "; ".join(f"`{code}`: {meaning}" for code, meaning in UNPROCESSABLE_CODES.items()),
}
REF = "#/components/schemas/{model}"


def _specs() -> list[RouteSpec]:
    from subcast.publisher_api import route_tables

    # /v1 only: /l/<code> is for subscribers' browsers, not for API clients.
    return [spec for table in route_tables() for spec in table.specs if spec.path.startswith("/v1/")]


@cache
def document() -> dict[str, Any]:
    specs = _specs()
    models: set[type[BaseModel]] = {ErrorBody}
    for spec in specs:
        models.update(model for model in (spec.body, spec.response) if model is not None)
    ordered = sorted(models, key=lambda model: model.__name__)
    refs, definitions = models_json_schema(
        [(model, "validation" if _is_body(model, specs) else "serialization") for model in ordered],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "subcast publisher API",
            "version": "1",
            "description": "Topics, broadcasts, newsletters, subscribers, settings and API keys. "
            'Errors are {"error": {"code", "message", "fields"}} with a 4xx status: 400 when the request '
            "does not match this document, 422 when it does but breaks a rule no schema can express "
            "(a send_at in the past, an unknown topic), with one of the codes listed at each 422 answer. "
            "An unknown path answers 404, a method the path does not have 405.",
        },
        "paths": paths,
        "components": {
            "schemas": _without_null_defaults(definitions.get("$defs", {})),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _without_null_defaults(schema: Any) -> Any:
    """Drop ``default: null`` where null is not allowed: fields that may be left out but never be null."""
    if isinstance(schema, list):
        return [_without_null_defaults(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {key: _without_null_defaults(value) for key, value in schema.items()}
    if "default" in cleaned and cleaned["default"] is None and cleaned.get("type") not in (None, "null"):
        del cleaned["default"]
    return cleaned


def _is_body(model: type[BaseModel], specs: list[RouteSpec]) -> bool:
    return any(spec.body is model for spec in specs)


def _operation(spec: RouteSpec, refs: dict[Any, Any]) -> dict[str, Any]:
    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])

    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "required": False,
            "schema": param.schema,
            "description": param.description,
        }
        for param in spec.query
    ]
    parameters += [
        {
            "name": param.name,
            "in": "header",
            "required": False,
            "schema": param.schema,
            "description": param.description,
        }
        for param in spec.headers
    ]
    schema = ref(spec.response, "serialization") if spec.response is not None else {"type": "object"}
    responses: dict[str, Any] = {
        str(spec.status): {
            "description": "OK" if spec.status == 200 else "created",
            "content": {"application/json": {"schema": schema}},
        }
        if spec.status != 204
        else {"description": "done; no body"}
    }
    errors = spec.errors + ((401, 403) if spec.scope is not None else ())
    for status in sorted(set(errors)):
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": ref(ErrorBody, "serialization")}},
        }
    operation: dict[str, Any] = {
        "operationId": spec.view.__name__.removesuffix("_view"),
        "summary": spec.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if spec.body is not None:
        operation["requestBody"] = {
            "required": spec.method != "POST" or not spec.path.endswith("/schedule"),
            "content": {"application/json": {"schema": ref(spec.body, "validation")}},
        }
    if spec.scope is not None:
        operation["security"] = [{"bearer": []}]
        also = "" if spec.scope is Scope.ADMIN else " (or `admin`)"
        operation["description"] = f"Needs a key with the `{spec.scope.value}`{also} scope."
    return operation


@routes.route("/v1/openapi.json", "GET", None, response=None)
def openapi_view() -> Response:
    """The OpenAPI 3.1 document of this API (what /v1/docs shows as a page)."""
    return json_response(200, document())
