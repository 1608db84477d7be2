"""`subcast topics`: what publishers write about and subscribers choose from."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from subcast_cli.arguments import command, group_parser
from subcast_cli.client import ApiClient
from subcast_cli.output import NOTHING, Console, key_values, moment, table


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    actions = group_parser(resources, "topics", "list, create, update and archive topics")

    listing = command(
        actions, "list", common, "the active topics (and archived ones with --archived)", list_topics
    )
    listing.add_argument("--archived", action="store_true", help="include archived topics")

    create = command(actions, "create", common, "a new topic subscribers can choose", create_topic)
    create.add_argument("slug", metavar="SLUG", help="its fixed id: a-z, 0-9 and '-', e.g. local-news")
    create.add_argument("name", metavar="NAME", help="what subscribers see, e.g. 'Local news'")
    create.add_argument("--name-de", help="the name German-speaking subscribers see")
    create.add_argument("--description", help="one or two sentences on what it brings")
    create.add_argument("--default", action="store_true", help="new subscribers start with it")

    update = command(
        actions, "update", common, "change a topic's names, description or default", update_topic
    )
    update.add_argument("slug", metavar="SLUG")
    update.add_argument("--name")
    update.add_argument("--name-de")
    update.add_argument("--description")
    update.add_argument(
        "--default", action=argparse.BooleanOptionalAction, help="whether new subscribers start with it"
    )

    archive = command(
        actions, "archive", common, "stop offering a topic (no new broadcasts on it)", archive_topic
    )
    archive.add_argument("slug", metavar="SLUG")


def list_topics(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    body = client.get("/v1/topics", {"include_archived": "true" if args.archived else None}).body
    if console.as_json:
        console.json(body)
        return 0
    topics = body.get("topics", [])
    if not topics:
        console.line('No topics yet. Create one: subcast topics create news "News" --default')
        return 0
    rows = [
        [
            topic["slug"],
            topic["name"],
            topic.get("name_de") or NOTHING,
            "yes" if topic.get("default") else "",
            f"archived {moment(topic['archived_at'])}" if topic.get("archived_at") else "active",
            topic.get("description") or "",
        ]
        for topic in topics
    ]
    console.lines(table(["SLUG", "NAME", "NAME (DE)", "DEFAULT", "STATE", "DESCRIPTION"], rows, {5: 40}))
    return 0


def create_topic(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    body: dict[str, Any] = {"slug": args.slug, "name": args.name, "default": args.default}
    if args.name_de is not None:
        body["name_de"] = args.name_de
    if args.description is not None:
        body["description"] = args.description
    topic = client.post("/v1/topics", body).body
    return _show(console, topic, f"Created topic {topic.get('slug')}.")


def update_topic(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    changes = {
        name: getattr(args, name)
        for name in ("name", "name_de", "description", "default")
        if getattr(args, name) is not None
    }
    if not changes:
        args.parser.error(
            "nothing to change: give --name, --name-de, --description or --default/--no-default"
        )
    topic = client.patch(f"/v1/topics/{quote(args.slug, safe='')}", changes).body
    return _show(console, topic, f"Updated topic {topic.get('slug')}.")


def archive_topic(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    topic = client.post(f"/v1/topics/{quote(args.slug, safe='')}/archive").body
    return _show(
        console,
        topic,
        f"Archived topic {topic.get('slug')}: no longer offered to subscribers, no new broadcasts on it.",
    )


def _show(console: Console, topic: dict[str, Any], headline: str) -> int:
    if console.as_json:
        console.json(topic)
        return 0
    console.line(headline)
    console.lines(
        [
            "  " + line
            for line in key_values(
                [
                    ("slug", topic.get("slug", "")),
                    ("name", topic.get("name", "")),
                    ("name (de)", topic.get("name_de") or NOTHING),
                    ("description", topic.get("description") or NOTHING),
                    ("default", "yes: new subscribers start with it" if topic.get("default") else "no"),
                ]
            )
        ]
    )
    return 0
