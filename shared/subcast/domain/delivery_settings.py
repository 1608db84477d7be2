"""Commands that shape what reaches a subscriber and when: QUIET, DIGEST, LIMIT, FILTER(S), ALERT(S).

Pure, like ``settings``: each returns the changed subscriber (or None when
nothing changes), the catalogue key of the reply and its parameters. Without
an argument a command shows the current setting and how to change it.
The rules that apply these settings to a broadcast live in ``delivery_rules``.
"""

from __future__ import annotations

from subcast.domain.arguments import OFF_WORDS, ArgumentError
from subcast.domain.commands import Command, Intent
from subcast.domain.messages import Language, render
from subcast.domain.preferences import (
    Alert,
    Digest,
    DigestMode,
    Filters,
    apply_filter_change,
    parse_alert,
    parse_digest,
    parse_limit,
    parse_quiet,
)
from subcast.domain.subscriber import Subscriber

DELIVERY_INTENTS = frozenset(
    {Intent.QUIET, Intent.DIGEST, Intent.LIMIT, Intent.FILTER, Intent.FILTERS, Intent.ALERT, Intent.ALERTS}
)
MAX_ALERTS = 10

Change = tuple[Subscriber | None, str, dict[str, object]]


def change_delivery_setting(command: Command, subscriber: Subscriber, known_topics: dict[str, str]) -> Change:
    """Apply one of ``DELIVERY_INTENTS``; raises ``ArgumentError`` for a malformed argument."""
    intent, argument = command.intent, command.argument.strip()
    language = subscriber.language
    if intent is Intent.QUIET:
        if not argument:
            return None, "quiet.current", {"window": quiet_text(subscriber)}
        quiet = parse_quiet(argument)
        changed = subscriber.model_copy(update={"quiet_hours": quiet})
        if quiet is None:
            return changed, "quiet.off", {}
        return changed, "quiet.done", {"window": quiet.render(), "zone": subscriber.zone.key}
    if intent is Intent.DIGEST:
        if not argument:
            return None, "digest.current", {"digest": digest_text(subscriber.digest, language)}
        digest: Digest | None = parse_digest(argument)
        if digest is not None and digest.mode is DigestMode.OFF:
            digest = None
        changed = subscriber.model_copy(update={"digest": digest})
        if digest is None:
            return changed, "digest.off", {}
        return changed, "digest.done", {"digest": digest_text(digest, language), "zone": subscriber.zone.key}
    if intent is Intent.LIMIT:
        if not argument:
            return None, "limit.current", {"cap": cap_text(subscriber)}
        cap = parse_limit(argument)
        changed = subscriber.model_copy(update={"cap": cap})
        return changed, ("limit.off" if cap is None else "limit.done"), {"cap": cap_text(changed)}
    if intent in (Intent.FILTER, Intent.FILTERS):
        if not argument or intent is Intent.FILTERS:
            return None, "filter.list", {"filters": filters_text(subscriber.filters, language)}
        filters = apply_filter_change(subscriber.filters, argument)
        changed = subscriber.model_copy(update={"filters": filters})
        return changed, "filter.done", {"filters": filters_text(filters, language)}
    # ALERT / ALERTS
    words = argument.split()
    if intent is Intent.ALERTS or not words:
        return None, "alert.list", {"alerts": alerts_text(subscriber.alerts, language)}
    if words[0] in OFF_WORDS:
        return _remove_alert(subscriber, words[1:])
    return _add_alert(subscriber, parse_alert(argument), known_topics)


def _add_alert(subscriber: Subscriber, alert: Alert, known_topics: dict[str, str]) -> Change:
    if alert.topic not in known_topics:
        raise ArgumentError("topics.unknown", topics=alert.topic)
    if alert in subscriber.alerts:
        return None, "alert.exists", {"alert": alert.render()}
    if len(subscriber.alerts) >= MAX_ALERTS:
        raise ArgumentError("alert.too_many", limit=MAX_ALERTS)
    topics = subscriber.topics
    if topics is not None and alert.topic not in topics:
        # "It subscribes to the topic and narrows it" (COMMANDS.md).
        topics = tuple(sorted({*topics, alert.topic}))
    alerts = (*subscriber.alerts, alert)
    changed = subscriber.model_copy(update={"alerts": alerts, "topics": topics})
    return (
        changed,
        "alert.done",
        {"number": len(alerts), "alert": alert.render(), "topic": known_topics[alert.topic]},
    )


def _remove_alert(subscriber: Subscriber, rest: list[str]) -> Change:
    """``ALERT off 2`` removes the second alert of ``ALERTS``; ``ALERT off all`` removes every one."""
    if rest in (["all"], ["alle"]):
        return subscriber.model_copy(update={"alerts": ()}), "alert.removed_all", {}
    if len(rest) != 1 or not rest[0].isdigit():
        raise ArgumentError("alert.remove_invalid")
    number = int(rest[0])
    if not 1 <= number <= len(subscriber.alerts):
        raise ArgumentError("alert.no_such", number=number, count=len(subscriber.alerts))
    removed = subscriber.alerts[number - 1]
    alerts = subscriber.alerts[: number - 1] + subscriber.alerts[number:]
    changed = subscriber.model_copy(update={"alerts": alerts})
    return changed, "alert.removed", {"alert": removed.render()}


# ------------------------------------------------------ shown in replies and STATUS
def quiet_text(subscriber: Subscriber) -> str:
    if subscriber.quiet_hours is None:
        return render("setting.off", subscriber.language)
    return f"{subscriber.quiet_hours.render()} ({subscriber.zone.key})"


def digest_text(digest: Digest | None, language: Language) -> str:
    if digest is None or digest.mode is DigestMode.OFF:
        return render("setting.off", language)
    if digest.mode is DigestMode.DAILY:
        return render("digest.daily", language, at=f"{digest.at:%H:%M}")
    weekday = render(f"weekday.{digest.weekday}", language)
    return render("digest.weekly", language, at=f"{digest.at:%H:%M}", weekday=weekday)


def cap_text(subscriber: Subscriber) -> str:
    if subscriber.cap is None:
        return render("setting.off", subscriber.language)
    return render(f"limit.per_{subscriber.cap.period.value}", subscriber.language, count=subscriber.cap.count)


def filters_text(filters: Filters, language: Language) -> str:
    if not filters.include and not filters.exclude:
        return render("setting.none", language)
    parts = [f"+{word}" for word in filters.include] + [f"-{word}" for word in filters.exclude]
    return " ".join(parts)


def alerts_text(alerts: tuple[Alert, ...], language: Language) -> str:
    if not alerts:
        return render("setting.none", language)
    return "\n".join(f"{number}. {alert.render()}" for number, alert in enumerate(alerts, 1))
