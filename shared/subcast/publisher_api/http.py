"""What every /v1 route shares: authentication by scope, JSON bodies checked by pydantic models,
errors in one shape (``{"error": {"code", "message", "fields"?}}``) mapped from domain exceptions in
one place.

A body the schema rejects answers 400 ``invalid_request``; a well-formed one that breaks a rule no
schema can express (a moment in the past, an unknown topic) answers 422 with a code of
``UNPROCESSABLE_CODES``. Either way ``fields`` names each field with one sentence."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice import Blueprint, Response  # type: ignore[attr-defined]
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from subcast.adapters.broadcasts import IdempotencyConflict, NotCancellable
from subcast.adapters.publishing import ApiKey, TopicExists
from subcast.publisher_api.problems import FieldProblem, field_problems, unprocessable_code
from subcast.services.api_keys import Forbidden, Scope, Unauthorized, authenticate
from subcast.services.broadcasts import NotFound, Unprocessable
from subcast.services.dependencies import publishing_store

MAX_BODY_BYTES = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json"}
Model = TypeVar("Model", bound=BaseModel)
View = Callable[..., Response]
_current_request: ContextVar[Request] = ContextVar("current_request")


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, fields: list[FieldProblem] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


class Conflict(Exception):
    """The request is valid but clashes with the resource's current state (409)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def json_response(
    status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status_code=status, body=body if body is not None else "", headers={**JSON_HEADERS, **(headers or {})}
    )


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    problem: dict[str, Any] = {"code": code, "message": message}
    if fields:
        problem["fields"] = [{"field": item.field, "message": item.message} for item in fields]
    return json_response(status, {"error": problem}, headers)


#: Domain exceptions -> HTTP, in one place.
ERRORS: dict[type[Exception], tuple[int, str]] = {
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    TopicExists: (409, "topic_exists"),
    IdempotencyConflict: (409, "idempotency_key_reused"),
}


def _error_for(error: Exception) -> Response:
    if isinstance(error, ApiError):
        return error_response(error.status, error.code, error.message, error.fields)
    if isinstance(error, Unprocessable):
        return error_response(422, error.code, str(error))
    if isinstance(error, Conflict):
        return error_response(409, error.code, str(error))
    if isinstance(error, NotCancellable):
        return error_response(409, "not_cancellable", f"a {error.status.value} broadcast cannot be cancelled")
    status, code = ERRORS[type(error)]
    if code == "idempotency_key_reused":
        message = "this Idempotency-Key was used for a different request"
    elif code == "topic_exists":
        message = f"topic {error} exists already"
    else:
        message = str(error)
    return error_response(status, code, message)


HANDLED: tuple[type[Exception], ...] = (ApiError, Conflict, NotCancellable, Unprocessable, *ERRORS)


@dataclass(frozen=True)
class Param:
    """A query parameter, for the OpenAPI document."""

    name: str
    schema: dict[str, Any]
    description: str = ""


LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "page size")
CURSOR = Param("cursor", {"type": "string"}, "next_cursor of the previous page")


@dataclass(frozen=True)
class RouteSpec:
    """One /v1 operation: how it is served, and how the OpenAPI document describes it."""

    path: str
    method: str
    scope: Scope | None  # None: public, no key needed
    view: View
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    query: tuple[Param, ...]
    errors: tuple[int, ...]
    headers: tuple[Param, ...]


class Routes:
    """The /v1 routes of one resource, each authenticated with the scope it names.

    Routes are recorded at import and turned into a fresh Chalice blueprint per app
    (``blueprint()``): Chalice consumes a blueprint's options when it registers it, so one
    blueprint cannot serve two apps (the template check builds a second one).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.specs: list[RouteSpec] = []

    @property
    def request(self) -> Request:
        return _current_request.get()

    def route(
        self,
        path: str,
        method: str,
        scope: Scope | None,
        *,
        response: type[BaseModel] | None,
        body: type[BaseModel] | None = None,
        status: int = 200,
        query: tuple[Param, ...] = (),
        errors: tuple[int, ...] = (),
        headers: tuple[Param, ...] = (),
    ) -> Callable[[View], View]:
        def decorate(view: View) -> View:
            summary = (view.__doc__ or view.__name__).strip().splitlines()[0]
            spec = RouteSpec(
                path, method, scope, view, summary, body, response, status, query, errors, headers
            )
            self.specs.append(spec)
            return view

        return decorate

    def blueprint(self) -> Blueprint:
        blueprint = Blueprint(self.name)
        for spec in self.specs:
            # Every content type reaches the view, so that a wrong one gets our error shape, not Chalice's.
            blueprint.route(spec.path, methods=[spec.method], content_types=["*/*"])(
                _guarded(blueprint, spec)
            )
        return blueprint

    def params(self) -> dict[str, str]:
        return dict(self.request.query_params or {})

    def body(self, model: type[Model], max_bytes: int = MAX_BODY_BYTES) -> Model:
        """The JSON body as ``model``; 415, 413 or 400 with the exact problems otherwise."""
        headers = self.request.headers
        media_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise ApiError(
                415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
            )
        raw = self.request.raw_body or b""
        if len(raw) > max_bytes:
            raise ApiError(413, "too_large", f"the body is larger than {max_bytes} bytes")
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            raise ApiError(400, "malformed_json", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "malformed_json", "the body must be a JSON object")
        return validated(model, data)


def _guarded(blueprint: Blueprint, spec: RouteSpec) -> View:
    @functools.wraps(spec.view)
    def wrapper(**params: str) -> Response:
        token = _current_request.set(blueprint.current_request)
        try:
            if spec.scope is None:
                return spec.view(**params)
            key: ApiKey = authenticate(
                publishing_store(), blueprint.current_request.headers.get("authorization"), spec.scope.value
            )
            return spec.view(key, **params)
        except HANDLED as error:
            return _error_for(error)
        finally:
            _current_request.reset(token)

    return wrapper


def method_not_allowed(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice middleware: its own 405 (a method the path lacks, reached through the path's ``any``
    event) answered in the API's error shape, with the Allow header it computed."""
    response = get_response(event)
    if response.status_code != 405 or not isinstance(response.body, dict) or "error" in response.body:
        return response
    allowed = str(response.headers.get("Allow", ""))
    message = f"{event.method} is not a method of {event.path}; it takes {allowed}"
    return error_response(405, "method_not_allowed", message, headers={"Allow": allowed})


def validated(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        problems = field_problems(errors)
        message = " ".join(f"{problem.sentence().rstrip('.')}." for problem in problems)
        code = unprocessable_code(errors)
        raise ApiError(422 if code else 400, code or "invalid_request", message, problems) from None


def limit_of(params: dict[str, str], default: int = 50) -> int:
    try:
        limit = int(params.get("limit", str(default)))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise ApiError(400, "invalid_request", "limit must be a whole number from 1 to 100")
    return limit


def bad_cursor() -> ApiError:
    return ApiError(422, "invalid_cursor", "cursor is not one this API gave out; start again without it")
