"""The subscriber state machine against a model, through the real command path, table and Bot API client.

pending → active ⇄ paused → cancelled (→ pending on START) and erased; a channel is
unreachable while the person has blocked the bot. Every transition is idempotent
on the provider's message id: a redelivered message, however late, changes
nothing and sends nothing, so repeated and reordered deliveries end in the same
state as a single in-order one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from infra.fakes.updates import member_update, message_update
from subcast import clock
from subcast.adapters.subscribers import subscriber_from_item
from subcast.adapters.telegram import TelegramUpdate, inbound_from_update
from subcast.domain.conversation import Inbound
from subcast.domain.subscriber import SubscriberState
from subcast.services import dependencies
from subcast.services.commands import handle_inbound
from tests.integration.conftest import Stack
from tests.integration.test_commands import profile

PENDING, ACTIVE, PAUSED = SubscriberState.PENDING, SubscriberState.ACTIVE, SubscriberState.PAUSED
CANCELLED, ERASED = SubscriberState.CANCELLED, SubscriberState.ERASED

# What a person can do: write one of these texts, or block the bot / restart it (a my_chat_member update).
UNKNOWN = "hello??"
COMMANDS = ("START", "YES", "STOP", "PAUSE 2w", "RESUME", "DELETE CONFIRM")  # the state machine's
TEXTS = (*COMMANDS, "DELETE", "STATUS", UNKNOWN)
BLOCKS, COMES_BACK = "kicked", "member"
ACTIONS = (*TEXTS, BLOCKS, COMES_BACK)
PEOPLE = st.sampled_from((0, 1))

# Telegram's update_id is unique per bot; fresh chats keep examples apart in the Bot API fake.
_update_ids = itertools.count(1)
_chats = itertools.count(7_000_001)
# Hypothesis's explain phase traces every line a failing example runs; under it, moto's transactions
# crawl past the test timeout. The shrunk failing example is explanation enough.
PHASES = tuple(phase for phase in Phase if phase is not Phase.explain)


# ----------------------------------------------------------------- the model


@dataclass(frozen=True)
class Expected:
    """What the model predicts behind one chat."""

    state: SubscriberState | None = None  # None: nobody (never subscribed, or erased)
    reachable: bool = True
    hinted: bool = False  # had the "send HELP" hint within the hour (a whole example fits in one)
    inbox: int = 0  # messages kept for the publisher
    replies: int = 0  # messages the bot has sent to this chat


#: The state machine, (command, state before) -> state after; any other command leaves the state as it is.
#: None is nobody: a stranger, or someone erased (the address belongs to nobody then).
TRANSITIONS: dict[tuple[str, SubscriberState | None], SubscriberState] = {
    ("START", None): PENDING,
    ("START", CANCELLED): PENDING,
    ("YES", PENDING): ACTIVE,
    ("PAUSE 2w", ACTIVE): PAUSED,
    ("PAUSE 2w", PAUSED): PAUSED,  # a new pause end
    ("RESUME", PAUSED): ACTIVE,
    **{("STOP", state): CANCELLED for state in (PENDING, ACTIVE, PAUSED)},
    **{("DELETE CONFIRM", state): ERASED for state in (PENDING, ACTIVE, PAUSED, CANCELLED)},
}


def commands_that_move(state: SubscriberState | None) -> list[str]:
    return [command for command, source in TRANSITIONS if source is state]


def predict(before: Expected, action: str) -> Expected:
    """The model: what one new message or member update does to the person behind a chat."""
    if action in (BLOCKS, COMES_BACK):
        # Blocking is not leaving: nothing changes but reachability, and nothing is sent.
        return before if before.state is None else replace(before, reachable=action == COMES_BACK)
    # Any message proves the person reachable again, and gets exactly one answer ...
    after = replace(before, reachable=True, replies=before.replies + 1)
    if action == UNKNOWN:
        if before.state is None:
            return after  # a stranger is answered, nothing is kept
        # ... except a second message not understood within the hour: kept for the publisher, no hint.
        return replace(
            after, inbox=before.inbox + 1, hinted=True, replies=before.replies + (not before.hinted)
        )
    state = TRANSITIONS.get((action, before.state), before.state)
    if state is ERASED:
        return Expected(replies=after.replies)  # the address belongs to nobody now
    if state is PENDING and before.state is not PENDING:
        return replace(after, state=state, hinted=False)  # a new subscription starts a fresh profile
    return replace(after, state=state)


# ----------------------------------------------------------------- the real path


def inbound(chat: int, action: str) -> Inbound:
    """What the webhook makes of the Telegram update for ``action``: a message or a my_chat_member update."""
    update_id = next(_update_ids)
    if action in (BLOCKS, COMES_BACK):
        update = member_update(update_id, chat, action)
    else:
        update = message_update(update_id, chat, action)
    found = inbound_from_update(TelegramUpdate.model_validate(update))
    assert found is not None
    return found


def deliver(message: Inbound) -> None:
    """What the commands function does with one queue message, with the adapters it is built with."""
    handle_inbound(
        message,
        store=dependencies.subscriber_store(),
        messenger=dependencies.telegram_bot(),
        brand=dependencies.brand(),
        address_hash=dependencies.hash_address(message.channel.value, message.address),
        topics=dependencies.publishing_store().topics,
        referrals=dependencies.referral_programme(),
    )


def empty_table(stack: Stack) -> None:
    """A fresh table for the next example (provisioning the template again would take far longer)."""
    table = stack.deployment.physical["DataTable"]
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in stack.scan()]
    for start in range(0, len(keys), 25):
        batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        stack.dynamodb.batch_write_item(RequestItems={table: batch})


def everything_stored(stack: Stack) -> list[dict[str, Any]]:
    return sorted(stack.scan(), key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


class Table:
    """Straight reads of what is stored for one person: two calls, where the store's own reads take four."""

    def __init__(self, stack: Stack) -> None:
        self.dynamodb, self.name = stack.dynamodb, stack.deployment.physical["DataTable"]

    def owner_of(self, chat: int) -> str | None:
        key = {"pk": {"S": f"ADDR#telegram#{chat}"}, "sk": {"S": "ADDR"}}
        item = self.dynamodb.get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item")
        return item["subscriber_id"]["S"] if item else None

    def profile_and_inbox(self, subscriber_id: str) -> tuple[dict[str, Any] | None, int]:
        """The profile item, and how many of their messages are kept for the publisher."""
        items = self.dynamodb.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SUB#{subscriber_id}"}},
            ConsistentRead=True,
        )["Items"]
        profile = next((item for item in items if item["sk"]["S"] == "PROFILE"), None)
        return profile, sum(item["sk"]["S"].startswith("INBOX#") for item in items)


# ----------------------------------------------------------------- stateful test


#: How each person starts an example: a real history of commands into each state there is (with
#: messages kept for the publisher, one hint given), so that the few random steps after it can reach
#: every transition.
HISTORIES = {
    "nobody": (),
    "pending": ("START",),
    "active": ("START", "YES", UNKNOWN, UNKNOWN),
    "paused": ("START", "YES", "PAUSE 2w"),
    "cancelled": ("START", "YES", UNKNOWN, "STOP"),
    "erased": ("START", UNKNOWN, "DELETE CONFIRM"),
    "blocked": ("START", "YES", BLOCKS),
}


class SubscriberStateMachine(RuleBasedStateMachine):
    """Two people message the bot; after every step the table says what the model says."""

    delivered = Bundle("delivered")

    def __init__(self, stack: Stack) -> None:
        super().__init__()
        self.stack = stack
        empty_table(stack)
        self.chats = (next(_chats), next(_chats))
        self.expected = {chat: Expected() for chat in self.chats}
        self.subscriber_ids: dict[int, str] = {}  # learned when the model expects a new subscriber
        self.erased_ids: list[str] = []

    def send(self, person: int, action: str) -> Inbound:
        """The person acts (a new provider message id); the model follows."""
        chat = self.chats[person]
        before = self.expected[chat]
        message = inbound(chat, action)
        deliver(message)
        after = self.expected[chat] = predict(before, action)
        if before.state is None and after.state is not None:
            subscriber_id = Table(self.stack).owner_of(chat)
            if subscriber_id is not None:  # else the invariant reports it
                self.subscriber_ids[chat] = subscriber_id
        if before.state is not None and after.state is None:
            self.erased_ids.append(self.subscriber_ids.pop(chat))
        return message

    @initialize(
        target=delivered, first=st.sampled_from(list(HISTORIES)), second=st.sampled_from(list(HISTORIES))
    )
    def people_with_a_history(self, first: str, second: str) -> MultipleResults[Inbound]:
        # Given two people, each brought into some state by real commands
        return multiple(
            *(self.send(0, action) for action in HISTORIES[first]),
            *(self.send(1, action) for action in HISTORIES[second]),
        )

    @rule(target=delivered, person=PEOPLE, data=st.data())
    def act(self, person: int, data: st.DataObject) -> Inbound:
        # When a person acts: a command the model says moves them on (deep states in few steps), a
        # command of the state machine whatever the model says (a transition it lacks shows too), or
        # anything at all: a question, something not understood, blocking the bot or coming back.
        # Then the stored subscribers match the model (the invariant below).
        moves = commands_that_move(self.expected[self.chats[person]].state)
        choices = st.sampled_from(moves) | st.sampled_from(COMMANDS) | st.sampled_from(ACTIONS)
        return self.send(person, data.draw(choices, label="action"))

    @rule(message=delivered)
    def redeliver(self, message: Inbound) -> None:
        # Given everything stored and sent so far
        stored, sent = everything_stored(self.stack), self.replies()

        # When the queue (or Telegram) hands over a message already applied, however many steps ago
        deliver(message)

        # Then nothing changed and nothing more was sent
        assert everything_stored(self.stack) == stored
        assert self.replies() == sent

    def replies(self) -> list[int]:
        return [len(self.stack.bot.sent(chat)) for chat in self.chats]

    @invariant()
    def stored_subscribers_are_what_the_model_expects(self) -> None:
        table = Table(self.stack)
        for chat, expected in self.expected.items():
            owner = table.owner_of(chat)
            profile, inbox = table.profile_and_inbox(owner) if owner else (None, 0)
            assert self.as_model(profile, inbox, chat) == expected
            # The same person throughout (erasure aside); in the broadcast audience only while active
            # and reachable, in the dispatcher's index of pauses to end only while paused.
            assert owner == self.subscriber_ids.get(chat)
            profile = profile or {}
            assert ("audience_shard" in profile) == (expected.state is ACTIVE and expected.reachable)
            assert ("due_at" in profile) == (expected.state is PAUSED)
        for subscriber_id in self.erased_ids:
            # Erased: a tombstone without address or settings, and nothing they wrote kept
            tombstone, inbox = table.profile_and_inbox(subscriber_id)
            assert tombstone is not None and inbox == 0
            erased = subscriber_from_item(tombstone)
            assert erased.state is ERASED and erased.addresses == () and erased.last_hint_at is None

    def as_model(self, profile: dict[str, Any] | None, inbox: int, chat: int) -> Expected:
        """What the table and the Bot API fake say about a chat, in the model's terms."""
        replies = len(self.stack.bot.sent(chat))
        if profile is None:
            return Expected(replies=replies)
        subscriber = subscriber_from_item(profile)
        return Expected(
            state=subscriber.state,
            reachable=subscriber.primary.reachable,
            hinted=subscriber.last_hint_at is not None,
            inbox=inbox,
            replies=replies,
        )


@pytest.mark.timeout(360)  # shrinking a failure replays the machine many times; Hypothesis stops at 300 s
def test_the_subscriber_state_machine_follows_its_model(stack):
    run_state_machine_as_test(
        lambda: SubscriberStateMachine(stack),
        settings=settings(max_examples=35, stateful_step_count=10, deadline=None, phases=PHASES),
    )


# ----------------------------------------------------------------- redelivery is idempotent


@st.composite
def delivery_plans(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[int]]:
    """(person, action) messages, and the order a FIFO queue may hand them over, each 1-3 times.

    The first delivery of each message keeps its place; a redelivery comes at
    once or after later messages, never before the first.
    """
    messages = draw(st.lists(st.tuples(PEOPLE, st.sampled_from(ACTIONS)), min_size=1, max_size=10))
    slots = []
    for index in range(len(messages)):
        slots.append((index, 0, index))
        for _ in range(draw(st.integers(0, 2))):
            slots.append((draw(st.integers(index, len(messages) - 1)), 1, index))
    return messages, [index for *_, index in sorted(slots)]


def outcome(stack: Stack, chats: tuple[int, int], after_seq: int) -> dict[str, Any]:
    """The final state, without what differs between two runs anyway (random ids, exact times)."""
    store = dependencies.subscriber_store()
    people = []
    for chat in chats:
        subscriber, _ = profile(chat)
        replies = [message["text"] for message in stack.bot.sent(chat, after=after_seq)]
        if subscriber is None:
            people.append({"subscriber": None, "replies": replies})
            continue
        consent = store.consent_history(subscriber.subscriber_id)
        people.append(
            {
                "state": subscriber.state,
                "reachable": [address.reachable for address in subscriber.addresses],
                "version": subscriber.version,
                "paused": subscriber.paused_until is not None,
                "hinted": subscriber.last_hint_at is not None,
                "inbox": sorted(entry["text"] for entry in store.inbox_of(subscriber.subscriber_id)),
                "consent": [(c.confirm_message_id, c.withdraw_message_id) for c in consent],
                "replies": replies,
            }
        )
    kinds = Counter(
        (
            item["pk"]["S"].split("#")[0],
            item["sk"]["S"].split("#")[0],
            item.get("profile_state", {}).get("S"),
            "outbox" in item,
        )
        for item in stack.scan()
    )
    return {"people": people, "items": kinds}


def run(stack: Stack, messages: list[Inbound], chats: tuple[int, int]) -> dict[str, Any]:
    """Deliver ``messages`` to a fresh table, starting at the same moment every time."""
    empty_table(stack)
    clock.move_to(datetime(2026, 11, 2, 10, tzinfo=UTC))
    after_seq = max((message["seq"] for message in stack.bot.sent()), default=0)
    for message in messages:
        deliver(message)
    return outcome(stack, chats, after_seq)


def test_repeated_and_reordered_deliveries_end_in_the_same_state(stack):
    # Hypothesis drives an inner test so that a failure prints the plan, not the whole provisioned stack.
    @settings(max_examples=20, deadline=None, phases=PHASES)
    @given(plan=delivery_plans())
    def deliveries_end_in_the_same_state(plan: tuple[list[tuple[int, str]], list[int]]) -> None:
        # Given a sequence of messages from two people, and how a FIFO queue may redeliver them
        actions, order = plan
        chats = (next(_chats), next(_chats))
        messages = [inbound(chats[person], action) for person, action in actions]

        # When they are delivered once each, in order, and on a fresh table 1-3 times each
        once = run(stack, messages, chats)
        repeated = run(stack, [messages[index] for index in order], chats)

        # Then each person ends in the same state with the same replies, and the same items are stored
        for person in (0, 1):
            assert repeated["people"][person] == once["people"][person]
        assert repeated["items"] == once["items"]

    deliveries_end_in_the_same_state()


def test_an_old_erasure_delivered_again_leaves_the_new_subscription_alone(stack):
    # Given a person who erased their data, subscribed again and wrote something kept for the publisher
    chat = next(_chats)
    start, erase, start_again, note = (
        inbound(chat, text) for text in ("START", "DELETE CONFIRM", "START", UNKNOWN)
    )
    for message in (start, erase, start_again, note):
        deliver(message)
    subscriber_id = Table(stack).owner_of(chat)
    assert subscriber_id is not None
    stored, replies = everything_stored(stack), len(stack.bot.sent(chat))

    # When the old DELETE CONFIRM is delivered again (a webhook retry, or the queue after a crash)
    deliver(erase)

    # Then the new subscription keeps its inbox, and nothing else changed or was sent
    _, inbox = Table(stack).profile_and_inbox(subscriber_id)
    assert inbox == 1  # the message not understood, kept for the publisher
    assert everything_stored(stack) == stored
    assert len(stack.bot.sent(chat)) == replies
