"""The referral programme as the command handler uses it: progress for REFER and STATUS, and erasure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from subcast.adapters.referrals import ReferralStore
from subcast.domain.referrals import Referrals, referral_code, referral_link


@dataclass(frozen=True)
class ReferralProgramme:
    store: ReferralStore
    key: bytes
    bot_username: Callable[[], str]

    def progress(self, subscriber_id: str) -> Referrals:
        code = referral_code(subscriber_id, self.key)
        return Referrals(referral_link(self.bot_username(), code), self.store.joined(code, subscriber_id))

    def forget(self, subscriber_id: str) -> None:
        """Erasure: the record of who joined through this person's link goes with them."""
        self.store.erase(referral_code(subscriber_id, self.key))
