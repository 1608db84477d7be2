"""`make secrets`: put the bot token and generated secrets into SSM Parameter Store (SecureString).

Run once before the first `sam deploy`. The webhook secret and the address-hash
key are generated; an existing one is kept, because rotating the hash key
would orphan every consent and suppression hash made with it.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys

from infra.operator import PARAMETERS, arguments, session


def main() -> int:
    parser = arguments(__doc__ or "")
    parser.add_argument("--rotate-webhook-secret", action="store_true", help="replace the webhook secret")
    options = parser.parse_args()
    ssm = session(options.region).client("ssm")
    token = os.environ.get("TELEGRAM_BOT_TOKEN") or getpass.getpass("Telegram bot token (from @BotFather): ")
    if ":" not in token:
        print("That does not look like a bot token (<id>:<secret>).", file=sys.stderr)
        return 2
    ssm.put_parameter(Name=PARAMETERS["telegram_bot_token"], Value=token, Type="SecureString", Overwrite=True)
    print(f"stored {PARAMETERS['telegram_bot_token']}")
    for name, rotate in (
        ("telegram_webhook_secret", options.rotate_webhook_secret),
        ("address_hash_key", False),
    ):
        try:
            ssm.get_parameter(Name=PARAMETERS[name])
            exists = True
        except ssm.exceptions.ParameterNotFound:
            exists = False
        if exists and not rotate:
            print(f"kept    {PARAMETERS[name]}")
            continue
        # Telegram allows 1-256 characters of A-Za-z0-9_- in a secret_token.
        ssm.put_parameter(
            Name=PARAMETERS[name], Value=secrets.token_urlsafe(48), Type="SecureString", Overwrite=True
        )
        print(f"created {PARAMETERS[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
