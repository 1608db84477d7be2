"""REFER, UPGRADE and referral credits, through the Telegram webhook and the commands queue."""

from __future__ import annotations

import re

from tests.integration.test_commands import profile, say

ANN, BEN, CAROL = 5001, 5002, 5003
LINK = re.compile(r"https://t\.me/subcast_bot\?start=(r-[a-z2-7]{10})")


def subscribe(stack, chat: int, first_update: int, start: str = "/start", language: str = "en") -> None:
    say(stack, first_update, start, chat=chat, language=language)
    say(stack, first_update + 1, "YES" if language == "en" else "JA", chat=chat, language=language)


def link_of(stack, chat: int, update_id: int) -> tuple[str, int]:
    """(deep-link payload, people who joined) from the person's REFER reply."""
    [reply] = say(stack, update_id, "REFER", chat=chat)
    found = LINK.search(reply)
    assert found, reply
    joined = re.search(r"so far: (\d+)", reply)
    assert joined, reply
    return found.group(1), int(joined.group(1))


def referral_items(stack) -> list[dict]:
    return [item for item in stack.scan() if item["pk"]["S"].startswith("REFERRAL#")]


def test_a_friend_who_confirms_through_the_link_is_credited_once(stack):
    # Given Ann, subscribed, with her personal link
    subscribe(stack, ANN, 1)
    payload, joined = link_of(stack, ANN, 3)
    assert joined == 0

    # When Ben subscribes through it: nothing is credited until he confirms
    say(stack, 10, f"/start {payload}", chat=BEN)
    assert link_of(stack, ANN, 11)[1] == 0
    say(stack, 12, "YES", chat=BEN)

    # Then Ann's link shows one, and it stays one when Ben leaves and comes back through it
    assert link_of(stack, ANN, 13) == (payload, 1)
    say(stack, 14, "STOP", chat=BEN)
    subscribe(stack, BEN, 15, start=f"/start {payload}")
    assert link_of(stack, ANN, 17)[1] == 1

    # And STATUS shows it too
    [status] = say(stack, 18, "STATUS", chat=ANN)
    assert "Friends who joined through you: 1" in status
    _, consent = profile(BEN)
    assert consent is not None and consent.source == f"deep_link:{payload}"


def test_a_link_with_a_topic_and_a_redelivered_confirmation_still_count_once(stack):
    # Given Ann's link combined with a topic, and Carol confirming through it
    from infra.fakes.updates import message_update
    from tests.integration.test_commands import drain, webhook

    subscribe(stack, ANN, 1)
    payload, _ = link_of(stack, ANN, 3)
    say(stack, 20, f"/start {payload}_t-news", chat=CAROL)

    # When Telegram delivers her YES twice
    for _ in range(2):
        webhook(message_update(21, CAROL, "YES"))
        drain(stack)

    # Then she is credited once
    assert link_of(stack, ANN, 22)[1] == 1


def test_own_link_and_forged_codes_credit_nobody(stack):
    # Given Ann's link; Ann leaves and rejoins through her own link; Ben uses a made-up code
    subscribe(stack, ANN, 1)
    payload, _ = link_of(stack, ANN, 3)
    say(stack, 4, "STOP", chat=ANN)
    subscribe(stack, ANN, 5, start=f"/start {payload}")
    subscribe(stack, BEN, 10, start="/start r-aaaaaaaaaa")

    # Then Ann's count is still zero, and Ben is subscribed all the same
    assert link_of(stack, ANN, 7)[1] == 0
    ben, _ = profile(BEN)
    assert ben is not None and ben.state.value == "active"


def test_refer_before_subscribing_and_in_german(stack):
    # Given a stranger, then a German subscriber
    [reply] = say(stack, 1, "REFER", chat=BEN)
    assert "Subscribe first" in reply
    subscribe(stack, CAROL, 2, language="de")

    # When the German subscriber asks for the link
    [reply] = say(stack, 4, "EMPFEHLEN", chat=CAROL, language="de")

    # Then it comes in German
    assert "Lade Freunde" in reply and LINK.search(reply)


def test_erasure_forgets_who_joined_through_the_link(stack):
    # Given Ann with one friend credited
    subscribe(stack, ANN, 1)
    payload, _ = link_of(stack, ANN, 3)
    subscribe(stack, BEN, 10, start=f"/start {payload}")
    assert referral_items(stack)

    # When Ann erases her data
    say(stack, 20, "DELETE", chat=ANN)
    say(stack, 21, "DELETE CONFIRM", chat=ANN)

    # Then the record of who joined through her is gone
    assert referral_items(stack) == []


def test_upgrade_says_plainly_that_there_is_no_paid_plan(stack):
    subscribe(stack, ANN, 1)
    [reply] = say(stack, 3, "UPGRADE", chat=ANN)
    assert reply == "subcast has no paid plan: everything here is free."
    [reply] = say(stack, 4, "PREMIUM", chat=ANN, language="de")
    assert "kein kostenpflichtiges Angebot" not in reply  # Ann's language is English, whatever the client
