"""Commands that change a subscriber's own settings: PAUSE, RESUME, LANG, TZ, TOPICS, and (through
``delivery_settings``) QUIET, DIGEST, LIMIT, FILTER and ALERT.

Pure: each returns the changed subscriber (or None when nothing changes) and
the one reply, in the subscriber's language (the new one, after LANG).
"""

from __future__ import annotations

from datetime import datetime

from subcast.domain.arguments import ArgumentError, parse_pause, parse_timezone
from subcast.domain.commands import Command, Intent
from subcast.domain.delivery_settings import DELIVERY_INTENTS, change_delivery_setting
from subcast.domain.messages import Language, render
from subcast.domain.preferences import parse_language, parse_topics
from subcast.domain.subscriber import Subscriber, SubscriberState

SETTINGS_INTENTS = (
    frozenset({Intent.PAUSE, Intent.RESUME, Intent.LANGUAGE, Intent.TIMEZONE, Intent.TOPICS})
    | DELIVERY_INTENTS
)


def local_moment(subscriber: Subscriber, moment: datetime) -> str:
    """A moment as the subscriber reads it: their timezone, their language's date format."""
    local = moment.astimezone(subscriber.zone)
    if subscriber.language is Language.DE:
        return f"{local:%d.%m.%Y, %H:%M} Uhr"
    return f"{local:%a %d %b %Y, %H:%M}"


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
        until = parse_pause(argument, now, subscriber.zone)
        paused = subscriber.model_copy(
            update={"state": SubscriberState.PAUSED, "paused_until": until, "state_since": now}
        )
        return paused, "pause.done", {"until": local_moment(subscriber, until)}
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


def resume(subscriber: Subscriber, now: datetime) -> Subscriber:
    """Paused -> active, at once (RESUME) or when the pause ends by itself."""
    return subscriber.model_copy(
        update={"state": SubscriberState.ACTIVE, "paused_until": None, "state_since": now}
    )


def topics_text(subscriber: Subscriber, known_topics: dict[str, str]) -> str:
    if subscriber.topics is None:
        return render("topics.all", subscriber.language)
    return ", ".join(known_topics.get(slug, slug) for slug in subscriber.topics) or "-"


def _topic_list(subscriber: Subscriber, known_topics: dict[str, str]) -> dict[str, object]:
    chosen = set(known_topics) if subscriber.topics is None else set(subscriber.topics)
    lines = [
        f"{'✅' if slug in chosen else '▫️'} {slug}: {name}" for slug, name in sorted(known_topics.items())
    ]
    return {"marked": len(chosen & set(known_topics)), "lines": "\n".join(lines)}
