"""End to end: the `subcast` CLI as a subprocess against the local stack, through a publisher's day."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from infra.local import process
from infra.local.stack import free_port
from infra.template import ROOT
from tests.e2e.test_local_stack import SECRET, send, wait_for

pytestmark = pytest.mark.e2e

KEY = "sc_cli00000_cli-e2e-bootstrap-key-for-tests-only"
CHAT = 778001
BROADCAST_ID = re.compile(r"\bb_[0-9a-f]{16}\b")
NEWSLETTERS = ROOT / "tests" / "fixtures" / "newsletters"


@pytest.fixture(scope="module")
def stack() -> Iterator[process.LocalStackProcess]:
    started = process.start(
        {
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "SUBCAST_BOOTSTRAP_API_KEY": KEY,
            "BRAND_NAME": "Daily Bugle",
            "SUBCAST_SCHEDULE_SECONDS": "1",
        }
    )
    yield started
    assert started.stop() == 0, started.log()


def subcast(
    stack, *args: str, key: str = KEY, stdin: str | None = None, url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as a person runs it: environment for the API, output captured (so no terminal)."""
    environment = {**os.environ, "SUBCAST_API_URL": url or stack.base_url, "SUBCAST_API_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "subcast_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def delivered(stack, chat: int = CHAT) -> list[str]:
    """What the sandbox bot sent to ``chat`` (the local stack's Bot API stand-in records it)."""
    _, sent = stack.request("GET", "/_local/telegram/sent")
    return [message.get("text", "") for message in sent["messages"] if message["chat"]["id"] == chat]


@pytest.fixture(scope="module")
def editor(stack) -> str:
    """A key for the newsroom: topics and broadcasts, nothing else."""
    argv = ("keys", "create", "newsroom", "--scope", "topics", "--scope", "broadcasts", "--json")
    created = json.loads(ok(subcast(stack, *argv)))
    assert created["scopes"] == ["topics", "broadcasts"]
    return str(created["key"])


@pytest.fixture(scope="module")
def subscriber(stack, editor) -> int:
    """A reader who subscribed on Telegram after the newsroom made its default topic."""
    ok(subcast(stack, "topics", "create", "news", "News", "--default", key=editor))
    assert send(stack, 1, "/start", chat=CHAT) == 200
    wait_for(lambda: len(delivered(stack)) == 1)
    assert send(stack, 2, "YES", chat=CHAT) == 200
    wait_for(lambda: len(delivered(stack)) == 2)
    return CHAT


def test_an_admin_creates_a_scoped_key_whose_secret_is_shown_once(stack):
    # When an admin creates a key for a tool
    out = ok(subcast(stack, "keys", "create", "newsroom CMS", "--scope", "broadcasts"))

    # Then its secret is printed once, with a warning, and the listing never shows it again
    secret = re.search(r"^ {4}(sc_\S+)$", out, re.MULTILINE)
    assert secret and "will not be shown again" in out
    listing = ok(subcast(stack, "keys", "list"))
    assert "newsroom CMS" in listing and "broadcasts" in listing
    assert secret.group(1) not in listing and KEY not in listing + out


def test_a_publishers_day_send_watch_and_list(stack, editor, subscriber):
    # Given topics, made with the newsroom's key
    ok(subcast(stack, "topics", "create", "sport", "Sport", "--name-de", "Sport und Spiel", key=editor))
    topics = ok(subcast(stack, "topics", "list", key=editor))
    assert re.search(r"^news\s+News\s+-\s+yes\s+active", topics, re.MULTILINE)
    assert "Sport und Spiel" in topics

    # When a broadcast goes to the news topic
    out = ok(subcast(stack, "broadcast", "send", "--topic", "news", "**Extra!** Bridge reopens", key=editor))

    # Then the CLI says what it did and how to retry or follow it
    broadcast_id = BROADCAST_ID.search(out).group(0)
    assert out.startswith(f"Sending {broadcast_id} to news now.")
    assert re.search(r"idempotency key\s+[0-9a-f-]{36}", out)
    assert f"subcast broadcast status {broadcast_id} --watch" in out

    # When it is watched (no terminal: a line per change) until sent
    watched = ok(subcast(stack, "broadcast", "status", broadcast_id, "--watch", key=editor)).splitlines()

    # Then the last progress line counts it sent, and the subscriber has it
    assert re.search(
        r"sent  100% of 1 recipient · sent 1 · failed 0 · skipped 0 · held 0 · pending 0", watched[-2]
    )
    assert watched[-1] == f"{broadcast_id} is sent: 1 of 1 recipient received it."
    assert any("Bridge reopens" in text for text in delivered(stack))

    # And the list shows it delivered
    listing = ok(subcast(stack, "broadcast", "list", "--topic", "news", key=editor))
    assert re.search(
        rf"^{broadcast_id}\s+sent\s+.+\s+news\s+1/1\s+\*\*Extra!\*\* Bridge", listing, re.MULTILINE
    )


def test_a_scheduled_broadcast_is_edited_then_cancelled(stack, editor):
    # Given a broadcast for tomorrow, by the stack's clock
    _, clock = stack.request("GET", "/_local/clock")
    tomorrow = (datetime.fromisoformat(clock["now"]) + timedelta(days=1)).replace(microsecond=0)
    out = ok(subcast(stack, "broadcast", "send", "--at", tomorrow.isoformat(), "Tomorrow's news", key=editor))
    broadcast_id = BROADCAST_ID.search(out).group(0)
    assert (
        out.startswith(f"Scheduled {broadcast_id} for ") and "(in 24 h) to everyone." in out.splitlines()[0]
    )

    # When its text, topics and link change
    ok(
        subcast(
            stack, "broadcast", "edit", broadcast_id, "--text", "-", "--topic", "news",
            "--link", "https://example.com/tomorrow", stdin="Tomorrow's *better* news\n", key=editor,
        )
    )  # fmt: skip

    # Then its status shows the new version
    status = ok(subcast(stack, "broadcast", "status", broadcast_id, key=editor))
    assert re.search(r"text\s+Tomorrow's \*better\* news$", status, re.MULTILINE)
    assert re.search(r"topics\s+news$", status, re.MULTILINE) and "https://example.com/tomorrow" in status

    # When it is cancelled, it reached nobody; a second cancel is refused in the API's words
    cancelled = ok(subcast(stack, "broadcast", "cancel", broadcast_id, key=editor))
    assert cancelled.startswith(f"Cancelled {broadcast_id}: it had reached nobody.")
    again = subcast(stack, "broadcast", "cancel", broadcast_id, key=editor)
    assert again.returncode == 1
    assert again.stderr == "subcast: not_cancellable: a cancelled broadcast cannot be cancelled\n"
    assert broadcast_id in ok(subcast(stack, "broadcast", "list", "--status", "cancelled", key=editor))


def test_a_draft_is_scheduled_later_and_a_retry_with_its_key_creates_nothing_new(stack, editor):
    # Given a draft sent twice with one idempotency key (a retry after a lost answer)
    command = ("broadcast", "send", "--draft", "--idempotency-key", "cli-e2e-retry", "Draft for later")
    first, second = ok(subcast(stack, *command, key=editor)), ok(subcast(stack, *command, key=editor))

    # Then both name the same broadcast, and the second says nothing is sent twice
    broadcast_id = BROADCAST_ID.search(first).group(0)
    assert first.startswith(f"Saved draft {broadcast_id}")
    assert second.startswith(
        f"{broadcast_id} was created by an earlier try with this key; nothing is sent twice."
    )

    # When the draft is scheduled for next week
    _, clock = stack.request("GET", "/_local/clock")
    week = (datetime.fromisoformat(clock["now"]) + timedelta(days=7)).isoformat()
    out = ok(subcast(stack, "broadcast", "schedule", broadcast_id, "--at", week, key=editor))
    assert out.startswith(f"Scheduled {broadcast_id} for ") and "(in 7 days)" in out


def test_errors_exit_1_in_the_apis_words_and_never_echo_a_key(stack, editor):
    # An unknown broadcast
    missing = subcast(stack, "broadcast", "status", "b_0000000000000000", key=editor)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "subcast: not_found: no broadcast b_0000000000000000\n"

    # A wrong key
    wrong = subcast(stack, "topics", "list", key="sc_wrong000_not-a-real-key")
    assert wrong.returncode == 1 and wrong.stderr.startswith("subcast: unauthorized: unknown API key\n")
    assert "sc_wrong000" not in wrong.stdout + wrong.stderr

    # A key without the scope
    forbidden = subcast(stack, "subscribers", "list", key=editor)
    assert (
        forbidden.returncode == 1
        and "forbidden: this API key lacks the 'subscribers:read' scope" in forbidden.stderr
    )

    # The API refusing an unknown topic: the CLI names the command that creates it
    invalid = subcast(stack, "broadcast", "send", "--topic", "no-such-topic", "Hello", key=editor)
    assert invalid.returncode == 1
    assert invalid.stderr.splitlines() == [
        "subcast: unknown_topic: unknown topics: no-such-topic",
        'Create it with:  subcast topics create no-such-topic "<Name>"',
    ]

    # A usage error, caught before any request: the reason on the first line
    usage = subcast(stack, "broadcast", "send", "--at", "2026-12-24T08:00", "Hello", key=editor)
    assert usage.returncode == 2 and usage.stderr.startswith("subcast: --at needs an offset")

    # Nothing listening
    refused = subcast(stack, "topics", "list", url=f"http://127.0.0.1:{free_port()}")
    assert refused.returncode == 1 and "connection refused" in refused.stderr and "make run" in refused.stderr


def test_json_output_is_the_apis_json(stack, subscriber):
    # Given a subscriber and a broadcast
    people = json.loads(ok(subcast(stack, "subscribers", "list", "--json")))
    assert people["counts"]["active"] >= 1
    person = people["subscribers"][0]["id"]
    created = json.loads(ok(subcast(stack, "broadcast", "send", "--draft", "--json", "JSON draft")))

    # Then every command's --json parses as the API's own shape
    assert json.loads(ok(subcast(stack, "broadcast", "status", created["id"], "--json")))["status"] == "draft"
    assert "topics" in json.loads(ok(subcast(stack, "--json", "topics", "list")))
    assert "keys" in json.loads(ok(subcast(stack, "keys", "list", "--json")))
    assert "next_cursor" in json.loads(ok(subcast(stack, "broadcast", "list", "--all", "--json")))
    shown = json.loads(ok(subcast(stack, "subscribers", "show", person, "--json")))
    assert shown["consent"][0]["confirmed_at"] and "address" not in json.dumps(shown["channels"])
    assert "entries" in json.loads(ok(subcast(stack, "subscribers", "inbox", "--json")))


def test_the_human_subscriber_view_shows_settings_and_consent(stack, subscriber):
    person = json.loads(ok(subcast(stack, "subscribers", "list", "--json")))["subscribers"][0]["id"]
    listing = ok(subcast(stack, "subscribers", "list"))
    assert re.search(rf"^{person}\s+active\s+news", listing, re.MULTILINE) and "active 1" in listing
    assert re.search(r"^ID\s+STATE\s+TOPICS", listing, re.MULTILINE)
    assert ok(subcast(stack, "subscribers", "list", "--state", "active")) == listing
    assert "No paused subscribers." in ok(subcast(stack, "subscribers", "list", "--status", "paused"))
    shown = ok(subcast(stack, "subscribers", "show", person))
    assert re.search(r"channels\s+telegram \(reachable\)", shown)
    assert re.search(r"^  telegram\s+direct\s+\S+ \S+ \S+\s+\S+ \S+ \S+\s+-", shown, re.MULTILINE)


def test_a_newsletter_issue_becomes_draft_snippets(stack, editor):
    # When a Markdown issue is imported without a schedule
    out = ok(subcast(stack, "newsletter", "import", str(NEWSLETTERS / "markdown_issue.md"), key=editor))

    # Then its snippets are drafts, listed in a table, and really there
    count = int(
        re.match(r"Imported (\d+) snippets? from markdown_issue\.md as drafts for everyone", out).group(1)
    )
    ids = BROADCAST_ID.findall(out)
    assert count >= 2 and len(ids) == count
    drafts = json.loads(
        ok(subcast(stack, "broadcast", "list", "--status", "draft", "--all", "--json", key=editor))
    )
    assert set(ids) <= {item["id"] for item in drafts["broadcasts"]}

    # And an HTML issue on stdin, scheduled every 30 minutes, starts when asked
    _, clock = stack.request("GET", "/_local/clock")
    start = (datetime.fromisoformat(clock["now"]) + timedelta(hours=2)).replace(microsecond=0).isoformat()
    html = (NEWSLETTERS / "mailchimp_issue.html").read_text(encoding="utf-8")
    argv = (
        "newsletter",
        "import",
        "-",
        "--topic",
        "news",
        "--start",
        start,
        "--every",
        "30",
        "--max-snippets",
        "3",
    )
    scheduled = ok(subcast(stack, *argv, "--json", stdin=html, key=editor))
    send_at = [datetime.fromisoformat(item["send_at"]) for item in json.loads(scheduled)["broadcasts"]]
    assert send_at[0] == datetime.fromisoformat(start) and send_at[1] - send_at[0] == timedelta(minutes=30)
