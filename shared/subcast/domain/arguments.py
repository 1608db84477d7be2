"""Parsing the arguments of subscriber commands that name moments: pauses, clock times, timezones.

Pure, no I/O. Parsers take the normalised argument of a command (casefolded,
umlauts spelt ae/oe/ue, surrounding punctuation removed: see
``commands.normalise``) and return a typed value, or raise ``ArgumentError``
naming the catalogue message that explains the expected form.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_PAUSE = timedelta(days=7)
MAX_PAUSE = timedelta(days=366)
OFF_WORDS = frozenset({"off", "aus", "none", "keine", "no", "nein"})


class ArgumentError(ValueError):
    """A command's argument is malformed; ``key`` names the catalogue message that explains the form."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# ------------------------------------------------------------------- pause
_UNITS = {
    "d": "days", "day": "days", "days": "days", "tag": "days", "tage": "days", "tagen": "days",
    "w": "weeks", "wk": "weeks", "week": "weeks", "weeks": "weeks", "woche": "weeks", "wochen": "weeks",
    "month": "months", "months": "months", "monat": "months", "monate": "months", "monaten": "months",
    "mo": "months", "mon": "months",
}  # fmt: skip
_DURATION = re.compile(r"^(?:for |fuer )?(\d{1,3}) ?([a-z]+)$")
_UNTIL = re.compile(r"^(?:until|till|to|bis zum|bis am|bis) (.+)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?\.?$")


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _local_date(text: str, today: date) -> date:
    iso = _ISO_DATE.match(text)
    dotted = _DOTTED_DATE.match(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if dotted:
            day, month, year = int(dotted.group(1)), int(dotted.group(2)), dotted.group(3)
            if year:
                return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
            # The next such date from today on (today counts: the pause runs through it; 29.02
            # may be years away: too long a pause then).
            for year in range(today.year, today.year + 5):
                try:
                    candidate = date(year, month, day)
                except ValueError:
                    continue
                if candidate >= today:
                    return candidate
    except ValueError:
        pass
    raise ArgumentError("pause.invalid")


def first_moment(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of ``day`` in ``zone``: local midnight, or the end of a DST gap that skips it."""
    # A midnight a DST gap skips reads with the offset before the gap, which is the gap's end in UTC.
    return datetime.combine(day, time(0), zone).astimezone(UTC).astimezone(zone)


@dataclass(frozen=True)
class PauseEnd:
    """When a pause ends.

    ``resume_at`` is the first moment messages arrive again. ``through`` is the last local day of a
    pause until a named day (``PAUSE until 24.12.`` pauses through the 24th); None for a duration.
    """

    resume_at: datetime
    through: date | None = None


def parse_pause(argument: str, now: datetime, zone: ZoneInfo) -> PauseEnd:
    """When a pause ends: none given (7 days), ``3d``, ``2 wochen``, ``1 month``, ``until 2026-12-24``.

    A duration ends that long after ``now`` (months: the same local time of day). A pause until a
    named day includes that day: it ends when the next day starts in the subscriber's timezone.
    Today may be named (the rest of today); a date without a year is its next occurrence from today.
    """
    text = " ".join(argument.split())
    now = now.astimezone(UTC)  # elapsed-time arithmetic, whatever zone ``now`` came in
    local_now = now.astimezone(zone)
    through: date | None = None
    if not text:
        resume = now + DEFAULT_PAUSE
    elif duration := _DURATION.match(text):
        count, unit = int(duration.group(1)), _UNITS.get(duration.group(2))
        if unit is None or count == 0:
            raise ArgumentError("pause.invalid")
        if unit == "months":
            resume = datetime.combine(_add_months(local_now.date(), count), local_now.timetz())
        else:
            resume = now + timedelta(**{unit: count})
    else:
        until = _UNTIL.match(text)
        through = _local_date(until.group(1) if until else text, local_now.date())
        if through < local_now.date():
            raise ArgumentError("pause.past")
        if through > local_now.date() + MAX_PAUSE:
            raise ArgumentError("pause.too_long")  # already; and 31.12.9999 has no next day to end on
        # People mean the named day inclusive; the next local day's 00:00 keeps DST right.
        resume = first_moment(through + timedelta(days=1), zone)
    if resume - now > MAX_PAUSE:
        raise ArgumentError("pause.too_long")
    return PauseEnd(resume, through)


# ------------------------------------------------------------- clock times
CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?"


def clock_time(hours: str, minutes: str | None) -> time:
    hour, minute = int(hours), int(minutes or 0)
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError
    return time(hour, minute)


def parse_time_of_day(text: str) -> time:
    match = re.fullmatch(CLOCK, text)
    try:
        if match:
            return clock_time(match.group(1), match.group(2))
    except ValueError:
        pass
    raise ArgumentError("digest.invalid")


# ---------------------------------------------------------------- timezone
#: Common local spellings the IANA database does not use.
CITY_ALIASES = {
    "wien": "Europe/Vienna", "muenchen": "Europe/Berlin", "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin", "koeln": "Europe/Berlin", "cologne": "Europe/Berlin",
    "frankfurt": "Europe/Berlin", "zuerich": "Europe/Zurich",
    "genf": "Europe/Zurich", "geneva": "Europe/Zurich", "rom": "Europe/Rome", "prag": "Europe/Prague",
    "warschau": "Europe/Warsaw", "moskau": "Europe/Moscow", "new york": "America/New_York",
    "nyc": "America/New_York", "san francisco": "America/Los_Angeles", "la": "America/Los_Angeles",
    "mez": "Europe/Berlin", "utc": "UTC",
}  # fmt: skip


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone by its casefolded full name and, when unambiguous, by its city."""
    by_name: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for zone in available_timezones():
        by_name[zone.casefold()] = zone
        city = zone.rsplit("/", 1)[-1].replace("_", " ").casefold()
        cities.setdefault(city, []).append(zone)
    for city, zones in cities.items():
        by_name.setdefault(city, sorted(zones, key=lambda name: (name.startswith("Etc/"), len(name)))[0])
    return by_name


def parse_timezone(argument: str) -> str:
    """An IANA zone name from ``Europe/Berlin`` (any case), a city (``berlin``, ``wien``) or UTC."""
    text = " ".join(argument.replace("_", " ").split())
    zone = CITY_ALIASES.get(text) or _zones().get(text) or _zones().get(text.replace(" ", "_"))
    if zone is None:
        raise ArgumentError("timezone.unknown", zone=argument[:40])
    return zone
