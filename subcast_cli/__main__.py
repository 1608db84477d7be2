"""`subcast ...`: parse the command line, connect to the API, run one command, exit 0, 1 or 2.

Exit codes: 0 done, 1 the API refused or could not be reached, 2 the command line was wrong,
130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO
from urllib.parse import urlsplit

from subcast_cli.arguments import build_parser
from subcast_cli.client import DEFAULT_API_URL, ApiClient, ApiError, CliError
from subcast_cli.output import Console

NO_KEY = """\
subcast: no API key: set SUBCAST_API_KEY (or pass --api-key).
  hint: with the local stack, use the bootstrap key `make run` printed:
        export SUBCAST_API_KEY=$SUBCAST_BOOTSTRAP_API_KEY"""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 here
    api_url = (getattr(args, "api_url", None) or os.environ.get("SUBCAST_API_URL") or DEFAULT_API_URL).strip()
    api_key = (getattr(args, "api_key", None) or os.environ.get("SUBCAST_API_KEY") or "").strip()
    if urlsplit(api_url).scheme not in ("http", "https") or not urlsplit(api_url).netloc:
        parser.error(
            f"the API URL must look like https://api.example.com or http://127.0.0.1:8000, not {api_url!r}"
        )
    if not api_key:
        sys.stderr.write(NO_KEY + "\n")
        return 2
    out = _forgiving(sys.stdout)
    console = Console(
        out,
        _forgiving(sys.stderr),
        as_json=bool(getattr(args, "json", False)),
        tty=out.isatty(),
        fancy="utf" in (getattr(out, "encoding", "") or "").lower(),
    )
    try:
        return int(args.handler(args, ApiClient(api_url, api_key), console))
    except ApiError as error:
        _complain(console, f"{error.code}: {error.message}", error.hint, error.remedy)
    except CliError as error:
        _complain(console, error.message, error.hint, error.remedy)
    except KeyboardInterrupt:
        console.warn("")
        return 130
    except BrokenPipeError:
        # `subcast broadcast list | head`: the reader left; nothing is wrong.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit-time flush quiet
        return 0
    return 1


def _complain(console: Console, message: str, hint: str | None, remedy: tuple[str, ...] = ()) -> None:
    console.warn(f"subcast: {message}")
    for line in remedy:
        console.warn(line)
    if hint:
        console.warn(f"  hint: {hint}")


def _forgiving(stream: TextIO) -> TextIO:
    """A terminal that cannot show a character gets a '?' rather than a crash."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")
    return stream


if __name__ == "__main__":
    sys.exit(main())
