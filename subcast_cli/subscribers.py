"""`subcast subscribers`: who subscribed, their settings and consent, and what they wrote back.

The API never gives out addresses (phone numbers, chat ids), so neither can this.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from subcast_cli.arguments import command, group_parser, page_size
from subcast_cli.client import ApiClient
from subcast_cli.output import NOTHING, Console, key_values, moment, plural, table

STATES = ("pending", "active", "paused", "cancelled", "erased")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    actions = group_parser(resources, "subscribers", "subscribers, their settings and consent, and the inbox")

    listing = command(actions, "list", common, "subscribers in one state (default active)", list_subscribers)
    listing.add_argument("--state", choices=STATES, default=None, help="default: active")
    # The API calls it `status` (GET /v1/subscribers?status=); the table and --help say STATE, and
    # --status is taken too, unshown, so that neither name is wrong to type.
    listing.add_argument("--status", dest="state", choices=STATES, default=None, help=argparse.SUPPRESS)
    listing.add_argument("--topic", metavar="SLUG", help="only those receiving this topic")
    listing.add_argument("--limit", type=page_size, metavar="N", help="1-100 per page (default 50)")
    listing.add_argument("--all", action="store_true", help="every page, not just the first")

    show = command(actions, "show", common, "one subscriber's settings and consent history", show_subscriber)
    show.add_argument("id", metavar="ID")

    inbox = command(
        actions, "inbox", common, "what subscribers wrote that subcast did not understand", inbox_of
    )
    inbox.add_argument("--limit", type=page_size, metavar="N", help="1-100 per page (default 50)")
    inbox.add_argument("--all", action="store_true", help="every page, not just the first")


def _listing(
    client: ApiClient, args: argparse.Namespace, path: str, params: dict[str, Any], items: str
) -> Any:
    limit = args.limit or (100 if args.all else None)
    return client.listing(path, {**params, "limit": limit}, items, every_page=args.all)


def list_subscribers(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    params = {"status": args.state, "topic": args.topic}
    body = _listing(client, args, "/v1/subscribers", params, "subscribers")
    if console.as_json:
        console.json(body)
        return 0
    found = body.get("subscribers", [])
    state = args.state or "active"
    counts = body.get("counts") or {}
    if found:
        rows = [
            [
                row["id"],
                row.get("state", state),
                _topics(row.get("topics")),
                row.get("language") or NOTHING,
                moment(row.get("state_since")),
                moment(row.get("paused_until")),
            ]
            for row in found
        ]
        console.lines(table(["ID", "STATE", "TOPICS", "LANGUAGE", "SINCE", "PAUSED UNTIL"], rows, {2: 30}))
    else:
        console.line(f"No {state} subscribers" + (f" on {args.topic}." if args.topic else "."))
    if body.get("next_cursor"):
        console.line(f"Showing the first {plural(len(found), 'subscriber')}; --all lists every one.")
    if counts:
        console.line("\n" + " · ".join(f"{name} {count:,}" for name, count in counts.items()))
    return 0


def _topics(topics: list[str] | None) -> str:
    return "all topics" if topics is None else ", ".join(topics) or "none"


def show_subscriber(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    person = client.get(f"/v1/subscribers/{quote(args.id, safe='')}").body
    if console.as_json:
        console.json(person)
        return 0
    filters = person.get("filters") or {}
    pairs = [
        ("id", person.get("subscriber_id", args.id)),
        ("state", f"{person.get('state')} since {moment(person.get('state_since'))}"),
        ("subscribed", moment(person.get("created_at"))),
        ("channels", ", ".join(_channel(item) for item in person.get("channels", [])) or NOTHING),
        ("language", person.get("language") or NOTHING),
        ("timezone", person.get("timezone") or "guessed from the language"),
        ("topics", _topics(person.get("topics"))),
        ("paused until", moment(person.get("paused_until"))),
        ("quiet hours", _window(person.get("quiet_hours"))),
        ("digest", _digest(person.get("digest"))),
        ("limit", _cap(person.get("cap"))),
        ("only with", ", ".join(filters.get("include", [])) or NOTHING),
        ("never with", ", ".join(filters.get("exclude", [])) or NOTHING),
        ("alerts", "\n".join(_alert(item) for item in person.get("alerts", [])) or NOTHING),
    ]
    console.lines(key_values(pairs))
    consent = person.get("consent", [])
    console.line(f"\nConsent ({plural(len(consent), 'record')}):")
    if consent:
        rows = [
            [
                record.get("channel", "?"),
                record.get("source") or NOTHING,
                moment(record.get("requested_at")),
                moment(record.get("confirmed_at")),
                moment(record.get("withdrawn_at")),
                record.get("optin_text_version") or NOTHING,
            ]
            for record in consent
        ]
        headers = ["CHANNEL", "SOURCE", "ASKED", "CONFIRMED", "WITHDRAWN", "TEXT SHOWN"]
        console.lines("  " + line for line in table(headers, rows))
    return 0


def _channel(item: dict[str, Any]) -> str:
    return f"{item.get('channel')} ({'reachable' if item.get('reachable') else 'unreachable'})"


def _window(value: dict[str, Any] | None) -> str:
    if not value:
        return NOTHING
    return f"{str(value.get('start', '?'))[:5]}-{str(value.get('end', '?'))[:5]}"


def _digest(value: dict[str, Any] | None) -> str:
    if not value or value.get("mode") in (None, "off"):
        return "off: snippets one by one"
    when = f"at {str(value.get('at', '?'))[:5]}"
    if value["mode"] == "weekly" and isinstance(value.get("weekday"), int):
        when = f"on {WEEKDAYS[value['weekday'] % 7]}s {when}"
    return f"{value['mode']} {when}"


def _cap(value: dict[str, Any] | None) -> str:
    return f"at most {value.get('count')} per {value.get('period')}" if value else NOTHING


def _alert(value: dict[str, Any]) -> str:
    return f"{value.get('topic')}: {value.get('field')} {value.get('operator')} {value.get('value')}"


def inbox_of(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    body = _listing(client, args, "/v1/inbox", {}, "entries")
    if console.as_json:
        console.json(body)
        return 0
    entries = body.get("entries", [])
    if not entries:
        console.line("The inbox is empty: no feedback or unrecognised messages.")
        return 0
    rows = [
        [
            moment(item.get("received_at")),
            item.get("subscriber_id", "?"),
            item.get("kind", ""),
            item.get("text", ""),
        ]
        for item in entries
    ]
    console.lines(table(["RECEIVED", "SUBSCRIBER", "KIND", "TEXT"], rows, {3: 60}))
    if body.get("next_cursor"):
        console.line(f"Showing the newest {plural(len(entries), 'message')}; --all lists every one.")
    return 0
