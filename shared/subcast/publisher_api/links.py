"""/l/<code>: a tracked link. Counts the click for its broadcast and redirects; keeps nothing else."""

from __future__ import annotations

from chalice import Response  # type: ignore[attr-defined]

from subcast.domain.links import parse_code
from subcast.publisher_api.http import Routes, error_response
from subcast.services.dependencies import link_store

routes = Routes("links")


@routes.route("/l/{code}", "GET", None, response=None, errors=(404,))
def follow_link_view(code: str) -> Response:
    """Count one click and redirect to the link's target."""
    parsed = parse_code(code)
    target = link_store().click(*parsed) if parsed else None
    if target is None:
        return error_response(404, "not_found", "this link does not exist")
    # No caching: every click should reach us to be counted.
    return Response(status_code=302, body="", headers={"Location": target, "Cache-Control": "no-store"})
