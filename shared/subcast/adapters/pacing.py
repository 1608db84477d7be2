"""Pace sends to a provider's rate limit: one schedule per credential, shared by every sender.

The schedule is GCRA ("virtual scheduling"): a credential has a *theoretical
arrival time* ``tat``, the moment its next message may go. Reserving ``n``
messages moves ``tat`` on by ``n / rate`` and hands out their ``n`` evenly
spaced slots. Two senders never get the same slot, so together they run at
the rate, never above it, whatever their number.

- ``RateLimiter`` keeps ``tat`` in memory (one process).
- ``SharedRateLimiter`` keeps it in one DynamoDB item per credential
  (``RATE#<channel>#<credential hash>`` / ``RATE``), moved with a conditional
  write: one write per reservation, not per message. A 429 pushes ``tat`` past
  ``retry_after`` for every sender at once.

Slots are in wall-clock seconds (``time.time``): Lambda hosts keep NTP time,
and sharing a schedule needs a clock that every instance reads alike.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from subcast.adapters.aws import is_conditional_failure, item_on_failure, to_item

#: Attempts to move a contended shared schedule before giving up (each costs one write).
MAX_CONTENTION = 20


class RateLimiter:
    """``rate`` messages a second for one credential, in one process."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.clock = clock
        self._sleep = sleep
        self._tat = 0.0
        self._lock = threading.Lock()

    def reserve(self, count: int) -> list[float]:
        """Reserve ``count`` consecutive slots; returns when each may be used (wall-clock seconds)."""
        if count <= 0:
            return []
        start = self._move(count)
        return [start + index / self.rate for index in range(count)]

    def wait_for(self, slot: float) -> None:
        """Sleep until ``slot`` (at once when it has passed)."""
        delay = slot - self.clock()
        if delay > 0:
            self._sleep(delay)

    def acquire(self) -> None:
        """Reserve one slot and wait for it (a single message)."""
        [slot] = self.reserve(1)
        self.wait_for(slot)

    def pause(self, seconds: float) -> None:
        """The provider said 429: nobody sends on this credential for ``seconds``."""
        until = self.clock() + seconds
        with self._lock:
            self._tat = max(self._tat, until)

    def _move(self, count: int) -> float:
        with self._lock:
            start = max(self._tat, self.clock())
            self._tat = start + count / self.rate
            return start


class SharedRateLimiter(RateLimiter):
    """The same schedule kept in the table, so every concurrent sender instance shares it."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        channel: str,
        credential: str,
        rate: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, clock, sleep)
        self.dynamodb = dynamodb
        self.table = table
        # Never the credential itself: a short hash names the schedule.
        digest = hashlib.sha256(credential.encode()).hexdigest()[:16]
        self.key = to_item({"pk": f"RATE#{channel}#{digest}", "sk": "RATE"})
        self._known: float | None = None  # the tat this process saw last (saves a read per reservation)

    def _move(self, count: int) -> float:
        with self._lock:
            for _ in range(MAX_CONTENTION):
                known = self._known
                start = max(known or 0.0, self._tat, self.clock())
                after = start + count / self.rate
                if self._write(after, expected=known):
                    self._known = after
                    return start
                # Another sender moved the schedule: start again from what it wrote.
            raise RuntimeError("the shared rate schedule stayed contended")

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        until = self.clock() + seconds
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression="SET tat = :until",
                ConditionExpression="attribute_not_exists(tat) OR tat < :until",
                ExpressionAttributeValues=to_item({":until": until}),
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise  # a pause that cannot be shared is still kept in this process
        with self._lock:
            self._known = None  # read the schedule afresh at the next reservation

    def _write(self, after: float, expected: float | None) -> bool:
        """Set ``tat`` to ``after`` if it is still ``expected``; on a race, learn the current value."""
        condition = "tat = :expected" if expected is not None else "attribute_not_exists(tat)"
        values: dict[str, Any] = {":after": after}
        if expected is not None:
            values[":expected"] = expected
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression="SET tat = :after",
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_conditional_failure(error):
                raise
            current = item_on_failure(error).get("tat")
            self._known = float(current) if current is not None else None
            return False
        return True


class ChatSpacing:
    """At least ``seconds`` between two messages to the same chat, within one process.

    Remembers the most recent ``capacity`` chats only; a broadcast sends each chat
    once, so the spacing matters for a release or reply that follows a broadcast.
    """

    def __init__(
        self,
        seconds: float,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seconds = seconds
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._last: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, chat: str) -> None:
        """Wait until ``chat`` may get another message, and note that it gets one now."""
        with self._lock:
            current = self._clock()
            ready = self._last.get(chat, float("-inf")) + self.seconds
            turn = max(current, ready)
            self._last[chat] = turn
            self._last.move_to_end(chat)
            while len(self._last) > self.capacity:
                self._last.popitem(last=False)
        if turn > current:
            self._sleep(turn - current)
