"""The subscriber command language: what a message someone sent us asks for.

Pure parsing, no I/O. The tables (``command_words``, re-exported here) are data, so later work (PAUSE
durations, QUIET windows, ...) extends them without touching the matching.
Stopping must always work: whenever a message plausibly asks to stop
receiving messages, it parses to STOP.

How a message becomes STOP:

1. A stop keyword (``SYNONYMS[Intent.STOP]``) as the first word always wins (``-stop`` too).
2. Otherwise the whole message is searched for an opt-out: a word of
   ``OPT_OUT_WORDS`` (``abmelden``, ``unsubscribe``, ...), an ``OPT_OUT_PHRASES``
   sequence (``keine Nachrichten mehr``, ``I don't want these messages anymore``),
   a stop keyword alone in a clause (``Ruhe, stop``) or ``stop`` ending a short
   clause (``please stop``), each unless a negation stands right before it
   (``don't stop``, ``bitte nicht abmelden``). This holds after *any* first word,
   a data command's included: ``Ruhe! Abmelden!`` and ``Pause bitte abmelden``
   are STOP.
3. Data commands (``ARGUMENT_SYNTAX``: PAUSE, TOPICS, DIGEST, QUIET, TZ, LANG,
   LIMIT, ALERT, FILTER) are searched the same way, but the tokens written in
   their argument's own syntax are hidden first, because they are data:

   - signed terms ``+word`` / ``-word`` (TOPICS, FILTER): ``FILTER -stop``;
   - tokens that start with a digit: durations, dates, clock times, numbers, caps
     (PAUSE, DIGEST, QUIET, LIMIT, ALERT): ``2w``, ``24.12.``, ``22:00-07:00``, ``3/day``;
   - IANA zone names ``Area/Location`` (TZ): ``Europe/Berlin``;
   - comparisons (ALERT): a token holding ``<``, ``>`` or ``=``, and the value right
     after one that ends in an operator: ``ALERT status = stop``.

   A hidden token stays a placeholder word that matches nothing (it neither
   joins the words around it into a phrase nor ends a clause, except for
   punctuation typed after it). Plain words are never hidden: a bare ``stop``,
   ``abmelden`` or ``keine Nachrichten mehr`` in a data command's message counts.
4. ``/start <payload>`` with a valid deep-link payload is a subscription, whatever
   the publisher-made code spells.
5. A message made only of signed terms (``+sport``, ``+sport -tech``) is parsed like any
   other message, and carries its ``signed_terms`` unless it is STOP: the conversation, which
   knows the topics, reads it as ``TOPICS <terms>`` when every term names one
   (``settings.topics_shorthand``). Terms that name no topic keep the answer rules 1-4 give,
   so ``-stop`` still stops.

Everything is matched on words and sets, never regular expressions: the work is
linear in the (bounded) message length.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from subcast.domain.command_words import (
    ARGUMENT_SYNTAX,
    DATA_INTENTS,
    DELETE_CONFIRMATIONS,
    NEGATION_BRIDGE,
    NEGATIONS,
    OPT_OUT_FILLERS,
    OPT_OUT_PHRASES,
    OPT_OUT_WORDS,
    SYNONYMS,
    ZONE_AREAS,
    Intent,
    Syntax,
)

# The tables and enums live in command_words; other modules import them from here.
__all__ = [
    "ARGUMENT_SYNTAX",
    "DATA_INTENTS",
    "DELETE_CONFIRMATIONS",
    "MAX_INPUT_CHARS",
    "MAX_PAYLOAD_CHARS",
    "NEGATIONS",
    "OPT_OUT_FILLERS",
    "OPT_OUT_PHRASES",
    "OPT_OUT_WORDS",
    "SYNONYMS",
    "ZONE_AREAS",
    "Command",
    "Intent",
    "Syntax",
    "fold",
    "normalise",
    "parse_command",
]

#: "please stop", "make it stop", "why won't you stop": a short clause ending in stop.
_SHORT_CLAUSE_WORDS = 4

#: Only this much of a message is looked at: commands are short, and the work stays bounded.
MAX_INPUT_CHARS = 4096
#: Deep-link payloads Telegram accepts for /start (referral code and/or topic).
MAX_PAYLOAD_CHARS = 64
_PAYLOAD_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
_BOT_NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "_")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_APOSTROPHES = str.maketrans(dict.fromkeys("'`\u2019\u2018\u02bc\u00b4"))
_CLAUSE_BREAKS = frozenset(".,;:!?")
_CLAUSE_BREAK_CHARS = "".join(sorted(_CLAUSE_BREAKS))
_COMPARISON_CHARS = frozenset("<>=")
#: Stands in for a hidden argument token: normalised text has no control characters, so no
#: message word and no table entry can equal it.
_HIDDEN = "\x00"
_HELP_MARKS = frozenset("?¿!/")

_KEYWORDS: dict[str, Intent] = {word: intent for intent, words in SYNONYMS.items() for word in words}
# Only phrases that can start at a word are tried there, so a long message costs little.
_PHRASES_BY_FIRST_WORD: dict[str, list[tuple[frozenset[str], ...]]] = {
    first: [phrase for phrase in OPT_OUT_PHRASES if first in phrase[0]]
    for first in frozenset().union(*(phrase[0] for phrase in OPT_OUT_PHRASES))
}
_STOP_KEYWORDS = frozenset(SYNONYMS[Intent.STOP])
_SIGNED = frozenset({Syntax.SIGNED})


@dataclass(frozen=True)
class Command:
    """What one subscriber message asks for."""

    intent: Intent
    argument: str = ""  # normalised rest after the keyword (original text for FEEDBACK)
    payload: str | None = None  # a valid /start deep-link payload, else None
    keyword: str = ""  # the keyword or opt-out phrase that matched, normalised ("" when none did)
    signed_terms: tuple[str, ...] = ()  # every word of a message of signed terms only, normalised


def fold(text: str) -> str:
    """Letters as the command language compares them, for any length of text (no trimming).

    NFKC, casefolded, umlauts spelled out, accents dropped from Latin letters: so a
    ``FILTER +München`` word (stored as ``muenchen``) is found in a snippet saying München.
    """
    return _drop_latin_accents(unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS))


def normalise(text: str) -> str:
    """``text`` as the command language compares it.

    NFKC, casefolded, umlauts spelled out (``LÖSCHEN`` == ``loeschen``), accents dropped from
    Latin letters (``arrêt`` == ``arret``), whitespace collapsed, invisible characters removed,
    surrounding punctuation/symbols/emoji stripped, and a Telegram ``/cmd@BotName`` first word
    reduced to ``cmd``. Only the first ``MAX_INPUT_CHARS`` characters are considered.
    """
    cleaned = "".join(_visible(ch) for ch in fold(text[:MAX_INPUT_CHARS]))
    words = _strip_junk(" ".join(cleaned.split())).split(" ")
    words[0] = _without_bot_name(words[0])
    return " ".join(words)


def parse_command(text: str) -> Command:
    """The command in one subscriber message; never raises, unknown text is ``Intent.UNKNOWN``.

    A stop keyword as the first word always wins. Otherwise an opt-out anywhere ("please stop
    sending me messages", "bitte keine Nachrichten mehr", "Ruhe! Abmelden!") is STOP too; in a
    data command the tokens written in its argument's syntax (``FILTER +stop``, ``ALERT status =
    stop``) are hidden first. A message of signed terms alone (``+sport -tech``) carries its
    ``signed_terms`` unless it is STOP: whether they name topics is decided where the topics are
    known. See the module docstring for the full rule.
    """
    text = text[:MAX_INPUT_CHARS]
    marks = "".join(unicodedata.normalize("NFKC", text).split())
    if marks and "?" in marks and set(marks) <= _HELP_MARKS:
        return Command(Intent.HELP, keyword="?")
    normalised = normalise(text)
    terms = _signed_terms(text)
    words = normalised.split(" ") if normalised else []
    intent, keyword, used = _leading_keyword(words)
    argument = " ".join(words[used:])
    if intent is Intent.STOP:
        return Command(Intent.STOP, argument, keyword=keyword)
    payload = _payload(_original_rest(text)) if keyword == "start" else None
    if payload is None:
        syntax = ARGUMENT_SYNTAX.get(intent, frozenset()) if intent is not None else frozenset()
        phrase = _opt_out_phrase(_clauses([*words[:used], *_hide_argument_syntax(words[used:], syntax)]))
        if phrase is not None:
            return Command(Intent.STOP, normalised, keyword=phrase)
    if intent is None:
        return Command(Intent.UNKNOWN, normalised, signed_terms=terms)
    if intent is Intent.FEEDBACK:
        argument = _original_rest(text)
    elif intent is Intent.DELETE and words[used:] and _bare(words[used]) in DELETE_CONFIRMATIONS:
        argument = " ".join(["confirm", *words[used + 1 :]])
    return Command(intent, argument, payload, keyword, signed_terms=terms)


def _visible(ch: str) -> str:
    if ch.isspace():
        return " "
    return "" if unicodedata.category(ch).startswith("C") else ch


def _drop_latin_accents(text: str) -> str:
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if not (unicodedata.combining(ch) and kept and kept[-1].isascii()):
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def _is_junk(ch: str) -> bool:
    # punctuation, symbols (emoji), separators and control/format characters
    return unicodedata.category(ch)[0] in "PSZC"


def _strip_junk(word: str) -> str:
    start, end = 0, len(word)
    while start < end and _is_junk(word[start]):
        start += 1
    while end > start and _is_junk(word[end - 1]):
        end -= 1
    return word[start:end]


def _without_bot_name(word: str) -> str:
    command, at, bot = word.partition("@")
    if at and command and bot and set(bot) <= _BOT_NAME_CHARS:
        return command
    return word


def _bare(word: str) -> str:
    return _without_bot_name(_strip_junk(word))


def _leading_keyword(words: list[str]) -> tuple[Intent | None, str, int]:
    for used in (2, 1):
        candidate = " ".join(_bare(word) for word in words[:used])
        if len(words) >= used and candidate in _KEYWORDS:
            return _KEYWORDS[candidate], candidate, used
    return None, "", 0


def _original_rest(text: str) -> str:
    # The text after the first word, as typed: feedback keeps its case, payloads their code.
    start = 0
    while start < len(text) and _is_junk(text[start]):
        start += 1
    parts = text[start:].split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _payload(rest: str) -> str | None:
    valid = 0 < len(rest) <= MAX_PAYLOAD_CHARS and set(rest) <= _PAYLOAD_CHARS
    return rest if valid else None


def _is_syntax(core: str, syntax: frozenset[Syntax]) -> bool:
    # ``core``: one whitespace-separated token without the clause punctuation typed after it.
    if Syntax.SIGNED in syntax and core[:1] in ("+", "-") and core[1:2].isalnum():
        return True
    if Syntax.NUMBER in syntax and core[:1].isdigit():
        return True
    if Syntax.ZONE in syntax:
        area, slash, location = core.partition("/")
        if slash and location and area in ZONE_AREAS:
            return True
    return Syntax.COMPARISON in syntax and not _COMPARISON_CHARS.isdisjoint(core)


def _signed_terms(text: str) -> tuple[str, ...]:
    """The words of a message made only of signed terms (``+Sport, -tech.`` -> ``+sport -tech``), else ``()``.

    Read from the text as typed: ``normalise`` strips the sign of the first word with the junk around it.
    """
    terms: list[str] = []
    for token in "".join(_visible(ch) for ch in fold(text)).replace(",", " ").split():
        core = token.rstrip(_CLAUSE_BREAK_CHARS)
        if not core:
            continue  # punctuation typed apart: "+sport ; -tech"
        if not _is_syntax(core, _SIGNED):
            return ()
        terms.append(core)
    return tuple(terms)


def _hide_argument_syntax(tokens: list[str], syntax: frozenset[Syntax]) -> list[str]:
    """``tokens`` with those in ``syntax`` replaced by ``_HIDDEN``; one pass, clause breaks kept."""
    if not syntax:
        return tokens
    shown: list[str] = []
    value_next = False  # the previous token ended in a comparison operator: this one is its value
    for token in tokens:
        core = token.rstrip(_CLAUSE_BREAK_CHARS)
        if value_next or _is_syntax(core, syntax):
            shown.append(_HIDDEN)
            if core != token:
                shown.append(token[len(core) :])
        else:
            shown.append(token)
        value_next = Syntax.COMPARISON in syntax and core == token and core[-1:] in _COMPARISON_CHARS
    return shown


def _clauses(tokens: Iterable[str]) -> list[list[str]]:
    """The words of ``tokens`` split into clauses at ``.,;:!?``, fillers dropped, ``_HIDDEN`` kept."""
    clauses: list[list[str]] = [[]]
    for token in tokens:
        if token == _HIDDEN:
            clauses[-1].append(_HIDDEN)
            continue
        word: list[str] = []
        for ch in token.translate(_APOSTROPHES) + " ":
            if ch.isalnum():
                word.append(ch)
                continue
            if word:
                clauses[-1].append("".join(word))
                word = []
            if ch in _CLAUSE_BREAKS and clauses[-1]:
                clauses.append([])
    return [[w for w in clause if w not in OPT_OUT_FILLERS] for clause in clauses if clause]


def _negated(words: list[str], at: int) -> bool:
    for before in range(at - 1, max(at - 4, -1), -1):
        if words[before] in NEGATIONS:
            return True
        if words[before] not in NEGATION_BRIDGE:
            return False
    return False


def _opt_out_phrase(clauses: list[list[str]]) -> str | None:
    for clause in clauses:
        if not clause:
            continue
        if len(clause) == 1 and clause[0] in _STOP_KEYWORDS:
            return clause[0]
        last = len(clause) - 1
        short = len(clause) <= _SHORT_CLAUSE_WORDS
        if short and clause[last] in ("stop", "stopp") and not _negated(clause, last):
            return clause[last]
        words = [*clause, "$"]
        for at, word in enumerate(clause):
            if word in OPT_OUT_WORDS and not _negated(words, at):
                return word
            for phrase in _PHRASES_BY_FIRST_WORD.get(word, []):
                if _fits(words[at : at + len(phrase)], phrase) and not _negated(words, at):
                    return " ".join(w for w in words[at : at + len(phrase)] if w != "$")
    return None


def _fits(words: list[str], phrase: tuple[frozenset[str], ...]) -> bool:
    return len(words) == len(phrase) and all(w in slot for w, slot in zip(words, phrase, strict=True))
