"""The publisher REST API under /v1 (Chalice): the app object is the Lambda handler.

The routes live in ``subcast.publisher_api`` (one blueprint per resource) and the rules in
``subcast.services``; this file only builds the app.
"""

from __future__ import annotations

from chalice import Chalice

from subcast.publisher_api import register

app = Chalice(app_name="subcast-api")
register(app)
