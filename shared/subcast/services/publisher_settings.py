"""Publisher use cases: the settings of the whole deployment, for now the frequency cap.

The cap bounds how many broadcasts each subscriber receives per day or week, on top of any LIMIT a
subscriber sets. The sender asks for it on every job, so ``publisher_cap`` remembers it per process
for ``CAP_MAX_AGE``: a change reaches every sender within a minute, for one read a minute each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from weakref import WeakKeyDictionary

from pydantic import BaseModel, Field

from subcast import clock
from subcast.adapters.publishing import PublisherSettings, PublishingStore
from subcast.domain.constraints import REQUEST_CONFIG, WHOLE_NUMBER
from subcast.domain.preferences import MAX_CAP_COUNT, CapPeriod, FrequencyCap

CAP_MAX_AGE = timedelta(seconds=60)


class CapSetting(BaseModel):
    """A frequency cap as the API shows and takes it: at most ``count`` broadcasts ``per`` day or week."""

    model_config = REQUEST_CONFIG

    count: Annotated[int, Field(strict=True, ge=1, le=MAX_CAP_COUNT), WHOLE_NUMBER] = Field(
        description="broadcasts per subscriber and period"
    )
    per: CapPeriod = Field(description="day or week")

    @classmethod
    def of(cls, cap: FrequencyCap | None) -> CapSetting | None:
        return None if cap is None else cls(count=cap.count, per=cap.period)

    def cap(self) -> FrequencyCap:
        return FrequencyCap(self.count, self.per)


class SettingsUpdate(BaseModel):
    """What a publisher sends to change the settings: all of them, as PUT replaces the whole."""

    model_config = REQUEST_CONFIG

    frequency_cap: CapSetting | None = Field(description="null removes the cap")


def publisher_settings(store: PublishingStore) -> PublisherSettings:
    """The settings as they are now (no cap and no ``updated_at`` when they were never set)."""
    return store.publisher_settings()


def change_publisher_settings(store: PublishingStore, update: SettingsUpdate) -> PublisherSettings:
    """Replace the settings; senders follow within ``CAP_MAX_AGE``."""
    cap = update.frequency_cap.cap() if update.frequency_cap is not None else None
    settings = PublisherSettings(frequency_cap=cap, updated_at=clock.now())
    store.save_publisher_settings(settings)
    return settings


@dataclass(frozen=True)
class _Remembered:
    cap: FrequencyCap | None
    read_at: datetime


# Per store, so that a store built afresh (a new table, a test's new moto) starts with nothing remembered.
_remembered: WeakKeyDictionary[PublishingStore, _Remembered] = WeakKeyDictionary()


def publisher_cap(store: PublishingStore, now: datetime) -> FrequencyCap | None:
    """The publisher's frequency cap (None: none), read from the table at most once per ``CAP_MAX_AGE``.

    Cheap enough to call for every job. Two callers at once may both read; neither gets a wrong answer.
    """
    remembered = _remembered.get(store)
    if remembered is None or not remembered.read_at <= now < remembered.read_at + CAP_MAX_AGE:
        # A clock moved backwards (the local stack's) also reads afresh.
        remembered = _Remembered(store.frequency_cap(), now)
        _remembered[store] = remembered
    return remembered.cap
