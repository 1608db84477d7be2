"""Parser throughput: `python -m bench.parser` (and a section of `make bench`).

How fast ``parse_command`` reads what subscribers send, on one thread, over a labelled corpus of
English and German messages: every COMMANDS.md word with and without arguments, Telegram forms
(``/stop@BotName``, deep links, full-width letters), natural-language opt-outs, chat, emoji and free
text up to Telegram's 4096 characters. The argument parsers that run after it are timed on the
arguments ``parse_command`` hands them.

Each message is timed on its own (``inner`` calls, averaged) in every repetition; a repetition's
figures are commands/s over the whole corpus and the median and p99 over its messages, and the
figures printed are the median over repetitions. The limit measured in the same run is
``json.loads`` of each message's Telegram Update as the webhook receives it: work no command avoids
(the webhook's pydantic validation costs more, so parse / decode is an upper bound). Every corpus
entry counts once: the mix is not weighted by real traffic, which is mostly short commands, so
commands/s is also printed for the messages under ``LONG`` characters.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

from infra.fakes.updates import body, message_update
from subcast.domain.arguments import OFF_WORDS, ArgumentError, parse_pause, parse_timezone
from subcast.domain.commands import Intent, parse_command
from subcast.domain.preferences import (
    Filters,
    apply_filter_change,
    parse_alert,
    parse_digest,
    parse_language,
    parse_limit,
    parse_quiet,
    parse_topics,
)

#: Telegram's outgoing limit for one bot (core.telegram.org/bots/faq): the rate replies can leave at.
TELEGRAM_BOT_MESSAGES_PER_SECOND = 30
#: Telegram's longest text message, counted in UTF-16 code units as Telegram counts it.
TELEGRAM_MAX_TEXT = 4096
LONG = 1000  # characters from which a message counts as "long" in the breakdown
FULL_WIDTH_STOP = "\uff33\uff34\uff2f\uff30"  # STOP in full-width letters
FULL_WIDTH_PAUSE = "\uff30\uff21\uff35\uff33\uff25 \uff12\uff57"  # PAUSE 2w

# Written out from COMMANDS.md (not taken from the parser's tables), so a forgotten word shows.
COMMANDS: dict[Intent, tuple[str, ...]] = {
    Intent.SUBSCRIBE: ("START", "subscribe", "Join", "ANMELDEN", "unstop", "/start", "/start@SubcastBot",
                       "/start ref_8Kq2-sport", "Anmelden bitte"),
    Intent.CONFIRM: ("YES", "ja", "Ja!", "confirm", "BESTÄTIGEN", "bestaetigen", "Yes 👍", "/confirm"),
    Intent.STOP: ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT-OUT",
                  "OPT OUT", "REMOVE", "ARRET", "Arrêt", "STOPP", "ABMELDEN", "KÜNDIGEN", "kuendigen",
                  "ABBESTELLEN", "stop", "Stop.", "stop!!!", "/stop", "/stop@BotName", FULL_WIDTH_STOP,
                  "STOP 🛑", "stop please", "Stopp bitte"),
    Intent.PAUSE: ("PAUSE", "PAUSIEREN", "PAUSE 3d", "PAUSE 2w", "pause 1 month", "PAUSE 2 Wochen",
                   "PAUSE until 2026-12-24", "PAUSE bis 24.12.", "Pausieren 10 Tage", "pause for 5 days",
                   "⏸ pause 2w", FULL_WIDTH_PAUSE, "PAUSE forever"),
    Intent.RESUME: ("RESUME", "weiter", "Fortsetzen", "/resume"),
    Intent.TOPICS: ("TOPICS", "Themen", "TOPICS sport, tech", "TOPICS +sport -politik", "TOPICS all",
                    "themen +wirtschaft", "Themen -politik"),
    Intent.DIGEST: ("DIGEST", "ZUSAMMENFASSUNG", "DIGEST off", "DIGEST daily", "digest daily 07:30",
                    "DIGEST weekly 08:00 mon", "Zusammenfassung täglich 7.30", "Zusammenfassung aus",
                    "Zusammenfassung wöchentlich 18:00 so"),
    Intent.QUIET: ("QUIET", "QUIET 22:00-07:00", "RUHE 22-7", "ruhe 22.30 bis 6", "QUIET off", "Ruhe aus",
                   "quiet 23:00 \u2013 06:30", "QUIET 25:00-07:00"),
    Intent.TIMEZONE: ("TZ", "TZ Europe/Berlin", "Zeitzone Wien", "tz America/New_York", "TZ new york",
                      "tz utc"),
    Intent.LANGUAGE: ("LANG", "LANG de", "SPRACHE en", "Sprache Deutsch", "lang english"),
    Intent.LIMIT: ("LIMIT", "LIMIT 3/day", "LIMIT 5/week", "limit off", "LIMIT 3 pro Tag",
                   "limit 5 per week"),
    Intent.ALERT: ("ALERT energie kwh > 300", "ALERT wetter temp < -5", "alert energie preis <= 0,25",
                   "ALERT bundesliga team = bayern", "ALERT bahn status = stop", "ALERT off 2"),
    Intent.ALERTS: ("ALERTS", "/alerts"),
    Intent.FILTER: ("FILTER +bayern", "FILTER -werbung", "filter +bayern -werbung +fc", "FILTERN +München",
                    "FILTER off", "FILTER -stop"),
    Intent.FILTERS: ("FILTERS", "/filters"),
    Intent.STATUS: ("STATUS", "Einstellungen", "settings", "/status@SubcastBot"),
    Intent.HELP: ("HELP", "INFO", "Hilfe", "?", "??", "/help", "HELP!"),
    Intent.FEEDBACK: ("FEEDBACK The energy alerts work great, thanks!",
                      "Meinung: Die Zusammenfassung um 8 Uhr ist perfekt, aber bitte mehr Regionalliga."),
    Intent.EXPORT: ("EXPORT", "Daten", "/export"),
    Intent.DELETE: ("DELETE", "LÖSCHEN", "LOESCHEN", "DELETE CONFIRM", "löschen bestätigen"),
    Intent.REFER: ("REFER", "Empfehlen", "/refer"),
    Intent.UPGRADE: ("UPGRADE", "Premium", "/upgrade"),
}  # fmt: skip
OPT_OUTS = (
    "please stop sending me messages", "bitte keine Nachrichten mehr", "Bitte keine Nachrichten mehr!",
    "I don't want these messages anymore", "How do I unsubscribe?", "leave me alone", "Lasst mich in Ruhe",
    "Hört auf mir zu schreiben", "schreibt mir nicht mehr", "Ich will raus", "take me off this list",
    "remove me", "Bitte austragen", "Newsletter abbestellen bitte", "stop texting me!!", "Please stop 🙏",
    "Pause bitte abmelden", "Ruhe! Abmelden!", "FEEDBACK too many messages, unsubscribe me",
)  # fmt: skip
CHAT = (
    "hi", "Hallo", "Danke!", "thanks 🙏", "👍", "❤️❤️❤️", "🛑", "ok", "Wann kommt die nächste Zusammenfassung?",
    "don't stop, this is great!", "Bitte nicht abmelden, war ein Versehen", "Is the digest at 8 or 9?",
    "I stopped reading the politics part, the rest is great",
)  # fmt: skip
_EN = (
    "Thanks for the morning digest, I read it on the train every day. The energy prices section is the part "
    "I look at first, and the charts are great. Could you add more about local football, especially the "
    "regional league? Yesterday two snippets arrived in the same minute, which felt a bit much. My partner "
    "signed up too, so we compare notes over breakfast. "
)
_DE = (
    "Vielen Dank für die Zusammenfassung am Morgen, ich lese sie jeden Tag in der S-Bahn. Besonders die "
    "Energiepreise interessieren mich, die Grafiken sind sehr übersichtlich. Könntet ihr mehr über die "
    "Regionalliga berichten? Gestern kamen zwei Meldungen in derselben Minute, das war etwas viel. Meine "
    "Frau hat sich auch angemeldet, wir vergleichen beim Frühstück. "
)
_EMOJI = "Great 👍 piece 🔥 about the match ⚽️ yesterday 🎉 "


def _telegram_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def prose(filler: str, units: int, head: str = "", tail: str = "") -> str:
    """``head``, ``filler`` repeated, ``tail``: at most ``units`` UTF-16 code units (Telegram's count)."""
    text = head + filler * (units // len(filler) + 1)
    while _telegram_units(text + tail) > units:
        text = text[: -max(1, (_telegram_units(text + tail) - units) // 2)]
    return text + tail


LONG_TEXTS: tuple[tuple[str, Intent], ...] = (
    (prose(_EN, 300), Intent.UNKNOWN), (prose(_DE, 1000), Intent.UNKNOWN),
    (prose(_EN, 2000), Intent.UNKNOWN), (prose(_EN, TELEGRAM_MAX_TEXT), Intent.UNKNOWN),
    (prose(_DE, TELEGRAM_MAX_TEXT), Intent.UNKNOWN), (prose(_EMOJI, TELEGRAM_MAX_TEXT), Intent.UNKNOWN),
    (prose(_DE, 1500, head="FEEDBACK "), Intent.FEEDBACK),
    (prose(_EN, TELEGRAM_MAX_TEXT, head="FEEDBACK "), Intent.FEEDBACK),
    (prose(_EN, 2000, tail="Anyway, please unsubscribe me."), Intent.STOP),
    (prose(_DE, TELEGRAM_MAX_TEXT, tail="Bitte tragt mich aus."), Intent.STOP),
)  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """One inbound message and the intent COMMANDS.md says it has."""

    text: str
    intent: Intent

    @property
    def kind(self) -> str:
        if len(self.text) >= LONG:
            return "long"
        if self.intent is Intent.UNKNOWN:
            return "chat"
        return "command" if self.text in COMMANDS.get(self.intent, ()) else "opt-out"


CORPUS: tuple[Sample, ...] = (
    *(Sample(text, intent) for intent, texts in COMMANDS.items() for text in texts),
    *(Sample(text, Intent.STOP) for text in OPT_OUTS),
    *(Sample(text, Intent.UNKNOWN) for text in CHAT),
    *(Sample(text, intent) for text, intent in LONG_TEXTS),
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # fixed, so the dated PAUSE arguments stay in range
ZONE = ZoneInfo("Europe/Berlin")
#: What reads each command's argument after ``parse_command`` (bound to a fixed clock and state).
ARGUMENT_PARSERS: dict[Intent, tuple[str, Callable[[str], object]]] = {
    Intent.PAUSE: ("parse_pause", lambda argument: parse_pause(argument, NOW, ZONE)),
    Intent.TOPICS: ("parse_topics", parse_topics),
    Intent.DIGEST: ("parse_digest", parse_digest),
    Intent.QUIET: ("parse_quiet", parse_quiet),
    Intent.LIMIT: ("parse_limit", parse_limit),
    Intent.ALERT: ("parse_alert", parse_alert),
    Intent.FILTER: ("apply_filter_change", partial(apply_filter_change, Filters())),
    Intent.TIMEZONE: ("parse_timezone", parse_timezone),
    Intent.LANGUAGE: ("parse_language", parse_language),
}


@dataclass(frozen=True)
class ArgumentCall:
    parser: str
    read: Callable[[str], object]
    argument: str


def argument_calls(samples: Sequence[Sample]) -> list[ArgumentCall]:
    """Each non-empty argument ``parse_command`` hands a parser (``ALERT off <n>`` is a removal: none)."""
    calls = []
    for sample in samples:
        command = parse_command(sample.text)
        named = ARGUMENT_PARSERS.get(command.intent)
        first = command.argument.split(" ")[0]
        removal = command.intent is Intent.ALERT and first in OFF_WORDS
        if named and command.argument and not removal:
            calls.append(ArgumentCall(named[0], _tolerant(named[1]), command.argument))
    return calls


def _tolerant(read: Callable[[str], object]) -> Callable[[str], object]:
    # A rejected argument is a normal outcome (the reply explains the form): time it as one.
    def attempt(argument: str) -> object:
        try:
            return read(argument)
        except ArgumentError as error:
            return error

    return attempt


def webhook_body(update_id: int, text: str) -> bytes:
    """The Update Telegram POSTs for ``text`` (ASCII-escaped JSON, as Telegram sends it)."""
    update = message_update(update_id, 5550000 + update_id, text)
    for person in (update["message"]["from"], update["message"]["chat"]):
        person.update(last_name="Example", username="ann_example")
    return body(update)


@dataclass(frozen=True)
class ArgumentFigures:
    parser: str
    arguments: int
    rejected: int
    median_us: float
    max_us: float


@dataclass(frozen=True)
class ParserFigures:
    messages: int
    repetitions: int
    commands_per_second: float
    commands_per_second_short: float  # messages under LONG characters only
    median_us: float
    p99_us: float
    median_us_by_kind: dict[str, float]
    decode_median_us: float
    parse_over_decode: float  # whole corpus: total parse time / total decode time
    parse_over_decode_median: float  # the median message's own ratio
    arguments: tuple[ArgumentFigures, ...]
    mislabelled: tuple[Sample, ...]


@dataclass(frozen=True)
class _Run:
    """One repetition: seconds per call, for each sample, its Update and each argument call."""

    parse: list[float]
    decode: list[float]
    arguments: list[float]


def _per_call(read: Callable[[Any], object], value: Any, inner: int) -> float:
    started = perf_counter()
    for _ in range(inner):
        read(value)
    return (perf_counter() - started) / inner


def p99(values: Sequence[float]) -> float:
    """The nearest-rank 99th percentile."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(len(ranked) * 0.99) - 1)]


def measure(
    samples: Sequence[Sample] = CORPUS, *, repetitions: int = 7, inner: int = 20, warmup: int = 3
) -> ParserFigures:
    """Time ``parse_command``, ``json.loads`` of each Update and the argument parsers, in one run."""
    bodies = [webhook_body(n, sample.text) for n, sample in enumerate(samples, start=1)]
    calls = argument_calls(samples)
    for _ in range(warmup):
        for sample, update in zip(samples, bodies, strict=True):
            parse_command(sample.text)
            json.loads(update)
        for call in calls:
            call.read(call.argument)
    runs = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection landing in one message's loop is not its cost
    try:
        for _ in range(repetitions):
            parse, decode = [], []
            for sample, update in zip(samples, bodies, strict=True):  # interleaved: same machine state
                parse.append(_per_call(parse_command, sample.text, inner))
                decode.append(_per_call(json.loads, update, inner))
            runs.append(_Run(parse, decode, [_per_call(c.read, c.argument, inner) for c in calls]))
    finally:
        if gc_was_enabled:
            gc.enable()

    def median_of_runs(figure: Callable[[_Run], float]) -> float:
        return statistics.median(figure(run) for run in runs)

    def times(run: _Run, keep: Callable[[Sample], bool]) -> list[float]:
        return [t for sample, t in zip(samples, run.parse, strict=True) if keep(sample)] or run.parse

    def kind_median(kind: str) -> float:
        return median_of_runs(lambda run: statistics.median(times(run, lambda s: s.kind == kind))) * 1e6

    def argument_figures(name: str) -> ArgumentFigures:
        mine = [n for n, call in enumerate(calls) if call.parser == name]
        rejected = sum(isinstance(calls[n].read(calls[n].argument), ArgumentError) for n in mine)
        return ArgumentFigures(
            name,
            len(mine),
            rejected,
            median_of_runs(lambda run: statistics.median(run.arguments[n] for n in mine)) * 1e6,
            median_of_runs(lambda run: max(run.arguments[n] for n in mine)) * 1e6,
        )

    short = [times(run, lambda sample: len(sample.text) < LONG) for run in runs]
    return ParserFigures(
        messages=len(samples),
        repetitions=repetitions,
        commands_per_second=median_of_runs(lambda run: len(run.parse) / sum(run.parse)),
        commands_per_second_short=statistics.median(len(run) / sum(run) for run in short),
        median_us=median_of_runs(lambda run: statistics.median(run.parse)) * 1e6,
        p99_us=median_of_runs(lambda run: p99(run.parse)) * 1e6,
        median_us_by_kind={kind: kind_median(kind) for kind in sorted({s.kind for s in samples})},
        decode_median_us=median_of_runs(lambda run: statistics.median(run.decode)) * 1e6,
        parse_over_decode=median_of_runs(lambda run: sum(run.parse) / sum(run.decode)),
        parse_over_decode_median=median_of_runs(
            lambda run: statistics.median(p / d for p, d in zip(run.parse, run.decode, strict=True))
        ),
        arguments=tuple(argument_figures(name) for name in dict.fromkeys(call.parser for call in calls)),
        mislabelled=tuple(s for s in samples if parse_command(s.text).intent is not s.intent),
    )


def report(figures: ParserFigures) -> str:
    """The figures as `make bench` prints them."""
    kinds = ", ".join(f"{kind} {us:.1f}" for kind, us in figures.median_us_by_kind.items())
    times_limit = figures.commands_per_second / TELEGRAM_BOT_MESSAGES_PER_SECOND
    lines = [
        f"parse_command, {figures.messages} EN/DE messages, 1 thread, median of {figures.repetitions} runs:",
        f"{'  throughput:':<44}{figures.commands_per_second:,.0f} commands/s"
        f" = {times_limit:,.0f}x Telegram's {TELEGRAM_BOT_MESSAGES_PER_SECOND} msg/s bot limit",
        f"{f'  throughput, messages < {LONG} chars:':<44}{figures.commands_per_second_short:,.0f} commands/s",
        f"{'  per message:':<44}median {figures.median_us:.1f} µs, p99 {figures.p99_us:.0f} µs",
        f"{'  median by kind (µs):':<44}{kinds}",
        f"{'json.loads of the Telegram Update:':<44}median {figures.decode_median_us:.1f} µs",
        f"{'parse / decode:':<44}{figures.parse_over_decode:.1f} over the corpus,"
        f" {figures.parse_over_decode_median:.1f} for the median message",
        "argument parsers (after parse_command):",
    ]
    for argument in figures.arguments:
        label = f"  {argument.parser}: {argument.arguments} args, {argument.rejected} rejected"
        lines.append(f"{label:<44}median {argument.median_us:.1f} µs, max {argument.max_us:.1f} µs")
    lines += [f"MISLABELLED: {sample.text[:60]!r} is not {sample.intent}" for sample in figures.mislabelled]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--inner", type=int, default=20, help="calls per message per repetition, averaged")
    args = parser.parse_args(argv)
    print(report(measure(repetitions=args.repetitions, inner=args.inner)))


if __name__ == "__main__":
    main()
