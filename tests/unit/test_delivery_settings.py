"""QUIET, DIGEST, LIMIT, FILTER(S) and ALERT(S) through the state machine (``decide``): pure, no AWS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pytest

from subcast.domain.broadcast import MAX_TEXT_UTF16, utf16_length
from subcast.domain.conversation import Outcome
from subcast.domain.delivery_settings import MAX_ALERTS
from subcast.domain.messages import Language, render
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
)
from subcast.domain.subscriber import ConsentRecord, Subscriber
from tests.unit.test_conversation import BRAND, TOPICS, step, subscribe

Person = tuple[Subscriber, ConsentRecord]
MakePerson = Callable[[], Person]


def english() -> Person:
    """An active subscriber writing English; no timezone chosen, so UTC."""
    subscriber, consent = subscribe()
    return subscriber, consent


def german() -> Person:
    """An active subscriber who switched to German; no timezone chosen, so Europe/Berlin."""
    subscriber, consent = subscribe()
    changed = step("SPRACHE de", subscriber, consent, message_id="3").subscriber
    assert changed is not None and changed.language is Language.DE
    return changed, consent


def send(person: Person, text: str) -> Outcome:
    return step(text, person[0], person[1], message_id="4")


def reply_of(outcome: Outcome) -> str:
    """The one reply, checked to fit one Telegram message (4096 UTF-16 units)."""
    [reply] = outcome.replies
    assert 0 < utf16_length(reply) <= MAX_TEXT_UTF16
    return reply


def after(person: Person, *texts: str) -> Person:
    """The person after sending each text in turn (every one changing their settings)."""
    subscriber, consent = person
    for text in texts:
        outcome = step(text, subscriber, consent, message_id="4")
        assert outcome.subscriber is not None, (text, outcome.replies)
        subscriber = outcome.subscriber
    return subscriber, consent


def say(key: str, language: Language, **params: object) -> str:
    return render(key, language, brand=BRAND.name, **params)


#: Every delivery setting at once.
SET_ALL = (
    "QUIET 22:00-07:00",
    "DIGEST weekly 18:00 friday",
    "LIMIT 3/day",
    "FILTER +bayern -werbung",
    "ALERT sport tore > 3",
)


# ------------------------------------------------------------------- setting each one
@pytest.mark.parametrize(
    ("person", "text", "field", "value", "reply"),
    [
        (english, "QUIET 22:00-07:00", "quiet_hours", QuietHours(time(22), time(7)),
         "Quiet hours set: 22:00-07:00 (UTC)."),
        (german, "RUHE 22-7", "quiet_hours", QuietHours(time(22), time(7)),
         "Ruhezeit festgelegt: 22:00-07:00 (Europe/Berlin)."),
        (german, "Ruhe 22.30 bis 6", "quiet_hours", QuietHours(time(22, 30), time(6)),
         "Ruhezeit festgelegt: 22:30-06:00 (Europe/Berlin)."),
        (english, "DIGEST daily", "digest", Digest(DigestMode.DAILY, time(8)),
         "Digest on: daily at 08:00 (UTC)."),
        (english, "DIGEST weekly 18:00 friday", "digest", Digest(DigestMode.WEEKLY, time(18), 4),
         "Digest on: every Friday at 18:00 (UTC)."),
        (german, "ZUSAMMENFASSUNG täglich 07:30", "digest", Digest(DigestMode.DAILY, time(7, 30)),
         "Zusammenfassung an: täglich um 07:30 (Europe/Berlin)."),
        (german, "Zusammenfassung wöchentlich 18:00 fr", "digest", Digest(DigestMode.WEEKLY, time(18), 4),
         "Zusammenfassung an: jeden Freitag um 18:00 (Europe/Berlin)."),
        (english, "LIMIT 3/day", "cap", FrequencyCap(3, CapPeriod.DAY),
         "You get at most 3 per day from now on."),
        (german, "LIMIT 5/Woche", "cap", FrequencyCap(5, CapPeriod.WEEK),
         "Du bekommst ab jetzt höchstens 5 pro Woche."),
        (german, "limit 3 pro Tag", "cap", FrequencyCap(3, CapPeriod.DAY),
         "Du bekommst ab jetzt höchstens 3 pro Tag."),
        (english, "FILTER +bayern -werbung", "filters", Filters(("bayern",), ("werbung",)),
         "Your filters: +bayern -werbung"),
        (german, "FILTERN +München", "filters", Filters(("muenchen",)),
         "Deine Filter: +muenchen"),
        (english, "ALERT sport tore > 3", "alerts", (Alert("sport", "tore", ">", 3.0),),
         "Alert 1 set: sport tore > 3. Snippets on Sport reach you only when this holds."),
        (german, "ALERT politik partei = Grüne", "alerts", (Alert("politik", "partei", "=", "gruene"),),
         "Alarm 1 gesetzt: politik partei = gruene. Nachrichten zu Politik bekommst du nur, wenn"),
    ],
)  # fmt: skip
def test_each_command_stores_its_setting_and_confirms_in_the_subscribers_language(
    person: MakePerson, text: str, field: str, value: object, reply: str
) -> None:
    # Given an active subscriber writing English or German
    before = person()
    # When they send the command
    outcome = send(before, text)
    # Then the setting is stored and the confirmation names it, in their language
    assert outcome.subscriber is not None
    assert getattr(outcome.subscriber, field) == value
    assert reply in reply_of(outcome)
    # And nothing else about them changed
    unchanged = outcome.subscriber.model_copy(update={field: getattr(before[0], field)})
    assert unchanged == before[0]


def test_a_german_reply_is_the_german_text_not_the_english_one() -> None:
    # Given a subscriber who writes German
    person = german()
    # When they set quiet hours
    reply = reply_of(send(person, "RUHE 22:00-07:00"))
    # Then the reply is the German catalogue text, which differs from the English one
    params = {"window": "22:00-07:00", "zone": "Europe/Berlin"}
    assert reply == say("quiet.done", Language.DE, **params)
    assert reply != say("quiet.done", Language.EN, **params)
    assert "In dieser Zeit kommt nichts an" in reply


def test_filter_words_accumulate_and_filters_lists_them() -> None:
    # Given a subscriber who filters for bayern
    person = after(english(), "FILTER +bayern")
    # When they add an exclusion, then ask for the list
    added = send(person, "FILTER -werbung")
    assert added.subscriber is not None
    listing = reply_of(send((added.subscriber, person[1]), "FILTERS"))
    # Then both words are kept and listed, with how to change them
    assert added.subscriber.filters == Filters(("bayern",), ("werbung",))
    assert listing.startswith("Your filters: +bayern -werbung\n") and "FILTER off" in listing


def test_alerts_are_numbered_listed_and_removed_by_number() -> None:
    # Given three alerts
    person = after(
        english(), "ALERT sport tore > 3", "ALERT politik partei = gruene", "ALERT tech preis < 100"
    )
    assert reply_of(send(person, "ALERTS")).startswith(
        "Your alerts:\n1. sport tore > 3\n2. politik partei = gruene\n3. tech preis < 100\n\n"
    )
    # When the second is removed
    outcome = send(person, "ALERT off 2")
    # Then the first and the third remain, numbered 1 and 2
    assert outcome.subscriber is not None
    assert outcome.subscriber.alerts == (Alert("sport", "tore", ">", 3.0), Alert("tech", "preis", "<", 100.0))
    assert reply_of(outcome) == "Alert removed: politik partei = gruene."
    listing = reply_of(send((outcome.subscriber, person[1]), "ALERTS"))
    assert "\n1. sport tore > 3\n2. tech preis < 100\n\n" in listing


@pytest.mark.parametrize(
    ("text", "shown"), [("FILTERS please", "Your filters:"), ("ALERTS bitte", "Your alerts:")]
)
def test_a_listing_command_lists_whatever_follows_it(text: str, shown: str) -> None:
    # Given a subscriber with filters and alerts
    person = after(english(), *SET_ALL)
    # When they ask for a list with a word after the command
    outcome = send(person, text)
    # Then it is listed, not read as a new setting
    assert outcome.subscriber is None
    assert reply_of(outcome).startswith(shown)


def test_a_second_alert_says_its_number() -> None:
    # Given one alert
    person = after(english(), "ALERT sport tore > 3")
    # When a second is added
    reply = reply_of(send(person, "ALERT sport quote >= 2,5"))
    # Then it is number 2, a decimal comma read as a point
    assert reply.startswith("Alert 2 set: sport quote >= 2.5.") and "ALERT off 2" in reply


def test_the_same_alert_twice_is_kept_once() -> None:
    # Given an alert
    person = after(english(), "ALERT sport tore > 3")
    # When the same alert is sent again (spaced differently)
    outcome = send(person, "ALERT sport tore>3")
    # Then nothing changes and they are told they have it
    assert outcome.subscriber is None
    assert reply_of(outcome) == "You already have that alert: sport tore > 3."


@pytest.mark.parametrize(
    ("text", "language"), [("ALERT off all", Language.EN), ("ALERT aus alle", Language.DE)]
)
def test_alert_off_all_removes_every_alert(text: str, language: Language) -> None:
    # Given two alerts
    base = german() if language is Language.DE else english()
    person = after(base, "ALERT sport tore > 3", "ALERT politik partei = gruene")
    # When all are removed
    outcome = send(person, text)
    # Then none is left, confirmed in their language
    assert outcome.subscriber is not None and outcome.subscriber.alerts == ()
    assert reply_of(outcome) == say("alert.removed_all", language)


def test_an_alert_adds_its_topic_to_a_topic_choice() -> None:
    # Given a subscriber who chose only tech
    person = after(english(), "TOPICS tech")
    # When they set an alert on sport
    outcome = send(person, "ALERT sport tore > 3")
    # Then sport joins their topics (narrowed by the alert)
    assert outcome.subscriber is not None
    assert outcome.subscriber.topics == ("sport", "tech")


def test_an_alert_leaves_every_topic_as_every_topic() -> None:
    # Given a subscriber of every topic (no choice made)
    # When they set an alert
    outcome = send(english(), "ALERT sport tore > 3")
    # Then they still have every topic, including ones added later
    assert outcome.subscriber is not None and outcome.subscriber.topics is None


def test_an_alert_on_a_chosen_topic_keeps_the_choice() -> None:
    person = after(english(), "TOPICS sport, tech")
    outcome = send(person, "ALERT sport tore > 3")
    assert outcome.subscriber is not None and outcome.subscriber.topics == ("sport", "tech")


# --------------------------------------------------------------- showing, without argument
@pytest.mark.parametrize(
    ("text", "shown", "how"),
    [
        ("QUIET", "Quiet hours: off.\n", "QUIET off"),
        ("DIGEST", "Digest: off.\n", "DIGEST off"),
        ("LIMIT", "Limit: off.\n", "LIMIT off"),
        ("FILTER", "Your filters: none\n", "FILTER off"),
        ("FILTERS", "Your filters: none\n", "FILTER +bayern -werbung"),
        ("ALERT", "Your alerts:\nnone\n", "ALERT energie kwh > 300"),
        ("ALERTS", "Your alerts:\nnone\n", "ALERT off 1"),
    ],
)
def test_without_argument_a_command_shows_the_unset_setting(text: str, shown: str, how: str) -> None:
    # Given a subscriber without delivery settings
    # When they send the command alone
    outcome = send(english(), text)
    # Then nothing changes and the reply shows the setting and how to change it
    assert outcome.subscriber is None
    reply = reply_of(outcome)
    assert reply.startswith(shown) and how in reply


@pytest.mark.parametrize(
    ("person", "text", "shown"),
    [
        (english, "QUIET", "Quiet hours: 22:00-07:00 (UTC)."),
        (english, "DIGEST", "Digest: every Friday at 18:00."),
        (english, "LIMIT", "Limit: 3 per day."),
        (english, "FILTERS", "Your filters: +bayern -werbung"),
        (english, "ALERTS", "Your alerts:\n1. sport tore > 3"),
        (german, "RUHE", "Ruhezeit: 22:00-07:00 (Europe/Berlin)."),
        (german, "ZUSAMMENFASSUNG", "Zusammenfassung: jeden Freitag um 18:00."),
        (german, "LIMIT", "Limit: 3 pro Tag."),
        (german, "FILTERN", "Deine Filter: +bayern -werbung"),
        (german, "ALERTS", "Deine Alarme:\n1. sport tore > 3"),
    ],
)
def test_without_argument_a_command_shows_the_current_setting(
    person: MakePerson, text: str, shown: str
) -> None:
    # Given a subscriber with every delivery setting
    configured = after(person(), *SET_ALL)
    # When they send the command alone
    outcome = send(configured, text)
    # Then nothing changes and the reply shows the current setting, in their language
    assert outcome.subscriber is None
    assert reply_of(outcome).startswith(shown)


# ----------------------------------------------------------------------------------- off
@pytest.mark.parametrize(
    ("person", "text", "field", "unset", "key"),
    [
        (english, "QUIET off", "quiet_hours", None, "quiet.off"),
        (german, "RUHE aus", "quiet_hours", None, "quiet.off"),
        (english, "DIGEST off", "digest", None, "digest.off"),
        (german, "ZUSAMMENFASSUNG aus", "digest", None, "digest.off"),
        (english, "LIMIT off", "cap", None, "limit.off"),
        (german, "LIMIT aus", "cap", None, "limit.off"),
        (english, "FILTER off", "filters", Filters(), "filter.done"),
        (german, "FILTERN aus", "filters", Filters(), "filter.done"),
    ],
)
def test_off_removes_the_setting(person: MakePerson, text: str, field: str, unset: object, key: str) -> None:
    # Given a subscriber with every delivery setting
    configured = after(person(), *SET_ALL)
    language = configured[0].language
    assert getattr(configured[0], field) != unset
    # When they turn one off
    outcome = send(configured, text)
    # Then it is gone, and only it, and they are told so in their language
    assert outcome.subscriber is not None
    assert getattr(outcome.subscriber, field) == unset
    assert outcome.subscriber.model_copy(update={field: getattr(configured[0], field)}) == configured[0]
    params = {"filters": say("setting.none", language)} if field == "filters" else {}
    assert reply_of(outcome) == say(key, language, **params)


# ------------------------------------------------------------------------------ mistakes
@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("QUIET 25:00-7", "quiet.invalid", "from-to"),
        ("QUIET 22-22", "quiet.invalid", "QUIET 22:00-07:00"),
        ("QUIET tonight", "quiet.invalid", "QUIET off"),
        ("DIGEST hourly", "digest.invalid", "DIGEST daily 07:30"),
        ("DIGEST daily 25:00", "digest.invalid", "DIGEST weekly 18:00 friday"),
        ("LIMIT 0/day", "limit.invalid", "from 1 to 100"),
        ("LIMIT 101/day", "limit.invalid", "LIMIT 3/day"),
        ("LIMIT 3/month", "limit.invalid", "LIMIT 5/week"),
        ("FILTER bayern", "filter.invalid", "Put + or - before each word"),
        ("FILTER +bayern werbung", "filter.invalid", "FILTER -werbung"),
        ("ALERT energie kwh > abc", "alert.invalid", "words only with = or !="),
        ("ALERT sport tore > abc", "alert.invalid", "comparisons: < <= > >= = !="),
        ("ALERT sport tore", "alert.invalid", "ALERT energie kwh > 300"),
        ("ALERT off", "alert.remove_invalid", "ALERT off 1"),
        ("ALERT off first", "alert.remove_invalid", "ALERT off all"),
    ],
)
def test_a_malformed_argument_explains_the_form_and_changes_nothing(text: str, key: str, hint: str) -> None:
    # Given a subscriber
    # When the argument cannot be read
    outcome = send(english(), text)
    # Then nothing changes and the reply explains that command's form
    assert outcome.subscriber is None
    reply = reply_of(outcome)
    assert reply == say(key, Language.EN) and hint in reply


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("RUHE 25:00-7", "quiet.invalid", "von-bis"),
        ("ZUSAMMENFASSUNG stündlich", "digest.invalid", "wöchentlich 18:00 freitag"),
        ("LIMIT 0/Tag", "limit.invalid", "von 1 bis 100"),
        ("FILTERN bayern", "filter.invalid", "Setze + oder - vor jedes Wort"),
        ("ALERT energie kwh > abc", "alert.invalid", "Wörter nur mit = oder !="),
    ],
)
def test_a_malformed_argument_is_explained_in_german(text: str, key: str, hint: str) -> None:
    outcome = send(german(), text)
    assert outcome.subscriber is None
    reply = reply_of(outcome)
    assert reply == say(key, Language.DE) and hint in reply


def test_an_alert_on_an_unknown_topic_names_it_and_changes_nothing() -> None:
    # Given the publisher's topics sport, tech and politik
    assert "wetter" not in TOPICS
    # When an alert names another topic
    outcome = send(english(), "ALERT wetter temp > 30")
    # Then nothing changes and the reply names the unknown topic
    assert outcome.subscriber is None
    assert reply_of(outcome) == "There is no topic wetter. Send TOPICS to see the list."


def test_an_eleventh_alert_is_refused() -> None:
    # Given the most alerts anyone may have
    person = after(english(), *(f"ALERT sport tore > {n}" for n in range(MAX_ALERTS)))
    assert len(person[0].alerts) == MAX_ALERTS == 10
    # When they add one more
    outcome = send(person, "ALERT sport tore > 99")
    # Then nothing changes and they are told the limit and how to make room
    assert outcome.subscriber is None
    reply = reply_of(outcome)
    assert reply == say("alert.too_many", Language.EN, limit=10) and "ALERT off 1" in reply


def test_removing_an_alert_that_does_not_exist_says_how_many_there_are() -> None:
    # Given one alert
    person = after(english(), "ALERT sport tore > 3")
    # When they remove the fifth
    outcome = send(person, "ALERT off 5")
    # Then nothing changes and the reply says there is only one
    assert outcome.subscriber is None
    assert reply_of(outcome) == "There is no alert 5: you have 1. Send ALERTS to see them."


def test_removing_alert_zero_is_refused() -> None:
    person = after(english(), "ALERT sport tore > 3")
    outcome = send(person, "ALERT off 0")
    assert outcome.subscriber is None and "There is no alert 0" in reply_of(outcome)


def test_too_many_filter_words_are_refused() -> None:
    # Given the most filter words anyone may have
    person = after(english(), "FILTER " + " ".join(f"+w{n}" for n in range(MAX_FILTERS)))
    # When they add one more
    outcome = send(person, "FILTER -w99")
    # Then nothing changes and they are told the limit
    assert outcome.subscriber is None
    assert reply_of(outcome) == say("filter.too_many", Language.EN, limit=MAX_FILTERS)


# ----------------------------------------------------------------------------------- STATUS
def test_status_shows_every_delivery_setting() -> None:
    # Given a subscriber with every delivery setting and two alerts
    person = after(english(), *SET_ALL, "ALERT politik partei = gruene")
    # When they ask for their status
    outcome = send(person, "STATUS")
    # Then every setting is shown, the alerts on one line
    status = reply_of(outcome)
    for line in (
        "Digest: every Friday at 18:00",
        "Quiet hours: 22:00-07:00 (UTC)",
        "Limit: 3 per day",
        "Filters: +bayern -werbung",
        "Alerts: 1. sport tore > 3; 2. politik partei = gruene",
        "Timezone: UTC",
    ):
        assert f"\n{line}\n" in status


def test_status_in_german_shows_every_delivery_setting() -> None:
    person = after(german(), *SET_ALL)
    status = reply_of(send(person, "EINSTELLUNGEN"))
    for line in (
        "Zusammenfassung: jeden Freitag um 18:00",
        "Ruhezeit: 22:00-07:00 (Europe/Berlin)",
        "Limit: 3 pro Tag",
        "Filter: +bayern -werbung",
        "Alarme: 1. sport tore > 3",
        "Zeitzone: Europe/Berlin",
    ):
        assert f"\n{line}\n" in status


def test_status_without_delivery_settings_says_off_and_none() -> None:
    status = reply_of(send(english(), "STATUS"))
    for line in ("Digest: off", "Quiet hours: off", "Limit: off", "Filters: none", "Alerts: none"):
        assert f"\n{line}\n" in status


def test_the_longest_settings_still_fit_one_telegram_message() -> None:
    # Given the most and the longest filter words and alerts there can be, and every other setting
    long_word = "ü" * (MAX_FILTER_WORD // 2)  # folded to "ue": exactly the longest word
    filters = " ".join(f"+{n:02d}{long_word[:-1]}" for n in range(MAX_FILTERS))
    alerts = [f"ALERT politik {'f' * 30}{n:02d} != {'v' * 40}" for n in range(MAX_ALERTS)]
    person = after(german(), "RUHE 22-7", "ZUSAMMENFASSUNG wöchentlich 18:00 mittwoch", "LIMIT 100/Tag")
    person = after(person, f"FILTERN {filters}", *alerts)
    assert len(person[0].alerts) == MAX_ALERTS
    assert len(person[0].filters.include) == MAX_FILTERS
    # When they ask for the status, the filters and the alerts
    # Then every reply fits one Telegram message (checked by reply_of)
    for text in ("EINSTELLUNGEN", "FILTERS", "ALERTS", "RUHE", "ZUSAMMENFASSUNG", "LIMIT"):
        reply_of(send(person, text))


# ---------------------------------------------------------------------- not subscribed
@pytest.mark.parametrize(
    "text",
    [
        "QUIET 22:00-07:00", "RUHE", "DIGEST daily", "ZUSAMMENFASSUNG aus", "LIMIT 3/day",
        "FILTER +bayern", "FILTERN", "FILTERS", "ALERT sport tore > 3", "ALERT aus alle", "ALERTS",
    ],
)  # fmt: skip
def test_someone_who_left_is_asked_to_subscribe_first(text: str) -> None:
    # Given someone who unsubscribed
    subscriber, consent = english()
    stopped = step("STOP", subscriber, consent, message_id="3")
    assert stopped.subscriber is not None
    # When they send a delivery setting
    outcome = step(text, stopped.subscriber, stopped.consent, message_id="4")
    # Then nothing changes and they are asked to subscribe first
    assert outcome.subscriber is None
    assert reply_of(outcome) == say("settings.not_subscribed", Language.EN)


def test_a_stranger_is_asked_to_subscribe_first() -> None:
    outcome = step("QUIET 22:00-07:00")
    assert outcome.subscriber is None
    assert reply_of(outcome) == say("settings.not_subscribed", Language.EN)
