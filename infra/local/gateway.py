"""The local API Gateway: the template's Api routes, plus local-only routes under /_local/."""

from __future__ import annotations

import base64
import json
import sys
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from infra.local.events import api_gateway_event
from infra.template import gateway_response
from subcast import clock

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

#: API Gateway's own limit on a request body.
MAX_BODY = 10 * 1024 * 1024


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stack: LocalStack) -> None:
        super().__init__(address, GatewayHandler)
        self.stack = stack


class GatewayHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is written by _finish

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        # Any other method (HEAD, OPTIONS, TRACE, QUERY ...) is routed like the rest: to a path's
        # `any` event, or to the template's answer for an unknown route; http.server would answer 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    # ----------------------------------------------------------------- plumbing
    def _dispatch(self) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._gateway("REQUEST_TOO_LARGE")
            return
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/_local/"):
            status = self._local(url.path, url.query, body)
        else:
            status = self._api(url.path, url.query, body)
        if not url.path.startswith(("/_local/telegram/", "/_local/sandbox")):
            took = (time.monotonic() - started) * 1000
            print(f"{self.command:<6} {url.path:<40} {status}  {took:.0f} ms", file=sys.stderr, flush=True)

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> int:
        payload = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        headers = headers or {"Content-Type": "application/json"}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        return status

    def _gateway(self, kind: str) -> int:
        """What API Gateway answers itself, as template.yaml's GatewayResponses configure it."""
        answer = gateway_response(kind)
        return self._send(answer.status, None, answer.headers, answer.body)

    # ------------------------------------------------------------- template API
    def _api(self, path: str, query: str, body: bytes) -> int:
        match = self.server.stack.match_route(self.command, path)
        if match is None:
            # A path the template does not have (a method it lacks goes to the path's `any` event).
            return self._gateway("MISSING_AUTHENTICATION_TOKEN")
        route, function, parameters = match
        event = api_gateway_event(
            route,
            path,
            parameters,
            query,
            list(self.headers.items()),
            body,
            self.client_address[0],
            method=self.command,
        )
        try:
            response = function.invoke(event)
        except Exception:
            return self._gateway("DEFAULT_5XX")
        if not isinstance(response, dict) or "statusCode" not in response:
            return self._gateway("DEFAULT_5XX")
        headers: dict[str, str] = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        raw_body = response.get("body") or ""
        payload = base64.b64decode(raw_body) if response.get("isBase64Encoded") else raw_body.encode()
        headers.pop("Content-Length", None)
        return self._send(int(response["statusCode"]), None, headers, payload)

    # ------------------------------------------------------------- /_local/...
    def _local(self, path: str, query: str, body: bytes) -> int:
        stack = self.server.stack
        if path == "/_local/health":
            report = stack.health()
            return self._send(200 if report["ok"] else 503, report)
        if path == "/_local/clock":
            if self.command == "POST":
                try:
                    requested = json.loads(body or b"{}")["now"]
                    moment = None if requested is None else datetime.fromisoformat(requested)
                    clock.move_to(moment)
                except (ValueError, KeyError, TypeError) as error:
                    message = f'send {{"now": "<ISO-8601 with offset>"}} or {{"now": null}}: {error}'
                    return self._send(400, {"error": {"code": "invalid_request", "message": message}})
                stack.clock_moved()
            return self._send(200, {"now": clock.now().isoformat(), "moved": clock.is_moved()})
        if path in ("/_local/metering", "/_local/metering/reset"):
            return self._metering(path)
        if path == "/_local/telegram/stats":
            return self._send(200, stack.telegram_stats())
        if path in ("/_local/sandbox", "/_local/sandbox/"):
            page = resources.files("infra.local").joinpath("sandbox.html").read_bytes()
            return self._send(200, None, {"Content-Type": "text/html; charset=utf-8"}, page)
        if path == "/_local/sandbox/config":
            return self._send(200, stack.sandbox_config())
        if path == "/_local/telegram/sent":
            params = parse_qs(query)
            chat = params.get("chat_id", [None])[0]
            after = int(params.get("after", ["0"])[0] or 0)
            return self._send(200, {"messages": stack.bot_api.sent(chat, after)})
        if path.startswith("/_local/telegram/bot"):
            status, headers, payload = stack.bot_api.handle(
                self.command,
                path.removeprefix("/_local/telegram") + (f"?{query}" if query else ""),
                body,
                dict(self.headers.items()),
            )
            return self._send(status, None, headers, payload)
        return self._send(404, {"error": {"code": "not_found", "message": f"no local route {path}"}})

    def _metering(self, path: str) -> int:
        stack = self.server.stack
        if stack.meter is None:
            message = "metering is off: start the stack with SUBCAST_LOCAL_METERING=1"
            return self._send(404, {"error": {"code": "metering_off", "message": message}})
        if path == "/_local/metering/reset":
            if self.command != "POST":
                return self._send(405, {"error": {"code": "method_not_allowed", "message": "POST to reset"}})
            stack.reset_metering()
        return self._send(200, stack.metering_report())
