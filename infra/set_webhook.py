"""`make set-webhook`: register the deployed webhook URL and its secret with Telegram (setWebhook)."""

from __future__ import annotations

import json
import sys
import urllib.request

from infra.operator import arguments, read_secret, session, stack_outputs


def main() -> int:
    parser = arguments(__doc__ or "")
    parser.add_argument("--api-base", default="https://api.telegram.org")
    options = parser.parse_args()
    aws = session(options.region)
    url = stack_outputs(aws, options.stack_name)["TelegramWebhookUrl"]
    payload = {
        "url": url,
        "secret_token": read_secret(aws, "telegram_webhook_secret"),
        "allowed_updates": ["message", "my_chat_member"],
        "max_connections": 40,
    }
    token = read_secret(aws, "telegram_bot_token")
    request = urllib.request.Request(  # noqa: S310 - the Bot API's https URL
        f"{options.api_base}/bot{token}/setWebhook",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer = json.loads(response.read())
    print(f"setWebhook {url}: {answer.get('description', answer.get('ok'))}")
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
