"""/v1/keys: create (shown once), list (never the secret), revoke (at once, for good), last use."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from subcast import clock
from tests.integration.test_api import assert_error, call, changes_nothing, new_key


def test_a_new_key_is_shown_once_and_works_with_exactly_its_scopes(stack):
    # Given an admin
    admin = new_key("admin", name="ops")

    # When they create a key for a newsletter tool that may only broadcast
    status, created, _ = call(
        "POST", "/v1/keys", {"name": "newsletter tool", "scopes": ["broadcasts"]}, admin
    )

    # Then the answer carries the secret once, and the key does what its scope allows, nothing more
    assert status == 201
    assert created["key"].startswith(f"sc_{created['id']}_")
    assert (created["name"], created["scopes"], created["revoked_at"]) == (
        "newsletter tool",
        ["broadcasts"],
        None,
    )
    assert call("POST", "/v1/broadcasts", {"text": "Hi", "send_at": None}, created["key"])[0] == 201
    assert_error(call("GET", "/v1/topics", key=created["key"]), 403, "forbidden")

    # And listing shows it without the secret, nor its hash, anywhere
    status, listed, _ = call("GET", "/v1/keys", key=admin)
    assert status == 200
    mine = next(item for item in listed["keys"] if item["id"] == created["id"])
    assert set(mine) == {"id", "name", "scopes", "created_at", "last_used_at", "revoked_at"}
    assert created["key"] not in json.dumps(listed)
    assert created["key"].split("_", 2)[2] not in json.dumps(stack.scan())


def test_a_revoked_key_is_refused_at_once_and_revoking_again_changes_nothing(stack):
    # Given an admin and a colleague's key
    admin = new_key("admin", name="ops")
    _, colleague, _ = call("POST", "/v1/keys", {"name": "colleague", "scopes": ["topics"]}, admin)
    assert call("GET", "/v1/topics", key=colleague["key"])[0] == 200

    # When the admin revokes it (twice)
    status, revoked, _ = call("DELETE", f"/v1/keys/{colleague['id']}", key=admin)
    again = call("DELETE", f"/v1/keys/{colleague['id']}", key=admin)

    # Then it answers 401 from now on, with the same revocation time both times
    assert status == 200 and revoked["revoked_at"]
    assert again[0] == 200 and again[1]["revoked_at"] == revoked["revoked_at"]
    assert "revoked" in assert_error(call("GET", "/v1/topics", key=colleague["key"]), 401, "unauthorized")


def test_the_last_admin_key_cannot_be_revoked(stack):
    # Given a single admin key
    admin = new_key("admin", name="ops")
    admin_id = admin.split("_", 2)[1]

    # When it tries to revoke itself, it is refused and nothing changes
    with changes_nothing(stack):
        assert_error(call("DELETE", f"/v1/keys/{admin_id}", key=admin), 409, "last_admin_key")

    # When a second admin key exists, the first can go (and is refused from then on)
    _, second, _ = call("POST", "/v1/keys", {"name": "ops 2", "scopes": ["admin"]}, admin)
    assert call("DELETE", f"/v1/keys/{admin_id}", key=second["key"])[0] == 200
    assert_error(call("GET", "/v1/keys", key=admin), 401, "unauthorized")


def test_an_unknown_key_id_is_404(stack):
    admin = new_key("admin")
    with changes_nothing(stack):
        assert_error(call("DELETE", "/v1/keys/ffffffff", key=admin), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["everything"]},
        {"name": "", "scopes": ["topics"]},
        {"name": "   ", "scopes": ["topics"]},
        {"name": "x" * 81, "scopes": ["topics"]},
        {"name": "x", "scopes": ["topics"], "expires": "never"},
        {"name": 5, "scopes": ["topics"]},
    ],
)
def test_an_invalid_key_request_is_400_and_creates_nothing(stack, body):
    admin = new_key("admin")
    with changes_nothing(stack):
        assert_error(call("POST", "/v1/keys", body, admin), 400, "invalid_request")


def test_last_use_is_recorded_at_most_every_five_minutes(stack):
    # Given a key used now
    admin = new_key("admin")
    key_id = admin.split("_", 2)[1]

    def last_used() -> str | None:
        listed = call("GET", "/v1/keys", key=admin)[1]["keys"]
        return next(item["last_used_at"] for item in listed if item["id"] == key_id)

    first = last_used()
    assert first is not None

    # When it is used again a minute later, the record stays; six minutes later it moves
    try:
        clock.move_to(clock.now() + timedelta(minutes=1))
        assert last_used() == first
        clock.move_to(clock.now() + timedelta(minutes=6))
        assert last_used() > first
    finally:
        clock.move_to(None)
