"""A small client for the publisher API: JSON over urllib, errors in the API's own words."""

from __future__ import annotations

import http.client
import json
import re
import shlex
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from subcast_cli import __version__

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30.0
#: Gateway and network hiccups worth one more try, when a retry cannot do anything twice.
RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_PAUSES = (0.5, 1.5)


class CliError(Exception):
    """Something the person at the terminal should read; ``hint`` says what to do about it, and
    ``remedy`` holds whole lines to show under it, such as the commands that put it right."""

    def __init__(self, message: str, hint: str | None = None, remedy: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message, self.hint, self.remedy = message, hint, remedy


class ApiError(CliError):
    """The API answered with an error (4xx in the ``{"error": {"code", "message"}}`` shape, or a 5xx)."""

    def __init__(
        self, status: int, code: str, message: str, hint: str | None = None, remedy: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint, remedy)
        self.status, self.code = status, code


class Unreachable(CliError):
    """No answer at all: the server is not running, the name does not resolve, or it timed out."""

    def __init__(
        self, message: str, hint: str | None = None, *, refused: bool = False, transient: bool = False
    ) -> None:
        super().__init__(message, hint)
        # refused: nothing listens, so nothing was received. transient: the connection broke, try again.
        self.refused, self.transient = refused, transient


@dataclass(frozen=True)
class Reply:
    """An answer from the API: its status, parsed JSON body and headers (names in lower case)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Opener = Callable[..., Any]


class ApiClient:
    """Requests to ``base_url`` with ``Authorization: Bearer <api_key>``.

    GETs, PUTs (each replaces the whole resource) and POSTs that carry an Idempotency-Key are
    retried once or twice when the network or the gateway fails: such a repeat is harmless.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        opener: Opener = urllib.request.urlopen,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._open = opener
        self._pause = pause

    def __repr__(self) -> str:  # never the key, not even in a traceback
        return f"ApiClient({self.base_url!r})"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Reply:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, body, headers=headers)

    def patch(self, path: str, body: Any) -> Reply:
        return self.request("PATCH", path, body)

    def put(self, path: str, body: Any) -> Reply:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Reply:
        return self.request("DELETE", path)

    def listing(self, path: str, params: dict[str, Any], items: str, *, every_page: bool) -> dict[str, Any]:
        """A list endpoint's body; with ``every_page``, ``items`` of every page, following ``next_cursor``."""
        body: dict[str, Any] = self.get(path, params).body
        if not every_page:
            return body
        collected = list(body.get(items, []))
        while body.get("next_cursor"):
            body = self.get(path, {**params, "cursor": body["next_cursor"]}).body
            collected.extend(body.get(items, []))
        return {**body, items: collected, "next_cursor": None}

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        query = {name: value for name, value in (params or {}).items() if value is not None}
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "application/json",
            "User-Agent": f"subcast-cli/{__version__}",
            **({"Content-Type": "application/json"} if data is not None else {}),
            **(headers or {}),
        }
        repeatable = method in ("GET", "PUT") or "Idempotency-Key" in all_headers
        pauses = list(RETRY_PAUSES) if repeatable else []
        while True:
            try:
                return self._send(method, url, data, all_headers)
            except Unreachable as error:
                # Refused (nothing listens) or timed out (30 s already): say so at once, do not wait more.
                if not pauses or not error.transient:
                    raise
            except ApiError as error:
                if not pauses or error.status not in RETRY_STATUSES:
                    raise
            self._pause(pauses.pop(0))

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Reply:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with self._open(request, timeout=TIMEOUT_SECONDS) as response:
                answer_headers = {name.lower(): value for name, value in response.headers.items()}
                return Reply(response.status, _parsed(response.read()), answer_headers)
        except urllib.error.HTTPError as error:
            raise _api_error(
                error.code, error.read(), error.reason, f"{method} {urllib.parse.urlsplit(url).path}"
            ) from None
        except urllib.error.URLError as error:
            raise _unreachable(self.base_url, error.reason) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as error:
            raise _unreachable(self.base_url, error) from None


REFUSED_HINT = "start the local stack with `make run`, or point SUBCAST_API_URL (or --api-url) at your API"


def _parsed(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"text": raw.decode(errors="replace")}


def _api_error(status: int, raw: bytes, reason: str, route: str) -> ApiError:
    body = _parsed(raw)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        code, text = str(error.get("code", f"http_{status}")), str(error["message"])
        if code == "unknown_topic" or (
            # What the API answered before unknown topics had a code of their own.
            status == 400 and code == "invalid_request" and text.startswith("unknown topics:")
        ):
            return _unknown_topics(status, code, text)
        return ApiError(status, code, text, _hint_for(code))
    # Not the API's own shape: the gateway speaking (unknown route, crashed function) or a proxy.
    message = body.get("message") if isinstance(body, dict) else None
    if status == 403 and message == "Missing Authentication Token":
        return ApiError(
            status,
            "no_such_route",
            f"the API has no route {route} (the gateway answered: {message})",
            "is the server older than this CLI? Update it, or use a command it offers",
        )
    return ApiError(status, f"http_{status}", str(message or reason or "no details"))


#: "unknown topics: sport, culture (create them with POST /v1/topics)": the slugs, then an aside.
_UNKNOWN_TOPICS = re.compile(r"(?P<said>unknown topics?:\s*(?P<slugs>[^()]*?))\s*(?:\([^()]*\))?\s*")


def _unknown_topics(status: int, code: str, message: str) -> ApiError:
    """The API's error, but with the CLI's command to create each topic instead of its REST route."""
    said = _UNKNOWN_TOPICS.fullmatch(message)
    slugs = [slug.strip() for slug in said["slugs"].split(",") if slug.strip()] if said else []
    commands = [f'subcast topics create {shlex.quote(slug)} "<Name>"' for slug in slugs or ["SLUG"]]
    lead = "Create it with:  " if len(commands) == 1 else "Create them with:  "
    remedy = tuple((lead if number == 0 else " " * len(lead)) + line for number, line in enumerate(commands))
    return ApiError(status, code, said["said"] if said else message, remedy=remedy)


def _hint_for(code: str) -> str | None:
    if code == "unauthorized":
        return "check SUBCAST_API_KEY (or --api-key); `make run` prints the local bootstrap key"
    return None


def _unreachable(base_url: str, reason: object) -> Unreachable:
    if isinstance(reason, ConnectionRefusedError):
        return Unreachable(
            f"cannot connect to the subcast API at {base_url} (connection refused)",
            REFUSED_HINT,
            refused=True,
        )
    if isinstance(reason, TimeoutError):
        return Unreachable(f"the subcast API at {base_url} did not answer within {TIMEOUT_SECONDS:.0f} s")
    transient = isinstance(
        reason, ConnectionResetError | ConnectionAbortedError | BrokenPipeError | http.client.HTTPException
    )
    return Unreachable(f"cannot reach the subcast API at {base_url}: {reason}", transient=transient)


def with_retry_hint(error: CliError, key: str) -> CliError:
    """Tell whoever sent with ``key`` and got no clear answer how to retry without sending twice."""
    if isinstance(error, ApiError) and error.code == "idempotency_key_reused":
        error.hint = "leave out --idempotency-key to send something different"
    elif (isinstance(error, Unreachable) and not error.refused) or (
        isinstance(error, ApiError) and error.status >= 500
    ):
        error.hint = (
            f"it may or may not have been created; run the same command again with --idempotency-key {key}: "
            "nothing will be sent twice"
        )
    return error
