"""The one clock every handler reads.

Domain code never calls ``datetime.now()``: it is handed ``now`` by a service,
and services read it here. The local stack moves this clock (``POST
/_local/clock``) so that scheduled broadcasts and pauses can be tried out
without waiting. In AWS nothing ever moves it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC) + _offset


def move_to(moment: datetime | None) -> datetime:
    """Make ``now()`` read ``moment`` from here on (time keeps flowing); None returns to real time."""
    global _offset
    with _lock:
        if moment is None:
            _offset = timedelta(0)
        else:
            if moment.tzinfo is None:
                raise ValueError("the clock needs a timezone-aware moment")
            _offset = moment - datetime.now(UTC)
    return now()


def is_moved() -> bool:
    return _offset != timedelta(0)
