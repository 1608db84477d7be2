"""`subcast settings`: what the publisher sets for the whole deployment, the frequency cap (admin)."""

from __future__ import annotations

import argparse
from typing import Any

from subcast_cli.client import ApiClient
from subcast_cli.output import Console, key_values, moment

PERIODS = ("day", "week")
MAX_CAP_COUNT = 100  # as the API (and the subscribers' LIMIT command) allows


def add_commands(resources: Any, common: argparse.ArgumentParser) -> None:
    help_text = "show the frequency cap every subscriber gets, or change it with --cap (needs an admin key)"
    settings = resources.add_parser("settings", help=help_text, description=help_text, parents=[common])
    settings.set_defaults(handler=show_or_change, parser=settings)
    settings.add_argument(
        "--cap",
        type=frequency_cap,
        default=argparse.SUPPRESS,
        metavar="N/day|N/week|off",
        help=f"at most N broadcasts per subscriber a day or week (N: 1-{MAX_CAP_COUNT}); off removes it",
    )


def frequency_cap(value: str) -> dict[str, Any] | None:
    """``3/day`` or ``5/week`` as the API takes it; ``off`` is None (no cap)."""
    text = value.strip().lower()
    if text == "off":
        return None
    count, slash, per = text.partition("/")
    if slash and per.strip() in PERIODS and count.strip().isdigit():
        number = int(count)
        if 1 <= number <= MAX_CAP_COUNT:
            return {"count": number, "per": per.strip()}
    raise argparse.ArgumentTypeError(
        f"needs N/day, N/week or off, with N a whole number from 1 to {MAX_CAP_COUNT} (got {value!r})"
    )


frequency_cap.__name__ = "frequency cap"  # what argparse names in its messages


def show_or_change(args: argparse.Namespace, client: ApiClient, console: Console) -> int:
    if not hasattr(args, "cap"):
        return _show(console, client.get("/v1/settings").body, None)
    settings = client.put("/v1/settings", {"frequency_cap": args.cap}).body
    cap = settings.get("frequency_cap")
    headline = (
        f"Set the frequency cap to {_cap_text(cap)}." if cap else "Removed the frequency cap."
    ) + " Senders follow within a minute."
    return _show(console, settings, headline)


def _show(console: Console, settings: dict[str, Any], headline: str | None) -> int:
    if console.as_json:
        console.json(settings)
        return 0
    if headline:
        console.line(headline)
    cap = settings.get("frequency_cap")
    updated = settings.get("updated_at")
    pairs = [
        ("frequency cap", f"{_cap_text(cap)} and subscriber" if cap else "none"),
        ("changed", moment(updated) if updated else "never"),
    ]
    console.lines([("  " if headline else "") + line for line in key_values(pairs)])
    return 0


def _cap_text(cap: dict[str, Any]) -> str:
    count = cap.get("count")
    return f"{count} broadcast{'' if count == 1 else 's'} per {cap.get('per')}"
