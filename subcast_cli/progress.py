"""A broadcast's delivery as a progress bar, and `broadcast status --watch` that follows it live."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from subcast_cli.client import ApiClient, CliError
from subcast_cli.output import Console, clip, moment, plural, relative, width_of

FINAL = ("sent", "cancelled")
OUTCOMES = ("sent", "failed", "skipped", "held")
BAR_WIDTH = 24


def bar(fraction: float, width: int = BAR_WIDTH, *, fancy: bool = True) -> str:
    """``[██████░░░░]``: ``fraction`` (0-1) of ``width`` filled; ASCII when the terminal cannot do better."""
    full, empty = ("█", "░") if fancy else ("#", "-")
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return f"[{full * filled}{empty * (width - filled)}]"


def settled(counts: dict[str, Any]) -> int:
    """Recipients with an outcome: sent, failed, skipped, or held for quiet hours or a digest."""
    return sum(int(counts.get(name, 0)) for name in OUTCOMES)


def outcome_counts(counts: dict[str, Any], *, compact: bool = False) -> str:
    """``sent 5 · failed 0 · skipped 1 · held 0 · pending 4``; ``compact`` leaves out the zeros but sent's."""
    values = {name: int(counts.get(name, 0)) for name in (*OUTCOMES, "pending")}
    shown = [name for name, value in values.items() if value or name == "sent" or not compact]
    return " · ".join(f"{name} {values[name]:,}" for name in shown)


def progress_line(
    broadcast: dict[str, Any],
    *,
    bar_width: int | None = BAR_WIDTH,
    fancy: bool = True,
    now: str | None = None,
    compact: bool = False,
) -> str:
    """One line on how far a broadcast is: status, bar (unless ``bar_width`` is None), outcome counts.

    While fan-out is still finding recipients their number is a lower bound, and the line says so
    rather than show a percentage that would run backwards.
    """
    status = broadcast.get("status", "?")
    if status == "draft":
        return "draft · not scheduled, nothing goes out until it is"
    if status == "scheduled" and not broadcast.get("fanout_complete"):
        distance = relative(broadcast["send_at"], now or datetime.now(UTC).isoformat())
        if distance == "now" or distance.endswith("ago"):
            return "scheduled · going out now"
        return f"scheduled · goes out {moment(broadcast['send_at'])} ({distance})"
    counts = broadcast.get("counts", {})
    recipients = int(counts.get("recipients", 0))
    done = settled(counts)
    if bool(broadcast.get("fanout_complete")) or status in FINAL:
        fraction = done / recipients if recipients else 1.0
        progress = f"{fraction:.0%} of {plural(recipients, 'recipient')}"
    else:
        fraction = done / recipients if recipients else 0.0
        progress = f"{recipients:,}+ recipients so far (still finding them)"
    shown_bar = f"{bar(fraction, bar_width, fancy=fancy)}  " if bar_width else ""
    return f"{status}  {shown_bar}{progress} · {outcome_counts(counts, compact=compact)}"


def fitted_line(broadcast: dict[str, Any], columns: int, *, fancy: bool = True) -> str:
    """The progress line for a terminal ``columns`` wide: no zero counts if need be, clipped at worst.

    The bar's width depends on the terminal only, so it does not jump between redraws; a line
    that wrapped could not be redrawn in place.
    """
    bar_width = BAR_WIDTH if columns >= 110 else 16 if columns >= 90 else 10
    line = progress_line(broadcast, bar_width=bar_width, fancy=fancy)
    if width_of(line) > columns:
        line = progress_line(broadcast, bar_width=bar_width, fancy=fancy, compact=True)
    return line if width_of(line) <= columns else clip(line, columns)


def reasons(counts: dict[str, Any]) -> list[str]:
    """Why recipients were skipped, failed or held, e.g. ``skipped: paused 2, cap 1``."""
    lines = []
    for outcome in ("skipped", "failed", "held"):
        found = counts.get(f"{outcome}_by") or {}
        if found:
            why = ", ".join(f"{reason.replace('_', ' ')} {count:,}" for reason, count in found.items())
            lines.append(f"{outcome}: {why}")
    later = int(counts.get("delivered_later", 0))
    if counts.get("held"):
        lines.append(f"held: {later:,} of {int(counts['held']):,} delivered later so far")
    return lines


def watch(
    client: ApiClient,
    broadcast_id: str,
    console: Console,
    *,
    interval: float = 1.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    fancy: bool = True,
) -> int:
    """Poll every ``interval`` seconds until the broadcast is sent or cancelled.

    On a terminal one line is redrawn in place; otherwise (logs, CI) a line is printed per change.
    """
    started, last_line, broadcast = clock(), "", {}
    try:
        while True:
            broadcast = client.get(f"/v1/broadcasts/{quote(broadcast_id, safe='')}").body
            line = progress_line(broadcast, bar_width=None)
            if console.as_json:
                pass  # only the final state, so that the output is one JSON document
            elif console.tty:
                console.out.write("\r" + fitted_line(broadcast, console.width() - 1, fancy=fancy) + "\x1b[K")
                console.out.flush()
            elif line != last_line:
                console.line(f"{datetime.now().astimezone():%H:%M:%S}  {line}")
            last_line = line
            status = broadcast.get("status")
            if status in FINAL or status == "draft":
                break
            if timeout is not None and clock() - started >= timeout:
                _end_line(console)
                raise CliError(
                    f"{broadcast_id} is still {status} after {timeout:g} s",
                    f"it carries on; watch again: subcast broadcast status {broadcast_id} --watch",
                )
            sleep(interval)
    except KeyboardInterrupt:
        _end_line(console)
        console.warn(f"Stopped watching. {broadcast_id} carries on: subcast broadcast status {broadcast_id}")
        return 130
    _end_line(console)
    if console.as_json:
        console.json(broadcast)
    else:
        console.lines(finished(broadcast))
    return 0


def _end_line(console: Console) -> None:
    if console.tty and not console.as_json:
        console.line()


def finished(broadcast: dict[str, Any]) -> list[str]:
    """What a watch ends with: the outcome in words, and the reasons behind anything not sent."""
    status, counts = broadcast.get("status"), broadcast.get("counts", {})
    identifier = broadcast.get("id", "?")
    if status == "draft":
        return [f"{identifier} is a draft: schedule it with `subcast broadcast schedule {identifier}`."]
    recipients, sent = int(counts.get("recipients", 0)), int(counts.get("sent", 0))
    if status == "cancelled":
        head = f"{identifier} was cancelled; {sent:,} of {plural(recipients, 'recipient')} had received it."
    elif recipients == 0:
        head = f"{identifier} is sent, but it reached nobody: no active subscriber follows its topics."
    else:
        head = f"{identifier} is sent: {sent:,} of {plural(recipients, 'recipient')} received it."
    return [head, *(f"  {line}" for line in reasons(counts))]
