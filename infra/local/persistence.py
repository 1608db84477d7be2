"""Keep the local stack's state between runs in a data folder (``SUBCAST_DATA_DIR``).

`make run` keeps it in ``.local/data`` unless ``SUBCAST_DATA_DIR`` says otherwise; set it empty for a
stack that forgets everything when it stops (what tests and benchmarks started through
``infra.local.process`` get). A start loads the last snapshot before any poller or schedule runs; a
snapshot is written a few seconds after anything changed, and once more on a clean stop, so a crash
loses at most those few seconds. Files and their layout: ``infra.local.state_files``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from infra.local.state_files import SnapshotUnreadable, keep_aside, read_snapshot, write_snapshot
from infra.local.state_moto import Resources, capture, resources_of, restore
from infra.template import ROOT

if TYPE_CHECKING:
    from infra.local.runtime import LocalFunction
    from infra.provision import Deployment

DATA_DIR_VARIABLE = "SUBCAST_DATA_DIR"
DEFAULT_DATA_DIR = ROOT / ".local" / "data"
#: Seconds between a change and the snapshot that keeps it: what a crash or kill -9 may lose.
SNAPSHOT_EVERY = 2.0
# Calls that change nothing a snapshot holds; every other DynamoDB or SQS call that succeeds
# marks the state as changed. (A receive only hides messages, and hidden ones are saved too.)
_READS = frozenset(
    {
        *("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"),
        *("DescribeTable", "ListTables", "DescribeTimeToLive"),
        *("ReceiveMessage", "GetQueueAttributes", "GetQueueUrl", "ListQueues", "ListQueueTags"),
    }
)


def data_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where state is kept: ``SUBCAST_DATA_DIR``, ``.local/data`` when unset, None when set empty."""
    value = (os.environ if environ is None else environ).get(DATA_DIR_VARIABLE)
    if value is None:
        return DEFAULT_DATA_DIR
    return Path(value).expanduser().resolve() if value.strip() else None


def keep_state(
    folder: Path, deployment: Deployment, endpoint: str | None, region: str
) -> tuple[StateKeeper | None, list[str]]:
    """A keeper of ``folder`` with its snapshot loaded into ``deployment`` and the handlers' boto3
    session watched for changes, and what loading found; no keeper when another stack holds it."""
    keeper = StateKeeper(folder, region)
    problem = keeper.claim()
    if problem is not None:
        return None, [f"! {problem}: this stack keeps its state in memory only"]
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    keeper.watch(boto3.DEFAULT_SESSION.events)
    keeper.load(deployment, endpoint)
    return keeper, keeper.report


def state_line(folder: Path | None, keeper: StateKeeper | None) -> str:
    """The start-up line that says where state is kept and how to start empty."""
    if folder is None:
        return f"in memory only ({DATA_DIR_VARIABLE} is empty): gone when the stack stops"
    if keeper is None:
        return "in memory only: gone when the stack stops"
    return f"{shown(folder)} (kept between runs; delete it or set {DATA_DIR_VARIABLE}= to start empty)"


def shown(path: Path) -> str:
    """``path`` as a person would type it from here: relative when it lies below the current folder."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class StateKeeper:
    """Loads a data folder's snapshot into a new stack, and keeps it up to date while the stack runs."""

    def __init__(self, folder: Path, region: str, every: float = SNAPSHOT_EVERY) -> None:
        self.folder, self.region, self.every = folder, region, every
        self.report: list[str] = []  # what start-up found, one line each, for the banner
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._saving = threading.Lock()
        self._lock_file: Any = None
        self._resources: Resources | None = None  # known once a snapshot was loaded (or not found)
        self._dynamodb: Any = None
        self._environments: list[LocalFunction] = []
        self._hooked: list[tuple[Any, str]] = []
        self._thread: threading.Thread | None = None

    def claim(self) -> str | None:
        """Create the folder and lock it for this stack; the reason it cannot be used, else None."""
        import fcntl

        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(self.folder / ".lock", "a+", encoding="utf-8")  # noqa: SIM115 - held while running
        except OSError as error:
            return f"cannot use {shown(self.folder)}: {error.strerror or error}"
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            return f"{shown(self.folder)} is in use by another local stack (pid {owner})"
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle
        return None

    def load(self, deployment: Deployment, endpoint: str | None) -> None:
        """Put the last snapshot into the freshly provisioned stack; never raises, says what it skipped."""
        session = boto3.session.Session(region_name=self.region)  # its own: no meter or hook sees it
        self._dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self._resources = resources_of(deployment)
        try:
            self._load(session.client("sqs", endpoint_url=endpoint))
        except Exception as error:  # a start must never fail on old state: say so, keep it, go on
            kept = ""
            with contextlib.suppress(OSError):
                aside = keep_aside(self.folder, {"snapshot": self.folder / "snapshot"})
                kept = f"; it is kept in {shown(aside)}"
            self.report.append(f"! could not load the snapshot ({type(error).__name__}: {error}){kept}")

    def _load(self, sqs: Any) -> None:
        assert self._resources is not None
        try:
            saved = read_snapshot(self.folder)
        except SnapshotUnreadable as error:
            aside = shown(keep_aside(self.folder, {"snapshot": error.directory}))
            self.report.append(f"! could not read the snapshot ({error}); starting empty, kept in {aside}")
            return
        if saved is None:
            self.report.append("no snapshot yet: starting empty")
            return
        done = restore(saved, self._resources, self._dynamodb, sqs)
        moved = f", clock at {done.clock:%Y-%m-%d %H:%M} UTC" if done.clock else ""
        flight = f" ({done.in_flight} had been in flight)" if done.in_flight else ""
        self.report.append(
            f"loaded the snapshot of {saved.saved_at}: {done.items} items, "
            f"{done.messages} queued messages{flight}{moved}"
        )
        self.report.extend(f"! {line}" for line in done.skipped)
        if done.aside:
            aside = shown(keep_aside(self.folder, done.aside))
            self.report.append(f"! what was not loaded is kept in {aside}")

    def bootstrap_key(self) -> str | None:
        """The bootstrap key a previous run generated and kept here, if any."""
        try:
            return (self.folder / "bootstrap-key").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def keep_bootstrap_key(self, key: str) -> Path:
        """Keep the bootstrap key for the next run and return its file: a local-only secret, in a
        git-ignored folder, readable by its owner only."""
        temporary, path = self.folder / "bootstrap-key.new", self.folder / "bootstrap-key"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        os.replace(temporary, path)
        return path

    def watch(self, events: Any) -> None:
        """Note every change made through clients of ``events`` (a session's or one client's emitter)."""
        unique = f"subcast-state-{id(self)}-{len(self._hooked)}"
        for service in ("dynamodb", "sqs"):
            events.register(f"after-call.{service}", self._after_call, unique_id=f"{unique}-{service}")
            self._hooked.append((events, f"{unique}-{service}"))

    def changed(self) -> None:
        """Note a change no client call shows (the local clock moved)."""
        self._changed.set()

    def start(self, environments: list[LocalFunction]) -> None:
        """Write a snapshot ``every`` seconds while something changed; ``environments`` pause meanwhile."""
        self._environments = environments
        self._thread = threading.Thread(target=self._run, name="state-snapshots", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """The last snapshot, after the pollers and schedules stopped; then let the folder go."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.save(wait=30.0, regardless=True)
        except Exception as error:
            _log(f"subcast: could not save state to {shown(self.folder)}: {type(error).__name__}: {error}")
        for events, unique in self._hooked:
            for service in ("dynamodb", "sqs"):
                events.unregister(f"after-call.{service}", unique_id=unique)
        self._hooked.clear()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def save(self, wait: float, regardless: bool = False) -> bool:
        """Write a snapshot while no handler runs (each environment's lock held, up to ``wait`` seconds
        in all), so that a message and what its handler wrote are never half in one snapshot; with
        ``regardless``, a busy handler does not stop it. Returns whether a snapshot was written."""
        if self._resources is None:
            return False  # nothing was loaded, so nothing of this stack is known yet
        with self._saving:
            held = _hold(self._environments, wait)
            if len(held) < len(self._environments) and not regardless:
                _release(held)
                return False
            try:
                self._changed.clear()  # before reading: a change made meanwhile marks it again
                snapshot = capture(self._resources, self._dynamodb, self.region)
            finally:
                _release(held)
            write_snapshot(self.folder, snapshot)
            return True

    def _run(self) -> None:
        failing, pause = "", self.every
        while not self._stop.wait(pause):
            if not self._changed.is_set():
                continue
            try:
                started = time.monotonic()
                self.save(wait=5.0)
                # Handlers wait while a snapshot is read: a large state is saved less often, so that
                # they spend no more than about a fifth of their time waiting.
                pause = max(self.every, 4 * (time.monotonic() - started))
                failing = ""
            except Exception as error:  # a full disk must not stop the stack; say it once, retry
                self._changed.set()
                if str(error) != failing:
                    failing = str(error)
                    _log(f"subcast: could not save state to {shown(self.folder)}: {error}")

    def _after_call(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.name not in _READS and getattr(http_response, "status_code", 500) < 300:
            self._changed.set()


def _hold(environments: list[LocalFunction], wait: float) -> list[LocalFunction]:
    # Always in the same order, and never longer than ``wait``: a handler that waits on another
    # function (through the gateway) cannot deadlock with a snapshot; the snapshot gives way.
    deadline = time.monotonic() + wait
    held = []
    for environment in environments:
        if not environment.environment.acquire(timeout=max(deadline - time.monotonic(), 0)):
            break
        held.append(environment)
    return held


def _release(held: list[LocalFunction]) -> None:
    for environment in held:
        environment.environment.release()


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
