"""The data folder's files: snapshots of the local stack's state, written so that a crash never leaves
half of one behind.

Layout of the folder (``SUBCAST_DATA_DIR``, ``.local/data`` by default)::

    snapshot/manifest.json                what was saved and when, each table's key schema (written last)
    snapshot/tables/<LogicalId>.jsonl     one item a line, in DynamoDB JSON (binary values in base64)
    snapshot/queues/<LogicalId>.jsonl     one message a line, in queue order
    bootstrap-key                         the generated bootstrap API key (local only, mode 600)
    rejected/<time>/...                   what a start could not load, kept for a person to look at

Files are named by the template's logical ids: physical names change from one run to the next.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "subcast-local-state/1"
SNAPSHOT = "snapshot"


@dataclass
class TableState:
    """A table's items, with the key schema they were saved under: [[name, HASH|RANGE, S|N|B], ...]."""

    key: list[list[str]]
    items: list[dict[str, Any]]


@dataclass
class QueueState:
    """A queue's messages in queue order, the ones a handler held (in flight) included."""

    fifo: bool
    messages: list[dict[str, Any]]


@dataclass
class Unreadable:
    """A snapshot file that does not parse; it is loaded as nothing and kept aside."""

    path: Path
    reason: str


@dataclass
class Snapshot:
    tables: dict[str, TableState]
    queues: dict[str, QueueState]
    clock: str | None = None  # where a moved local clock stood, ISO 8601; None for real time


@dataclass
class SavedState:
    """A snapshot as read back: each table and queue is its state, or why its file could not be read."""

    directory: Path
    saved_at: str
    clock: str | None
    tables: dict[str, TableState | Unreadable]
    queues: dict[str, QueueState | Unreadable]


class SnapshotUnreadable(Exception):
    """The snapshot's manifest is missing, broken or of an unknown format."""

    def __init__(self, message: str, directory: Path) -> None:
        super().__init__(message)
        self.directory = directory


def write_snapshot(folder: Path, snapshot: Snapshot) -> None:
    """Replace ``folder/snapshot`` with ``snapshot``.

    Everything goes to ``snapshot.new/`` first, the manifest last (a folder with a manifest is
    complete), and the folders are then swapped by renames: a crash at any point leaves a complete
    snapshot that ``read_snapshot`` finds.
    """
    new, current, old = (folder / f"{SNAPSHOT}{suffix}" for suffix in (".new", "", ".old"))
    shutil.rmtree(new, ignore_errors=True)
    (new / "tables").mkdir(parents=True)
    (new / "queues").mkdir()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "clock": snapshot.clock,
        "tables": {},
        "queues": {},
    }
    for name, table in snapshot.tables.items():
        _write_lines(new / "tables" / f"{name}.jsonl", [encode_item(item) for item in table.items])
        manifest["tables"][name] = {"key": table.key, "items": len(table.items)}
    for name, queue in snapshot.queues.items():
        _write_lines(new / "queues" / f"{name}.jsonl", queue.messages)
        manifest["queues"][name] = {"fifo": queue.fifo, "messages": len(queue.messages)}
    with open(new / "manifest.json", "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        os.replace(current, old)
    os.replace(new, current)
    shutil.rmtree(old, ignore_errors=True)


def read_snapshot(folder: Path) -> SavedState | None:
    """The newest complete snapshot in ``folder``, or None when there is none.

    Raises SnapshotUnreadable when its manifest cannot be read; a table or queue file that does not
    parse comes back as Unreadable, the rest as usual.
    """
    directory = next(
        (
            folder / f"{SNAPSHOT}{suffix}"
            for suffix in ("", ".new", ".old")  # .new/.old: a crash stopped a swap half-way
            if (folder / f"{SNAPSHOT}{suffix}" / "manifest.json").is_file()
        ),
        None,
    )
    if directory is None:
        return None
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
        tables: dict[str, TableState | Unreadable] = {}
        for name, entry in manifest["tables"].items():
            path = directory / "tables" / f"{name}.jsonl"
            lines = _read_lines(path, int(entry["items"]))
            tables[name] = lines if isinstance(lines, Unreadable) else _table(entry["key"], lines, path)
        queues: dict[str, QueueState | Unreadable] = {}
        for name, entry in manifest["queues"].items():
            path = directory / "queues" / f"{name}.jsonl"
            lines = _read_lines(path, int(entry["messages"]))
            queues[name] = lines if isinstance(lines, Unreadable) else QueueState(bool(entry["fifo"]), lines)
        return SavedState(directory, str(manifest["saved_at"]), manifest.get("clock"), tables, queues)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SnapshotUnreadable(f"{directory / 'manifest.json'}: {error}", directory) from error


def keep_aside(folder: Path, files: dict[str, Path | list[dict[str, Any]]]) -> Path:
    """Copy files (or write lines) under ``folder/rejected/<time>/`` so that nothing a start could not
    load is lost when the next snapshot replaces the current one; returns that folder."""
    target = folder / "rejected" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    for relative, source in files.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            if source.is_dir():
                shutil.copytree(source, destination, dirs_exist_ok=True)
            elif source.exists():
                shutil.copy2(source, destination)
        else:
            _write_lines(destination, source)
    return target


def encode_item(item: dict[str, Any]) -> dict[str, Any]:
    """A boto3 DynamoDB item as JSON can hold it: binary values in base64, as DynamoDB's exports."""
    return {name: _encode_value(value) for name, value in item.items()}


def decode_item(item: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``encode_item``: an item boto3 can write."""
    return {name: _decode_value(value) for name, value in item.items()}


def _encode_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": _base64(inner)}
    if kind == "BS":
        return {"BS": [_base64(member) for member in inner]}
    if kind == "M":
        return {"M": encode_item(inner)}
    if kind == "L":
        return {"L": [_encode_value(member) for member in inner]}
    return value


def _base64(value: bytes | str) -> str:
    # boto3 hands out bytes; moto's backend keeps what came over the wire, base64 already
    return value if isinstance(value, str) else base64.b64encode(value).decode()


def _decode_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner, validate=True)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member, validate=True) for member in inner]}
    if kind == "M":
        return {"M": decode_item(inner)}
    if kind == "L":
        return {"L": [_decode_value(member) for member in inner]}
    return value


def _table(key: list[list[str]], lines: list[dict[str, Any]], path: Path) -> TableState | Unreadable:
    try:
        return TableState([list(part) for part in key], [decode_item(line) for line in lines])
    except (ValueError, TypeError, AttributeError) as error:
        return Unreadable(path, f"an item is not DynamoDB JSON: {error}")


def _read_lines(path: Path, expected: int) -> list[dict[str, Any]] | Unreadable:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return Unreadable(path, str(error))
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            value = json.loads(line)
        except ValueError as error:
            return Unreadable(path, f"line {number} is not JSON ({error})")
        if not isinstance(value, dict):
            return Unreadable(path, f"line {number} is not a JSON object")
        lines.append(value)
    if len(lines) != expected:  # a file cut short, or edited by hand
        return Unreadable(path, f"{len(lines)} lines where the manifest counts {expected}")
    return lines


def _write_lines(path: Path, values: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for value in values:
            handle.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())  # the rename that publishes the file must not outrun its content
