"""`subcast newsletter import`: a newsletter issue (HTML or Markdown) becomes broadcast snippets."""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from subcast_cli.arguments import command, group_parser, moment, whole_number
from subcast_cli.client import ApiClient, ApiError, Unreachable, with_retry_hint
from subcast_cli.output import Console, plural, table, topics_of
from subcast_cli.output import moment as shown_moment

DEFAULT_EVERY_MINUTES = 60
HTML_SUFFIXES = (".html", ".htm", ".xhtml")


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    actions = group_parser(resources, "newsletter", "turn a newsletter issue into broadcast snippets")
    importing = command(
        actions,
        "import",
        common,
        "split an issue into snippets (headline, teaser, link): drafts, or scheduled with --start/--every",
        import_newsletter,
    )
    importing.add_argument("file", metavar="FILE", help="the issue as HTML or Markdown; '-' reads stdin")
    importing.add_argument(
        "--format", choices=("html", "markdown"), help="default: from FILE's name or content"
    )
    importing.add_argument(
        "--topic", action="append", dest="topics", metavar="SLUG", help="repeat for several"
    )
    importing.add_argument(
        "--start", type=moment, metavar="ISO-8601", help="when the first goes out (default now)"
    )
    importing.add_argument(
        "--every",
        type=whole_number(1, 7 * 24 * 60),
        metavar="MINUTES",
        help=f"minutes between snippets (default {DEFAULT_EVERY_MINUTES})",
    )
    importing.add_argument(
        "--draft", action="store_true", help="keep them as drafts (the default without --start)"
    )
    importing.add_argument(
        "--max-snippets", type=whole_number(1, 30), metavar="N", help="at most N (API default 10)"
    )
    importing.add_argument(
        "--teaser-budget", type=whole_number(40, 1000), metavar="N", help="characters per teaser"
    )
    importing.add_argument(
        "--idempotency-key", metavar="KEY", help="retry an import without creating it twice"
    )


def import_newsletter(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    if args.draft and (args.start or args.every):
        args.parser.error("--draft keeps snippets unscheduled: leave out --start and --every, or --draft")
    content, source = _read(args)
    body: dict[str, Any] = {
        "format": args.format or guess_format(source, content),
        "content": content,
        "topics": args.topics or [],
        "schedule": spacing(args.start, args.every),
    }
    if args.max_snippets:
        body["max_snippets"] = args.max_snippets
    if args.teaser_budget:
        body["teaser_budget"] = args.teaser_budget
    key = args.idempotency_key or str(uuid.uuid4())
    try:
        reply = client.post("/v1/newsletters", body, {"Idempotency-Key": key})
    except (Unreachable, ApiError) as error:
        raise with_retry_hint(error, key) from None
    if console.as_json:
        console.json(reply.body)
        return 0
    snippets = reply.body.get("broadcasts", [])
    console.lines(summary(snippets, source, body["topics"]))
    if not snippets:
        return 0
    rows = [
        [str(number), item["id"], _when(item), item.get("text", ""), _short(item.get("link"))]
        for number, item in enumerate(snippets, 1)
    ]
    console.line()
    console.lines("  " + line for line in table(["#", "ID", "SEND AT", "TEXT", "LINK"], rows, {3: 48, 4: 40}))
    console.line(f"\n  idempotency key  {key}")
    if snippets[0].get("status") == "draft":
        console.lines(
            [
                "",
                "Review:  subcast broadcast status ID      Change:  subcast broadcast edit ID --text ...",
                "Send:    subcast broadcast schedule ID [--at ISO-8601]",
            ]
        )
    return 0


def _read(args: argparse.Namespace) -> tuple[str, str]:
    if args.file == "-":
        return sys.stdin.read(), "stdin"
    try:
        return Path(args.file).read_text(encoding="utf-8"), Path(args.file).name
    except UnicodeDecodeError:
        args.parser.error(f"{args.file} is not UTF-8 text")
    except OSError as error:
        args.parser.error(f"cannot read {args.file}: {error.strerror}")
    raise AssertionError("unreachable")  # parser.error exits


def guess_format(name: str, content: str) -> str:
    """HTML for .html files or content that starts with a tag; Markdown otherwise."""
    if name.lower().endswith(HTML_SUFFIXES):
        return "html"
    if name.lower().endswith((".md", ".markdown", ".txt")):
        return "markdown"
    return "html" if content.lstrip().startswith("<") else "markdown"


def spacing(start: str | None, every: int | None) -> dict[str, Any] | None:
    """The API's ``schedule``: None keeps drafts; otherwise from ``start`` (default now), ``every`` apart."""
    if start is None and every is None:
        return None
    first = start or datetime.now().astimezone().replace(microsecond=0).isoformat()
    return {"start": first, "every_minutes": every or DEFAULT_EVERY_MINUTES}


def summary(snippets: list[dict[str, Any]], source: str, topics: list[str]) -> list[str]:
    if not snippets:
        return [f"Found no stories in {source}: nothing was created."]
    count, audience = plural(len(snippets), "snippet"), topics_of(topics)
    if snippets[0].get("status") == "draft":
        return [f"Imported {count} from {source} as drafts for {audience}; nothing goes out until scheduled."]
    first, last = snippets[0]["send_at"], snippets[-1]["send_at"]
    gap = ""
    if len(snippets) > 1:
        minutes = (
            datetime.fromisoformat(snippets[1]["send_at"]) - datetime.fromisoformat(first)
        ) / timedelta(minutes=1)
        gap = f", one every {minutes:g} min until {shown_moment(last)}"
    return [f"Scheduled {count} from {source} to {audience}: from {shown_moment(first)}{gap}."]


def _short(link: str | None) -> str:
    """A link without ``https://``: the table has little room."""
    return (link or "").removeprefix("https://")


def _when(broadcast: dict[str, Any]) -> str:
    return "draft" if broadcast.get("status") == "draft" else shown_moment(broadcast.get("send_at"))
