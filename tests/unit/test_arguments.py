"""Command arguments that name moments (COMMANDS.md): PAUSE durations and dates, clock times, timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from subcast.domain.arguments import (
    CITY_ALIASES,
    ArgumentError,
    clock_time,
    parse_pause,
    parse_time_of_day,
    parse_timezone,
)
from subcast.domain.commands import Intent, parse_command

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
#: A fixed moment: Monday 15 June 2026, 10:00 UTC (12:00 in Berlin, summer time).
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
#: Unusual rules: half-hour DST (Lord Howe), DST at midnight (Santiago), +13/+14 (Apia, Kiritimati).
AWKWARD_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "UTC",
]


def pause_argument(message: str) -> str:
    """The argument of a PAUSE message, as the parser receives it."""
    command = parse_command(message)
    assert command.intent is Intent.PAUSE, message
    return command.argument


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def after(day: date, zone: ZoneInfo) -> datetime:
    """The end of ``day`` in ``zone``: midnight starting the next day."""
    return midnight(day + timedelta(days=1), zone)


# ------------------------------------------------------------------- pause: durations
def test_pause_without_argument_lasts_seven_days() -> None:
    # Given a bare PAUSE
    argument = pause_argument("PAUSE")
    # When it is parsed
    end = parse_pause(argument, NOW, BERLIN)
    # Then the pause lasts the default week, and names no last day (a duration)
    assert end.resume_at == NOW + timedelta(days=7)
    assert end.through is None


@pytest.mark.parametrize(
    ("message", "length"),
    [
        ("PAUSE 3d", timedelta(days=3)),
        ("PAUSE 3 d", timedelta(days=3)),
        ("PAUSE 3 Tage", timedelta(days=3)),
        ("pausieren 1 Tag", timedelta(days=1)),
        ("PAUSE 2w", timedelta(weeks=2)),
        ("PAUSE 2 weeks", timedelta(weeks=2)),
        ("PAUSE 2 Wochen", timedelta(weeks=2)),
        ("PAUSE für 2 Wochen", timedelta(weeks=2)),
        ("PAUSE for 10 days.", timedelta(days=10)),
        ("/pause 1 Woche!", timedelta(weeks=1)),
        ("PAUSE 366d", timedelta(days=366)),
        ("PAUSE 52w", timedelta(weeks=52)),
    ],
)
def test_pause_for_days_or_weeks(message: str, length: timedelta) -> None:
    # Given a pause for a number of days or weeks, typed in English or German
    argument = pause_argument(message)
    # When it is parsed
    resume = parse_pause(argument, NOW, BERLIN).resume_at
    # Then it ends exactly that long after now
    assert resume - NOW == length


@pytest.mark.parametrize("message", ["PAUSE 1 month", "PAUSE 1 Monat", "PAUSE 1mo", "PAUSE 1 mon"])
def test_pause_for_a_month_keeps_the_local_time_of_day(message: str) -> None:
    # Given a one-month pause asked at 12:00 local time in mid-June
    argument = pause_argument(message)
    # When it is parsed
    resume = parse_pause(argument, NOW, BERLIN).resume_at
    # Then it ends at 12:00 local time a month later
    assert resume == datetime(2026, 7, 15, 12, 0, tzinfo=BERLIN)


def test_pause_for_months_across_a_dst_change_keeps_the_local_clock() -> None:
    # Given a one-month pause asked at 12:00 in Berlin winter time, ending after the switch to summer time
    now = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
    # When it is parsed
    resume = parse_pause("1 month", now, BERLIN).resume_at
    # Then it ends at 12:00 local summer time, which is 10:00 UTC
    assert resume.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 4, 15, 12, 0)
    assert resume == datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "months", "ends_on"),
    [
        (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), 1, date(2026, 2, 28)),
        (datetime(2028, 1, 31, 9, 0, tzinfo=UTC), 1, date(2028, 2, 29)),
        (datetime(2026, 3, 31, 9, 0, tzinfo=UTC), 1, date(2026, 4, 30)),
        (datetime(2026, 8, 31, 9, 0, tzinfo=UTC), 6, date(2027, 2, 28)),
        (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), 1, date(2027, 1, 15)),
        (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), 12, date(2027, 3, 1)),
    ],
)
def test_pause_for_months_clamps_to_the_end_of_a_shorter_month(
    now: datetime, months: int, ends_on: date
) -> None:
    # Given a pause of whole months from a day the target month may not have
    zone = ZoneInfo("UTC")
    # When it is parsed
    resume = parse_pause(f"{months} months", now, zone).resume_at
    # Then it ends on the last day of the shorter month (or the same day), at the same time of day
    assert resume.astimezone(zone).date() == ends_on
    assert resume.astimezone(zone).time() == time(9, 0)


@given(st.integers(min_value=1, max_value=366), st.sampled_from(["d", "day", "days", " tage", "tag"]))
def test_pause_any_allowed_number_of_days(days: int, unit: str) -> None:
    # Given a pause of 1 to 366 days
    argument = f"{days}{unit}"
    # When it is parsed
    resume = parse_pause(argument, NOW, BERLIN).resume_at
    # Then it ends exactly that many days from now
    assert resume - NOW == timedelta(days=days)


# ------------------------------------------------------------------- pause: dates
@pytest.mark.parametrize(
    ("message", "last_day"),
    [
        ("PAUSE until 2026-12-24", date(2026, 12, 24)),
        ("PAUSE till 2026-7-1", date(2026, 7, 1)),
        ("PAUSE bis 24.12.", date(2026, 12, 24)),
        ("PAUSE bis 24.12", date(2026, 12, 24)),
        ("PAUSE bis 24.12.2026", date(2026, 12, 24)),
        ("PAUSE bis 24.12.26", date(2026, 12, 24)),
        ("PAUSE bis zum 24.12.2026", date(2026, 12, 24)),
        ("PAUSE until 24/12", date(2026, 12, 24)),
        ("PAUSE 24.12.", date(2026, 12, 24)),
        ("PAUSE 2026-06-16", date(2026, 6, 16)),
        ("PAUSIEREN bis 1.7.", date(2026, 7, 1)),
    ],
)
def test_pause_until_a_date_includes_that_day(message: str, last_day: date) -> None:
    # Given a pause until a date, in ISO or German dotted form
    argument = pause_argument(message)
    # When it is parsed for a subscriber in Berlin
    end = parse_pause(argument, NOW, BERLIN)
    # Then it runs through that day and ends at midnight starting the next one, in Berlin
    assert end.through == last_day
    assert end.resume_at == after(last_day, BERLIN)
    assert end.resume_at.astimezone(BERLIN).time() == time(0)


@pytest.mark.parametrize("message", ["PAUSE until 2026-06-15", "PAUSE bis 15.06.2026", "PAUSE bis 15.6."])
def test_pause_until_today_pauses_the_rest_of_today(message: str) -> None:
    # Given a pause until today (15 June 2026 in Berlin), with or without a year
    argument = pause_argument(message)
    # When it is parsed
    end = parse_pause(argument, NOW, BERLIN)
    # Then it runs through today and ends at midnight tonight, local time
    assert end.through == date(2026, 6, 15)
    assert end.resume_at == datetime(2026, 6, 16, 0, 0, tzinfo=BERLIN)


@pytest.mark.parametrize("message", ["PAUSE until 24.05", "PAUSE bis 1.1.", "PAUSE bis 14.6."])
def test_pause_until_a_day_already_passed_this_year_means_next_year(message: str) -> None:
    # Given a date without a year that has already passed in 2026
    argument = pause_argument(message)
    # When it is parsed
    end = parse_pause(argument, NOW, BERLIN)
    # Then it means that day in 2027
    assert end.through is not None and end.through.year == 2027
    assert end.resume_at.astimezone(BERLIN).time() == time(0)
    assert end.resume_at - NOW <= timedelta(days=366)


@pytest.mark.parametrize(
    ("now", "argument", "resume_utc"),
    [
        # Berlin leaves summer time on 25 October 2026: through the 25th ends at midnight UTC+1
        (datetime(2026, 10, 20, 12, 0, tzinfo=UTC), "bis 25.10", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        # ... through the 24th ends at midnight starting the 25th, still UTC+2
        (datetime(2026, 10, 20, 12, 0, tzinfo=UTC), "bis 24.10", datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
        # Berlin enters summer time on 29 March 2026: through the 29th ends at midnight UTC+2
        (datetime(2026, 3, 20, 12, 0, tzinfo=UTC), "bis 29.03.", datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # ... through the 28th ends at midnight starting the 29th, still UTC+1
        (
            datetime(2026, 3, 20, 12, 0, tzinfo=UTC),
            "until 2026-03-28",
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_pause_until_a_date_across_a_dst_change(now: datetime, argument: str, resume_utc: datetime) -> None:
    # Given a pause in Berlin ending around a change between winter and summer time
    # When it is parsed
    end = parse_pause(argument, now, BERLIN)
    # Then it ends at local midnight after the named day, with that midnight's offset
    assert end.resume_at == resume_utc
    assert end.resume_at.astimezone(BERLIN).time() == time(0)


def test_pause_through_the_day_of_a_dst_change_lasts_its_25_hours() -> None:
    # Given 00:00 on 25 October 2026 in Berlin, the day summer time ends (25 hours long)
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    # When a Berlin subscriber pauses until that day
    end = parse_pause("bis 25.10.", now, BERLIN)
    # Then the pause covers the whole day: 25 hours
    assert end.resume_at - now == timedelta(hours=25)


def test_pause_until_a_date_in_new_york_after_its_dst_change() -> None:
    # Given a New York subscriber pausing through 1 November 2026, the day summer time ends
    now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    # When it is parsed
    end = parse_pause("until 2026-11-01", now, NEW_YORK)
    # Then it ends at midnight EST starting 2 November, 05:00 UTC
    assert end.resume_at == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_pause_until_a_date_when_a_dst_gap_swallows_the_next_midnight() -> None:
    # Given Santiago, where summer time starts at 00:00 on 6 September 2026 (clocks jump to 01:00)
    santiago = ZoneInfo("America/Santiago")
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    # When a subscriber there pauses through 5 September
    end = parse_pause("until 2026-09-05", now, santiago)
    # Then messages arrive again at the first moment of the 6th, 01:00 local (04:00 UTC)
    assert end.resume_at == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert end.resume_at.astimezone(santiago).replace(tzinfo=None) == datetime(2026, 9, 6, 1, 0)


def test_pause_today_is_the_subscribers_local_day() -> None:
    # Given 23:30 UTC on 23 December, already 24 December in Berlin
    now = datetime(2026, 12, 23, 23, 30, tzinfo=UTC)
    # When a Berlin subscriber pauses until the 23rd, and until the 24th with and without a year
    with pytest.raises(ArgumentError) as raised:
        parse_pause("until 2026-12-23", now, BERLIN)
    dated = parse_pause("until 2026-12-24", now, BERLIN)
    yearless = parse_pause("bis 24.12", now, BERLIN)
    # Then the 23rd has passed there, and the 24th is today: both pause through it
    assert raised.value.key == "pause.past"
    assert dated.resume_at == yearless.resume_at == after(date(2026, 12, 24), BERLIN)
    # ... while in New York it is still the 23rd, which a pause until then runs through
    assert parse_pause("until 2026-12-23", now, NEW_YORK).resume_at == after(date(2026, 12, 23), NEW_YORK)


@given(
    zone_name=st.sampled_from(AWKWARD_ZONES + sorted(available_timezones())),
    days_ahead=st.integers(min_value=0, max_value=364),
    now=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
)
def test_pause_until_a_date_ends_at_the_first_moment_of_the_next_local_day(
    zone_name: str, days_ahead: int, now: datetime
) -> None:
    # Given any zone and a date from the subscriber's local today up to 364 days ahead
    zone = ZoneInfo(zone_name)
    target = now.astimezone(zone).date() + timedelta(days=days_ahead)
    # When a pause until that date is parsed
    end = parse_pause(f"until {target.isoformat()}", now, zone)
    # Then it runs through that day there and ends at the first moment of the next one, even when a
    # DST gap swallows that midnight
    assert end.through == target
    assert end.resume_at.astimezone(zone).date() == target + timedelta(days=1)
    assert (end.resume_at - timedelta(microseconds=1)).astimezone(zone).date() == target


# ------------------------------------------------------------------- pause: errors
@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("PAUSE until 2026-01-01", "pause.past"),
        ("PAUSE bis 01.01.2026", "pause.past"),
        ("PAUSE until 2026-06-14", "pause.past"),  # yesterday
        ("PAUSE bis 14.06.2026", "pause.past"),  # yesterday
        ("PAUSE until 2027-06-16", "pause.too_long"),  # ends 366 days and 12 hours from now
        ("PAUSE 367d", "pause.too_long"),
        ("PAUSE 53 Wochen", "pause.too_long"),
        ("PAUSE 13 months", "pause.too_long"),
        ("PAUSE 999 days", "pause.too_long"),
        ("PAUSE until 2027-12-24", "pause.too_long"),
        ("PAUSE bis 24.12.2027", "pause.too_long"),
        ("PAUSE until 9999-12-31", "pause.too_long"),  # the last date there is: no day after it
        ("PAUSE bis 31.12.9999", "pause.too_long"),
        ("PAUSE 0d", "pause.invalid"),
        ("PAUSE 0 Wochen", "pause.invalid"),
        ("PAUSE 0 months", "pause.invalid"),
        ("PAUSE garbage", "pause.invalid"),
        ("PAUSE 3 parsecs", "pause.invalid"),
        ("PAUSE -3d", "pause.invalid"),
        ("PAUSE 1000d", "pause.invalid"),
        ("PAUSE bis 31.02.", "pause.invalid"),
        ("PAUSE 31.02.", "pause.invalid"),
        ("PAUSE until 2026-13-01", "pause.invalid"),
        ("PAUSE until 2026-02-30", "pause.invalid"),
        ("PAUSE bis 32.1.", "pause.invalid"),
        ("PAUSE until tomorrow", "pause.invalid"),
        ("PAUSE until", "pause.invalid"),
    ],
)
def test_pause_errors_name_the_right_message(message: str, key: str) -> None:
    # Given a pause that is in the past, too long or unreadable
    argument = pause_argument(message)
    # When it is parsed
    with pytest.raises(ArgumentError) as raised:
        parse_pause(argument, NOW, BERLIN)
    # Then the error names the catalogue message that explains it
    assert raised.value.key == key


@given(st.integers(min_value=367, max_value=999))
def test_pause_longer_than_366_days_is_refused(days: int) -> None:
    # Given a pause of more than 366 days
    # When it is parsed
    with pytest.raises(ArgumentError) as raised:
        parse_pause(f"{days}d", NOW, BERLIN)
    # Then it is too long
    assert raised.value.key == "pause.too_long"


@pytest.mark.parametrize(
    "message", ["PAUSE bis zum 24.12.", "PAUSE bis am 24.12.2026", "pausieren bis zum 24.12.2026"]
)
def test_pause_bis_zum_a_date(message: str) -> None:
    # Given the natural German "bis zum <date>"
    argument = pause_argument(message)
    # When it is parsed
    end = parse_pause(argument, NOW, BERLIN)
    # Then it runs through 24 December and ends when the 25th starts in Berlin
    assert end.through == date(2026, 12, 24)
    assert end.resume_at == midnight(date(2026, 12, 25), BERLIN)


def test_pause_through_the_same_day_next_year_is_within_the_longest_pause() -> None:
    # Given a pause through 15 June 2027, a year from today (ending 365 days and 12 hours from now)
    argument = pause_argument("PAUSE until 2027-06-15")
    # When it is parsed
    end = parse_pause(argument, NOW, BERLIN)
    # Then it is accepted and ends when 16 June 2027 starts
    assert end.resume_at == midnight(date(2027, 6, 16), BERLIN)


def test_pause_until_29_february_in_a_year_before_a_leap_year() -> None:
    # Given a subscriber in autumn 2027, when the next 29 February (2028) is less than 366 days away
    now = datetime(2027, 9, 1, 10, 0, tzinfo=UTC)
    # When they pause until 29.02.
    end = parse_pause("bis 29.02", now, BERLIN)
    # Then it runs through 29 February 2028
    assert end.through == date(2028, 2, 29)
    assert end.resume_at == midnight(date(2028, 3, 1), BERLIN)


# ------------------------------------------------------------------- clock times
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8", time(8, 0)),
        ("08:00", time(8, 0)),
        ("7.30", time(7, 30)),
        ("18h30", time(18, 30)),
        ("23:59", time(23, 59)),
        ("0", time(0, 0)),
        ("24", time(0, 0)),
        ("24:00", time(0, 0)),
    ],
)
def test_time_of_day(text: str, expected: time) -> None:
    # Given a clock time in one of the usual spellings
    # When it is parsed
    parsed = parse_time_of_day(text)
    # Then it is that time
    assert parsed == expected


@pytest.mark.parametrize("text", ["25", "24:01", "7:60", "7:5", "7:", "", "abc", "-1", "123", "7:30pm"])
def test_time_of_day_errors(text: str) -> None:
    # Given something that is not a clock time
    # When it is parsed
    with pytest.raises(ArgumentError) as raised:
        parse_time_of_day(text)
    # Then it is refused with the digest's explanation
    assert raised.value.key == "digest.invalid"


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_clock_time_accepts_every_real_time(hour: int, minute: int) -> None:
    # Given any hour and minute of a day
    # When they are read as a clock time
    parsed = clock_time(str(hour), f"{minute:02d}")
    # Then it is that time
    assert parsed == time(hour, minute)


@pytest.mark.parametrize(("hours", "minutes"), [("24", "01"), ("25", None), ("99", "00"), ("7", "60")])
def test_clock_time_rejects_impossible_times(hours: str, minutes: str | None) -> None:
    # Given an hour or minute a day does not have
    # When it is read as a clock time
    # Then it is refused
    with pytest.raises(ValueError):
        clock_time(hours, minutes)


# ------------------------------------------------------------------- timezone
@pytest.mark.parametrize(
    ("message", "zone"),
    [
        ("TZ Europe/Berlin", "Europe/Berlin"),
        ("TZ europe/berlin", "Europe/Berlin"),
        ("ZEITZONE EUROPE/BERLIN", "Europe/Berlin"),
        ("TZ berlin", "Europe/Berlin"),
        ("TZ Berlin.", "Europe/Berlin"),
        ("TZ Wien", "Europe/Vienna"),
        ("TZ München", "Europe/Berlin"),
        ("TZ Zürich", "Europe/Zurich"),
        ("TZ new york", "America/New_York"),
        ("TZ New  York", "America/New_York"),
        ("TZ America/New_York", "America/New_York"),
        ("TZ america/new york", "America/New_York"),
        ("TZ los angeles", "America/Los_Angeles"),
        ("TZ utc", "UTC"),
        ("TZ UTC", "UTC"),
        ("TZ London", "Europe/London"),
    ],
)
def test_timezone_by_name_or_city(message: str, zone: str) -> None:
    # Given a timezone named by its IANA name in any case, or by a city
    command = parse_command(message)
    assert command.intent is Intent.TIMEZONE
    # When its argument is parsed
    parsed = parse_timezone(command.argument)
    # Then it is the IANA zone
    assert parsed == zone
    assert ZoneInfo(parsed) is not None


@pytest.mark.parametrize(
    "argument", ["atlantis", "", "europe/atlantis", "berlin wien", "+01:00", "../etc/passwd"]
)
def test_unknown_timezone(argument: str) -> None:
    # Given something that names no zone
    # When it is parsed
    with pytest.raises(ArgumentError) as raised:
        parse_timezone(argument)
    # Then it is refused, naming what was typed (cut short)
    assert raised.value.key == "timezone.unknown"
    assert raised.value.params == {"zone": argument[:40]}


def test_unknown_timezone_quotes_at_most_40_characters() -> None:
    # Given a very long unknown zone
    argument = "x" * 500
    # When it is parsed
    with pytest.raises(ArgumentError) as raised:
        parse_timezone(argument)
    # Then the error quotes only the first 40 characters
    assert raised.value.params == {"zone": "x" * 40}


#: IANA names that CITY_ALIASES would map elsewhere (none now; see the test below).
SHADOWED_ZONES = sorted(
    zone for zone in available_timezones() if zone.casefold() in CITY_ALIASES and zone != "UTC"
)


@given(st.sampled_from(sorted(available_timezones())))
def test_every_iana_zone_parses_to_itself_in_any_case(zone: str) -> None:
    # Given any IANA zone name, casefolded, upper-cased or with spaces for underscores
    assume(zone not in SHADOWED_ZONES)  # covered by test_iana_names_win_over_aliases
    # When it is parsed
    # Then it is that zone
    assert parse_timezone(zone.casefold()) == zone
    assert parse_timezone(zone.upper().casefold()) == zone
    assert parse_timezone(zone.casefold().replace("_", " ")) == zone


def test_every_iana_zone_parses_to_itself_exhaustively() -> None:
    # Given every IANA zone this system knows (but the alias-shadowed ones)
    zones = sorted(available_timezones())
    # When each is parsed casefolded
    parsed = {zone: parse_timezone(zone.casefold()) for zone in zones if zone not in SHADOWED_ZONES}
    # Then each is itself
    assert {zone: result for zone, result in parsed.items() if result != zone} == {}
    assert len(zones) > 300


@pytest.mark.parametrize("zone", ["CET", "GMT"])
def test_iana_names_win_over_aliases(zone: str) -> None:
    # Given an exact IANA zone name that the alias table also lists
    assert zone in available_timezones()
    # When it is parsed
    parsed = parse_timezone(zone.casefold())
    # Then the subscriber gets the zone they named
    assert parsed == zone


# ------------------------------------------------------------------- robustness
@given(st.text())
def test_argument_parsers_raise_only_argument_errors(text: str) -> None:
    # Given any text at all, raw and as a command's normalised argument
    for argument in (text, parse_command(f"PAUSE {text}").argument):
        # When each parser reads it
        for parse in (
            lambda a: parse_pause(a, NOW, BERLIN),
            lambda a: parse_pause(
                a, datetime(2027, 12, 31, 23, 59, tzinfo=UTC), ZoneInfo("Pacific/Kiritimati")
            ),
            parse_time_of_day,
            parse_timezone,
        ):
            # Then it either returns or raises ArgumentError with a key
            try:
                parse(argument)
            except ArgumentError as error:
                assert error.key


@given(
    st.one_of(
        st.from_regex(r"(until |bis |for )?\d{1,4}[-./]\d{1,2}([-./]\d{1,4})?\.?", fullmatch=True),
        st.from_regex(r"(fuer )?\d{1,3} ?[a-z]{1,7}", fullmatch=True),
    )
)
def test_pause_parser_raises_only_argument_errors_on_date_like_text(text: str) -> None:
    # Given text shaped like a date or a duration, with any digits
    # When it is parsed as a pause
    try:
        resume = parse_pause(text, NOW, BERLIN).resume_at
    except ArgumentError as error:
        # Then it is either refused with a pause message ...
        assert error.key in {"pause.invalid", "pause.past", "pause.too_long"}
    else:
        # ... or ends in the future, within the longest pause
        assert timedelta(0) < resume - NOW <= timedelta(days=366)
