"""Subscriber preferences (COMMANDS.md): QUIET, DIGEST, LANG, LIMIT, FILTER, ALERT and TOPICS arguments."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from subcast.domain.arguments import ArgumentError
from subcast.domain.commands import Intent, parse_command
from subcast.domain.messages import Language
from subcast.domain.preferences import (
    MAX_FILTER_WORD,
    MAX_FILTERS,
    Alert,
    CapPeriod,
    Digest,
    DigestMode,
    Filters,
    FrequencyCap,
    QuietHours,
    TopicsChange,
    apply_filter_change,
    parse_alert,
    parse_digest,
    parse_language,
    parse_limit,
    parse_quiet,
    parse_topics,
    smaller_cap,
)

KNOWN_TOPICS = frozenset({"sport", "tech", "politik", "energie", "kultur"})
OPERATORS = ["<", "<=", ">", ">=", "=", "!="]


def argument_of(message: str, intent: Intent) -> str:
    """The argument of a command message, as the parsers receive it (normalised)."""
    command = parse_command(message)
    assert command.intent is intent, message
    return command.argument


def error_key(parse: Callable[[str], object], argument: str) -> str:
    with pytest.raises(ArgumentError) as raised:
        parse(argument)
    return raised.value.key


def is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ quiet hours
@pytest.mark.parametrize(
    ("message", "start", "end"),
    [
        ("QUIET 22:00-07:00", time(22, 0), time(7, 0)),
        ("QUIET 22-7", time(22, 0), time(7, 0)),
        ("RUHE 22.30 bis 6", time(22, 30), time(6, 0)),
        ("QUIET 22\u20137", time(22, 0), time(7, 0)),  # en dash
        ("QUIET 22:00 \u2013 07:00", time(22, 0), time(7, 0)),
        ("QUIET 22:00 - 07:00.", time(22, 0), time(7, 0)),
        ("QUIET 22 to 7", time(22, 0), time(7, 0)),
        ("QUIET 23h30-6h15", time(23, 30), time(6, 15)),
        ("QUIET 9-17", time(9, 0), time(17, 0)),
        ("QUIET 22-24", time(22, 0), time(0, 0)),
        ("RUHE 0-6", time(0, 0), time(6, 0)),
        ("RUHE 22 Uhr bis 7 Uhr", time(22, 0), time(7, 0)),
        ("QUIET 22 Uhr - 7 Uhr", time(22, 0), time(7, 0)),
        ("RUHE 22-7 Uhr", time(22, 0), time(7, 0)),
    ],
)
def test_quiet_window(message: str, start: time, end: time) -> None:
    # Given quiet hours in one of the usual spellings
    argument = argument_of(message, Intent.QUIET)
    # When they are parsed
    quiet = parse_quiet(argument)
    # Then they are that window
    assert quiet == QuietHours(start, end)


@pytest.mark.parametrize("message", ["QUIET off", "RUHE aus", "QUIET OFF!", "ruhe keine"])
def test_quiet_off(message: str) -> None:
    # Given quiet hours switched off
    argument = argument_of(message, Intent.QUIET)
    # When they are parsed
    quiet = parse_quiet(argument)
    # Then there are none
    assert quiet is None


@pytest.mark.parametrize(
    "argument",
    ["25:00-7", "22-22", "22:00-22:00", "24-0", "7-", "-7", "abc", "", "22:00-07:60", "22-7-9", "22 7"],
)
def test_quiet_errors(argument: str) -> None:
    # Given a window that is impossible, empty or unreadable
    # When it is parsed
    # Then it is refused with the quiet hours explanation
    assert error_key(parse_quiet, argument) == "quiet.invalid"


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (time(22, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(3, 0), True),
        (time(6, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
        (time(21, 59), False),
    ],
)
def test_quiet_window_across_midnight(moment: time, inside: bool) -> None:
    # Given quiet hours from 22:00 to 07:00
    quiet = QuietHours(time(22, 0), time(7, 0))
    # When a moment is checked
    # Then it is inside from 22:00 (included) to 07:00 (excluded)
    assert quiet.contains(moment) is inside


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (time(9, 0), True),
        (time(16, 59), True),
        (time(17, 0), False),
        (time(8, 59), False),
        (time(23, 0), False),
    ],
)
def test_quiet_window_inside_one_day(moment: time, inside: bool) -> None:
    # Given quiet hours from 09:00 to 17:00
    quiet = QuietHours(time(9, 0), time(17, 0))
    # When a moment is checked
    # Then it is inside from 09:00 (included) to 17:00 (excluded)
    assert quiet.contains(moment) is inside


clock_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@given(start=clock_times, end=clock_times, moment=st.times())
def test_quiet_contains_is_the_window_or_its_complement(start: time, end: time, moment: time) -> None:
    # Given any quiet window, parsed from its rendering
    assume(start != end)
    quiet = parse_quiet(f"{start:%H:%M}-{end:%H:%M}")
    assert quiet == QuietHours(start, end)
    # When a moment is checked
    inside = quiet.contains(moment)
    # Then a window wrapping midnight is everything but [end, start), a day window is [start, end)
    if start > end:
        assert inside == (not (end <= moment < start))
    else:
        assert inside == (start <= moment < end)


@given(start=clock_times, end=clock_times)
def test_quiet_render_round_trips(start: time, end: time) -> None:
    # Given any quiet window
    assume(start != end)
    quiet = QuietHours(start, end)
    # When it is rendered and parsed back
    parsed = parse_quiet(quiet.render())
    # Then it is the same window
    assert parsed == quiet


# ------------------------------------------------------------------ digest
@pytest.mark.parametrize(
    ("message", "digest"),
    [
        ("DIGEST off", Digest(DigestMode.OFF)),
        ("ZUSAMMENFASSUNG aus", Digest(DigestMode.OFF)),
        ("DIGEST daily", Digest(DigestMode.DAILY, time(8, 0), 0)),
        ("DIGEST daily 07:30", Digest(DigestMode.DAILY, time(7, 30))),
        ("ZUSAMMENFASSUNG täglich 18uhr", Digest(DigestMode.DAILY, time(18, 0))),
        ("digest taglich 6.45", Digest(DigestMode.DAILY, time(6, 45))),
        ("DIGEST weekly", Digest(DigestMode.WEEKLY, time(8, 0), 0)),
        ("DIGEST weekly 18:00", Digest(DigestMode.WEEKLY, time(18, 0), 0)),
        ("DIGEST weekly friday", Digest(DigestMode.WEEKLY, time(8, 0), 4)),
        ("DIGEST weekly 18:00 friday", Digest(DigestMode.WEEKLY, time(18, 0), 4)),
        ("DIGEST weekly sunday, 9:00", Digest(DigestMode.WEEKLY, time(9, 0), 6)),
        ("ZUSAMMENFASSUNG wöchentlich Freitag 18:00", Digest(DigestMode.WEEKLY, time(18, 0), 4)),
        ("ZUSAMMENFASSUNG woechentlich Mittwoch", Digest(DigestMode.WEEKLY, time(8, 0), 2)),
        ("DIGEST weekly sa 10", Digest(DigestMode.WEEKLY, time(10, 0), 5)),
        ("DIGEST weekly Dienstag", Digest(DigestMode.WEEKLY, time(8, 0), 1)),
        ("ZUSAMMENFASSUNG täglich 8 Uhr", Digest(DigestMode.DAILY, time(8, 0))),
        ("Zusammenfassung wöchentlich 18 Uhr so", Digest(DigestMode.WEEKLY, time(18, 0), 6)),
    ],
)
def test_digest(message: str, digest: Digest) -> None:
    # Given a digest setting, with an optional time and weekday in English or German
    argument = argument_of(message, Intent.DIGEST)
    # When it is parsed
    parsed = parse_digest(argument)
    # Then it is that digest, defaulting to 08:00 on Monday
    assert parsed == digest


@pytest.mark.parametrize(
    "argument",
    [
        "",
        "hourly",
        "off now",
        "aus 8:00",
        "daily 25:00",
        "daily 7:60",
        "daily monday",
        "weekly funday",
        "8:00",
    ],
)
def test_digest_errors(argument: str) -> None:
    # Given a digest setting with an unknown mode, an impossible time or a weekday for a daily digest
    # When it is parsed
    # Then it is refused with the digest explanation
    assert error_key(parse_digest, argument) == "digest.invalid"


@given(
    st.sampled_from(["weekly", "woechentlich"]),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(
        [("monday", 0), ("dienstag", 1), ("wed", 2), ("donnerstag", 3), ("fr", 4), ("saturday", 5), ("so", 6)]
    ),
    st.booleans(),
)
def test_weekly_digest_takes_time_and_weekday_in_either_order(
    mode: str, hour: int, minute: int, day: tuple[str, int], time_first: bool
) -> None:
    # Given a weekly digest with a time and a weekday in either order
    clock, (weekday, number) = f"{hour}:{minute:02d}", day
    argument = f"{mode} {clock} {weekday}" if time_first else f"{mode} {weekday} {clock}"
    # When it is parsed
    parsed = parse_digest(argument)
    # Then both are taken
    assert parsed == Digest(DigestMode.WEEKLY, time(hour, minute), number)


# ------------------------------------------------------------------ language
@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("LANG en", Language.EN),
        ("LANG EN", Language.EN),
        ("LANG english", Language.EN),
        ("SPRACHE Englisch", Language.EN),
        ("LANG de", Language.DE),
        ("SPRACHE Deutsch", Language.DE),
        ("LANG german", Language.DE),
        ("sprache DE.", Language.DE),
    ],
)
def test_language(message: str, language: Language) -> None:
    # Given a language named by its code or its name
    argument = argument_of(message, Intent.LANGUAGE)
    # When it is parsed
    parsed = parse_language(argument)
    # Then it is that language
    assert parsed is language


@pytest.mark.parametrize("argument", ["fr", "", "francais", "deutsch bitte", "en de", "d"])
def test_language_errors(argument: str) -> None:
    # Given a language the service does not speak, or none
    # When it is parsed
    # Then it is refused
    assert error_key(parse_language, argument) == "language.invalid"


# ------------------------------------------------------------------ frequency cap
@pytest.mark.parametrize(
    ("message", "cap"),
    [
        ("LIMIT 3/day", FrequencyCap(3, CapPeriod.DAY)),
        ("LIMIT 5/week", FrequencyCap(5, CapPeriod.WEEK)),
        ("LIMIT 5 per week", FrequencyCap(5, CapPeriod.WEEK)),
        ("LIMIT 3 pro Tag", FrequencyCap(3, CapPeriod.DAY)),
        ("LIMIT 2 pro Woche", FrequencyCap(2, CapPeriod.WEEK)),
        ("LIMIT 3 a day", FrequencyCap(3, CapPeriod.DAY)),
        ("LIMIT 4 am Tag", FrequencyCap(4, CapPeriod.DAY)),
        ("LIMIT 10 in der Woche", FrequencyCap(10, CapPeriod.WEEK)),
        ("LIMIT 1/d", FrequencyCap(1, CapPeriod.DAY)),
        ("LIMIT 100/w", FrequencyCap(100, CapPeriod.WEEK)),
    ],
)
def test_limit(message: str, cap: FrequencyCap) -> None:
    # Given a frequency cap in English or German
    argument = argument_of(message, Intent.LIMIT)
    # When it is parsed
    parsed = parse_limit(argument)
    # Then it is that cap
    assert parsed == cap


@pytest.mark.parametrize("message", ["LIMIT off", "LIMIT aus", "LIMIT none"])
def test_limit_off(message: str) -> None:
    # Given the cap switched off
    argument = argument_of(message, Intent.LIMIT)
    # When it is parsed
    # Then there is none
    assert parse_limit(argument) is None


@pytest.mark.parametrize(
    "argument", ["0/day", "101/day", "1000/week", "3/month", "3", "day", "", "-3/day", "3/days", "drei/tag"]
)
def test_limit_errors(argument: str) -> None:
    # Given a cap of zero, over 100, per an unknown period, or unreadable
    # When it is parsed
    # Then it is refused
    assert error_key(parse_limit, argument) == "limit.invalid"


@given(st.integers(1, 100), st.sampled_from([("day", CapPeriod.DAY), ("woche", CapPeriod.WEEK)]))
def test_limit_accepts_1_to_100(count: int, period: tuple[str, CapPeriod]) -> None:
    # Given any cap from 1 to 100
    word, expected = period
    # When it is parsed
    parsed = parse_limit(f"{count}/{word}")
    # Then it is that cap, and renders back to the same text
    assert parsed == FrequencyCap(count, expected)
    assert parse_limit(parsed.render()) == parsed


@pytest.mark.parametrize(
    ("first", "second", "stricter"),
    [
        (FrequencyCap(3, CapPeriod.DAY), FrequencyCap(5, CapPeriod.WEEK), FrequencyCap(5, CapPeriod.WEEK)),
        (FrequencyCap(1, CapPeriod.DAY), FrequencyCap(10, CapPeriod.WEEK), FrequencyCap(1, CapPeriod.DAY)),
        (FrequencyCap(2, CapPeriod.DAY), FrequencyCap(5, CapPeriod.DAY), FrequencyCap(2, CapPeriod.DAY)),
        (FrequencyCap(9, CapPeriod.WEEK), FrequencyCap(4, CapPeriod.WEEK), FrequencyCap(4, CapPeriod.WEEK)),
        (None, FrequencyCap(4, CapPeriod.WEEK), FrequencyCap(4, CapPeriod.WEEK)),
        (FrequencyCap(4, CapPeriod.DAY), None, FrequencyCap(4, CapPeriod.DAY)),
        (None, None, None),
    ],
)
def test_smaller_cap_picks_the_stricter(
    first: FrequencyCap | None, second: FrequencyCap | None, stricter: FrequencyCap | None
) -> None:
    # Given the subscriber's cap and the publisher's cap (either may be missing)
    # When the stricter is picked, in either order
    # Then it is the one allowing fewer messages a week
    assert smaller_cap(first, second) == stricter
    assert smaller_cap(second, first) == stricter


def test_smaller_cap_prefers_the_daily_cap_on_a_weekly_tie() -> None:
    # Given 7 a week and 1 a day: the daily cap allows at most 7 a week too, and never 7 in one day
    weekly, daily = FrequencyCap(7, CapPeriod.WEEK), FrequencyCap(1, CapPeriod.DAY)
    # When the stricter is picked, in either order
    # Then it is the daily cap
    assert smaller_cap(daily, weekly) == daily
    assert smaller_cap(weekly, daily) == daily


# ------------------------------------------------------------------ filters
def test_filter_include_and_exclude_words() -> None:
    # Given a subscriber without filters
    argument = argument_of("FILTER +Bayern -Werbung", Intent.FILTER)
    # When they add one word to look for and one to avoid
    filters = apply_filter_change(Filters(), argument)
    # Then both are kept, normalised
    assert filters == Filters(include=("bayern",), exclude=("werbung",))


def test_filter_words_accumulate() -> None:
    # Given existing filters
    filters = Filters(include=("bayern",), exclude=("werbung",))
    # When more words are added, one of them again
    changed = apply_filter_change(filters, "+muenchen -werbung -anzeige")
    # Then the new ones are appended once each
    assert changed == Filters(include=("bayern", "muenchen"), exclude=("werbung", "anzeige"))


@pytest.mark.parametrize(
    ("before", "argument", "after"),
    [
        (Filters(include=("bayern",)), "-bayern", Filters(exclude=("bayern",))),
        (Filters(exclude=("bayern",), include=("tor",)), "+bayern", Filters(include=("tor", "bayern"))),
    ],
)
def test_filter_word_moves_between_include_and_exclude(
    before: Filters, argument: str, after: Filters
) -> None:
    # Given a word on one side
    # When it is added with the other sign
    changed = apply_filter_change(before, argument)
    # Then it moves to the other side and is not on both
    assert changed == after


@pytest.mark.parametrize("message", ["FILTER off", "FILTERN aus", "filter OFF."])
def test_filter_off_removes_every_word(message: str) -> None:
    # Given existing filters
    filters = Filters(include=("bayern",), exclude=("werbung",))
    # When filtering is switched off
    changed = apply_filter_change(filters, argument_of(message, Intent.FILTER))
    # Then none remain
    assert changed == Filters()


@pytest.mark.parametrize(
    "argument", ["", "bayern", "+", "-", "+bayern werbung", "off +bayern", "*bayern", "off off"]
)
def test_filter_errors(argument: str) -> None:
    # Given a filter change without a sign, without a word, or mixed with off
    filters = Filters(include=("tor",))
    # When it is applied
    # Then it is refused, and the filters are untouched
    assert error_key(lambda a: apply_filter_change(filters, a), argument) == "filter.invalid"
    assert filters == Filters(include=("tor",))


def test_filter_word_length_limit() -> None:
    # Given a word of the longest allowed length, and one a character longer
    longest, too_long = "a" * MAX_FILTER_WORD, "b" * (MAX_FILTER_WORD + 1)
    # When each is added
    accepted = apply_filter_change(Filters(), f"+{longest}")
    # Then the first is kept and the second refused
    assert accepted == Filters(include=(longest,))
    assert error_key(lambda a: apply_filter_change(Filters(), a), f"-{too_long}") == "filter.invalid"
    assert MAX_FILTER_WORD == 40


def test_filter_count_limit() -> None:
    # Given 20 filter words, the most allowed
    full = apply_filter_change(
        Filters(), " ".join(f"+word{n}" for n in range(10)) + " " + " ".join(f"-ad{n}" for n in range(10))
    )
    assert len(full.include) + len(full.exclude) == MAX_FILTERS == 20
    # When a 21st word is added
    with pytest.raises(ArgumentError) as raised:
        apply_filter_change(full, "+one-more")
    # Then it is refused naming the limit, while repeating or moving a word still works
    assert raised.value.key == "filter.too_many"
    assert raised.value.params == {"limit": 20}
    assert apply_filter_change(full, "+word3") == full
    moved = apply_filter_change(full, "-word3")
    assert "word3" in moved.exclude
    assert "word3" not in moved.include


@pytest.mark.parametrize(
    ("filters", "text", "allowed"),
    [
        (Filters(), "anything at all", True),
        (Filters(), "", True),
        (Filters(include=("bayern",)), "FC BAYERN gewinnt", True),
        (Filters(include=("bayern",)), "Die Bayerns spielen", True),
        (Filters(include=("bayern",)), "Dortmund gewinnt", False),
        (Filters(include=("bayern", "tor")), "Ein TOR in Dortmund", True),
        (Filters(exclude=("werbung",)), "Anzeige: WERBUNG", False),
        (Filters(exclude=("werbung",)), "Nachrichten", True),
        (Filters(include=("bayern",), exclude=("werbung",)), "Bayern-Werbung", False),
        (Filters(include=("strasse",)), "Neue Straße", True),  # casefold: ß is ss
        (Filters(include=("a.b",)), "axb", False),  # no regular expressions
        (Filters(include=("a.b",)), "see a.b", True),
        (Filters(include=("(a+)+$",)), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", False),
    ],
)
def test_filters_allow_by_case_insensitive_substring(filters: Filters, text: str, allowed: bool) -> None:
    # Given keyword filters
    # When a snippet is checked
    # Then it passes when it contains an include word (if any) and no exclude word, whatever the case
    assert filters.allows(text) is allowed


ascii_words = st.text(
    alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=MAX_FILTER_WORD
)


@given(word=ascii_words, before=st.text(), after=st.text(), upper=st.booleans())
def test_filter_include_matches_the_word_in_any_case_anywhere(
    word: str, before: str, after: str, upper: bool
) -> None:
    # Given a filter for a word and a text containing it, in either case
    text = before + (word.upper() if upper else word) + after
    # When the text is checked
    # Then an include filter lets it through and an exclude filter holds it back
    assert Filters(include=(word,)).allows(text)
    assert not Filters(exclude=(word,)).allows(text)


# ASCII only: snippets with umlauts or accents have their own test further down.
ascii_text = st.text(alphabet=string.printable)


@given(
    include=st.lists(st.text(alphabet="abAB .", min_size=1, max_size=3), max_size=5),
    exclude=st.lists(st.text(alphabet="abAB .", min_size=1, max_size=3), max_size=5),
    text=st.text(alphabet="abAB .", max_size=30),
)
def test_filters_allow_is_the_substring_rule(include: list[str], exclude: list[str], text: str) -> None:
    # Given filter words (casefolded, as stored) and a text over a small alphabet, so that words do occur
    filters = Filters(tuple(w.casefold() for w in include), tuple(w.casefold() for w in exclude))
    folded = text.casefold()
    # When the text is checked
    allowed = filters.allows(text)
    # Then the answer is the plain substring rule
    expected = not any(w in folded for w in filters.exclude) and (
        not filters.include or any(w in folded for w in filters.include)
    )
    assert allowed is expected


@given(
    include=st.lists(ascii_text.filter(bool).map(str.casefold), max_size=10),
    exclude=st.lists(ascii_text.filter(bool).map(str.casefold), max_size=10),
    text=ascii_text,
)
def test_filters_allow_is_the_substring_rule_for_ascii(
    include: list[str], exclude: list[str], text: str
) -> None:
    # Given any ASCII filter words (casefolded, as stored) and any ASCII text
    filters = Filters(tuple(include), tuple(exclude))
    folded = text.lower()
    # When the text is checked
    allowed = filters.allows(text)
    # Then the answer is the plain substring rule
    expected = not any(w in folded for w in exclude) and (not include or any(w in folded for w in include))
    assert allowed is expected


@settings(max_examples=20, deadline=2000)
@given(
    words=st.lists(st.text(min_size=1, max_size=MAX_FILTER_WORD), min_size=1, max_size=MAX_FILTERS),
    chunk=st.text(min_size=1, max_size=20),
)
def test_filters_allow_never_raises_and_finishes_on_huge_texts(words: list[str], chunk: str) -> None:
    # Given up to 20 filter words and a snippet of about a megabyte built from a repeated chunk
    filters = Filters(include=tuple(words[::2]), exclude=tuple(words[1::2]))
    text = chunk * (1_000_000 // len(chunk))
    # When it is checked (within Hypothesis's deadline)
    allowed = filters.allows(text)
    # Then it simply answers
    assert isinstance(allowed, bool)


def test_filters_allow_has_no_catastrophic_backtracking() -> None:
    # Given words that would make a backtracking regex slow, and a megabyte of near-misses
    filters = Filters(include=("a" * 39 + "b",), exclude=("(a*)*c",))
    text = "a" * 1_000_000
    # When it is checked
    # Then it answers (no include word present)
    assert filters.allows(text) is False
    assert filters.allows(text + "b") is True


@pytest.mark.parametrize(
    ("message", "snippet", "allowed"),
    [
        ("FILTER +München", "Neues aus München", True),
        ("FILTER -Müll", "Die Müllabfuhr streikt", False),
        ("FILTER +Café", "Das Café am Markt", True),
    ],
)
def test_filter_words_with_umlauts_match_snippets_with_umlauts(
    message: str, snippet: str, allowed: bool
) -> None:
    # Given a filter word typed with an umlaut or accent
    filters = apply_filter_change(Filters(), argument_of(message, Intent.FILTER))
    # When a snippet spelling the word the same way is checked
    # Then the filter applies to it
    assert filters.allows(snippet) is allowed


# ------------------------------------------------------------------ alerts
@pytest.mark.parametrize(
    "message",
    [
        "ALERT energie kwh > 300",
        "ALERT Energie kWh > 300",
        "ALERT energie kwh>300",
        "ALERT energie kwh >300",
        "ALERT energie kwh> 300",
        "ALERT energie   kwh  >  300",
        "alert ENERGIE KWH > 300.",
        "ALERT energie kwh > 300,0",
        "ALERT energie kwh > 300.0",
    ],
)
def test_alert_spacing_variants(message: str) -> None:
    # Given the same alert typed with different spacing, case and decimal marks
    argument = argument_of(message, Intent.ALERT)
    # When it is parsed
    alert = parse_alert(argument)
    # Then it is the same alert
    assert alert == Alert("energie", "kwh", ">", 300.0)
    assert alert.render() == "energie kwh > 300"


@pytest.mark.parametrize(
    ("argument", "alert"),
    [
        ("energie kwh >= 2,5", Alert("energie", "kwh", ">=", 2.5)),
        ("energie kwh <= 0.75", Alert("energie", "kwh", "<=", 0.75)),
        ("wetter temp < -5", Alert("wetter", "temp", "<", -5.0)),
        ("wetter temp!=0", Alert("wetter", "temp", "!=", 0.0)),
        ("wetter warnung = sturm", Alert("wetter", "warnung", "=", "sturm")),
        ("wetter warnung != keine", Alert("wetter", "warnung", "!=", "keine")),
        ("e-mobility station_id = a-12", Alert("e-mobility", "station_id", "=", "a-12")),
    ],
)
def test_alert_operators_numbers_and_words(argument: str, alert: Alert) -> None:
    # Given an alert with some operator and a number (comma or point decimals) or a word
    # When it is parsed
    parsed = parse_alert(argument)
    # Then it is that alert
    assert parsed == alert


@pytest.mark.parametrize(
    "argument",
    [
        "",
        "energie > 300",
        "kwh > 300",
        "energie kwh",
        "energie kwh 300",
        "energie kwh ~ 300",
        "energie kwh > hoch",
        "energie kwh >= viel",
        "energie kwh < a1",
        "energie kwh > 300 400",
        "-energie kwh > 300",
        "energie kwh > " + "9" * 41,
        "energie " + "k" * 33 + " > 3",
        "e" * 33 + " kwh > 3",
    ],
)
def test_alert_errors(argument: str) -> None:
    # Given an alert missing a part, with an unknown operator, or comparing a word by size
    # When it is parsed
    # Then it is refused
    assert error_key(parse_alert, argument) == "alert.invalid"


@pytest.mark.parametrize(
    ("operator", "actual", "holds"),
    [
        (">", 350, True),
        (">", 300, False),
        (">", 299.5, False),
        (">=", 300, True),
        (">=", 299.99, False),
        ("<", 250.0, True),
        ("<", 300, False),
        ("<=", 300.0, True),
        ("=", 300, True),
        ("=", 300.5, False),
        ("!=", 300.5, True),
        ("!=", 300, False),
    ],
)
def test_alert_holds_for_numbers(operator: str, actual: float, holds: bool) -> None:
    # Given an alert comparing a number with 300
    alert = parse_alert(f"energie kwh {operator} 300")
    # When a broadcast's attribute is checked
    # Then the comparison decides
    assert alert.holds({"kwh": actual}) is holds


@pytest.mark.parametrize(
    ("argument", "actual", "holds"),
    [
        ("wetter warnung = sturm", "sturm", True),
        ("wetter warnung = sturm", "STURM", True),
        ("wetter warnung = sturm", "regen", False),
        ("wetter warnung != sturm", "Sturm", False),
        ("wetter warnung != sturm", "regen", True),
    ],
)
def test_alert_holds_for_words_whatever_the_case(argument: str, actual: str, holds: bool) -> None:
    # Given an alert comparing a word
    alert = parse_alert(argument)
    # When a broadcast's attribute is checked
    # Then it matches case-insensitively
    assert alert.holds({"warnung": actual}) is holds


@pytest.mark.parametrize("operator", OPERATORS)
def test_alert_without_the_attribute_does_not_hold(operator: str) -> None:
    # Given an alert on an attribute, with any operator
    alert = parse_alert(f"energie kwh {operator} 300")
    # When a broadcast lacks that attribute (or has other ones)
    # Then it does not hold, even for !=
    assert alert.holds({}) is False
    assert alert.holds({"euro": 500}) is False


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("flag", [True, False])
def test_alert_does_not_treat_booleans_as_numbers(operator: str, flag: bool) -> None:
    # Given numeric alerts against 0 and 1
    # When the attribute is a boolean
    holds = [parse_alert(f"energie spitze {operator} {n}").holds({"spitze": flag}) for n in (0, 1)]
    # Then no comparison holds except a != (a boolean is not the number)
    assert holds == ([True, True] if operator == "!=" else [False, False])


def test_alert_word_matches_a_boolean_by_its_name() -> None:
    # Given an alert for the word "true"
    alert = parse_alert("energie spitze = true")
    # When the attribute is a boolean
    # Then it compares by name, not as the number 1
    assert alert.holds({"spitze": True}) is True
    assert alert.holds({"spitze": False}) is False
    assert parse_alert("energie spitze = 1").holds({"spitze": True}) is False


topics = st.from_regex(r"[a-z0-9][a-z0-9-]{0,31}", fullmatch=True)
fields = st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True)
# (ending in a letter or digit: normalise() strips trailing punctuation from a whole message)
words = st.from_regex(r"[a-z0-9_.,:+-]{0,39}[a-z0-9]", fullmatch=True).filter(lambda w: not is_number(w))
# Numbers with at most six significant digits, as people type thresholds.
short_numbers = st.one_of(
    st.integers(-999_999, 999_999).map(float), st.integers(-99_999, 99_999).map(lambda n: n / 100)
)


@given(
    st.one_of(
        st.builds(Alert, topics, fields, st.sampled_from(OPERATORS), short_numbers),
        st.builds(Alert, topics, fields, st.sampled_from(["=", "!="]), words),
    )
)
def test_alert_render_round_trips(alert: Alert) -> None:
    # Given any alert on a word or a number as typed
    # When it is rendered and parsed back (also as a whole ALERT message)
    parsed = parse_alert(alert.render())
    via_command = parse_alert(argument_of(f"ALERT {alert.render()}", Intent.ALERT))
    # Then it is the same alert
    assert parsed == alert
    assert via_command == alert


@given(
    st.builds(
        Alert, topics, fields, st.sampled_from(OPERATORS), st.floats(allow_nan=False, allow_infinity=False)
    )
)
def test_alert_render_round_trips_any_number(alert: Alert) -> None:
    # Given an alert on any finite number
    # When it is rendered and parsed back
    parsed = parse_alert(alert.render())
    # Then it is the same alert
    assert parsed == alert


def test_alert_render_keeps_a_seven_digit_threshold() -> None:
    # Given an alert on a seven-digit number
    alert = parse_alert("boerse umsatz > 1234567")
    # When it is rendered (ALERTS, STATUS) and parsed back
    rendered = alert.render()
    # Then the number is unchanged
    assert rendered == "boerse umsatz > 1234567"
    assert parse_alert(rendered) == alert


@pytest.mark.parametrize("argument", ["energie kwh > nan", "energie kwh < inf", "energie kwh >= -infinity"])
def test_alert_refuses_non_finite_numbers(argument: str) -> None:
    # Given an alert comparing with nan or infinity
    # When it is parsed
    # Then it is refused instead of creating an alert that can never (or always) hold
    assert error_key(parse_alert, argument) == "alert.invalid"


# ------------------------------------------------------------------ topics
@pytest.mark.parametrize("message", ["TOPICS", "THEMEN", "topics.", "/themen"])
def test_topics_without_argument_lists(message: str) -> None:
    # Given TOPICS without an argument
    argument = argument_of(message, Intent.TOPICS)
    # When it is parsed
    # Then it asks for the list
    assert parse_topics(argument) is None


@pytest.mark.parametrize(
    ("message", "chosen"),
    [
        ("TOPICS sport, tech", ("sport", "tech")),
        ("THEMEN Tech Sport", ("sport", "tech")),
        ("TOPICS sport,sport", ("sport",)),
        ("THEMEN Politik", ("politik",)),
    ],
)
def test_topics_replace_the_choice(message: str, chosen: tuple[str, ...]) -> None:
    # Given a subscriber with some topics
    change = parse_topics(argument_of(message, Intent.TOPICS))
    assert change is not None
    # When a list of topics is applied
    result = change.apply(("kultur", "energie"), KNOWN_TOPICS)
    # Then exactly those are chosen, sorted
    assert result == chosen


def test_topics_parse_signed_edits() -> None:
    # Given signed edits
    argument = argument_of("TOPICS +Sport, -Politik", Intent.TOPICS)
    # When they are parsed
    change = parse_topics(argument)
    # Then they add and remove
    assert change == TopicsChange(add=("sport",), remove=("politik",))


@pytest.mark.parametrize(
    ("current", "argument", "result"),
    [
        (("sport",), "+tech", ("sport", "tech")),
        (("sport", "tech"), "-sport", ("tech",)),
        (("sport", "tech"), "-sport -tech", ()),
        (("sport",), "+tech -sport +kultur", ("kultur", "tech")),
        (("sport",), "+sport", ("sport",)),
        (("sport",), "-tech", ("sport",)),
        (None, "-politik", ("energie", "kultur", "sport", "tech")),
        (None, "-politik -sport", ("energie", "kultur", "tech")),
    ],
)
def test_topics_signed_edits(current: tuple[str, ...] | None, argument: str, result: tuple[str, ...]) -> None:
    # Given a subscriber's topics (None: every topic)
    change = parse_topics(argument)
    assert change is not None
    # When signed edits are applied
    # Then topics are added to and removed from that choice
    assert change.apply(current, KNOWN_TOPICS) == result


def test_topics_adding_to_every_topic_still_means_every_topic() -> None:
    # Given a subscriber on every topic
    change = parse_topics("+sport")
    assert change is not None
    # When a topic is added
    result = change.apply(None, KNOWN_TOPICS)
    # Then they still get every known topic
    assert set(result if result is not None else KNOWN_TOPICS) == KNOWN_TOPICS


@pytest.mark.parametrize("message", ["TOPICS all", "THEMEN alle", "topics ALL!"])
@pytest.mark.parametrize("current", [None, ("sport",), ()])
def test_topics_all(message: str, current: tuple[str, ...] | None) -> None:
    # Given any choice of topics
    change = parse_topics(argument_of(message, Intent.TOPICS))
    assert change == TopicsChange(everything=True)
    # When "all" is applied
    # Then the subscriber gets every topic (None)
    assert change.apply(current, KNOWN_TOPICS) is None


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("sport, golf, curling", "curling, golf"),
        ("+golf", "golf"),
        ("+golf -sport +sport", "golf"),
        ("all sport", "all"),
    ],
)
def test_topics_unknown_are_named(argument: str, named: str) -> None:
    # Given a choice including topics the publisher does not have
    change = parse_topics(argument)
    assert change is not None
    # When it is applied
    with pytest.raises(ArgumentError) as raised:
        change.apply(("sport",), KNOWN_TOPICS)
    # Then it is refused, naming them in order
    assert raised.value.key == "topics.unknown"
    assert raised.value.params == {"topics": named}


def test_topics_removing_an_unknown_topic_is_refused() -> None:
    # Given a subscriber on sport and politik who mistypes the topic to remove
    change = parse_topics("-politk")
    assert change is not None
    # When the edit is applied
    # Then the typo is reported instead of silently changing nothing
    with pytest.raises(ArgumentError) as raised:
        change.apply(("politik", "sport"), KNOWN_TOPICS)
    assert raised.value.key == "topics.unknown"
    assert raised.value.params == {"topics": "politk"}


@pytest.mark.parametrize("argument", ["sport +tech", "+sport tech", "-politik, kultur"])
def test_topics_mixed_signed_and_unsigned_is_refused(argument: str) -> None:
    # Given a list mixing edits and plain topics
    # When it is parsed
    # Then it is refused
    assert error_key(parse_topics, argument) == "topics.invalid"


@given(
    current=st.one_of(
        st.none(), st.sets(st.sampled_from(sorted(KNOWN_TOPICS))).map(lambda s: tuple(sorted(s)))
    ),
    add=st.sets(st.sampled_from(sorted(KNOWN_TOPICS))),
    remove=st.sets(st.sampled_from(sorted(KNOWN_TOPICS))),
)
def test_topics_edits_are_set_operations(
    current: tuple[str, ...] | None, add: set[str], remove: set[str]
) -> None:
    # Given any choice and any known topics to add and remove
    assume(add or remove)
    argument = " ".join([*(f"+{t}" for t in sorted(add)), *(f"-{t}" for t in sorted(remove))])
    change = parse_topics(argument)
    assert change is not None
    # When the edits are applied
    result = change.apply(current, KNOWN_TOPICS)
    # Then adding to "every topic" keeps every topic (so topics created later still arrive);
    # otherwise the result is (current or everything) plus the added, minus the removed, sorted
    if current is None and not remove:
        assert result is None
        return
    base = set(current) if current is not None else set(KNOWN_TOPICS)
    assert result == tuple(sorted((base | add) - remove))


# ------------------------------------------------------------------ robustness
@given(st.text())
def test_preference_parsers_raise_only_argument_errors(text: str) -> None:
    # Given any text at all, raw and as a command's normalised argument
    for argument in (text, parse_command(f"FILTER {text}").argument):
        # When each parser reads it
        for parse in (
            parse_quiet,
            parse_digest,
            parse_language,
            parse_limit,
            lambda a: apply_filter_change(Filters(include=("x",)), a),
            parse_alert,
            parse_topics,
            lambda a: (change := parse_topics(a)) and change.apply(None, KNOWN_TOPICS),
        ):
            # Then it either returns or raises ArgumentError with a key
            try:
                parse(argument)
            except ArgumentError as error:
                assert error.key


@given(
    st.one_of(
        st.from_regex(r"[a-z0-9-]{1,8} ?[a-z0-9_]{1,8} ?(<=|>=|!=|<|>|=) ?\S{1,12}", fullmatch=True),
        st.from_regex(r"\d{1,3} ?(/|per|pro|a|am|je) ?[a-z]{1,5}", fullmatch=True),
        st.from_regex(r"\d{1,2}([:.h]\d{2})? ?(-|to|bis) ?\d{1,2}([:.h]\d{2})?", fullmatch=True),
    )
)
def test_parsers_raise_only_argument_errors_on_near_misses(text: str) -> None:
    # Given text shaped like an alert, a cap or a window, with any digits
    # When each parser reads it
    for parse in (parse_alert, parse_limit, parse_quiet):
        try:
            result = parse(text)
        except ArgumentError as error:
            # Then it is refused with a key ...
            assert error.key
        else:
            # ... or gives a well-formed value
            if isinstance(result, Alert):
                assert result.operator in OPERATORS
            if isinstance(result, FrequencyCap):
                assert 1 <= result.count <= 100
            if isinstance(result, QuietHours):
                assert result.start != result.end


@pytest.mark.parametrize("value", ["1.000", "1,000", "12.500", "1.000.000"])
def test_alert_asks_about_a_number_with_a_thousands_separator(value: str) -> None:
    # Given a threshold that is a thousand in German and one (or twelve and a half) in English
    argument = argument_of(f"ALERT energie kwh >= {value}", Intent.ALERT)

    # Then it is refused with a question rather than guessed
    assert error_key(parse_alert, argument) == "alert.ambiguous_number"


@pytest.mark.parametrize(
    ("value", "number"), [("0,250", 0.25), ("1.5", 1.5), ("1000", 1000.0), ("10,5", 10.5)]
)
def test_alert_reads_decimals_in_either_spelling(value: str, number: float) -> None:
    assert parse_alert(argument_of(f"ALERT energie kwh > {value}", Intent.ALERT)).value == number
