"""The `subcast` CLI without a server: arguments, tables, progress, errors, and the client's retries."""

from __future__ import annotations

import io
import json
import urllib.error
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from subcast.domain.broadcast import BroadcastStatus
from subcast.domain.preferences import MAX_CAP_COUNT, CapPeriod
from subcast.domain.subscriber import SubscriberState
from subcast.services.api_keys import Scope
from subcast_cli import __main__ as cli
from subcast_cli import broadcasts, keys, newsletter, settings, subscribers
from subcast_cli.arguments import attribute, build_parser, moment
from subcast_cli.client import ApiClient, ApiError, CliError, Unreachable
from subcast_cli.output import Console, clip, key_values, relative, table, width_of
from subcast_cli.output import moment as shown_moment
from subcast_cli.progress import bar, finished, fitted_line, progress_line, reasons, watch

KEY = "sc_unit0000_never-printed-secret"
BERLIN = ZoneInfo("Europe/Berlin")


def counts(**values: int) -> dict[str, Any]:
    base = {name: 0 for name in ("recipients", "sent", "failed", "skipped", "held", "delivered_later")}
    base.update(values)
    base["pending"] = max(base["recipients"] - sum(base[n] for n in ("sent", "failed", "skipped", "held")), 0)
    return {**base, "skipped_by": {}, "failed_by": {}, "held_by": {}}


def broadcast(status: str = "sending", fanout: bool = True, **values: int) -> dict[str, Any]:
    return {
        "id": "b_0123456789abcdef",
        "text": "Hello",
        "topics": ["news"],
        "status": status,
        "send_at": "2026-06-15T10:00:00+00:00",
        "created_at": "2026-06-15T10:00:00+00:00",
        "counts": counts(**values),
        "fanout_complete": fanout,
    }


# ---------------------------------------------------------------- arguments


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_send_takes_repeated_topics_a_moment_with_offset_and_typed_attributes():
    # When a full send command is parsed
    args = parse(
        "broadcast", "send", "--topic", "news", "--topic", "sport", "--at", "2026-12-24T08:00+01:00",
        "--attr", "kwh=300", "--attr", "price=9.5", "--attr", "region=north", "--draft", "Hello",
    )  # fmt: skip

    # Then everything arrives as the API wants it
    assert args.topics == ["news", "sport"]
    assert args.at == "2026-12-24T08:00:00+01:00"
    assert dict(args.attr) == {"kwh": 300, "price": 9.5, "region": "north"}
    assert args.draft and args.text == "Hello" and args.idempotency_key is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-24T08:00Z", "2026-12-24T08:00:00+00:00"),
        ("2026-12-24 08:00:00-05:00", "2026-12-24T08:00:00-05:00"),
    ],
)
def test_moments_need_an_offset_and_keep_it(value, expected):
    assert moment(value) == expected


@pytest.mark.parametrize("value", ["2026-12-24T08:00", "tomorrow", ""])
def test_a_moment_without_offset_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse("broadcast", "send", "--at", value, "Hello")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "ISO-8601" in err or "offset" in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [("kwh=300", ("kwh", 300)), ("x=1.50", ("x", 1.5)), ("a=b=c", ("a", "b=c")), ("n=nan", ("n", "nan"))],
)
def test_attributes_are_numbers_when_they_read_as_one(value, expected):
    assert attribute(value) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["broadcast"],
        ["keys", "create", "cms"],  # no --scope
        ["keys", "create", "cms", "--scope", "everything"],
        ["broadcast", "list", "--limit", "0"],
        ["broadcast", "list", "--limit", "101"],
        ["broadcast", "list", "--status", "lost"],
        ["broadcast", "edit", "b_1", "--link", "https://x.example", "--no-link"],
        ["broadcast", "edit", "b_1", "--topic", "news", "--everyone"],
        ["broadcast", "send", "--attr", "novalue", "Hello"],
        ["newsletter", "import", "issue.md", "--every", "0"],
        ["settings", "--cap"],
        ["settings", "--cap", "0/day"],
        ["settings", "--cap", "101/day"],
        ["settings", "--cap", "3/month"],
        ["settings", "--cap", "3"],
        ["settings", "--cap", "three/day"],
        ["settings", "--cap", "-3/day"],
    ],
)
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2


def test_connection_options_go_before_or_after_the_command():
    # Given the options in either place
    before = parse("--json", "--api-url", "http://a.example", "topics", "list")
    after = parse("topics", "list", "--json", "--api-url", "http://a.example")

    # Then both mean the same
    for args in (before, after):
        assert args.json is True and args.api_url == "http://a.example"
    assert not hasattr(parse("topics", "list"), "json")


def test_the_choices_match_the_api():
    # The CLI's lists must not drift from what the API accepts.
    assert set(keys.SCOPES) == {scope.value for scope in Scope}
    assert set(broadcasts.STATUSES) == {status.value for status in BroadcastStatus}
    assert set(subscribers.STATES) == {state.value for state in SubscriberState}
    assert set(settings.PERIODS) == {period.value for period in CapPeriod}
    assert settings.MAX_CAP_COUNT == MAX_CAP_COUNT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3/day", {"count": 3, "per": "day"}),
        ("1/week", {"count": 1, "per": "week"}),
        (" 100 / DAY ", {"count": 100, "per": "day"}),
        ("off", None),
        ("OFF", None),
    ],
)
def test_the_cap_is_sent_as_the_api_takes_it(value, expected):
    assert parse("settings", "--cap", value).cap == expected


def test_settings_without_cap_only_shows_them():
    assert not hasattr(parse("settings"), "cap")


# ---------------------------------------------------------------- tables and times


def test_a_table_aligns_columns_and_clips_long_cells():
    lines = table(["ID", "TEXT"], [["b_1", "short"], ["b_22", "a much longer text than allowed"]], {1: 12})
    assert lines == ["ID    TEXT", "b_1   short", "b_22  a much long…"]


def test_wide_characters_count_double_so_columns_stay_aligned():
    lines = table(["NAME", "X"], [["日本", "1"], ["ab", "2"]])
    assert [width_of(line[:-1]) for line in lines[1:]] == [6, 6]  # the second column starts in one place
    assert width_of("日本") == 4 and width_of("e\u0301") == 1


def test_clip_flattens_lines_and_marks_the_cut():
    assert clip("one\ntwo   three", 40) == "one two three"
    assert clip("abcdefghij", 5) == "abcd…"


def test_key_values_indent_further_lines_under_the_value():
    assert key_values([("id", "b_1"), ("text", "line one\nline two")]) == [
        "id    b_1",
        "text  line one",
        "      line two",
    ]


def test_moments_show_in_the_readers_zone_to_the_minute():
    assert shown_moment("2026-12-24T07:00:00+00:00", BERLIN) == "2026-12-24 08:00 CET"
    assert shown_moment("2026-06-24T07:00:30+00:00", BERLIN) == "2026-06-24 09:00 CEST"
    assert shown_moment(None) == "-"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-15T10:00:20+00:00", "now"),
        ("2026-06-15T10:45:00+00:00", "in 45 min"),
        ("2026-06-15T13:30:00+00:00", "in 3 h 30 min"),
        ("2026-06-20T10:00:00+00:00", "in 5 days"),
        ("2026-06-15T08:00:00+00:00", "2 h ago"),
    ],
)
def test_relative_times_read_like_speech(value, expected):
    assert relative(value, "2026-06-15T10:00:00+00:00") == expected


# ---------------------------------------------------------------- progress


def test_the_bar_fills_with_the_fraction_and_has_an_ascii_form():
    assert bar(0.0, 10) == "[░░░░░░░░░░]"
    assert bar(0.5, 10) == "[█████░░░░░]"
    assert bar(1.5, 4, fancy=False) == "[####]"


def test_the_progress_line_counts_every_outcome_and_what_is_pending():
    line = progress_line(broadcast(recipients=10, sent=4, failed=1, skipped=2, held=1), bar_width=10)
    assert line == (
        "sending  [████████░░]  80% of 10 recipients · sent 4 · failed 1 · skipped 2 · held 1 · pending 2"
    )


def test_while_recipients_are_still_found_no_percentage_is_claimed():
    line = progress_line(broadcast(fanout=False, recipients=100, sent=90), bar_width=None)
    assert line.startswith("sending  100+ recipients so far (still finding them)")
    assert "%" not in line


def test_drafts_and_future_broadcasts_say_when_they_go_out():
    assert progress_line(broadcast("draft")).startswith("draft · not scheduled")
    future = {**broadcast("scheduled", fanout=False), "send_at": "2026-06-15T12:00:00+00:00"}
    assert progress_line(future, now="2026-06-15T10:00:00+00:00").endswith("(in 2 h)")
    assert progress_line(future, now="2026-06-15T12:00:00+00:00") == "scheduled · going out now"


def test_a_narrow_terminal_gets_a_shorter_line_that_never_wraps():
    item = broadcast(recipients=1200, sent=530, failed=2, skipped=8)
    for columns in (120, 90, 79, 40):
        assert width_of(fitted_line(item, columns)) <= columns
    assert "failed 2" in fitted_line(item, 90) and "held" not in fitted_line(item, 90)


def test_reasons_and_the_final_words_are_honest():
    done = broadcast("sent", recipients=5, sent=3, skipped=1, held=1)
    done["counts"]["skipped_by"] = {"paused": 1}
    done["counts"]["held_by"] = {"quiet_hours": 1}
    assert reasons(done["counts"]) == [
        "skipped: paused 1",
        "held: quiet hours 1",
        "held: 0 of 1 delivered later so far",
    ]
    assert finished(done)[0] == "b_0123456789abcdef is sent: 3 of 5 recipients received it."
    assert "reached nobody" in finished(broadcast("sent"))[0]
    assert "cancelled; 2 of 9 recipients" in finished(broadcast("cancelled", recipients=9, sent=2))[0]


class FakeClient:
    """Answers GET /v1/broadcasts/{id} from a list of snapshots, the last one for ever."""

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        self.snapshots = snapshots
        self.calls = 0

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        from subcast_cli.client import Reply

        snapshot = self.snapshots[min(self.calls, len(self.snapshots) - 1)]
        self.calls += 1
        return Reply(200, snapshot)


def console(tty: bool = False, as_json: bool = False, columns: int = 120) -> Console:
    return Console(io.StringIO(), io.StringIO(), as_json=as_json, tty=tty, columns=columns)


SENDING = [
    broadcast("scheduled", fanout=False),
    broadcast(recipients=2),
    broadcast(recipients=2),  # unchanged: no new line
    broadcast(recipients=2, sent=1),
    broadcast("sent", recipients=2, sent=2),
]


def test_watch_without_a_terminal_prints_one_line_per_change_until_sent():
    # Given a broadcast that goes from scheduled to sent over five polls
    client, out, sleeps = FakeClient(SENDING), console(), []

    # When it is watched without a terminal
    assert watch(client, "b_0123456789abcdef", out, sleep=sleeps.append) == 0

    # Then each change is one line, the repeat none, and the end says what happened
    lines = out.out.getvalue().splitlines()
    assert [line[10:].split(" ·")[0] for line in lines[:-1]] == [
        "scheduled",
        "sending  0% of 2 recipients",
        "sending  50% of 2 recipients",
        "sent  100% of 2 recipients",
    ]
    assert lines[-1] == "b_0123456789abcdef is sent: 2 of 2 recipients received it."
    assert sleeps == [1.0] * 4


def test_watch_on_a_terminal_redraws_one_line_in_place():
    out = console(tty=True)
    assert watch(FakeClient(SENDING), "b_0123456789abcdef", out, sleep=lambda _: None) == 0
    written = out.out.getvalue()
    assert written.count("\r") == 5 and written.count("\x1b[K") == 5
    assert "sending  [████████████░░░░░░░░░░░░]  50% of 2 recipients" in written
    assert all(len(frame.split("\n")[0]) <= 119 for frame in written.replace("\x1b[K", "").split("\r"))
    assert written.endswith("received it.\n")


def test_watch_with_json_prints_only_the_final_document():
    out = console(as_json=True)
    watch(FakeClient(SENDING), "b_0123456789abcdef", out, sleep=lambda _: None)
    assert json.loads(out.out.getvalue())["status"] == "sent"


def test_watch_gives_up_after_its_timeout_and_says_the_broadcast_carries_on():
    ticks = iter(range(100))
    with pytest.raises(CliError) as error:
        watch(
            FakeClient([broadcast(recipients=2)]),
            "b_1",
            console(),
            timeout=3,
            sleep=lambda _: None,
            clock=lambda: float(next(ticks)),
        )
    assert "still sending after 3 s" in error.value.message and "carries on" in (error.value.hint or "")


# ---------------------------------------------------------------- the client


class FakeResponse:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self._body = status, json.dumps(body).encode()
        self.headers = Message()
        for name, value in (headers or {}).items():
            self.headers[name] = value

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def http_error(status: int, body: Any) -> urllib.error.HTTPError:
    return urllib.error.HTTPError(
        "http://x/", status, "reason", Message(), io.BytesIO(json.dumps(body).encode())
    )


class FakeOpener:
    """Plays back answers (responses or exceptions) and records the requests."""

    def __init__(self, *answers: Any) -> None:
        self.answers, self.requests = list(answers), []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_with(*answers: Any) -> tuple[ApiClient, FakeOpener]:
    opener = FakeOpener(*answers)
    return ApiClient("http://api.example/", KEY, opener=opener, pause=lambda _: None), opener


def test_the_client_sends_the_key_as_bearer_json_bodies_and_skips_empty_params():
    client, opener = client_with(FakeResponse(201, {"id": "b_1"}, {"Idempotent-Replayed": "true"}))
    reply = client.request("POST", "/v1/broadcasts", {"text": "Hi"}, params={"a": None, "b": "x y"})
    request = opener.requests[0]
    assert request.full_url == "http://api.example/v1/broadcasts?b=x+y"
    assert request.get_header("Authorization") == f"Bearer {KEY}"
    assert request.get_header("Content-type") == "application/json" and json.loads(request.data) == {
        "text": "Hi"
    }
    assert reply.body == {"id": "b_1"} and reply.headers["idempotent-replayed"] == "true"
    assert KEY not in repr(client)


def test_api_errors_carry_the_apis_code_and_message():
    client, _ = client_with(http_error(404, {"error": {"code": "not_found", "message": "no broadcast b_x"}}))
    with pytest.raises(ApiError) as error:
        client.get("/v1/broadcasts/b_x")
    assert (error.value.status, error.value.code, error.value.message) == (
        404,
        "not_found",
        "no broadcast b_x",
    )


def test_the_gateways_unknown_route_answer_is_explained():
    client, _ = client_with(http_error(403, {"message": "Missing Authentication Token"}))
    with pytest.raises(ApiError) as error:
        client.post("/v1/newsletters", {})
    assert error.value.code == "no_such_route" and "POST /v1/newsletters" in error.value.message


def test_a_refused_connection_is_not_retried_and_says_make_run():
    client, opener = client_with(urllib.error.URLError(ConnectionRefusedError(111, "refused")))
    with pytest.raises(Unreachable) as error:
        client.get("/v1/topics")
    assert len(opener.requests) == 1 and "make run" in (error.value.hint or "")


def test_gets_and_keyed_posts_are_retried_on_gateway_errors_others_are_not():
    # Given a gateway that fails once
    flaky = http_error(503, {"message": "Service Unavailable"})
    client, opener = client_with(flaky, FakeResponse(200, {"topics": []}))
    assert client.get("/v1/topics").body == {"topics": []} and len(opener.requests) == 2

    keyed, opener = client_with(http_error(502, {}), FakeResponse(201, {"id": "b_1"}))
    keyed.post("/v1/broadcasts", {"text": "x"}, {"Idempotency-Key": "k"})
    assert [r.get_header("Idempotency-key") for r in opener.requests] == ["k", "k"]

    plain, opener = client_with(http_error(502, {}))
    with pytest.raises(ApiError):
        plain.post("/v1/topics", {"slug": "x"})
    assert len(opener.requests) == 1


# ---------------------------------------------------------------- main


@pytest.fixture
def fake_api(monkeypatch):
    """``main`` talks to a FakeOpener instead of the network; returns the opener to load answers."""
    opener = FakeOpener()
    monkeypatch.setattr(
        cli, "ApiClient", lambda url, key: ApiClient(url, key, opener=opener, pause=lambda _: None)
    )
    monkeypatch.setenv("SUBCAST_API_KEY", KEY)
    monkeypatch.delenv("SUBCAST_API_URL", raising=False)
    return opener


def test_without_a_key_main_explains_where_to_get_one(monkeypatch, capsys):
    monkeypatch.delenv("SUBCAST_API_KEY", raising=False)
    assert cli.main(["topics", "list"]) == 2
    assert "SUBCAST_API_KEY" in capsys.readouterr().err


def test_a_bad_api_url_is_a_usage_error(fake_api):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--api-url", "127.0.0.1:8000", "topics", "list"])
    assert exit_.value.code == 2


def test_an_api_error_is_printed_with_its_code_and_exits_1_without_the_key(fake_api, capsys):
    fake_api.answers.append(http_error(404, {"error": {"code": "not_found", "message": "no broadcast b_x"}}))
    assert cli.main(["broadcast", "status", "b_x"]) == 1
    out, err = capsys.readouterr()
    assert err == "subcast: not_found: no broadcast b_x\n" and out == ""
    assert fake_api.requests[0].full_url == "http://127.0.0.1:8000/v1/broadcasts/b_x"


def test_send_generates_an_idempotency_key_prints_it_and_explains_a_replay(fake_api, capsys):
    # Given an API that says the request was a replay
    created = {**broadcast("scheduled", fanout=False), "send_at": "2026-06-15T10:00:00+00:00"}
    fake_api.answers.append(FakeResponse(201, created, {"Idempotent-Replayed": "true"}))

    # When a broadcast is sent
    assert cli.main(["broadcast", "send", "--topic", "news", "Hello"]) == 0

    # Then the key sent is the key printed, and the output says nothing went twice
    sent_key = fake_api.requests[0].get_header("Idempotency-key")
    out = capsys.readouterr().out
    assert len(sent_key) == 36 and f"idempotency key  {sent_key}" in out
    assert "nothing is sent twice" in out


def test_a_send_with_unknown_outcome_tells_how_to_retry_safely(fake_api, capsys):
    fake_api.answers.extend([http_error(502, {})] * 3)
    assert cli.main(["broadcast", "send", "--idempotency-key", "retry-me", "Hello"]) == 1
    assert "--idempotency-key retry-me" in capsys.readouterr().err


def test_keys_create_shows_the_secret_once_with_a_warning(fake_api, capsys):
    fake_api.answers.append(
        FakeResponse(201, {"id": "k1", "name": "cms", "scopes": ["broadcasts"], "key": "sc_k1_secret"})
    )
    assert cli.main(["keys", "create", "cms", "--scope", "broadcasts"]) == 0
    assert json.loads(fake_api.requests[0].data) == {"name": "cms", "scopes": ["broadcasts"]}
    out = capsys.readouterr().out
    assert "    sc_k1_secret\n" in out and "will not be shown again" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["broadcast", "edit", "b_1"],
        ["topics", "update", "news"],
        ["broadcast", "status", "b_1", "--timeout", "5"],
    ],
)
def test_a_command_with_nothing_to_do_is_a_usage_error_before_any_request(fake_api, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2 and fake_api.requests == []


def test_list_all_follows_the_cursor_and_json_prints_the_whole_list(fake_api, capsys):
    fake_api.answers.extend(
        [
            FakeResponse(200, {"broadcasts": [broadcast("sent")], "next_cursor": "c2"}),
            FakeResponse(200, {"broadcasts": [broadcast("draft")], "next_cursor": None}),
        ]
    )
    assert cli.main(["broadcast", "list", "--all", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [item["status"] for item in body["broadcasts"]] == ["sent", "draft"]
    assert "cursor=c2" in fake_api.requests[1].full_url and "limit=100" in fake_api.requests[1].full_url


def test_settings_shows_the_cap_and_when_it_changed(fake_api, capsys):
    fake_api.answers.append(
        FakeResponse(200, {"frequency_cap": {"count": 3, "per": "day"}, "updated_at": "2026-06-15T10:00:00Z"})
    )
    assert cli.main(["settings"]) == 0
    request = fake_api.requests[0]
    assert (request.get_method(), request.full_url) == ("GET", "http://127.0.0.1:8000/v1/settings")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "frequency cap  3 broadcasts per day and subscriber"
    assert lines[1].startswith("changed        2026-06-15")


def test_settings_without_a_cap_say_so(fake_api, capsys):
    fake_api.answers.append(FakeResponse(200, {"frequency_cap": None, "updated_at": None}))
    assert cli.main(["settings"]) == 0
    assert capsys.readouterr().out == "frequency cap  none\nchanged        never\n"


@pytest.mark.parametrize(
    ("value", "sent", "headline"),
    [
        ("1/week", {"count": 1, "per": "week"}, "Set the frequency cap to 1 broadcast per week."),
        ("off", None, "Removed the frequency cap."),
    ],
)
def test_settings_cap_puts_the_whole_setting(fake_api, capsys, value, sent, headline):
    # Given an API that accepts the change
    fake_api.answers.append(FakeResponse(200, {"frequency_cap": sent, "updated_at": "2026-06-15T10:00:00Z"}))

    # When the cap is set or removed
    assert cli.main(["settings", "--cap", value]) == 0

    # Then the whole setting is PUT, and the output says what changed and when senders follow
    request = fake_api.requests[0]
    assert request.get_method() == "PUT" and json.loads(request.data) == {"frequency_cap": sent}
    out = capsys.readouterr().out
    assert out.startswith(f"{headline} Senders follow within a minute.\n")


def test_settings_with_json_prints_the_apis_answer(fake_api, capsys):
    answer = {"frequency_cap": {"count": 3, "per": "day"}, "updated_at": "2026-06-15T10:00:00Z"}
    fake_api.answers.append(FakeResponse(200, answer))
    assert cli.main(["settings", "--cap", "3/day", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == answer


def test_a_put_replaces_the_whole_so_it_is_retried_on_gateway_errors():
    client, opener = client_with(http_error(503, {}), FakeResponse(200, {"frequency_cap": None}))
    assert client.put("/v1/settings", {"frequency_cap": None}).body == {"frequency_cap": None}
    assert [request.get_method() for request in opener.requests] == ["PUT", "PUT"]


# ---------------------------------------------------------------- newsletter import


def test_the_format_is_guessed_from_the_name_then_the_content():
    assert newsletter.guess_format("issue.HTML", "# not html") == "html"
    assert newsletter.guess_format("issue.md", "<p>x</p>") == "markdown"
    assert newsletter.guess_format("stdin", "  <!doctype html>") == "html"
    assert newsletter.guess_format("stdin", "# Heading") == "markdown"


def test_without_start_or_every_the_snippets_stay_drafts():
    assert newsletter.spacing(None, None) is None
    assert newsletter.spacing("2026-12-01T07:00:00+01:00", None) == {
        "start": "2026-12-01T07:00:00+01:00",
        "every_minutes": newsletter.DEFAULT_EVERY_MINUTES,
    }
    assert newsletter.spacing(None, 30)["start"].count(":") >= 3  # now, with its offset


def test_import_sends_the_contract_and_prints_a_table(fake_api, tmp_path, capsys):
    # Given an issue on disk and an API that makes two scheduled snippets of it
    issue = tmp_path / "issue-42.md"
    issue.write_text("# One\n\nFirst story.\n\n# Two\n\nSecond story.\n", encoding="utf-8")
    made = [
        {**broadcast("scheduled", fanout=False), "id": "b_1", "send_at": "2026-12-01T06:00:00+00:00"},
        {**broadcast("scheduled", fanout=False), "id": "b_2", "send_at": "2026-12-01T06:30:00+00:00"},
    ]
    fake_api.answers.append(FakeResponse(201, {"broadcasts": made}))

    # When it is imported on a schedule
    argv = ["newsletter", "import", str(issue), "--topic", "news", "--start", "2026-12-01T07:00+01:00"]
    assert cli.main([*argv, "--every", "30"]) == 0

    # Then the body is exactly the contract, and the output a summary and a table
    body = json.loads(fake_api.requests[0].data)
    assert body == {
        "format": "markdown",
        "content": issue.read_text(encoding="utf-8"),
        "topics": ["news"],
        "schedule": {"start": "2026-12-01T07:00:00+01:00", "every_minutes": 30},
    }
    out = capsys.readouterr().out
    assert out.startswith("Scheduled 2 snippets from issue-42.md to news")
    assert "one every 30 min" in out and "b_1" in out and "b_2" in out


def test_import_with_draft_and_a_schedule_is_a_usage_error(fake_api, tmp_path):
    issue = tmp_path / "issue.md"
    issue.write_text("# A\n\ntext\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["newsletter", "import", str(issue), "--draft", "--start", "2026-12-01T07:00Z"])
    assert exit_.value.code == 2 and fake_api.requests == []


def test_an_unreadable_file_is_a_usage_error(fake_api, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["newsletter", "import", str(tmp_path / "missing.html")])
    assert exit_.value.code == 2


# ---------------------------------------------------------------- usage errors say what is wrong first


@pytest.mark.parametrize(
    ("argv", "first_line"),
    [
        (
            ["broadcast", "send", "--at", "tomorrow", "x"],
            "subcast: --at needs an ISO-8601 moment with an offset, e.g. 2026-12-24T08:00+01:00 "
            "(got 'tomorrow')",
        ),
        (
            ["broadcast", "send", "--at", "2026-12-24T08:00", "x"],
            "subcast: --at needs an offset to mean one moment everywhere, e.g. 2026-12-24T08:00+01:00 "
            "(got '2026-12-24T08:00')",
        ),
        (
            ["broadcast", "send", "--attr", "novalue", "x"],
            "subcast: --attr needs name=value, e.g. kwh=300 or region=north (got 'novalue')",
        ),
        (
            ["broadcast", "list", "--limit", "0"],
            "subcast: --limit needs a whole number from 1 to 100 (got '0')",
        ),
        (
            ["broadcast", "status", "b_1", "--watch", "--timeout", "soon"],
            "subcast: --timeout needs a number of seconds, e.g. 30 (got 'soon')",
        ),
        (
            ["newsletter", "import", "issue.md", "--start", "Monday"],
            "subcast: --start needs an ISO-8601 moment with an offset, e.g. 2026-12-24T08:00+01:00 "
            "(got 'Monday')",
        ),
        (
            ["settings", "--cap", "3/month"],
            "subcast: --cap needs N/day, N/week or off, with N a whole number from 1 to 100 (got '3/month')",
        ),
    ],
)
def test_a_bad_value_is_explained_on_the_first_line_of_stderr(fake_api, capsys, argv, first_line):
    # Given a value one of the CLI's own argument types refuses
    # When the command runs
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)

    # Then stderr starts with what is wrong, then names the command's help; exit 2, no request
    err = capsys.readouterr().err
    command = " ".join(word for word in argv[:2] if not word.startswith("-"))
    assert err.splitlines() == [first_line, f"  see: subcast {command} --help"]
    assert exit_.value.code == 2 and fake_api.requests == []


@pytest.mark.parametrize(
    ("argv", "first_line", "help_of"),
    [
        (
            ["broadcast", "list", "--status", "lost"],
            "subcast: --status: invalid choice: 'lost' (choose from 'draft', 'scheduled', 'sending', "
            "'sent', 'cancelled')",
            "subcast broadcast list",
        ),
        (
            ["broadcast", "send"],
            "subcast: the following arguments are required: TEXT",
            "subcast broadcast send",
        ),
        (["topics", "list", "--frob"], "subcast: unrecognized arguments: --frob", "subcast topics list"),
        (
            ["broadcast", "edit", "b_1"],
            "subcast: nothing to change: give --text, --topic/--everyone, --at, --link, --image or --attr",
            "subcast broadcast edit",
        ),
    ],
)
def test_every_usage_error_leads_with_its_reason(fake_api, capsys, argv, first_line, help_of):
    # Given a command line argparse or a command refuses
    # When it runs
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)

    # Then the reason comes first and the usage block is left to --help
    assert capsys.readouterr().err.splitlines() == [first_line, f"  see: {help_of} --help"]
    assert exit_.value.code == 2


# ---------------------------------------------------------------- subscribers: state, one name


@pytest.mark.parametrize("option", ["--state", "--status"])
def test_subscribers_list_takes_state_or_status_and_asks_the_api_for_status(fake_api, capsys, option):
    # Given an API with one paused subscriber
    person = {"id": "s_1", "state": "paused", "topics": ["news"], "state_since": "2026-06-15T10:00:00Z"}
    fake_api.answers.append(FakeResponse(200, {"subscribers": [person], "next_cursor": None}))

    # When paused subscribers are listed with either name of the option
    assert cli.main(["subscribers", "list", option, "paused"]) == 0

    # Then the API gets its own query parameter, and the table says STATE
    assert fake_api.requests[0].full_url == "http://127.0.0.1:8000/v1/subscribers?status=paused"
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[:2] == ["ID", "STATE"] and row.split()[:2] == ["s_1", "paused"]


def test_subscribers_list_without_any_says_which_state(fake_api, capsys):
    # Given an API without cancelled subscribers
    fake_api.answers.append(FakeResponse(200, {"subscribers": [], "next_cursor": None}))

    # When they are listed by the API's name for the option
    assert cli.main(["subscribers", "list", "--status", "cancelled"]) == 0

    # Then the answer speaks of the state
    assert capsys.readouterr().out == "No cancelled subscribers.\n"


def test_subscribers_list_help_shows_one_name_state(capsys):
    # When the list command's help is shown
    with pytest.raises(SystemExit):
        parse("subscribers", "list", "--help")

    # Then it offers --state and never says status
    out = capsys.readouterr().out
    assert "--state {pending,active,paused,cancelled,erased}" in out and "status" not in out


# ---------------------------------------------------------------- unknown topics: the command to create them

UNKNOWN_SPORT = "unknown topics: sport (create them with POST /v1/topics)"


@pytest.mark.parametrize(
    ("status", "code"),
    [(422, "unknown_topic"), (400, "invalid_request")],  # the API's answer, and its answer before
)
def test_an_unknown_topic_is_answered_with_the_cli_command_to_create_it(fake_api, capsys, status, code):
    # Given an API that does not know the topic
    fake_api.answers.append(http_error(status, {"error": {"code": code, "message": UNKNOWN_SPORT}}))

    # When a broadcast is sent to it
    assert cli.main(["broadcast", "send", "--topic", "sport", "Goal!"]) == 1

    # Then the error names the topic and the CLI command that creates it, not the REST route
    assert capsys.readouterr().err.splitlines() == [
        f"subcast: {code}: unknown topics: sport",
        'Create it with:  subcast topics create sport "<Name>"',
    ]


def test_several_unknown_topics_get_one_command_each(fake_api, capsys):
    # Given an API that knows neither topic
    message = "unknown topics: local-news, sport (create them with POST /v1/topics)"
    fake_api.answers.append(http_error(422, {"error": {"code": "unknown_topic", "message": message}}))

    # When a broadcast is edited to go to both
    assert cli.main(["broadcast", "edit", "b_1", "--topic", "local-news", "--topic", "sport"]) == 1

    # Then each gets its command, aligned under the first
    assert capsys.readouterr().err.splitlines() == [
        "subcast: unknown_topic: unknown topics: local-news, sport",
        'Create them with:  subcast topics create local-news "<Name>"',
        '                   subcast topics create sport "<Name>"',
    ]


def test_a_newsletter_for_an_unknown_topic_gets_the_command_too(fake_api, tmp_path, capsys):
    # Given an issue and an API that does not know its topic
    issue = tmp_path / "issue.md"
    issue.write_text("# A\n\ntext\n", encoding="utf-8")
    fake_api.answers.append(http_error(422, {"error": {"code": "unknown_topic", "message": UNKNOWN_SPORT}}))

    # When it is imported to that topic
    assert cli.main(["newsletter", "import", str(issue), "--topic", "sport"]) == 1

    # Then the command to create the topic is shown
    assert 'Create it with:  subcast topics create sport "<Name>"' in capsys.readouterr().err


def test_other_invalid_requests_keep_the_apis_words_only(fake_api, capsys):
    # Given an API refusing the text, not a topic
    error = {"error": {"code": "invalid_request", "message": "text: must not be empty"}}
    fake_api.answers.append(http_error(400, error))

    # When a broadcast is sent
    assert cli.main(["broadcast", "send", " "]) == 1

    # Then only the API's message is printed
    assert capsys.readouterr().err == "subcast: invalid_request: text: must not be empty\n"
