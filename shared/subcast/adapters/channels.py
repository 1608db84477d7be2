"""The one interface every messenger provider is sent through, and its failure kinds."""

from __future__ import annotations

from typing import Protocol

from subcast.domain.subscriber import Channel


class DeliveryError(Exception):
    """A provider did not take a message."""


class RecipientUnreachable(DeliveryError):
    """The person blocked the bot or the address is gone: never retry until they come back."""


class RateLimited(DeliveryError):
    """The provider asked us to slow down; the whole credential waits ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """A 5xx, a timeout or a dropped connection: retry with backoff."""


class PermanentFailure(DeliveryError):
    """The provider rejected the message itself (a 4xx that retrying cannot fix)."""


class MessengerChannel(Protocol):
    channel: Channel

    def send_text(self, address: str, text: str) -> str:
        """Send ``text`` to ``address``; returns the provider's message id, or raises a DeliveryError."""
        ...
