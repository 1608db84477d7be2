"""Start `python -m infra.local` as a separate process (for end-to-end tests and benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from infra.local.persistence import DATA_DIR_VARIABLE
from infra.local.stack import free_port
from infra.template import ROOT


@dataclass
class LocalStackProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: str
    started_at: float
    healthy_after: float = field(default=0.0)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """An HTTP request to the stack; returns (status, parsed JSON or text)."""
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> int:
        """Ctrl-C, as a person would; returns the exit code."""
        import signal

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start(env: dict[str, str] | None = None, timeout: float = 60.0) -> LocalStackProcess:
    """Start the local stack on a free port and wait until /_local/health answers 200.

    The stack keeps its state in memory only, whatever the developer's shell says, so that a test or a
    benchmark never reads (or overwrites) a developer's data folder; pass ``SUBCAST_DATA_DIR`` in ``env``
    to keep state in a folder of the caller's.
    """
    port = free_port()
    environment = {**os.environ, "SUBCAST_PORT": str(port), DATA_DIR_VARIABLE: "", **(env or {})}
    environment.pop("AWS_ENDPOINT_URL", None)
    log = tempfile.NamedTemporaryFile(prefix="subcast-local-", suffix=".log", delete=False)  # noqa: SIM115
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    stack = LocalStackProcess(process, f"http://127.0.0.1:{port}", log.name, started)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{stack.log()}")
        try:
            status, _ = stack.request("GET", "/_local/health")
            if status == 200:
                stack.healthy_after = time.monotonic() - started
                return stack
        except OSError:
            pass
        time.sleep(0.05)
    stack.stop()
    raise TimeoutError(f"the local stack was not healthy after {timeout}s:\n{stack.log()}")
