"""Field types for what publishers send, whose every checkable rule is also in the JSON Schema.

A client generated from ``/v1/openapi.json`` must never build a request the API then refuses for
a reason the schema could have told it. So each rule is written once, here or on the model, and
used both to validate and to describe:

- ``Matching(regex, sentence)``: a pattern that the validator checks and the schema carries
  (the very same compiled regex, searched the way JSON Schema searches it);
- ``WholeNumber``: an integer in JSON's sense (``3`` or ``3.0``, never ``"3"``, ``true`` or ``3.5``);
- ``AttributeValue``: a number or a short text, never true/false.

What no schema can say (a moment in the past, a topic that does not exist, a text that is too long
in UTF-16) is raised as ``unprocessable(code, message)``: the API answers it with 422 and the code,
and the OpenAPI document lists every such code (``UNPROCESSABLE_CODES``).

Request models use ``REQUEST_CONFIG``: unknown fields are refused, and patterns run on Python's
``re`` (what schema-driven generators use), not pydantic's default Rust engine, whose ``\\s``
differs for a few characters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

REQUEST_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re")

#: The pydantic error type of a rule beyond any schema (see ``unprocessable``).
UNPROCESSABLE = "unprocessable"

#: Every code a 422 answer can carry, with what it means: the OpenAPI document lists them.
UNPROCESSABLE_CODES: dict[str, str] = {
    "send_at_in_past": "send_at (or schedule.start) lies more than five minutes in the past",
    "unknown_topic": "a topic that does not exist (create it first)",
    "archived_topic": "a topic that is archived and takes no broadcasts",
    "text_too_long": "the text is longer than Telegram's 4,096 UTF-16 code units (an emoji counts 2)",
    "does_not_fit_one_message": "text, link and image together do not fit one Telegram message",
    "invalid_link": "a link in the text, or link/image_url, cannot be a web address",
    "invalid_cursor": "a cursor this API did not give out",
    "no_stories": "the newsletter holds no story (no heading with text under it)",
    "tracking_unavailable": "link tracking needs a public base URL, which this deployment lacks",
}


def _never_null(schema: dict[str, Any]) -> None:
    # Optional in a PATCH (left out: unchanged) but never null: the schema must not offer null.
    options = [option for option in schema.pop("anyOf", []) if option != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options
    schema.pop("default", None)


#: The default of a field a PATCH may leave out but never set to null (``field: X | None = NEVER_NULL``,
#: with ``not_null`` as its before-validator): the schema offers no null, the validator refuses it.
NEVER_NULL: Any = Field(default=None, json_schema_extra=_never_null)


def not_null(cls: type, value: object) -> object:
    """A before-validator for NEVER_NULL fields: null is refused with a sentence."""
    if value is None:
        raise ValueError("cannot be null; leave it out to keep it as it is")
    return value


def unprocessable(code: str, message: str) -> PydanticCustomError:
    """A rule no schema can express: raise it in a validator and the API answers 422 with ``code``."""
    if code not in UNPROCESSABLE_CODES:
        raise ValueError(f"undocumented 422 code {code!r}")  # pragma: no cover - a programming error
    return PydanticCustomError(UNPROCESSABLE, "{message}", {"code": code, "message": message})


@dataclass(frozen=True)
class Matching:
    """A string that must contain a match of ``regex`` (searched, as JSON Schema's ``pattern`` is).

    ``sentence`` tells a person what to send instead, e.g. "use 1-32 characters of a-z, 0-9 and '-'".
    """

    regex: re.Pattern[str]
    sentence: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.regex.pattern
        return json_schema

    def _check(self, value: str) -> str:
        if self.regex.search(value) is None:
            raise ValueError(self.sentence)
        return value


def _whole_number(value: object) -> object:
    # JSON has one number type: 3.0 is the integer 3 to a JSON Schema validator, so it is here too.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number, e.g. 15")
    return value


#: ``Annotated[int, WHOLE_NUMBER, Field(ge=.., le=..)]``: an integer as JSON Schema means it.
WHOLE_NUMBER = BeforeValidator(_whole_number)


class NamedValues:
    """``Annotated`` metadata for a dict whose keys follow a pattern: JSON Schema says so with
    ``propertyNames`` (pydantic writes ``patternProperties``, which lets any other key through)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        patterns = json_schema.pop("patternProperties", {})
        if len(patterns) == 1:
            (pattern, values), *_ = patterns.items()
            json_schema["propertyNames"] = {"pattern": pattern}
            json_schema["additionalProperties"] = values
        return json_schema


MAX_ATTRIBUTE_TEXT = 100
_ATTRIBUTE_VALUE_SCHEMA = {
    "anyOf": [{"type": "number"}, {"type": "string", "minLength": 1, "maxLength": MAX_ATTRIBUTE_TEXT}]
}


def _attribute_value(value: object) -> float | str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return float(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ATTRIBUTE_TEXT:
        return value
    if isinstance(value, str):
        raise ValueError(f"a text value is 1-{MAX_ATTRIBUTE_TEXT} characters")
    raise ValueError("must be a number or a text, not true/false, null, a list or an object")


class _AttributeValueType:
    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _attribute_value,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(_ATTRIBUTE_VALUE_SCHEMA)


#: What subscriber alerts compare: a number (ints become floats) or a text of 1-100 characters.
AttributeValue = Annotated[float | str, _AttributeValueType]
