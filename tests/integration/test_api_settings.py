"""/v1/settings: the publisher's frequency cap (admin only), and how the sender reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subcast import clock
from subcast.domain.preferences import CapPeriod, FrequencyCap
from subcast.services.dependencies import publishing_store
from subcast.services.publisher_settings import CAP_MAX_AGE, publisher_cap
from tests.integration.test_api import assert_error, call, changes_nothing, new_key

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
THREE_A_DAY = {"count": 3, "per": "day"}


@pytest.fixture
def admin(stack) -> str:
    return new_key("admin", name="ops")


def put_cap(key: str, cap: dict[str, object] | None) -> dict[str, object]:
    status, body, _ = call("PUT", "/v1/settings", {"frequency_cap": cap}, key)
    assert status == 200, body
    return body


def settings_items(stack) -> list[dict[str, object]]:
    return [item for item in stack.scan() if item["pk"]["S"] == "SETTINGS"]


def test_without_a_setting_there_is_no_cap(stack, admin):
    # Given a fresh deployment
    # When the settings are read, by the API and by the sender
    status, body, _ = call("GET", "/v1/settings", key=admin)

    # Then there is no cap, and nobody ever changed it
    assert status == 200
    assert body == {"frequency_cap": None, "updated_at": None}
    assert publisher_cap(publishing_store(), clock.now()) is None


@pytest.mark.parametrize("cap", [THREE_A_DAY, {"count": 1, "per": "week"}, {"count": 100, "per": "day"}])
def test_a_cap_is_set_and_read_back(stack, admin, cap):
    # Given the clock at noon
    clock.move_to(NOON)

    # When an admin sets a cap
    changed = put_cap(admin, cap)

    # Then the answer, a later read, the one stored item and the store's domain value all agree
    status, read, _ = call("GET", "/v1/settings", key=admin)
    assert status == 200 and read == changed
    assert changed["frequency_cap"] == cap
    assert datetime.fromisoformat(changed["updated_at"]) - NOON < timedelta(seconds=5)
    assert len(settings_items(stack)) == 1 and settings_items(stack)[0]["sk"] == {"S": "PUBLISHER"}
    assert publishing_store().frequency_cap() == FrequencyCap(cap["count"], CapPeriod(cap["per"]))


def test_null_removes_the_cap_and_says_when(stack, admin):
    # Given a cap
    put_cap(admin, THREE_A_DAY)

    # When it is removed a day later
    clock.move_to(NOON + timedelta(days=1))
    removed = put_cap(admin, None)

    # Then there is no cap any more, and the change is dated
    assert removed["frequency_cap"] is None
    assert removed["updated_at"].startswith("2026-06-16T12:00")
    assert call("GET", "/v1/settings", key=admin)[1] == removed
    assert publishing_store().frequency_cap() is None


@pytest.mark.parametrize(
    "body",
    [
        {"frequency_cap": {"count": 0, "per": "day"}},
        {"frequency_cap": {"count": 101, "per": "day"}},
        {"frequency_cap": {"count": -3, "per": "day"}},
        {"frequency_cap": {"count": 3, "per": "month"}},
        {"frequency_cap": {"count": 3, "per": "DAY"}},
        {"frequency_cap": {"count": "3", "per": "day"}},
        {"frequency_cap": {"count": 3.5, "per": "day"}},
        {"frequency_cap": {"count": True, "per": "day"}},
        {"frequency_cap": {"count": 3}},
        {"frequency_cap": {"per": "day"}},
        {"frequency_cap": {}},
        {"frequency_cap": "3/day"},
        {"frequency_cap": 3},
        {},
        {"frequency_cap": THREE_A_DAY, "colour": "red"},
        {"frequency_cap": {**THREE_A_DAY, "timezone": "Europe/Berlin"}},
        {"cap": THREE_A_DAY},
    ],
)
def test_an_invalid_setting_is_400_and_changes_nothing(stack, admin, body):
    # Given a cap of 5 a week
    put_cap(admin, {"count": 5, "per": "week"})

    with changes_nothing(stack):
        # When an invalid setting is sent
        result = call("PUT", "/v1/settings", body, admin)

    # Then it is refused, and the cap stays
    assert_error(result, 400, "invalid_request")
    assert call("GET", "/v1/settings", key=admin)[1]["frequency_cap"] == {"count": 5, "per": "week"}


@pytest.mark.parametrize("raw", [b"", b"null", b"not json", b'{"frequency_cap": ', b"[]", b'"3/day"'])
def test_a_missing_or_malformed_body_is_400_and_changes_nothing(stack, admin, raw):
    put_cap(admin, THREE_A_DAY)
    with changes_nothing(stack):
        assert_error(call("PUT", "/v1/settings", raw, admin), 400, "malformed_json")
    assert call("GET", "/v1/settings", key=admin)[1]["frequency_cap"] == THREE_A_DAY


def test_a_body_that_is_not_json_by_its_content_type_is_415(stack, admin):
    with changes_nothing(stack):
        result = call("PUT", "/v1/settings", b"3/day", admin, headers={"Content-Type": "text/plain"})
    assert_error(result, 415, "unsupported_media_type")


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", {"frequency_cap": THREE_A_DAY})])
def test_only_an_admin_key_reads_or_changes_the_settings(stack, method, body):
    # Given a key with every scope but admin
    key = new_key("topics", "broadcasts", "subscribers:read")

    with changes_nothing(stack):
        # When it reads or changes the settings
        result = call(method, "/v1/settings", body, key)

    # Then it is forbidden and told that admin is needed
    assert "admin" in assert_error(result, 403, "forbidden")


def test_the_sender_sees_a_change_once_what_it_remembered_is_a_minute_old(stack, admin, monkeypatch):
    # Given a cap of 3 a day, and a sender that has read it at noon
    clock.move_to(NOON)
    put_cap(admin, THREE_A_DAY)
    store = publishing_store()
    reads = []
    read = store.frequency_cap
    monkeypatch.setattr(store, "frequency_cap", lambda: reads.append(clock.now()) or read())
    first = clock.now()
    assert publisher_cap(store, first) == FrequencyCap(3, CapPeriod.DAY)

    # When the publisher changes it to 5 a week
    put_cap(admin, {"count": 5, "per": "week"})

    # Then for the rest of the minute the sender keeps the cap it read, without asking the table again
    clock.move_to(first + CAP_MAX_AGE - timedelta(seconds=1))
    assert publisher_cap(store, clock.now()) == FrequencyCap(3, CapPeriod.DAY)
    assert len(reads) == 1

    # And once that is a minute old, it reads the new cap (and remembers that for a minute)
    clock.move_to(first + CAP_MAX_AGE)
    assert publisher_cap(store, clock.now()) == FrequencyCap(5, CapPeriod.WEEK)
    assert publisher_cap(store, clock.now()) == FrequencyCap(5, CapPeriod.WEEK)
    assert len(reads) == 2

    # And a removed cap is gone for the sender a minute later too
    put_cap(admin, None)
    clock.move_to(first + 2 * CAP_MAX_AGE)
    assert publisher_cap(store, clock.now()) is None


def test_a_clock_moved_back_reads_the_cap_afresh(stack, admin):
    # Given a sender that read the cap at noon, and a cap removed since
    store = publishing_store()
    put_cap(admin, THREE_A_DAY)
    assert publisher_cap(store, NOON) == FrequencyCap(3, CapPeriod.DAY)
    put_cap(admin, None)

    # When it asks at an earlier moment (the local stack's clock moves either way)
    cap = publisher_cap(store, NOON - timedelta(hours=1))

    # Then it does not trust what it read "later", and reads afresh
    assert cap is None


def test_the_answers_match_the_documented_schema(stack, admin):
    # Given the OpenAPI document's schema of the settings
    from jsonschema import Draft202012Validator

    from tests.integration.test_api_openapi import _resolved

    document = call("GET", "/v1/openapi.json")[1]
    schemas = document["components"]["schemas"]
    validator = Draft202012Validator(_resolved({**schemas["SettingsOut"], "$defs": schemas}))
    operations = document["paths"]["/v1/settings"]
    assert operations["put"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SettingsUpdate"
    }

    # When the settings are read before, with and without a cap
    answers = [call("GET", "/v1/settings", key=admin)[1], put_cap(admin, THREE_A_DAY), put_cap(admin, None)]

    # Then each answer is what the document promises
    for answer in answers:
        validator.validate(answer)
