"""/v1/broadcasts beyond creation: drafts, edits until sending starts, listing, links, reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from subcast import clock
from tests.integration.test_api import (
    assert_error,
    call,
    changes_nothing,
    create_broadcast,
    create_topic,
    in_an_hour,
    new_key,
)


@pytest.fixture
def editor(stack) -> str:
    return new_key("topics", "broadcasts")


def test_a_draft_waits_until_it_is_scheduled(stack, editor):
    # Given a draft
    draft = create_broadcast(editor, text="Draft", draft=True)
    assert draft["status"] == "draft"
    assert stack.depth("FanoutQueue") == 0

    # When the scheduler ticks, nothing happens to it
    from tests.integration.conftest import invoke

    invoke("DispatcherFunction", {"source": "aws.events"})
    assert stack.depth("FanoutQueue") == 0

    # When it is scheduled with no body, it goes out now; scheduling it again is a conflict
    status, scheduled, _ = call("POST", f"/v1/broadcasts/{draft['id']}/schedule", None, editor)
    assert (status, scheduled["status"]) == (200, "scheduled")
    assert stack.depth("FanoutQueue") == 1
    with changes_nothing(stack):
        assert_error(call("POST", f"/v1/broadcasts/{draft['id']}/schedule", None, editor), 409, "not_a_draft")


def test_a_draft_scheduled_for_later_enters_the_due_index(stack, editor):
    draft = create_broadcast(editor, draft=True)
    later = in_an_hour()
    status, scheduled, _ = call("POST", f"/v1/broadcasts/{draft['id']}/schedule", {"send_at": later}, editor)
    assert (status, scheduled["status"]) == (200, "scheduled")
    assert stack.depth("FanoutQueue") == 0
    item = next(
        i for i in stack.scan() if i["pk"]["S"] == f"BROADCAST#{draft['id']}" and i["sk"]["S"] == "BROADCAST"
    )
    assert item["due_kind"]["S"] == "broadcast"


def test_a_scheduled_broadcast_is_edited_and_moves_in_time(stack, editor):
    # Given a topic and a broadcast for in an hour
    create_topic(editor, "sport")
    created = create_broadcast(editor, text="Old", send_at=in_an_hour())

    # When text, topics, link and image change, then the link is removed again
    status, edited, _ = call(
        "PATCH",
        f"/v1/broadcasts/{created['id']}",
        {
            "text": "**New**",
            "topics": ["sport"],
            "link": "https://example.org/a",
            "image_url": "https://example.org/i.png",
        },
        editor,
    )
    _, unlinked, _ = call("PATCH", f"/v1/broadcasts/{created['id']}", {"link": None}, editor)

    # Then the changes are kept and the broadcast is still scheduled
    assert status == 200
    assert (edited["text"], edited["topics"], edited["link"]) == (
        "**New**",
        ["sport"],
        "https://example.org/a",
    )
    assert (unlinked["link"], unlinked["image_url"], unlinked["status"]) == (
        None,
        "https://example.org/i.png",
        "scheduled",
    )

    # When its send_at moves to now, it starts at once
    call("PATCH", f"/v1/broadcasts/{created['id']}", {"send_at": clock.now().isoformat()}, editor)
    assert stack.depth("FanoutQueue") == 1


def test_a_broadcast_that_is_sending_can_no_longer_be_edited(stack, editor):
    from subcast.services.dependencies import broadcast_store

    created = create_broadcast(editor, send_at=in_an_hour())
    broadcast_store().start_sending(created["id"], clock.now())
    with changes_nothing(stack):
        message = assert_error(
            call("PATCH", f"/v1/broadcasts/{created['id']}", {"text": "x"}, editor), 409, "not_editable"
        )
    assert "sending" in message


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"text": ""}, 400, "invalid_request"),
        ({"text": None}, 400, "invalid_request"),
        ({"topics": ["nope"]}, 422, "unknown_topic"),
        ({"send_at": "2000-01-01T00:00:00+00:00"}, 422, "send_at_in_past"),
        ({"send_at": "tomorrow"}, 400, "invalid_request"),
        ({"link": "javascript:alert(1)"}, 400, "invalid_request"),
        ({"image_url": "ftp://example.org/x.png"}, 400, "invalid_request"),
        ({"attributes": {"kwh": True}}, 400, "invalid_request"),
        ({"status": "sent"}, 400, "invalid_request"),
    ],
)
def test_an_invalid_edit_is_refused_and_changes_nothing(stack, editor, body, status, code):
    created = create_broadcast(editor, send_at=in_an_hour())
    with changes_nothing(stack):
        assert_error(call("PATCH", f"/v1/broadcasts/{created['id']}", body, editor), status, code)


def test_editing_or_scheduling_an_unknown_broadcast_is_404(stack, editor):
    with changes_nothing(stack):
        assert_error(
            call("PATCH", "/v1/broadcasts/b_0123456789abcdef", {"text": "x"}, editor), 404, "not_found"
        )
        assert_error(
            call("POST", "/v1/broadcasts/b_0123456789abcdef/schedule", None, editor), 404, "not_found"
        )


def test_broadcasts_are_listed_newest_first_filtered_and_paged(stack, editor):
    # Given five broadcasts a minute apart: two drafts on sport, three scheduled
    create_topic(editor, "sport")
    start = clock.now()
    ids = []
    try:
        for minute in range(5):
            clock.move_to(start + timedelta(minutes=minute))
            draft = minute < 2
            fields = {"draft": True, "topics": ["sport"]} if draft else {"send_at": in_an_hour()}
            ids.append(create_broadcast(editor, text=f"n{minute}", **fields)["id"])
    finally:
        clock.move_to(None)

    # When they are listed two at a time, following the cursor
    seen, cursor = [], None
    for _ in range(5):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call("GET", "/v1/broadcasts", key=editor, query=query)
        assert status == 200 and len(page["broadcasts"]) <= 2
        seen += [item["id"] for item in page["broadcasts"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    # Then every broadcast comes once, newest first; filters narrow the list
    assert seen == list(reversed(ids))
    drafts = call("GET", "/v1/broadcasts", key=editor, query="status=draft")[1]["broadcasts"]
    assert [item["id"] for item in drafts] == [ids[1], ids[0]]
    on_sport = call("GET", "/v1/broadcasts", key=editor, query="topic=sport&status=scheduled")[1][
        "broadcasts"
    ]
    assert on_sport == []


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("status=done", 400, "invalid_request"),
        ("limit=0", 400, "invalid_request"),
        ("limit=101", 400, "invalid_request"),
        ("cursor=abc", 422, "invalid_cursor"),
        ("cursor=e30=", 422, "invalid_cursor"),
    ],
)
def test_a_bad_listing_query_is_refused(stack, editor, query, status, code):
    assert_error(call("GET", "/v1/broadcasts", key=editor, query=query), status, code)


def test_a_draft_can_be_cancelled(stack, editor):
    draft = create_broadcast(editor, draft=True)
    status, cancelled, _ = call("POST", f"/v1/broadcasts/{draft['id']}/cancel", None, editor)
    assert (status, cancelled["status"]) == (200, "cancelled")


def test_markdown_and_link_arrive_formatted_as_telegram_parses_them(stack, editor):
    # Given a subscriber and a broadcast in the Markdown subset with a link
    from tests.integration.test_delivery import deliver_everything

    stack.add_subscriber(1)
    create_broadcast(
        editor,
        text="**Big** news, *really* & <b>not</b> HTML: [details](https://example.org/d)",
        link="https://example.org/more",
    )

    # When it is delivered
    deliver_everything(stack)

    # Then Telegram (the test server parses the HTML as Telegram does) shows the text with its formats
    [message] = stack.bot.sent()
    assert message["text"].startswith("Big news, really & <b>not</b> HTML: details")
    assert "https://example.org/more" in message["text"]
    kinds = {entity["type"] for entity in message["entities"]}
    assert {"bold", "italic", "text_link"} <= kinds


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"text": "x" * 4090, "link": "https://example.org/a-long-link"}, "does_not_fit_one_message"),
        ({"text": "see [this](javascript:alert(1))"}, "invalid_link"),
    ],
)
def test_a_broadcast_that_cannot_be_one_telegram_message_is_422(stack, editor, fields, code):
    # (each field matches the schema; only together, or read as Markdown, do they fail)
    with changes_nothing(stack):
        assert_error(call("POST", "/v1/broadcasts", fields, editor), 422, code)


def test_an_edit_that_makes_it_too_long_is_422(stack, editor):
    created = create_broadcast(editor, text="x" * 4000, send_at=in_an_hour())
    with changes_nothing(stack):
        message = assert_error(
            call(
                "PATCH",
                f"/v1/broadcasts/{created['id']}",
                {"link": "https://example.org/" + "y" * 200},
                editor,
            ),
            422,
            "does_not_fit_one_message",
        )
    assert "one Telegram message" in message
