"""The publisher REST API under /v1 as Chalice blueprints; ``functions/api/app.py`` registers them.

Routes only: the rules live in ``subcast.services``.
"""

from __future__ import annotations

from typing import Any

from subcast.publisher_api.http import Routes, method_not_allowed


def route_tables() -> list[Routes]:
    """Every /v1 route table, in the order the OpenAPI document lists them."""
    from subcast.publisher_api import (
        broadcasts,
        feeds,
        keys,
        links,
        newsletters,
        openapi,
        settings,
        subscribers,
        topics,
    )

    tables = (keys, topics, broadcasts, newsletters, feeds, subscribers, settings, openapi, links)
    return [module.routes for module in tables]


def register(app: Any) -> None:
    """Add every /v1 blueprint to the Chalice app, and answer its 405s in the API's error shape."""
    from subcast.publisher_api import docs

    # The reference page is no API operation, so it is not a route table: openapi.json omits it.
    for table in [*route_tables(), docs.routes]:
        app.register_blueprint(table.blueprint())
    app.register_middleware(method_not_allowed, "http")
