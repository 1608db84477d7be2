"""The API reference page, rendered from an OpenAPI 3.x document: pure, no I/O.

One HTML document, no script: the operations grouped by path, each with an anchor and an entry in
the contents, every $ref linked to its schema (listed at the end), constraints spelled out. Every
text taken from the document is escaped; only its Markdown `code` spans become markup.
"""

from __future__ import annotations

import html
import json
import re
from string import Template
from typing import Any

Schema = dict[str, Any]
Operation = tuple[str, str, dict[str, Any]]  # path, method, the operation object
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REF = "#/components/schemas/"
#: JSON Schema keyword -> how the page says it.
RULES = {
    **{"minLength": "min length", "maxLength": "max length", "minimum": "minimum", "maximum": "maximum"},
    **{"exclusiveMinimum": "greater than", "exclusiveMaximum": "less than", "multipleOf": "multiple of"},
    **{"minItems": "min items", "maxItems": "max items", "minProperties": "min fields"},
    **{"maxProperties": "max fields", "pattern": "pattern", "const": "always"},
}
TAGS = {True: '<span class="tag tag-required">required</span>', False: '<span class="tag">optional</span>'}


def render(doc: dict[str, Any], frame: Template, css: str) -> str:
    """The page for an OpenAPI 3.x ``doc``: ``frame`` (``static/docs.html``) filled in, ``css`` inlined."""
    return _Reference(doc).page(frame, css)


def _text(value: Any) -> str:
    """Escaped prose; the document's `code` spans (single or double backticks) become <code>."""
    escaped = html.escape(str(value))
    return re.sub(r"``(.+?)``|`([^`]+)`", lambda match: f"<code>{match[1] or match[2]}</code>", escaped)


def _code(value: Any) -> str:
    return f"<code>{html.escape(value if isinstance(value, str) else json.dumps(value))}</code>"


def _anchor(prefix: str, name: str) -> str:
    """An id that needs no escaping, prefixed so that no operation clashes with a section or schema."""
    return f"{prefix}-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "_")


def _method(method: str) -> str:
    return f'<span class="method method-{html.escape(method)}">{html.escape(method.upper())}</span>'


def _path(path: str) -> str:
    """A path in code that may wrap after each slash rather than inside a name."""
    return f"<code>{html.escape(path).replace('/', '/<wbr>')}</code>"


def _list(rows: list[str], kind: str = "list") -> str:
    return f'<dl class="{kind}">{"".join(rows)}</dl>' if rows else ""


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{heading}</h2>{body}</section>'


class _Reference:
    """Renders the parts of one document; holds its schemas so that it can follow $ref."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.schemas: dict[str, Schema] = (doc.get("components") or {}).get("schemas") or {}
        self.operations: list[Operation] = [
            (path, method, operation)
            for path, item in (doc.get("paths") or {}).items()
            for method, operation in item.items()
            if method in METHODS
        ]

    # ------------------------------------------------------------------ schemas
    def resolved(self, schema: Schema, depth: int = 0) -> Schema:
        """The schema a $ref points at (through refs to refs); an unknown ref resolves to nothing."""
        ref = schema.get("$ref")
        if not isinstance(ref, str) or depth > 10:
            return schema
        return self.resolved(self.schemas.get(ref.removeprefix(REF)) or {}, depth + 1)

    def type_of(self, schema: Schema) -> str:
        """A short type: ``string (date-time) or null``, ``array of`` a linked schema, ..."""
        if "$ref" in schema:
            name = str(schema["$ref"]).removeprefix(REF)
            return f'<a href="#{_anchor("schema", name)}">{html.escape(name)}</a>'
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list):
                return " or ".join(dict.fromkeys(self.type_of(branch) for branch in schema[key]))
        kind = schema.get("type")
        if isinstance(kind, list):
            return " or ".join(self.type_of({**schema, "type": each}) for each in kind)
        if kind == "array" and isinstance(schema.get("items"), dict):
            return f"array of {self.type_of(schema['items'])}"
        if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            return f"object, each value {self.type_of(schema['additionalProperties'])}"
        name = html.escape(str(kind or "any"))
        return f"{name} ({html.escape(str(schema['format']))})" if "format" in schema else name

    def rules(self, schema: Schema, where: str = "") -> list[str]:
        """Every rule a value must keep as a short phrase, those of items, values and names included."""
        target = self.resolved(schema)
        found = [f"{where}one of {', '.join(map(_code, target['enum']))}"] if "enum" in target else []
        if "$ref" in schema:  # the referenced schema's own rules are listed at its entry; a default is not
            schema = {key: value for key, value in schema.items() if key == "default"}
        found += [f"{where}{label} {_code(schema[key])}" for key, label in RULES.items() if key in schema]
        for branch in (schema.get("anyOf") or []) + (schema.get("oneOf") or []):
            found += self.rules(branch, where)
        for key, inner in (("items", "each item: "), ("additionalProperties", "each value: ")):
            if isinstance(schema.get(key), dict):
                found += self.rules(schema[key], where + inner)
        if isinstance(schema.get("propertyNames"), dict):
            found += self.rules(schema["propertyNames"], where + "each field name: ")
        if "default" in schema:
            found.append(f"{where}default {_code(schema['default'])}")
        return list(dict.fromkeys(found))

    def entry(self, term: str, schema: Schema, *paragraphs: str) -> str:
        """One row of a field, parameter or response list: its name, then type, rules and the
        ``paragraphs`` (HTML: the caller escapes them)."""
        parts = [f"<p>{self.type_of(schema)}</p>"] if schema else []
        if rules := "".join(f"<li>{rule}</li>" for rule in self.rules(schema)):
            parts.append(f'<ul class="constraints">{rules}</ul>')
        parts += [f"<p>{paragraph}</p>" for paragraph in paragraphs if paragraph]
        return f"<div><dt>{term}</dt><dd>{''.join(parts)}</dd></div>"

    def fields(self, schema: Schema) -> str:
        """The fields of an object schema, required ones marked; nothing for other schemas."""
        target = self.resolved(schema)
        required = set(target.get("required") or [])
        rows = [
            self.entry(f"{_code(name)} {TAGS[name in required]}", field, _text(field.get("description", "")))
            for name, field in (target.get("properties") or {}).items()
        ]
        closed = "<p>Any other field is refused.</p>" if target.get("additionalProperties") is False else ""
        return _list(rows) + closed if rows else ""

    def example(self, schema: Schema, depth: int = 0) -> Any:
        """A skeleton value of ``schema`` with type names for its leaves (shows the error shape)."""
        if depth > 6:  # a schema that contains itself
            return "..."
        schema = self.resolved(schema)
        branches = [b for b in (schema.get("anyOf") or schema.get("oneOf") or []) if b.get("type") != "null"]
        if branches:
            return self.example(branches[0], depth + 1)
        if schema.get("type") == "array":
            return [self.example(schema.get("items") or {}, depth + 1)]
        if "properties" in schema:
            return {name: self.example(field, depth + 1) for name, field in schema["properties"].items()}
        return f"<{schema.get('type', 'any')}>"

    # --------------------------------------------------------------- operations
    def public(self, operation: dict[str, Any]) -> bool:
        return not operation.get("security", self.doc.get("security"))

    def anchor(self, path: str, method: str, operation: dict[str, Any]) -> str:
        return _anchor("op", str(operation.get("operationId") or f"{method}-{path}"))

    def operation(self, path: str, method: str, operation: dict[str, Any]) -> str:
        """One operation: heading, summary, who may call it, parameters, body and responses."""
        anchor = self.anchor(path, method, operation)
        parts = [
            f'<h3 id="{anchor}-title">{_method(method)} {_path(path)}</h3>',
            f"<p>{_text(operation.get('summary', ''))}</p>",
            f'<p class="access">{_text(operation["description"])}</p>'
            if operation.get("description")
            else "",
            '<p class="access">Public: no key needed.</p>' if self.public(operation) else "",
        ]
        parameters = [
            self.entry(
                f"{_code(p.get('name', ''))} <span class=tag>in {html.escape(str(p.get('in')))}</span> "
                + TAGS[bool(p.get("required"))],
                p.get("schema") or {},
                _text(p.get("description", "")),
            )
            for p in operation.get("parameters") or []
        ]
        if parameters:
            parts.append(f"<h4>Parameters</h4>{_list(parameters)}")
        body = operation.get("requestBody") or {}
        parts.append("<h4>Request body</h4>" if body.get("content") else "")
        for media, content in (body.get("content") or {}).items():
            schema, lead = content.get("schema") or {}, "Required" if body.get("required") else "Optional"
            about = _text(self.resolved(schema).get("description", ""))
            parts.append(f"<p>{lead}, as {_code(media)}: {self.type_of(schema)}. {about}</p>")
            parts.append(self.fields(schema))
        responses = [
            self.entry(_code(status), {}, *self.answer(response))
            for status, response in (operation.get("responses") or {}).items()
        ]
        parts.append(f"<h4>Responses</h4>{_list(responses, 'list statuses')}")
        labelled = f'id="{anchor}" aria-labelledby="{anchor}-title"'
        return f'<article class="operation" {labelled}>{"".join(parts)}</article>'

    def answer(self, response: dict[str, Any]) -> list[str]:
        """A response's description and, when it has a body, what that body is."""
        bodies = [
            f"{self.type_of(content.get('schema') or {})} ({_code(media)})"
            for media, content in (response.get("content") or {}).items()
        ]
        return [_text(response.get("description", ""))] + ([f"Body: {'; '.join(bodies)}"] if bodies else [])

    # --------------------------------------------------------------------- page
    def page(self, frame: Template, css: str) -> str:
        """The document: masthead, contents, then overview, operations by path and schemas."""
        info = self.doc.get("info") or {}
        title = html.escape(str(info.get("title") or "API reference"))
        by_path: dict[str, list[Operation]] = {}
        for operation in self.operations:
            by_path.setdefault(operation[0], []).append(operation)
        contents = "".join(
            f'<li><a href="#{_anchor("path", path)}">{_path(path)}</a><ul>'
            + "".join(
                f'<li><a href="#{self.anchor(*op)}">{_method(op[1])} '
                f'<span class="summary">{_text(op[2].get("summary", ""))}</span></a></li>'
                for op in operations
            )
            + "</ul></li>"
            for path, operations in by_path.items()
        )
        paths = "".join(
            _section(
                _anchor("path", path),
                _path(path),
                "".join(self.operation(*operation) for operation in operations),
            )
            for path, operations in by_path.items()
        )
        return frame.substitute(
            title=title,
            version=html.escape(str(info.get("version", ""))),
            css=css,
            contents=contents,
            main=self.overview(info) + paths + self.components(),
        )

    def overview(self, info: dict[str, Any]) -> str:
        """The description, how to authenticate, and what every error looks like."""
        schemes = (self.doc.get("components") or {}).get("securitySchemes") or {}
        bearer = _code("Authorization: Bearer <key>")
        keyed = [
            f"<p>Send the key to every operation that names a scope: {bearer}.</p>"
            if str(scheme.get("scheme", "")).lower() == "bearer"
            else f"<p>{_code(name)}: {_text(scheme.get('description') or scheme.get('type', ''))}</p>"
            for name, scheme in schemes.items()
        ]
        public = [
            f'<a href="#{self.anchor(*op)}">{op[1].upper()} {_path(op[0])}</a>'
            for op in self.operations
            if self.public(op[2])
        ]
        if public:
            keyed.append(f"<p>No key needed: {', '.join(public)}, and this page.</p>")
        errors: dict[str, dict[str, Any]] = {}
        for *_, operation in self.operations:
            for status, response in (operation.get("responses") or {}).items():
                if str(status)[:1] in "45":
                    errors.setdefault(str(status), response)
        bodies = [c.get("schema") for r in errors.values() for c in (r.get("content") or {}).values()]
        shape = ""
        if bodies and isinstance(bodies[0], dict):
            skeleton = json.dumps(self.example(bodies[0]), indent=2, ensure_ascii=False)
            shape = f"<p>Every error has this body ({self.type_of(bodies[0])}):</p>"
            shape += f"<pre><code>{html.escape(skeleton)}</code></pre>"
        statuses = [
            self.entry(_code(status), {}, *self.answer(r)[:1]) for status, r in sorted(errors.items())
        ]
        return (
            _section("overview", "Overview", f"<p>{_text(info.get('description', ''))}</p>")
            + _section("authentication", "Authentication", "".join(keyed))
            + _section("errors", "Errors", shape + _list(statuses, "list statuses"))
        )

    def components(self) -> str:
        """Every schema of components.schemas: the targets of the page's $ref links."""
        items = []
        for name, schema in self.schemas.items():
            anchor = _anchor("schema", name)
            about = f"<p>{_text(schema['description'])}</p>" if schema.get("description") else ""
            body = self.fields(schema) or _list([self.entry("Value", schema)])
            items.append(
                f'<section class="schema" id="{anchor}" aria-labelledby="{anchor}-title">'
                f'<h3 id="{anchor}-title">{html.escape(name)}</h3>{about}{body}</section>'
            )
        return _section("schemas", "Schemas", "".join(items))
