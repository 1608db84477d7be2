"""/v1/topics beyond creation: names in German, default topics for new subscribers, update, archive."""

from __future__ import annotations

import pytest

from tests.integration.test_api import assert_error, call, changes_nothing, create_topic, new_key
from tests.integration.test_commands import profile, say


@pytest.fixture
def editor(stack) -> str:
    return new_key("topics", "broadcasts")


def test_a_topic_is_updated_but_keeps_its_slug(stack, editor):
    # Given a topic
    create_topic(editor, "energie", "Energy")

    # When its German name, description and default flag are set, then the German name removed
    status, updated, _ = call(
        "PATCH",
        "/v1/topics/energie",
        {"name_de": "Energie", "description": "Prices", "default": True},
        editor,
    )
    _, cleared, _ = call("PATCH", "/v1/topics/energie", {"name_de": None}, editor)

    # Then each change is kept and the rest stays
    assert status == 200
    assert (updated["slug"], updated["name"], updated["name_de"], updated["default"]) == (
        "energie", "Energy", "Energie", True,
    )  # fmt: skip
    assert (cleared["name_de"], cleared["description"], cleared["default"]) == (None, "Prices", True)


@pytest.mark.parametrize(
    "body",
    [{}, {"slug": "other"}, {"name": ""}, {"name": "x" * 81}, {"default": "yes"}, {"colour": "red"}],
)
def test_an_invalid_update_is_400_and_changes_nothing(stack, editor, body):
    create_topic(editor, "energie")
    with changes_nothing(stack):
        assert_error(call("PATCH", "/v1/topics/energie", body, editor), 400, "invalid_request")


def test_updating_or_archiving_an_unknown_topic_is_404(stack, editor):
    with changes_nothing(stack):
        assert_error(call("PATCH", "/v1/topics/nothing", {"name": "X"}, editor), 404, "not_found")
        assert_error(call("POST", "/v1/topics/nothing/archive", None, editor), 404, "not_found")


def test_an_archived_topic_takes_no_broadcasts_and_is_listed_only_on_request(stack, editor):
    # Given two topics, one archived (twice: the second changes nothing)
    create_topic(editor, "sport")
    create_topic(editor, "politik")
    status, archived, _ = call("POST", "/v1/topics/politik/archive", None, editor)
    again = call("POST", "/v1/topics/politik/archive", None, editor)[1]

    # Then it is gone from the default list, present with include_archived, and refuses broadcasts
    assert status == 200 and archived["archived_at"] == again["archived_at"]
    assert [t["slug"] for t in call("GET", "/v1/topics", key=editor)[1]["topics"]] == ["sport"]
    listed = call("GET", "/v1/topics", key=editor, query="include_archived=true")[1]["topics"]
    assert [t["slug"] for t in listed] == ["politik", "sport"]
    with changes_nothing(stack):
        message = assert_error(
            call("POST", "/v1/broadcasts", {"text": "x", "topics": ["politik"]}, editor),
            422,
            "archived_topic",
        )
    assert "archived" in message
    assert_error(
        call("GET", "/v1/topics", key=editor, query="include_archived=maybe"), 400, "invalid_request"
    )


def test_subscribers_see_active_topics_in_their_language_and_start_with_the_defaults(stack, editor):
    # Given topics with German names, one default, one archived
    create_topic(editor, "news", "News")
    create_topic(editor, "sport", "Sport")
    create_topic(editor, "wetter", "Weather")
    call("PATCH", "/v1/topics/wetter", {"name_de": "Wetter", "default": True}, editor)
    call("PATCH", "/v1/topics/news", {"default": True}, editor)
    call("POST", "/v1/topics/sport/archive", None, editor)

    # When a German speaker subscribes and asks for the topics
    say(stack, 1, "/start", language="de")
    say(stack, 2, "JA", language="de")
    [listing] = say(stack, 3, "THEMEN", language="de")

    # Then they start with the default topics, see them by their German names, never the archived one
    subscriber, _ = profile()
    assert subscriber is not None and subscriber.topics == ("news", "wetter")
    assert "wetter: Wetter" in listing and "news: News" in listing
    assert "sport: Sport" not in listing
