"""/v1/newsletters: an issue in, snippets out as drafts or spaced out in time; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from subcast import clock
from tests.integration.test_api import assert_error, call, changes_nothing, create_topic, new_key

FIXTURES = Path(__file__).parent.parent / "fixtures" / "newsletters"


@pytest.fixture
def editor(stack) -> str:
    return new_key("topics", "broadcasts")


def test_an_html_issue_becomes_draft_snippets(stack, editor):
    # Given a Mailchimp-style issue
    content = (FIXTURES / "mailchimp_issue.html").read_text()

    # When it is imported without a schedule
    status, body, _ = call("POST", "/v1/newsletters", {"format": "html", "content": content}, editor)

    # Then each story is a draft broadcast: bold headline, teaser, its link; nothing is queued
    assert status == 201
    drafts = body["broadcasts"]
    assert len(drafts) >= 2
    assert {item["status"] for item in drafts} == {"draft"}
    assert all(item["text"].startswith("**") for item in drafts)
    assert any(item["link"] for item in drafts)
    assert "unsubscribe" not in " ".join(item["text"].lower() for item in drafts)
    assert stack.depth("FanoutQueue") == 0


def test_a_scheduled_import_spaces_the_snippets_out(stack, editor):
    # Given a Markdown issue and a topic
    create_topic(editor, "news")
    content = (FIXTURES / "markdown_issue.md").read_text()
    start = (clock.now() + timedelta(hours=1)).replace(microsecond=0)

    # When it is imported to start in an hour, one snippet every 30 minutes
    status, body, _ = call(
        "POST",
        "/v1/newsletters",
        {
            "format": "markdown",
            "content": content,
            "topics": ["news"],
            "schedule": {"start": start.isoformat(), "every_minutes": 30},
            "max_snippets": 3,
        },
        editor,
    )

    # Then at most three are scheduled, 30 minutes apart, on the topic
    assert status == 201
    scheduled = body["broadcasts"]
    assert 1 < len(scheduled) <= 3
    times = [item["send_at"] for item in scheduled]
    expected = [(start + timedelta(minutes=30 * n)).isoformat() for n in range(len(scheduled))]
    assert [clock_time[:19] for clock_time in times] == [moment[:19] for moment in expected]
    assert {item["status"] for item in scheduled} == {"scheduled"}
    assert all(item["topics"] == ["news"] for item in scheduled)


def test_a_retried_import_with_the_same_idempotency_key_creates_nothing_new(stack, editor):
    content = (FIXTURES / "substack_post.html").read_text()
    body = {"format": "html", "content": content}
    headers = {"Idempotency-Key": "issue-42"}
    first = call("POST", "/v1/newsletters", body, editor, headers=headers)[1]["broadcasts"]
    with changes_nothing(stack):
        second = call("POST", "/v1/newsletters", body, editor, headers=headers)[1]["broadcasts"]
    assert [item["id"] for item in second] == [item["id"] for item in first]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"format": "pdf", "content": "x"}, 400, "invalid_request"),
        ({"format": "html", "content": ""}, 400, "invalid_request"),
        ({"format": "html"}, 400, "invalid_request"),
        ({"format": "html", "content": "   "}, 422, "no_stories"),
        ({"format": "markdown", "content": "# A\n\ntext", "topics": ["unknown-topic"]}, 422, "unknown_topic"),
        (
            {
                "format": "markdown",
                "content": "# A\n\ntext",
                "schedule": {"start": "2000-01-01T00:00:00+00:00", "every_minutes": 5},
            },
            422,
            "send_at_in_past",
        ),
        (
            {
                "format": "markdown",
                "content": "# A\n\ntext",
                "schedule": {"start": "2030-01-01T00:00:00", "every_minutes": 5},
            },
            400,
            "invalid_request",
        ),
        (
            {
                "format": "markdown",
                "content": "# A\n\ntext",
                "schedule": {"start": "2030-01-01T00:00:00+00:00", "every_minutes": 0},
            },
            400,
            "invalid_request",
        ),
        ({"format": "markdown", "content": "# A\n\ntext", "max_snippets": 31}, 400, "invalid_request"),
        ({"format": "markdown", "content": "# A\n\ntext", "extra": True}, 400, "invalid_request"),
    ],
)
def test_a_bad_import_is_refused_and_creates_nothing(stack, editor, body, status, code):
    with changes_nothing(stack):
        assert_error(call("POST", "/v1/newsletters", body, editor), status, code)


def test_an_issue_over_one_mib_is_413(stack, editor):
    content = "<p>" + "x" * (1024 * 1024) + "</p>"
    with changes_nothing(stack):
        assert_error(
            call("POST", "/v1/newsletters", {"format": "html", "content": content}, editor), 413, "too_large"
        )
