"""`subcast broadcast`: send, follow, list, edit, schedule and cancel broadcasts."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from subcast_cli.arguments import attribute, command, group_parser, moment, page_size, seconds
from subcast_cli.client import ApiClient, ApiError, Unreachable, with_retry_hint
from subcast_cli.output import NOTHING, Console, key_values, plural, relative, table, topics_of
from subcast_cli.output import moment as shown_moment
from subcast_cli.progress import progress_line, reasons, watch

STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
TEXT_HELP = "Markdown subset: **bold**, *italic*, [text](https://...); '-' reads it from stdin"


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    actions = group_parser(resources, "broadcast", "send, follow, list, edit, schedule and cancel broadcasts")

    send = command(
        actions, "send", common, "send a broadcast now, at a moment, or keep it as a draft", send_broadcast
    )
    send.add_argument("text", metavar="TEXT", help=TEXT_HELP)
    send.add_argument(
        "--topic", action="append", dest="topics", metavar="SLUG", help="repeat for several; none: everyone"
    )
    send.add_argument(
        "--at", type=moment, metavar="ISO-8601", help="e.g. 2026-12-24T08:00+01:00 (default: now)"
    )
    send.add_argument("--link", metavar="URL", help="a link shown under the text")
    send.add_argument("--image", metavar="URL", help="an image shown with the text")
    send.add_argument(
        "--attr",
        action="append",
        type=attribute,
        metavar="NAME=VALUE",
        help="a fact alerts compare, e.g. price=99",
    )
    send.add_argument(
        "--draft", action="store_true", help="keep it; nothing goes out until `broadcast schedule`"
    )
    send.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="to retry an attempt whose outcome is unknown: the API never sends twice for one key "
        "(default: a new random key, printed)",
    )

    listing = command(actions, "list", common, "broadcasts, newest first", list_broadcasts)
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--topic", metavar="SLUG")
    listing.add_argument("--limit", type=page_size, metavar="N", help="1-100 per page (default 20)")
    listing.add_argument("--all", action="store_true", help="every page, not just the first")

    status = command(actions, "status", common, "a broadcast's status and delivery counts", show_status)
    status.add_argument("id", metavar="ID")
    status.add_argument("--watch", action="store_true", help="follow it every second until sent or cancelled")
    status.add_argument(
        "--timeout", type=seconds, metavar="SECONDS", help="with --watch: give up after this long"
    )

    edit = command(
        actions, "edit", common, "change a draft or scheduled broadcast (not once sending)", edit_broadcast
    )
    edit.add_argument("id", metavar="ID")
    edit.add_argument("--text", help=TEXT_HELP)
    audience = edit.add_mutually_exclusive_group()
    audience.add_argument(
        "--topic", action="append", dest="topics", metavar="SLUG", help="replaces its topics"
    )
    audience.add_argument("--everyone", action="store_true", help="no topics: every active subscriber")
    edit.add_argument("--at", type=moment, metavar="ISO-8601", help="a new moment, with offset")
    link = edit.add_mutually_exclusive_group()
    link.add_argument("--link", metavar="URL")
    link.add_argument("--no-link", action="store_true", help="remove the link")
    image = edit.add_mutually_exclusive_group()
    image.add_argument("--image", metavar="URL")
    image.add_argument("--no-image", action="store_true", help="remove the image")
    edit.add_argument(
        "--attr", action="append", type=attribute, metavar="NAME=VALUE", help="replaces them all"
    )

    schedule = command(
        actions, "schedule", common, "let a draft go out, now or --at a moment", schedule_broadcast
    )
    schedule.add_argument("id", metavar="ID")
    schedule.add_argument("--at", type=moment, metavar="ISO-8601", help="default: now")

    cancel = command(actions, "cancel", common, "stop a scheduled or sending broadcast", cancel_broadcast)
    cancel.add_argument("id", metavar="ID")


def _path(broadcast_id: str, action: str = "") -> str:
    return f"/v1/broadcasts/{quote(broadcast_id, safe='')}{action}"


def _text(value: str) -> str:
    return sys.stdin.read().rstrip("\n") if value == "-" else value


def send_broadcast(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    body: dict[str, Any] = {"text": _text(args.text)}
    optional = {"topics": args.topics, "send_at": args.at, "link": args.link, "image_url": args.image}
    body.update({name: value for name, value in optional.items() if value})
    if args.attr:
        body["attributes"] = dict(args.attr)
    if args.draft:
        body["draft"] = True
    key = args.idempotency_key or str(uuid.uuid4())
    try:
        reply = client.post("/v1/broadcasts", body, {"Idempotency-Key": key})
    except (Unreachable, ApiError) as error:
        raise with_retry_hint(error, key) from None
    broadcast = reply.body
    if console.as_json:
        console.json(broadcast)
        return 0
    identifier, replayed = broadcast.get("id", "?"), reply.headers.get("idempotent-replayed") == "true"
    if replayed:
        headline = f"{identifier} was created by an earlier try with this key; nothing is sent twice."
    else:
        # The API's clock, not this machine's: the local stack's clock may have been moved.
        headline = _headline(broadcast, broadcast.get("created_at"))
    console.line(headline)
    console.lines(details(broadcast, [("idempotency key", key)]))
    if broadcast.get("status") == "draft":
        console.line(f"\nWhen it is ready:  subcast broadcast schedule {identifier} [--at ISO-8601]")
    else:
        console.line(f"\nFollow it:  subcast broadcast status {identifier} --watch")
    return 0


def _headline(broadcast: dict[str, Any], reference: str | None = None) -> str:
    """What just happened to ``broadcast``; ``reference`` is now (default: the machine's clock)."""
    identifier, status = broadcast.get("id", "?"), broadcast.get("status")
    audience = topics_of(broadcast.get("topics", []))
    if status == "draft":
        return f"Saved draft {identifier} (for {audience}); nothing goes out until it is scheduled."
    distance = relative(broadcast["send_at"], reference or datetime.now(UTC).isoformat())
    if status == "scheduled" and distance != "now":
        return f"Scheduled {identifier} for {shown_moment(broadcast['send_at'])} ({distance}) to {audience}."
    return f"Sending {identifier} to {audience} now."


def details(broadcast: dict[str, Any], extra: list[tuple[str, str]] | None = None) -> list[str]:
    """A broadcast as aligned ``name  value`` lines (indented), delivery included once it started."""
    pairs = [
        ("id", broadcast.get("id", "?")),
        ("status", _status(broadcast)),
        ("send at", shown_moment(broadcast.get("send_at"))),
        ("topics", topics_of(broadcast.get("topics", []))),
        ("text", broadcast.get("text", "")),
    ]
    if broadcast.get("link"):
        pairs.append(("link", broadcast["link"]))
    if broadcast.get("image_url"):
        pairs.append(("image", broadcast["image_url"]))
    if broadcast.get("attributes"):
        pairs.append(("attributes", attributes_of(broadcast["attributes"])))
    if _delivery_started(broadcast):
        pairs.append(
            ("delivery", "\n".join([progress_line(broadcast), *reasons(broadcast.get("counts", {}))]))
        )
    pairs.extend(extra or [])
    return ["  " + line for line in key_values(pairs)]


def _status(broadcast: dict[str, Any]) -> str:
    status = str(broadcast.get("status", "?"))
    if status != "scheduled" or not broadcast.get("send_at"):
        return status
    distance = relative(broadcast["send_at"], datetime.now(UTC).isoformat())
    return (
        f"{status} (going out now)"
        if distance == "now" or distance.endswith("ago")
        else f"{status} ({distance})"
    )


def attributes_of(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in values.items()
    )


def _delivery_started(broadcast: dict[str, Any]) -> bool:
    status, counts = broadcast.get("status"), broadcast.get("counts", {})
    return status in ("sending", "sent") or (status == "cancelled" and bool(counts.get("recipients")))


def show_status(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    if args.timeout is not None and not args.watch:
        args.parser.error("--timeout goes with --watch")
    if args.watch:
        return watch(client, args.id, console, timeout=args.timeout, fancy=console.fancy)
    broadcast = client.get(_path(args.id)).body
    if console.as_json:
        console.json(broadcast)
        return 0
    console.lines(details(broadcast))
    return 0


def list_broadcasts(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    limit = args.limit or (100 if args.all else None)
    params = {"status": args.status, "topic": args.topic, "limit": limit}
    body = client.listing("/v1/broadcasts", params, "broadcasts", every_page=args.all)
    if console.as_json:
        console.json(body)
        return 0
    found, following = body.get("broadcasts", []), body.get("next_cursor")
    if not found:
        filtered = args.status or args.topic
        console.line(
            "No broadcasts match." if filtered else 'No broadcasts yet: subcast broadcast send "Hello"'
        )
        return 0
    rows = [
        [
            item["id"],
            item["status"],
            shown_moment(item.get("send_at")),
            topics_of(item.get("topics", [])),
            _delivered(item),
            item.get("text", ""),
        ]
        for item in found
    ]
    console.lines(table(["ID", "STATUS", "SEND AT", "TOPICS", "DELIVERED", "TEXT"], rows, {3: 24, 5: 44}))
    if following:
        console.line(f"\nShowing the newest {plural(len(found), 'broadcast')}; --all lists every one.")
    return 0


def _delivered(broadcast: dict[str, Any]) -> str:
    if not _delivery_started(broadcast):
        return NOTHING
    counts = broadcast.get("counts", {})
    shown = f"{counts.get('sent', 0):,}/{counts.get('recipients', 0):,}"
    failed = counts.get("failed", 0)
    return f"{shown}, {failed:,} failed" if failed else shown


def edit_broadcast(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    changes: dict[str, Any] = {}
    if args.text is not None:
        changes["text"] = _text(args.text)
    if args.topics or args.everyone:
        changes["topics"] = args.topics or []
    if args.at:
        changes["send_at"] = args.at
    if args.link or args.no_link:
        changes["link"] = args.link
    if args.image or args.no_image:
        changes["image_url"] = args.image
    if args.attr:
        changes["attributes"] = dict(args.attr)
    if not changes:
        args.parser.error(
            "nothing to change: give --text, --topic/--everyone, --at, --link, --image or --attr"
        )
    broadcast = client.patch(_path(args.id), changes).body
    return _report(console, broadcast, f"Updated {broadcast.get('id', args.id)}.")


def schedule_broadcast(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    broadcast = client.post(_path(args.id, "/schedule"), {"send_at": args.at} if args.at else None).body
    return _report(console, broadcast, _headline(broadcast))


def cancel_broadcast(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    broadcast = client.post(_path(args.id, "/cancel")).body
    sent = int(broadcast.get("counts", {}).get("sent", 0))
    reached = f"{plural(sent, 'recipient')} had received it already" if sent else "it had reached nobody"
    return _report(console, broadcast, f"Cancelled {broadcast.get('id', args.id)}: {reached}.")


def _report(console: Console, broadcast: dict[str, Any], headline: str) -> int:
    if console.as_json:
        console.json(broadcast)
        return 0
    console.line(headline)
    console.lines(details(broadcast))
    return 0
