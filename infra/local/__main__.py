"""`make run`: the whole stack from template.yaml on http://127.0.0.1:${SUBCAST_PORT:-8000}."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from infra.local.persistence import data_folder, shown, state_line
from infra.local.stack import LocalStack, bot_rate


def main() -> int:
    started = time.monotonic()
    port = int(os.environ.get("SUBCAST_PORT", "8000"))
    every = os.environ.get("SUBCAST_SCHEDULE_SECONDS")
    try:
        rate = bot_rate()
    except ValueError as error:
        print(f"subcast: {error}", file=sys.stderr)
        return 1
    stack = LocalStack(port=port, schedule_every=float(every) if every else None, data_dir=data_folder())
    try:
        stack.start()
    except OSError as error:
        print(
            f"subcast: cannot serve on 127.0.0.1:{port}: {error.strerror}. Set SUBCAST_PORT.", file=sys.stderr
        )
        return 1
    base = stack.base_url
    key_note = "from env"
    if stack.bootstrap_kept_in is not None:
        kept = shown(stack.bootstrap_kept_in)
        key_note = f"generated; kept in {kept} for next time" if stack.bootstrap_generated else f"from {kept}"
    elif stack.bootstrap_generated:
        key_note = "generated; set SUBCAST_BOOTSTRAP_API_KEY to keep one"
    state = "".join(f"\n                     {line}" for line in stack.state_report)
    optional = ""
    if stack.meter is not None:
        optional += f"\n  Metering           {base}/_local/metering  (SUBCAST_LOCAL_METERING)"
    if rate is not None:
        optional += f"\n  Bot API stand-in   {rate:g} messages/s, then 429  (SUBCAST_LOCAL_BOT_RATE)"
    print(
        f"""
subcast local stack is up ({time.monotonic() - started:.1f} s): template.yaml on moto

  API and webhooks   {base}
  Sandbox messenger  {base}/_local/sandbox
  Health             {base}/_local/health
  Bootstrap API key  {stack.bootstrap_key}  ({key_note})
  State              {state_line(stack.data_dir, stack.keeper)}{state}{optional}

  functions: {", ".join(stack.functions)}
  queues polled: {len({poller.queue_url for poller in stack.pollers})}   schedules: {len(stack.schedules)}

Try it: subscribe in the sandbox, then in another terminal
  export SUBCAST_BOOTSTRAP_API_KEY={stack.bootstrap_key}
  curl -s -X POST {base}/v1/broadcasts -H "Authorization: Bearer $SUBCAST_BOOTSTRAP_API_KEY" \\
    -H 'Content-Type: application/json' -d '{{"text": "Hello from subcast"}}'

Ctrl-C stops everything.
""",
        flush=True,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    # Ctrl-C stops the stack even when it was started in the background of a non-interactive
    # shell, which starts it with SIGINT ignored (and Python then raises no KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("\nsubcast: stopping ...", file=sys.stderr, flush=True)
    stack.stop()
    print("subcast: stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
