"""``FakeBotApi`` behind a real HTTP server on a daemon thread: ``serve`` and ``running``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import FakeBotApi


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBotApi
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotApi/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status, headers, payload = self.fake.handle(self.command, self.path, body, dict(self.headers.items()))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the fake, not the log
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # concurrent senders would otherwise wait for SYN retries


def serve(fake: FakeBotApi, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``fake`` over HTTP from a daemon thread; returns (server, base_url).

    ``base_url`` takes the place of ``https://api.telegram.org``: POST ``{base_url}/bot<token>/sendMessage``.
    Stop it with ``server.shutdown(); server.server_close()``.
    """
    handler = type("FakeBotApiHandler", (_Handler,), {"fake": fake})
    server = _Server((host, port), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram-bot-api", daemon=True
    )
    thread.start()
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return server, f"http://{shown}:{bound_port}"


@contextmanager
def running(token: str, **kwargs: Any) -> Iterator[FakeBotApi]:
    """A ``FakeBotApi(token, **kwargs)`` served on loopback, its ``base_url`` set; shut down on exit."""
    fake = FakeBotApi(token, **kwargs)
    server, fake.base_url = serve(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
