"""GET /v1/docs: the API reference for people, one HTML page rendered from the OpenAPI document.

Public like /v1/openapi.json, but no API operation: it is registered beside the route tables, not
in them, so the document does not list it. The page (``docs_page``) runs no script and loads
nothing else: its frame and stylesheet ship in ``static/``, the stylesheet inlined and allowed by
its hash under a ``default-src 'self'`` Content-Security-Policy, so the page works offline and
under any stage prefix.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from string import Template

from chalice import Response  # type: ignore[attr-defined]

from subcast.publisher_api.docs_page import render
from subcast.publisher_api.http import Routes
from subcast.publisher_api.openapi import document

routes = Routes("docs")


@cache
def stylesheet() -> str:
    """The page's CSS, shipped as package data next to this module."""
    return _asset("docs.css").template


def frame() -> Template:
    """The page's HTML around the rendered parts (``static/docs.html``), with $-placeholders."""
    return _asset("docs.html")


@cache
def _asset(name: str) -> Template:
    return Template(resources.files(__package__).joinpath(f"static/{name}").read_text("utf-8"))


def content_security_policy(css: str) -> str:
    """This origin only; of inline styles only ``css`` itself (by its SHA-256); no script at all.

    ``img-src data:`` is for the page's empty icon, which spares browsers a /favicon.ico that
    the API answers with 404."""
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return (
        f"default-src 'self'; style-src 'sha256-{digest}'; img-src data:; script-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@cache
def page() -> str:
    """This API's reference page (the document is fixed for a deployment, and so is the page)."""
    return render(document(), frame(), stylesheet())


@routes.route("/v1/docs", "GET", None, response=None)
def docs_view() -> Response:
    """The API reference as a web page."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(stylesheet()),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "public, max-age=300",
    }
    return Response(status_code=200, body=page(), headers=headers)
