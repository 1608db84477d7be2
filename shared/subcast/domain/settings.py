"""Commands that change a subscriber's own settings: PAUSE, RESUME, LANG, TZ, TOPICS, and (through
``delivery_settings``) QUIET, DIGEST, LIMIT, FILTER and ALERT; and STATUS, which shows them all.

Pure: each returns the changed subscriber (or None when nothing changes) and
the one reply, in the subscriber's language (the new one, after LANG).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from subcast.domain.arguments import ArgumentError, parse_pause, parse_timezone
from subcast.domain.commands import Command, Intent
from subcast.domain.delivery_settings import (
    DELIVERY_INTENTS,
    alerts_text,
    cap_text,
    change_delivery_setting,
    digest_text,
    filters_text,
    quiet_text,
)
from subcast.domain.messages import Language, render
from subcast.domain.preferences import parse_language, parse_topics
from subcast.domain.referrals import Referrals
from subcast.domain.subscriber import Subscriber, SubscriberState

SETTINGS_INTENTS = (
    frozenset({Intent.PAUSE, Intent.RESUME, Intent.LANGUAGE, Intent.TIMEZONE, Intent.TOPICS})
    | DELIVERY_INTENTS
)

#: The last line of STATUS by state (active and paused: "status.next.subscribed").
_STATUS_NEXT_STEP = {
    SubscriberState.PENDING: "status.next.pending",
    SubscriberState.CANCELLED: "status.next.cancelled",
}


def local_moment(subscriber: Subscriber, moment: datetime) -> str:
    """A moment as the subscriber reads it: their timezone, their language's date format."""
    local = moment.astimezone(subscriber.zone)
    if subscriber.language is Language.DE:
        return f"{local:%d.%m.%Y, %H:%M} Uhr"
    return f"{local:%a %d %b %Y, %H:%M}"


def local_day(subscriber: Subscriber, day: date) -> str:
    """A calendar day as the subscriber reads it, in their language's date format."""
    if subscriber.language is Language.DE:
        return f"{day:%d.%m.%Y}"
    return f"{day:%a %d %b %Y}"


def paused_text(subscriber: Subscriber, until: datetime) -> str:
    """How STATUS shows a pause that ends at ``until``.

    Only the end is stored. An end at the first moment of a local day is the same as a pause through
    the day before (what ``PAUSE until 24.12.`` sets): shown that way, as the subscriber asked for it.
    """
    zone = subscriber.zone
    day = until.astimezone(zone).date()
    if (until - timedelta(microseconds=1)).astimezone(zone).date() < day:
        return render(
            "status.paused_through",
            subscriber.language,
            through=local_day(subscriber, day - timedelta(days=1)),
        )
    return render("status.paused_until", subscriber.language, until=local_moment(subscriber, until))


def topics_shorthand(
    command: Command, current: tuple[str, ...] | None, known_topics: dict[str, str]
) -> Command:
    """A message of signed terms alone (``+sport -tech``) read as ``TOPICS +sport -tech``.

    Only when every term names a topic: ``+x`` one the publisher offers, ``-x`` one the publisher
    offers or the subscriber still has (a retired topic can be removed). Anything else (``+1``,
    ``+hello``) stays what the parser made of it; a STOP (``-stop``) carries no terms and stays STOP.
    """
    if command.intent is Intent.STOP or not command.signed_terms:
        return command
    removable = set(known_topics) | set(current or ())
    for term in command.signed_terms:
        if term[1:] not in (known_topics if term[0] == "+" else removable):
            return command
    return Command(Intent.TOPICS, " ".join(command.signed_terms), signed_terms=command.signed_terms)


def change_setting(
    command: Command,
    subscriber: Subscriber,
    *,
    now: datetime,
    brand_name: str,
    known_topics: dict[str, str],
) -> tuple[Subscriber | None, str]:
    """Apply one settings command of a subscribed (pending, active or paused) person."""
    language = subscriber.language

    def say(key: str, **params: object) -> str:
        return render(key, language, brand=brand_name, **params)

    try:
        changed, key, params = _change(command, subscriber, now, known_topics)
    except ArgumentError as error:
        return None, say(error.key, **error.params)
    if changed is not None:
        language = changed.language
    return changed, say(key, **params)


def _change(
    command: Command, subscriber: Subscriber, now: datetime, known_topics: dict[str, str]
) -> tuple[Subscriber | None, str, dict[str, object]]:
    intent, argument = command.intent, command.argument
    if intent in DELIVERY_INTENTS:
        return change_delivery_setting(command, subscriber, known_topics)
    if intent is Intent.PAUSE:
        if subscriber.state not in (SubscriberState.ACTIVE, SubscriberState.PAUSED):
            return None, "pause.not_active", {}
        end = parse_pause(argument, now, subscriber.zone)
        paused = subscriber.model_copy(
            update={"state": SubscriberState.PAUSED, "paused_until": end.resume_at, "state_since": now}
        )
        resume_at = local_moment(subscriber, end.resume_at)
        if end.through is None:
            return paused, "pause.done", {"until": resume_at}
        return (
            paused,
            "pause.through",
            {"through": local_day(subscriber, end.through), "resume_at": resume_at},
        )
    if intent is Intent.RESUME:
        if subscriber.state is not SubscriberState.PAUSED:
            return None, "resume.not_paused", {}
        return resume(subscriber, now), "resume.done", {}
    if intent is Intent.LANGUAGE:
        chosen = parse_language(argument)
        return subscriber.model_copy(update={"language": chosen}), "language.done", {}
    if intent is Intent.TIMEZONE:
        zone = parse_timezone(argument)
        changed = subscriber.model_copy(update={"timezone": zone})
        return changed, "timezone.done", {"zone": zone, "local_time": f"{now.astimezone(changed.zone):%H:%M}"}
    # TOPICS
    change = parse_topics(argument)
    if not known_topics:
        return None, "topics.none", {}
    if change is None:
        return None, "topics.list", _topic_list(subscriber, known_topics)
    topics = change.apply(subscriber.topics, frozenset(known_topics))
    changed = subscriber.model_copy(update={"topics": topics})
    return changed, "topics.done", {"topics": topics_text(changed, known_topics)}


def status_text(
    subscriber: Subscriber, brand_name: str, known_topics: dict[str, str], referrals: Referrals | None = None
) -> str:
    """Every setting of a subscriber in one readable message."""
    language = subscriber.language
    since = subscriber.state_since.astimezone(subscriber.zone).date().isoformat()
    if subscriber.state is SubscriberState.PAUSED and subscriber.paused_until is not None:
        state = paused_text(subscriber, subscriber.paused_until)
    else:
        state = render(f"state.{subscriber.state.value}", language, since=since)
    return render(
        "status.body",
        language,
        brand=brand_name,
        state=state,
        topics=topics_text(subscriber, known_topics),
        digest=digest_text(subscriber.digest, language),
        quiet=quiet_text(subscriber),
        cap=cap_text(subscriber),
        filters=filters_text(subscriber.filters, language),
        alerts=alerts_text(subscriber.alerts, language).replace("\n", "; "),
        referrals=referrals.joined if referrals else 0,
        language=render("language.name", language),
        timezone=subscriber.zone.key,
        # After STOP, "STOP to unsubscribe" would read as if they still were subscribed: offer the way back.
        next_step=render(_STATUS_NEXT_STEP.get(subscriber.state, "status.next.subscribed"), language),
    )


def resume(subscriber: Subscriber, now: datetime) -> Subscriber:
    """Paused -> active, at once (RESUME) or when the pause ends by itself."""
    return subscriber.model_copy(
        update={"state": SubscriberState.ACTIVE, "paused_until": None, "state_since": now}
    )


def topics_text(subscriber: Subscriber, known_topics: dict[str, str]) -> str:
    """The subscriber's topics by their names, or "all topics" when they never chose."""
    if subscriber.topics is None:
        return render("topics.all", subscriber.language)
    return ", ".join(known_topics.get(slug, slug) for slug in subscriber.topics) or "-"


def _topic_list(subscriber: Subscriber, known_topics: dict[str, str]) -> dict[str, object]:
    chosen = set(known_topics) if subscriber.topics is None else set(subscriber.topics)
    lines = [
        f"{'✅' if slug in chosen else '▫️'} {slug}: {name}" for slug, name in sorted(known_topics.items())
    ]
    return {"marked": len(chosen & set(known_topics)), "lines": "\n".join(lines)}
