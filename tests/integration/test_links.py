"""Link tracking: /l/<code> counts a click per broadcast and URL and redirects; nothing personal is kept."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.integration.test_api import assert_error, call, changes_nothing, create_broadcast, new_key
from tests.integration.test_delivery import deliver_everything


def test_tracked_links_redirect_and_are_counted_per_url(stack):
    # Given a subscriber and a broadcast with tracked links (one in the text, one as its link)
    editor = new_key("broadcasts")
    stack.add_subscriber(1)
    created = create_broadcast(
        editor,
        text="Read [the story](https://example.org/story)",
        link="https://example.org/more",
        track_links=True,
    )
    assert created["track_links"] is True

    # When it is delivered
    deliver_everything(stack)

    # Then the message shows the same text, but both links point at the tracking redirect
    [message] = stack.bot.sent()
    assert message["text"] == "Read the story\n\nhttps://example.org/more"
    urls = [entity["url"] for entity in message["entities"] if entity["type"] == "text_link"]
    assert len(urls) == 2 and all(urlsplit(url).path.startswith("/l/b_") for url in urls)

    # When someone follows the first link twice and the second once
    codes = [urlsplit(url).path.removeprefix("/l/") for url in urls]
    for code in (codes[0], codes[0], codes[1]):
        status, _, _ = call("GET", f"/l/{code}")
        assert status == 302

    # Then each redirect went to the right place, and the broadcast counts clicks per URL
    assert call("GET", f"/l/{codes[0]}")[2]["location"] == "https://example.org/story"
    clicks = call("GET", f"/v1/broadcasts/{created['id']}", key=editor)[1]["clicks"]
    assert clicks == {"https://example.org/story": 3, "https://example.org/more": 1}

    # And nothing about who clicked is stored: the link items hold only the URL and a count
    link_items = [item for item in stack.scan() if item["sk"]["S"].startswith("LINK#")]
    assert {frozenset(item) for item in link_items} == {frozenset({"pk", "sk", "url", "clicks"})}


def test_untracked_broadcasts_link_directly(stack):
    editor = new_key("broadcasts")
    stack.add_subscriber(1)
    created = create_broadcast(editor, text="Read [it](https://example.org/a)")
    deliver_everything(stack)
    [message] = stack.bot.sent()
    assert [entity["url"] for entity in message["entities"]] == ["https://example.org/a"]
    assert call("GET", f"/v1/broadcasts/{created['id']}", key=editor)[1]["clicks"] is None


def test_unknown_and_forged_codes_are_404_and_count_nothing(stack):
    editor = new_key("broadcasts")
    created = create_broadcast(editor, text="[x](https://example.org/x)", track_links=True, draft=True)
    with changes_nothing(stack):
        for code in (f"{created['id']}-aaaaaaaaaa", "b_0000000000000000-abcdefghij", "anything"):
            assert_error(call("GET", f"/l/{code}"), 404, "not_found")
