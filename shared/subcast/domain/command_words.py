"""The data of the subscriber command language: keywords, opt-out words and phrases, argument syntax.

Pure tables, no matching: ``subcast.domain.commands`` reads them (and re-exports the public ones),
so later work (PAUSE durations, QUIET windows, ...) extends them without touching the matching.
Every word is in its normalised spelling (casefolded, umlauts as ae/oe/ue, see ``commands.normalise``).
This module must not import ``commands``.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    TOPICS = "topics"
    DIGEST = "digest"
    QUIET = "quiet"
    TIMEZONE = "timezone"
    LANGUAGE = "language"
    LIMIT = "limit"
    ALERT = "alert"
    ALERTS = "alerts"
    FILTER = "filter"
    FILTERS = "filters"
    STATUS = "status"
    HELP = "help"
    FEEDBACK = "feedback"
    EXPORT = "export"
    DELETE = "delete"
    REFER = "refer"
    UPGRADE = "upgrade"
    UNKNOWN = "unknown"


def _spellings(words: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in words.split(","))


def _words(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Keywords in their normalised spelling (casefolded, umlauts as ae/oe/ue).
#: Spellings with the umlaut dots simply dropped (LOSCHEN) are accepted too: people type fast.
SYNONYMS: dict[Intent, tuple[str, ...]] = {
    Intent.SUBSCRIBE: _spellings("start, subscribe, join, anmelden, unstop"),
    Intent.CONFIRM: _spellings("yes, ja, confirm, bestaetigen, bestatigen"),
    Intent.STOP: _spellings(
        "stop, stopall, unsubscribe, cancel, end, quit, revoke, optout, opt-out, opt out, remove, arret, "
        "stopp, abmelden, kuendigen, kundigen, abbestellen"
    ),
    Intent.PAUSE: _spellings("pause, pausieren"),
    Intent.RESUME: _spellings("resume, weiter, fortsetzen"),
    Intent.TOPICS: _spellings("topics, themen"),
    Intent.DIGEST: _spellings("digest, zusammenfassung"),
    Intent.QUIET: _spellings("quiet, ruhe"),
    Intent.TIMEZONE: _spellings("tz, zeitzone"),
    Intent.LANGUAGE: _spellings("lang, sprache"),
    Intent.LIMIT: _spellings("limit"),
    Intent.ALERT: _spellings("alert"),
    Intent.ALERTS: _spellings("alerts"),
    Intent.FILTER: _spellings("filter, filtern"),
    Intent.FILTERS: _spellings("filters"),
    Intent.STATUS: _spellings("status, einstellungen, settings"),
    Intent.HELP: _spellings("help, info, hilfe, ?"),
    Intent.FEEDBACK: _spellings("feedback, meinung"),
    Intent.EXPORT: _spellings("export, daten"),
    Intent.DELETE: _spellings("delete, loeschen, loschen"),
    Intent.REFER: _spellings("refer, empfehlen"),
    Intent.UPGRADE: _spellings("upgrade, premium"),
}

#: The second word of DELETE that confirms erasure, whatever the language.
DELETE_CONFIRMATIONS = frozenset({"confirm", "bestaetigen", "bestatigen"})


class Syntax(StrEnum):
    """A kind of argument token that is data, never an opt-out (see the module docstring)."""

    SIGNED = "signed"  # +sport, -politik, -stop
    NUMBER = "number"  # 3d, 2w, 24.12., 2026-12-24, 22:00-07:00, 08:00, 300, 3/day
    ZONE = "zone"  # europe/berlin, america/new_york, etc/gmt+1
    COMPARISON = "comparison"  # kwh>300, >=, status=stop; and "stop" in "status = stop" (a value)


#: Commands whose argument is data, and the syntax their argument is written in (COMMANDS.md).
#: Only tokens of these kinds are hidden from opt-out detection: a deliberate command whose
#: argument happens to say "stop" (FILTER +stop) must not unsubscribe anyone, while plain
#: words after the keyword ("Ruhe! Abmelden!") are read like any other message.
ARGUMENT_SYNTAX: dict[Intent, frozenset[Syntax]] = {
    Intent.PAUSE: frozenset({Syntax.NUMBER}),
    Intent.TOPICS: frozenset({Syntax.SIGNED}),
    Intent.DIGEST: frozenset({Syntax.NUMBER}),
    Intent.QUIET: frozenset({Syntax.NUMBER}),
    Intent.TIMEZONE: frozenset({Syntax.ZONE}),
    Intent.LANGUAGE: frozenset(),  # en | de: nothing to hide
    Intent.LIMIT: frozenset({Syntax.NUMBER}),
    Intent.ALERT: frozenset({Syntax.NUMBER, Syntax.COMPARISON}),
    Intent.FILTER: frozenset({Syntax.SIGNED}),
}
DATA_INTENTS = frozenset(ARGUMENT_SYNTAX)
#: The first part of IANA zone names ("Europe" in Europe/Berlin), casefolded.
ZONE_AREAS = _words(
    "africa america antarctica arctic asia atlantic australia europe indian pacific etc "
    "us canada brazil chile mexico"
)

# Natural-language opt-outs are matched on words, not regular expressions, so the work is
# linear in the message length whatever it contains. Words in OPT_OUT_FILLERS are dropped
# first, so "please stop sending me all these messages" is "stop sending me messages".
OPT_OUT_FILLERS = _words(
    "please pls plz kindly just now ok okay oh hey hi hello all any the these those this that it them "
    "your my ever really immediately bitte doch mal einfach jetzt sofort endlich hallo die diese dieser "
    "diesen das den der dem eure euer euren ihre ihr sie deine dein meine mein meinen"
)
#: A word that asks to stop wherever it stands ("how do I unsubscribe?" asks to stop, too).
OPT_OUT_WORDS = _words(
    "unsubscribe unsub optout stopall abmelden abbestellen kuendigen kundigen aufhoeren aufhoren "
    "austragen widerrufe widerrufen"
)
_MESSAGING = "sending send messaging message messages texting text texts writing write contacting contact "
_MESSAGING += "emailing email spamming spam bothering bugging notifications nachrichten schreiben senden"
_NOUNS = "messages message texts notifications spam emails mails news updates sms nachrichten nachricht "
_NOUNS += "mitteilungen meldungen benachrichtigungen newsletter infos"
_DE_SEND = "schreibt schreib schreiben schickt schick schicken sendet senden"
#: Word sequences (each slot: the words allowed there; "$" is the end of a clause).
OPT_OUT_PHRASES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(_words(slot) for slot in phrase.split("|"))
    for phrase in (
        f"stop stopp quit cease|{_MESSAGING}",
        "opt|out",
        "remove|me us",
        "take|me us|off out",
        "leave|me us|alone",
        f"no|more longer|{_NOUNS} $",
        "dont not never|message text contact send write email spam bother msg|me us",
        "want wanna like need wish|to|stop quit cancel leave end opt",
        f"dont not|want need|{_NOUNS}|anymore more again longer $",
        f"dont not|want need|more|{_NOUNS}",
        f"dont not|want need wish|to|receive get|{_NOUNS}|anymore more again longer $",
        f"no|longer|want need|{_NOUNS}",
        "wanna|stop quit cancel leave end",
        "want wanna|out",
        "cancel end stop terminate quit|subscription subscriptions membership abo abonnement newsletter",
        "revoke withdraw|consent",
        f"keine kein|{_NOUNS}|mehr",
        f"{_DE_SEND}|mir mich uns|nicht nichts|mehr",
        "nicht|mehr|schreiben schicken senden kontaktieren anschreiben",
        "will moechte mochte brauche wollen|nichts|mehr",
        "will moechte mochte wollen|raus",
        "hoert hoer hort hor hoeren horen|auf",
        "lasst lass lassen|mich uns|in|ruhe",
        "tragt trag tragen|mich uns|aus",
        "melde meldet melden|mich uns|ab",
        "melde meldet melden|ich wir|mich uns|ab",
        "abo abonnement newsletter|beenden stornieren",
    )
)
#: "don't stop!" is praise, not an opt-out. A negation counts when only these words stand between
#: it and the opt-out ("I don't want to unsubscribe"), so "I don't like this, unsubscribe" still stops.
NEGATIONS = _words("dont not never cant cannot wont doesnt didnt nicht nie niemals")
NEGATION_BRIDGE = _words("want wanna to like need will would gonna going ich mich mir moechte mochte")
