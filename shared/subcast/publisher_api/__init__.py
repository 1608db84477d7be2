"""The publisher REST API under /v1 as Chalice blueprints; ``functions/api/app.py`` registers them.

Routes only: the rules live in ``subcast.services``.
"""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add every /v1 blueprint to the Chalice app."""
    from subcast.publisher_api import broadcasts, keys, newsletters, subscribers, topics

    for module in (keys, topics, broadcasts, newsletters, subscribers):
        app.register_blueprint(module.routes.blueprint())
