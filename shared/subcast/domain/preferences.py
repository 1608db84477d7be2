"""Subscriber preferences and the commands that set them: quiet hours, digest, language, cap, filters,
alerts and topics.

Pure parsing and matching, no I/O; malformed arguments raise ``ArgumentError``
(see ``arguments``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from enum import StrEnum

from subcast.domain.arguments import CLOCK, OFF_WORDS, ArgumentError, clock_time, parse_time_of_day
from subcast.domain.commands import fold
from subcast.domain.messages import Language

MAX_FILTERS = 20
MAX_FILTER_WORD = 40


# ------------------------------------------------------------- quiet hours
@dataclass(frozen=True)
class QuietHours:
    """A daily window in the subscriber's local time; it may wrap past midnight (22:00-07:00)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def render(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


_WINDOW = re.compile(rf"^{CLOCK} ?(?:-|\u2013|to|bis) ?{CLOCK}$")  # hyphen or en dash


_UHR = re.compile(r" ?uhr\b")  # German "o'clock": 22 Uhr, 22Uhr


def parse_quiet(argument: str) -> QuietHours | None:
    """``22:00-07:00``, ``22-7``, ``22.30 bis 6``, ``22 Uhr bis 7 Uhr``; ``off`` (None)."""
    text = _UHR.sub("", " ".join(argument.split()))
    if text in OFF_WORDS:
        return None
    window = _WINDOW.match(text)
    try:
        if window:
            quiet = QuietHours(
                clock_time(window.group(1), window.group(2)), clock_time(window.group(3), window.group(4))
            )
            if quiet.start != quiet.end:
                return quiet
    except ValueError:
        pass
    raise ArgumentError("quiet.invalid")


# ------------------------------------------------------------------ digest
class DigestMode(StrEnum):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class Digest:
    mode: DigestMode
    at: time = time(8, 0)
    weekday: int = 0  # Monday; used when weekly


_DIGEST_MODES = {
    "daily": DigestMode.DAILY, "taeglich": DigestMode.DAILY, "taglich": DigestMode.DAILY,
    "weekly": DigestMode.WEEKLY, "woechentlich": DigestMode.WEEKLY, "wochentlich": DigestMode.WEEKLY,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "mon": 0, "montag": 0, "mo": 0, "tuesday": 1, "tue": 1, "dienstag": 1, "di": 1,
    "wednesday": 2, "wed": 2, "mittwoch": 2, "mi": 2, "thursday": 3, "thu": 3, "donnerstag": 3, "do": 3,
    "friday": 4, "fri": 4, "freitag": 4, "fr": 4, "saturday": 5, "sat": 5, "samstag": 5, "sa": 5,
    "sunday": 6, "sun": 6, "sonntag": 6, "so": 6,
}  # fmt: skip


def parse_digest(argument: str) -> Digest:
    """``off``, ``daily [HH:MM]``, ``weekly [HH:MM] [weekday]`` (in either order after the mode)."""
    words = _UHR.sub("", argument).replace(",", " ").split()
    if not words:
        raise ArgumentError("digest.invalid")
    if words[0] in OFF_WORDS:
        if len(words) > 1:
            raise ArgumentError("digest.invalid")
        return Digest(DigestMode.OFF)
    mode = _DIGEST_MODES.get(words[0])
    if mode is None:
        raise ArgumentError("digest.invalid")
    at, weekday = time(8, 0), 0
    for word in words[1:]:
        if word in WEEKDAYS and mode is DigestMode.WEEKLY:
            weekday = WEEKDAYS[word]
        else:
            at = parse_time_of_day(word)
    return Digest(mode, at, weekday)


# ---------------------------------------------------------------- language
_LANGUAGES = {
    "en": Language.EN, "english": Language.EN, "englisch": Language.EN,
    "de": Language.DE, "deutsch": Language.DE, "german": Language.DE,
}  # fmt: skip


def parse_language(argument: str) -> Language:
    language = _LANGUAGES.get(argument.strip())
    if language is None:
        raise ArgumentError("language.invalid")
    return language


# ----------------------------------------------------------- frequency cap
#: A cap allows 1 to this many messages per period (the subscriber's LIMIT and the publisher's setting).
MAX_CAP_COUNT = 100


class CapPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class FrequencyCap:
    count: int
    period: CapPeriod

    def render(self) -> str:
        return f"{self.count}/{self.period.value}"


_CAP = re.compile(r"^(\d{1,3}) ?(?:/|per|pro|a|am|an|in der|je) ?([a-z]+)$")
_PERIODS = {"day": CapPeriod.DAY, "d": CapPeriod.DAY, "tag": CapPeriod.DAY,
            "week": CapPeriod.WEEK, "w": CapPeriod.WEEK, "woche": CapPeriod.WEEK}  # fmt: skip


def parse_limit(argument: str) -> FrequencyCap | None:
    """``3/day``, ``5 per week``, ``3 pro Tag``; ``off`` (None)."""
    text = " ".join(argument.split())
    if text in OFF_WORDS:
        return None
    match = _CAP.match(text)
    if match and match.group(2) in _PERIODS and 1 <= int(match.group(1)) <= MAX_CAP_COUNT:
        return FrequencyCap(int(match.group(1)), _PERIODS[match.group(2)])
    raise ArgumentError("limit.invalid")


def smaller_cap(first: FrequencyCap | None, second: FrequencyCap | None) -> FrequencyCap | None:
    """The stricter of two caps (a daily cap is compared as seven times itself per week)."""
    caps = [cap for cap in (first, second) if cap is not None]
    if not caps:
        return None
    # Per week; on a tie the daily cap is stricter (it also spreads the messages out).
    return min(
        caps,
        key=lambda cap: (cap.count * (7 if cap.period is CapPeriod.DAY else 1), cap.period is CapPeriod.WEEK),
    )


# ----------------------------------------------------------------- filters
@dataclass(frozen=True)
class Filters:
    """Keyword filters: only snippets with an ``include`` word (if any), never with an ``exclude`` word."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def allows(self, text: str) -> bool:
        # Plain substring tests: no input can make matching slow. Folded like the filter words.
        folded = fold(text)
        if any(word in folded for word in self.exclude):
            return False
        return not self.include or any(word in folded for word in self.include)


def apply_filter_change(filters: Filters, argument: str) -> Filters:
    """``+bayern -werbung`` adds words, ``off`` removes them all."""
    words = argument.split()
    if words == [] or (len(words) == 1 and words[0] in OFF_WORDS):
        if words:
            return Filters()
        raise ArgumentError("filter.invalid")
    include, exclude = list(filters.include), list(filters.exclude)
    for word in words:
        sign, term = word[:1], word[1:]
        if sign not in "+-" or not term or len(term) > MAX_FILTER_WORD:
            raise ArgumentError("filter.invalid")
        keep, drop = (include, exclude) if sign == "+" else (exclude, include)
        if term in drop:
            drop.remove(term)
        if term not in keep:
            keep.append(term)
    if len(include) + len(exclude) > MAX_FILTERS:
        raise ArgumentError("filter.too_many", limit=MAX_FILTERS)
    return Filters(tuple(include), tuple(exclude))


# ------------------------------------------------------------------ alerts
OPERATORS = ("<=", ">=", "!=", "<", ">", "=")
_GROUPED_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:[.,]\d{3})+$")
_ALERT = re.compile(r"^([a-z0-9][a-z0-9-]{0,31}) ([a-z0-9_]{1,32}) ?(<=|>=|!=|<|>|=) ?(\S{1,40})$")


@dataclass(frozen=True)
class Alert:
    """A subscriber-defined trigger: broadcasts on ``topic`` reach them only when the condition holds."""

    topic: str
    field: str
    operator: str
    value: float | str

    def holds(self, attributes: dict[str, float | str]) -> bool:
        actual = attributes.get(self.field)
        if actual is None:
            return False
        number = None if isinstance(actual, bool) else _as_number(actual)
        if isinstance(self.value, float) and number is not None:
            left, right = number, self.value
            return {
                "<": left < right, "<=": left <= right, ">": left > right,
                ">=": left >= right, "=": left == right, "!=": left != right,
            }[self.operator]  # fmt: skip
        if self.operator in ("=", "!="):
            same = str(actual).casefold() == str(self.value).casefold()
            return same if self.operator == "=" else not same
        return False

    def render(self) -> str:
        value = repr(self.value).removesuffix(".0") if isinstance(self.value, float) else self.value
        return f"{self.topic} {self.field} {self.operator} {value}"


def _as_number(value: object) -> float | None:
    """Numbers as they come from JSON, DynamoDB (Decimal) or a publisher's string attribute."""
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def parse_alert(argument: str) -> Alert:
    """``energie kwh > 300``: topic, attribute, one of ``< <= > >= = !=``, a number or a word."""
    match = _ALERT.match(" ".join(argument.split()))
    if not match:
        raise ArgumentError("alert.invalid")
    topic, field, operator, raw = match.groups()
    if _GROUPED_THOUSANDS.match(raw):
        # 1.000 is a thousand in German and one in English: ask rather than guess.
        raise ArgumentError("alert.ambiguous_number", value=raw)
    try:
        number = float(raw.replace(",", "."))
        if not math.isfinite(number):
            raise ValueError(raw)
        value: float | str = number
    except ValueError:
        if operator not in ("=", "!="):
            raise ArgumentError("alert.invalid") from None
        value = raw
    return Alert(topic, field, operator, value)


# ------------------------------------------------------------------ topics
@dataclass(frozen=True)
class TopicsChange:
    """``sport, tech`` replaces the choice; ``+sport -politik`` edits it; ``all`` means every topic."""

    replace: tuple[str, ...] | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    everything: bool = False

    def apply(self, current: tuple[str, ...] | None, known: frozenset[str]) -> tuple[str, ...] | None:
        # A topic the publisher retired can still be removed; a typo cannot silently do nothing.
        unknown = sorted({*(self.replace or ()), *self.add, *self.remove} - known - set(current or ()))
        if unknown:
            raise ArgumentError("topics.unknown", topics=", ".join(unknown))
        if self.everything:
            return None
        if self.replace is not None:
            return tuple(sorted(set(self.replace)))
        if current is None and not self.remove:
            return None  # adding to "every topic" keeps every topic, including ones added later
        base = set(current if current is not None else known)
        return tuple(sorted((base | set(self.add)) - set(self.remove)))


def parse_topics(argument: str) -> TopicsChange | None:
    """None when the argument is empty (list the topics)."""
    words = argument.replace(",", " ").split()
    if not words:
        return None
    if words in (["all"], ["alle"]):
        return TopicsChange(everything=True)
    signed = [word for word in words if word[:1] in "+-"]
    if signed and len(signed) != len(words):
        raise ArgumentError("topics.invalid")
    if signed:
        return TopicsChange(
            add=tuple(word[1:] for word in words if word[0] == "+" and word[1:]),
            remove=tuple(word[1:] for word in words if word[0] == "-" and word[1:]),
        )
    return TopicsChange(replace=tuple(words))
