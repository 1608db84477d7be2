"""Replies in the subscriber's language, from the catalogue files in ``locale/``.

Every text a subscriber can receive from subcast lives in the catalogue; code
names a message by key. English is the fallback for a missing translation.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources


class Language(StrEnum):
    EN = "en"
    DE = "de"


DEFAULT_LANGUAGE = Language.EN


@cache
def catalogue(language: Language) -> dict[str, str]:
    """All messages of one language, keyed by message id."""
    text = resources.files(__package__).joinpath(f"locale/{language.value}.json").read_text("utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def render(key: str, language: Language, /, **params: object) -> str:
    """The message ``key`` in ``language`` with its ``{placeholders}`` filled in."""
    template = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE)[key]
    return template.format(**params)


def language_from_client(code: str | None) -> Language:
    """The reply language guessed from a messenger client's IETF tag (``de-AT`` -> German)."""
    primary = (code or "").split("-")[0].lower()
    return Language.DE if primary == "de" else DEFAULT_LANGUAGE
