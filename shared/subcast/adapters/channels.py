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
    """The provider did not take the message (a 5xx, no connection): retry with backoff."""


class ProviderMisconfigured(TemporaryFailure):
    """Our credential or endpoint is wrong (401, 404): nothing can be sent until an operator fixes it."""


class DeliveryUncertain(DeliveryError):
    """The request went out but no answer came back (read timeout, dropped connection).

    The provider may have delivered it. Sending again could deliver it twice,
    so it is not retried: never twice beats maybe twice.
    """


class PermanentFailure(DeliveryError):
    """The provider rejected the message itself (a 4xx that retrying cannot fix)."""


class MessengerChannel(Protocol):
    channel: Channel

    def send_text(self, address: str, text: str, parse_mode: str | None = None) -> str:
        """Send ``text`` (plain, or in the provider's ``parse_mode``) to ``address``; returns the
        provider's message id, or raises a DeliveryError."""
        ...
