"""The command line's shape: the root parser, options every command shares, and argument types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

from subcast_cli import __version__

EXAMPLES = """\
a publisher's day:
  subcast topics create news "News" --default
  subcast broadcast send --topic news "**Extra!** The bridge reopens at noon"
  subcast broadcast status b_1f2e3d4c5b6a7988 --watch
  subcast broadcast send --topic news --at 2026-12-24T08:00+01:00 "Merry Christmas"
  subcast newsletter import issue-42.html --topic news --start 2026-12-01T07:00+01:00 --every 30

environment:
  SUBCAST_API_URL   the API (default http://127.0.0.1:8000, the local stack of `make run`)
  SUBCAST_API_KEY   a publisher API key (locally: the bootstrap key `make run` prints)
"""


class CliParser(argparse.ArgumentParser):
    """argparse, except that a usage error says what is wrong on the first line of stderr.

    argparse prints its whole usage block first and the reason last, where it is easy to miss;
    here the reason comes first (``subcast: --at needs ...``), then one line naming the help.
    Exit status 2, as argparse's. Subcommands' parsers are of this class too (argparse makes
    them of the root's class), so the help named is the subcommand's own.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Errors about one argument are raised to parse_known_args below, which knows the argument.
        kwargs.setdefault("exit_on_error", False)
        super().__init__(*args, **kwargs)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            # Left over after the subcommand: its help, not the root's, says what it takes.
            getattr(parsed, "parser", self).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as error:
            self.error(explained(error))

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"subcast: {message}\n  see: {self.prog} --help\n")


def explained(error: argparse.ArgumentError) -> str:
    """One line about a wrong argument: ``--at needs ...`` from this CLI's own types (their messages
    go on from the option's name), ``--status: invalid choice: ...`` in argparse's words."""
    name, message = error.argument_name, error.message
    if name is None:
        return message
    # argparse raises its ArgumentError while handling the type's error, so that is its context.
    if isinstance(error.__context__, argparse.ArgumentTypeError):
        return f"{name} {message}"
    return f"{name}: {message}"


def common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name (``subcast --json topics list`` works too)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    # SUPPRESS: a subcommand that was not given the option must not reset what the root parser got.
    group.add_argument("--api-url", default=argparse.SUPPRESS, help="the API (env SUBCAST_API_URL)")
    group.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="an API key (env SUBCAST_API_KEY; safer than this flag)"
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the API's JSON instead of tables",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from subcast_cli import broadcasts, keys, newsletter, settings, subscribers, topics

    common = common_options()
    parser = CliParser(
        prog="subcast",
        description="Publish to messenger subscribers through the subcast API.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"subcast {__version__}")
    resources = parser.add_subparsers(dest="resource", metavar="COMMAND", required=True)
    for module in (topics, broadcasts, keys, subscribers, newsletter, settings):
        module.add_commands(resources, common)
    return parser


def group_parser(resources: Any, name: str, help_text: str) -> Any:
    """``subcast NAME ...``: a group of commands about one resource; its subcommands are required."""
    group = resources.add_parser(name, help=help_text, description=help_text)
    group.set_defaults(parser=group)
    return group.add_subparsers(dest="action", metavar="ACTION", required=True)


def command(actions: Any, name: str, common: argparse.ArgumentParser, help_text: str, handler: Any) -> Any:
    sub = actions.add_parser(name, help=help_text, description=help_text, parents=[common])
    sub.set_defaults(handler=handler, parser=sub)
    return sub


def moment(value: str) -> str:
    """An ISO-8601 moment with its offset (``2026-12-24T08:00+01:00``, ``...Z``), as the API wants it."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"needs an ISO-8601 moment with an offset, e.g. 2026-12-24T08:00+01:00 (got {value!r})"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"needs an offset to mean one moment everywhere, e.g. {value.strip()}+01:00 (got {value!r})"
        )
    return parsed.isoformat()


def attribute(value: str) -> tuple[str, float | str]:
    """``name=value`` for subscriber alerts; a value that reads as a finite number is sent as one."""
    name, equals, raw = value.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"needs name=value, e.g. kwh=300 or region=north (got {value!r})")
    try:
        number = float(raw)
    except ValueError:
        return name.strip(), raw
    if not math.isfinite(number):
        return name.strip(), raw
    return name.strip(), int(number) if number.is_integer() and "." not in raw else number


def whole_number(low: int, high: int | None = None) -> Any:
    """An argument type: a whole number from ``low`` to ``high`` (or at least ``low``)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if number < low or (high is not None and number > high):
            span = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"needs a whole number {span} (got {value!r})")
        return number

    parse.__name__ = "whole number"  # what argparse names in its messages
    return parse


def seconds(value: str) -> float:
    """A span in seconds, more than nothing: ``30``, ``2.5``."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"needs a number of seconds, e.g. 30 (got {value!r})")
    return number


page_size = whole_number(1, 100)
