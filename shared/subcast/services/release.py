"""Send what was held for a subscriber's quiet hours or digest, once it is due: one combined message.

Held snippets are claimed (``HeldStore.take``) before the send and removed with
their count after it, so a release queued twice sends once. Whatever no longer
applies at release time (the broadcast was cancelled, the person paused, left
or changed their topics or filters) is dropped, not sent.
"""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools import Logger

from subcast.adapters.held import MAX_RELEASE, HeldSnippet
from subcast.clock import now
from subcast.domain.broadcast import Broadcast, ReleaseJob
from subcast.domain.delivery_rules import combine, in_quiet_hours, quiet_end, skip_reason
from subcast.domain.messages import render
from subcast.domain.rendering.markdown import RenderedMessage, escape_markdown
from subcast.domain.rendering.telegram import render_telegram
from subcast.domain.subscriber import Subscriber
from subcast.services.sending import JobIncomplete, Sending, mark_unreachable, send_text

logger = Logger(child=True)


def release_held(job: ReleaseJob, sending: Sending) -> Counter[str]:
    """Release each subscriber's due snippets; raises JobIncomplete when one must be tried again."""
    tally: Counter[str] = Counter()
    retry = 0
    for subscriber_id in dict.fromkeys(job.release):
        outcome = release_for(subscriber_id, sending)
        if outcome == "retry":
            retry += 1
        else:
            tally[outcome] += 1
    if retry:
        raise JobIncomplete(f"{retry} releases could not be sent now")
    return tally


def release_for(subscriber_id: str, sending: Sending) -> str:
    """released | dropped | postponed | busy | nothing | failed | retry."""
    moment = now()
    due = [snippet for snippet in sending.held.held_for(subscriber_id) if snippet.release_at <= moment]
    due = due[:MAX_RELEASE]
    if not due:
        return "nothing"
    subscriber = sending.subscribers.get(subscriber_id)
    if subscriber is None or not subscriber.receives_broadcasts:
        sending.held.finish(due, delivered=[])
        return "dropped"
    if subscriber.quiet_hours is not None and in_quiet_hours(subscriber, moment):
        # A digest time inside the quiet hours waits for their end.
        sending.held.postpone(due, quiet_end(subscriber.quiet_hours, moment, subscriber.zone))
        return "postponed"
    if not sending.held.take(due, moment):
        return "busy"  # another release of the same snippets is under way
    wanted: list[tuple[HeldSnippet, Broadcast]] = []
    unwanted: list[HeldSnippet] = []
    for snippet in due:
        broadcast = sending.store.get(snippet.broadcast_id)
        if broadcast is None or skip_reason(broadcast, subscriber) is not None:
            unwanted.append(snippet)
        else:
            wanted.append((snippet, broadcast))
    if not wanted:
        sending.held.finish(unwanted, delivered=[])
        return "dropped"
    wanted.sort(key=lambda pair: (pair[1].send_at, pair[1].created_at))  # in the order they were sent
    message, count = _message(subscriber, wanted, sending.brand_name)
    included, later = wanted[:count], [snippet for snippet, _ in wanted[count:]]
    outcome, reason = send_text(subscriber.primary.address, message.text, sending, message.parse_mode)
    if outcome in ("retry", "abort"):
        sending.held.give_back([snippet for snippet, _ in wanted] + unwanted)
        if outcome == "abort":
            raise JobIncomplete(f"release stopped: {reason}")
        return "retry"
    if later:
        sending.held.give_back(later)  # the next tick sends the rest in a message of its own
    delivered = [broadcast.broadcast_id for _, broadcast in included] if outcome == "sent" else []
    sending.held.finish([snippet for snippet, _ in included] + unwanted, delivered=delivered)
    if reason == "unreachable":
        mark_unreachable(subscriber, sending)
    return "released" if outcome == "sent" else "failed"


def _message(
    subscriber: Subscriber, wanted: list[tuple[HeldSnippet, Broadcast]], brand_name: str
) -> tuple[RenderedMessage, int]:
    """The release as one Telegram message (Markdown rendered to HTML) and how many snippets it holds."""
    texts = [broadcast.text + (f"\n{broadcast.link}" if broadcast.link else "") for _, broadcast in wanted]
    digest = any(snippet.reason == "digest" for snippet, _ in wanted)
    if not digest and len(texts) == 1:
        # One snippet after the quiet hours arrives as it was written.
        _, broadcast = wanted[0]
        return render_telegram(broadcast.text, broadcast.link, broadcast.image_url)[0], 1
    key = "release.digest" if digest else "release.quiet"
    header = escape_markdown(render(key, subscriber.language, brand=brand_name))
    markdown, count = combine(header, texts, fits=lambda candidate: len(render_telegram(candidate)) == 1)
    return render_telegram(markdown)[0], count
