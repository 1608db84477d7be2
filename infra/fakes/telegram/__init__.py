"""An in-memory stand-in for the Telegram Bot API server (standard library only).

``FakeBotApi`` answers Bot API calls the way ``api.telegram.org`` does: the
same paths (``/bot<token>/<method>``, methods case-insensitive), the same
parameter encodings (JSON body, url-encoded or multipart form, query string),
the same envelopes (``{"ok": true, "result": ...}`` or ``{"ok": false,
"error_code": ..., "description": ...}`` with the HTTP status equal to the
error code) and the same error texts. ``serve`` puts it behind a real HTTP
server, so code under test only needs its API base URL pointed at it;
``running`` does both and shuts the server down afterwards.

What it implements: ``getMe``, ``sendMessage``, ``setWebhook``,
``deleteWebhook``, ``getWebhookInfo`` and ``answerCallbackQuery``. Every chat
exists (positive ids are private chats) unless ``block`` was called for it.
``sendMessage`` parses ``parse_mode`` text as Telegram does (HTML, MarkdownV2,
legacy Markdown): the Message it returns carries the plain text and its
``entities``, and malformed markup is refused with Telegram's "can't parse
entities" error. Text is trimmed and must then be 1-4096 UTF-16 code units.

Test hooks: ``sent`` (what the bot sent), ``calls`` (every payload received),
``block``/``unblock``, ``fail_next``, ``throttle_next`` and an optional global
rate limit (``rate_limit_per_second``) that answers real 429s.

Modules: ``api`` (``FakeBotApi`` and its methods), ``errors`` (Bot API errors),
``protocol`` (request decoding, parameter checks, responses), ``text`` (a
message's text per ``parse_mode``), ``entities``, ``html_style`` and
``markdown_style`` (the markup parsers), ``server`` (HTTP: ``serve``, ``running``).
"""

from __future__ import annotations

from .api import FakeBotApi
from .server import running, serve
from .text import MAX_TEXT_LENGTH

__all__ = ["MAX_TEXT_LENGTH", "FakeBotApi", "running", "serve"]
