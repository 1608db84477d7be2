"""How results look on a terminal: aligned tables, readable times, and --json for scripts."""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TextIO

ELLIPSIS = "…"
NOTHING = "-"


@dataclass
class Console:
    """Where output goes: ``out`` for results, ``err`` for problems; ``tty`` when a person watches."""

    out: TextIO
    err: TextIO
    as_json: bool = False
    tty: bool = False
    fancy: bool = True  # the terminal shows block characters; else progress bars are ASCII
    columns: int | None = None  # the terminal's width; None: ask the terminal

    def json(self, data: Any) -> None:
        self.out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def warn(self, text: str) -> None:
        self.err.write(text + "\n")

    def width(self) -> int:
        if self.columns is not None:
            return self.columns
        return shutil.get_terminal_size((100, 24)).columns if self.tty else 100


def width_of(text: str) -> int:
    """Columns a string takes on a terminal: East Asian wide characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` columns; what is cut off is marked with an ellipsis."""
    flat = " ".join(text.split())
    if width_of(flat) <= limit:
        return flat
    kept, used = [], 0
    for char in flat:
        used += width_of(char)
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def pad(text: str, width: int) -> str:
    return text + " " * (width - width_of(text))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], limits: dict[int, int] | None = None
) -> list[str]:
    """Columns aligned to their widest cell; a column in ``limits`` is clipped to that many columns."""
    limits = limits or {}
    cells = [[clip(str(cell), limits.get(index, 10_000)) for index, cell in enumerate(row)] for row in rows]
    widths = [
        max([width_of(header), *(width_of(row[index]) for row in cells)])
        for index, header in enumerate(headers)
    ]
    return [
        "  ".join(pad(cell, widths[index]) for index, cell in enumerate(row)).rstrip()
        for row in [list(headers), *cells]
    ]


def key_values(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """``name   value`` lines, values aligned; a value's further lines are indented under it."""
    width = max((len(name) for name, _ in pairs), default=0)
    lines = []
    for name, value in pairs:
        first, *more = str(value).split("\n") or [""]
        lines.append(f"{name:<{width}}  {first}".rstrip())
        lines.extend(f"{'':<{width}}  {line}".rstrip() for line in more)
    return lines


def moment(value: str | None, zone: tzinfo | None = None) -> str:
    """An API timestamp in the reader's timezone (``zone``; default the machine's), to the minute."""
    if not value:
        return NOTHING
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    local = parsed.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or local.strftime('%z')}"


def relative(value: str, reference: str) -> str:
    """How far ``value`` is from ``reference`` (both ISO-8601), as a person would say it."""
    seconds = (datetime.fromisoformat(value) - datetime.fromisoformat(reference)).total_seconds()
    if abs(seconds) < 60:
        return "now"
    span = _span(abs(seconds))
    return f"in {span}" if seconds > 0 else f"{span} ago"


def _span(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def topics_of(slugs: Sequence[str]) -> str:
    """A broadcast's audience: its topics, or everyone when it names none."""
    return ", ".join(slugs) if slugs else "everyone"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
