"""What is wrong with a request body, as sentences a person can act on: one per field, with its path.

pydantic's own messages name its internals ("Value error, ...", "attributes.a.float: Input should
be a valid number"); a publisher needs "attributes.kwh: must be a number or a text ...". A field
that fails several ways (each member of a union) gets one sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic_core import ErrorDetails

from subcast.domain.constraints import UNPROCESSABLE


@dataclass(frozen=True)
class FieldProblem:
    """One field of a request and what to do about it."""

    field: str  # "text", "topics[2]", "schedule.start", "attributes.kwh"; "body" for the whole
    message: str  # a sentence without the field's name, e.g. "must not be empty"

    def sentence(self) -> str:
        return f"{self.field}: {self.message}"


def _sized(word: str) -> Callable[[dict[str, Any]], str]:
    def say(ctx: dict[str, Any]) -> str:
        count = ctx.get("min_length", ctx.get("max_length", 0))
        return f"{word} {count} item{'' if count == 1 else 's'}"

    return say


def _characters(word: str, key: str) -> Callable[[dict[str, Any]], str]:
    def say(ctx: dict[str, Any]) -> str:
        count = ctx.get(key, 0)
        if key == "min_length" and count == 1:
            return "must not be empty"
        return f"{word} {count} character{'' if count == 1 else 's'}"

    return say


def _one_of(ctx: dict[str, Any]) -> str:
    expected = str(ctx.get("expected", "")).replace("'", "")
    return f"must be one of {expected}"


_MOMENT = "must be an ISO-8601 date and time with an offset, e.g. 2026-12-24T08:00:00+01:00"
_NUMBER = "must be a whole number, e.g. 15"
#: pydantic error type -> what the person should send instead.
_SENTENCES: dict[str, str | Callable[[dict[str, Any]], str]] = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request; remove it",
    "string_type": "must be a text (a JSON string)",
    "int_type": _NUMBER,
    "int_parsing": _NUMBER,
    "int_from_float": _NUMBER,
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (a JSON array)",
    "dict_type": "must be an object (a JSON object)",
    "model_type": "must be an object (a JSON object)",
    "model_attributes_type": "must be an object (a JSON object)",
    "literal_error": _one_of,
    "enum": _one_of,
    "too_short": _sized("must have at least"),
    "too_long": _sized("may have at most"),
    "string_too_short": _characters("must be at least", "min_length"),
    "string_too_long": _characters("may be at most", "max_length"),
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "less_than_equal": lambda ctx: f"may be at most {ctx.get('le')}",
    "greater_than": lambda ctx: f"must be more than {ctx.get('gt')}",
    "less_than": lambda ctx: f"must be less than {ctx.get('lt')}",
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "timezone_aware": _MOMENT,
    "string_unicode": "must be valid text (no lone surrogates)",
}


def field_path(location: Iterable[int | str]) -> str:
    """pydantic's ``loc`` as a path a person reads: ``topics[2]``, ``schedule.start``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or part.startswith("function-"):
            continue  # a validator's or union member's tag, not a field
        else:
            path += f".{part}" if path else part
    return path or "body"


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == UNPROCESSABLE:
        return str(ctx.get("message", error["msg"]))
    if kind in ("value_error", "assertion_error"):
        return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    sentence = _SENTENCES.get(kind)
    if sentence is None:
        return error["msg"][:1].lower() + error["msg"][1:]
    return sentence(ctx) if callable(sentence) else sentence


def field_problems(errors: Iterable[ErrorDetails]) -> list[FieldProblem]:
    """One problem per field, in the order pydantic found them; the first sentence of a field wins."""
    found: dict[str, FieldProblem] = {}
    for error in errors:
        path = field_path(error["loc"])
        found.setdefault(path, FieldProblem(path, _message(error)))
    return list(found.values())


def unprocessable_code(errors: list[ErrorDetails]) -> str | None:
    """The 422 code when every problem is one no schema can express, else None (a 400)."""
    if errors and all(error["type"] == UNPROCESSABLE for error in errors):
        return str((errors[0].get("ctx") or {}).get("code"))
    return None
