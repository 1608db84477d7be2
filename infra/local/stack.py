"""Run template.yaml on this machine: moto, the template's resources, handlers, routes, queues, schedules."""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.fakes.telegram import FakeBotApi
from infra.local.events import route_pattern
from infra.local.gateway import GatewayServer
from infra.local.moto_patches import faster_transactions
from infra.local.runtime import LocalFunction, load_instances
from infra.local.workers import ScheduleRunner, SqsPoller, sqs_client, sqs_pollers
from infra.provision import Deployment, provision
from infra.template import ApiRoute, functions

if TYPE_CHECKING:
    from infra.local.metering import Meter
    from infra.local.persistence import StateKeeper

REGION = "us-east-1"
# Local-only stand-ins, never valid anywhere else.
LOCAL_BOT_TOKEN = "123456:local-sandbox-token"  # noqa: S105
LOCAL_WEBHOOK_SECRET = "local-webhook-secret"  # noqa: S105
LOCAL_ADDRESS_HASH_KEY = "local-address-hash-key"
#: Environment variables a developer may set to override the template's values locally.
OVERRIDABLE = (
    "TELEGRAM_API_BASE",
    "BRAND_NAME",
    "BRAND_DESCRIPTION",
    "POWERTOOLS_LOG_LEVEL",
    "TELEGRAM_MESSAGES_PER_SECOND",
    "TELEGRAM_SECONDS_PER_CHAT",
    "SEND_CHUNK",
    "SEND_CONCURRENCY",
)
#: Messages a second the stack's own Bot API stand-in accepts before it answers 429 (unset: no limit).
BOT_RATE_VARIABLE = "SUBCAST_LOCAL_BOT_RATE"


def bot_rate(environ: dict[str, str] | None = None) -> float | None:
    """``SUBCAST_LOCAL_BOT_RATE`` as a positive number of messages a second, or None when unset."""
    raw = (os.environ if environ is None else environ).get(BOT_RATE_VARIABLE, "").strip()
    if not raw:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise ValueError(f"{BOT_RATE_VARIABLE} must be a positive number of messages a second, not {raw!r}")
    return rate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LocalStack:
    host: str = "127.0.0.1"
    port: int = 8000
    schedule_every: float | None = None  # override every rate() period (seconds), e.g. for tests
    bootstrap_key: str = ""
    bootstrap_generated: bool = False
    bootstrap_kept_in: Path | None = None  # the data folder's key file, when the key is kept there
    # Where state is kept between runs (see infra.local.persistence); None: in memory only.
    data_dir: Path | None = None
    keeper: StateKeeper | None = None
    state_report: list[str] = field(default_factory=list)  # what loading the data folder found
    deployment: Deployment | None = None
    # Every execution environment of each function; `functions` holds the first, which serves the
    # function's API routes and schedules (only SQS sources with MaximumConcurrency get more).
    instances: dict[str, list[LocalFunction]] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    routes: list[tuple[Any, ApiRoute]] = field(default_factory=list)
    pollers: list[SqsPoller] = field(default_factory=list)
    schedules: list[ScheduleRunner] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    meter: Meter | None = None  # when SUBCAST_LOCAL_METERING is on
    _telegram_baseline: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log is noise here
        rate = bot_rate()  # a bad value stops the start before anything runs

        self.gateway = GatewayServer((self.host, self.port), self)  # fails early if the port is taken
        self.port = self.gateway.server_address[1]
        moto_port = free_port()
        faster_transactions()  # moto copies whole tables per transaction; see moto_patches
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self.moto.start()
        endpoint = f"http://127.0.0.1:{moto_port}"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
        }.items():
            os.environ[name] = value
        self.deployment = provision(REGION, endpoint)
        self._configure_environment()
        self._start_metering()
        self._load_state(endpoint)  # before any handler runs: they start from the saved state
        self.bot_api = FakeBotApi(os.environ["TELEGRAM_BOT_TOKEN"], rate_limit_per_second=rate)
        self._create_bootstrap_key()
        self._load_functions()
        sqs = sqs_client(REGION, endpoint)
        if self.keeper is not None:
            self.keeper.watch(sqs.meta.events)  # a poller's delete changes what a snapshot holds
        if self.meter is not None:
            from infra.local.metering import EVENT_SOURCE

            self.meter.watch_client(sqs, EVENT_SOURCE)
        for spec in functions():
            self.pollers.extend(
                sqs_pollers(self.instances[spec.logical_id], self.deployment, sqs, REGION, self.stop_event)
            )
            for schedule in spec.schedules:
                runner = ScheduleRunner(
                    self.functions[spec.logical_id],
                    schedule.expression,
                    REGION,
                    self.stop_event,
                    self.schedule_every,
                )
                self.schedules.append(runner)
        self.reset_metering()  # what set-up cost is not the handlers' doing
        for thread in [*self.pollers, *self.schedules]:
            thread.start()
        if self.keeper is not None:
            self.keeper.start([function for group in self.instances.values() for function in group])
        self.gateway_thread = threading.Thread(target=self.gateway.serve_forever, name="gateway", daemon=True)
        self.gateway_thread.start()

    def _start_metering(self) -> None:
        """Hook the handlers' boto3 session before any of their clients exists (clients copy the hooks)."""
        from infra.local.metering import Meter, metering_enabled

        if metering_enabled():
            self.meter = Meter()
            self.meter.watch_default_session()

    def _load_state(self, endpoint: str) -> None:
        """Load the data folder's snapshot; changes are kept there from now on (infra.local.persistence)."""
        from infra.local.persistence import keep_state
        from subcast.services import dependencies

        dependencies.reset()  # clients made before this start (an earlier stack here) would miss the hooks
        if self.data_dir is not None:
            assert self.deployment is not None
            self.keeper, self.state_report = keep_state(self.data_dir, self.deployment, endpoint, REGION)

    def _configure_environment(self) -> None:
        assert self.deployment is not None
        overrides = {name: os.environ[name] for name in OVERRIDABLE if os.environ.get(name)}
        environment = self.deployment.environment()
        environment["TELEGRAM_API_BASE"] = f"{self.base_url}/_local/telegram"
        environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        environment["POWERTOOLS_METRICS_DISABLED"] = "true"
        environment["FEEDS_ALLOW_PRIVATE_NETWORKS"] = "true"  # feeds to try out run on this machine
        environment.update(overrides)
        environment.setdefault("TELEGRAM_BOT_TOKEN", os.environ.get("TELEGRAM_BOT_TOKEN") or LOCAL_BOT_TOKEN)
        environment.setdefault(
            "TELEGRAM_WEBHOOK_SECRET", os.environ.get("TELEGRAM_WEBHOOK_SECRET") or LOCAL_WEBHOOK_SECRET
        )
        environment.setdefault(
            "ADDRESS_HASH_KEY", os.environ.get("ADDRESS_HASH_KEY") or LOCAL_ADDRESS_HASH_KEY
        )
        os.environ.update(environment)

    def _create_bootstrap_key(self) -> None:
        from subcast.services.api_keys import ALL_SCOPES, create_api_key
        from subcast.services.dependencies import publishing_store

        kept = self.keeper.bootstrap_key() if self.keeper is not None else None
        self.bootstrap_key = os.environ.get("SUBCAST_BOOTSTRAP_API_KEY", "") or kept or ""
        if not self.bootstrap_key:
            self.bootstrap_key = f"sc_boot{secrets.token_hex(2)}_{secrets.token_urlsafe(32)}"
            self.bootstrap_generated = True
        if self.keeper is not None and (self.bootstrap_generated or self.bootstrap_key == kept):
            # so that the key printed today still works tomorrow (a key from the environment is yours)
            self.bootstrap_kept_in = self.keeper.keep_bootstrap_key(self.bootstrap_key)
        create_api_key(publishing_store(), "bootstrap", ALL_SCOPES, self.bootstrap_key)

    def _load_functions(self) -> None:
        assert self.deployment is not None
        for spec in functions():
            instances = load_instances(spec, self.deployment.physical[spec.logical_id], self.meter)
            self.instances[spec.logical_id] = instances
            self.functions[spec.logical_id] = instances[0]
            for route in spec.routes:
                self.routes.append((route_pattern(route.path), route))

    def match_route(self, method: str, path: str) -> tuple[ApiRoute, LocalFunction, dict[str, str]] | None:
        """The route API Gateway would pick: the path's own method before its ``any`` event."""
        for wanted in (method, "ANY"):
            for pattern, route in self.routes:
                found = pattern.match(path)
                if found and route.method == wanted:
                    return route, self.functions[route.function], found.groupdict()
        return None

    def clock_moved(self) -> None:
        for runner in self.schedules:
            runner.wake.set()
        if self.keeper is not None:
            self.keeper.changed()

    def health(self) -> dict[str, Any]:
        threads = {thread.name: thread.is_alive() for thread in [*self.pollers, *self.schedules]}
        ok = bool(threads) and all(threads.values()) and not self.stop_event.is_set()
        return {
            "ok": ok,
            "aws_endpoint": os.environ.get("AWS_ENDPOINT_URL"),
            "workers": threads,
            "functions": {
                name: {
                    "instances": len(instances),
                    "invocations": sum(f.invocations for f in instances),
                    "errors": sum(f.errors for f in instances),
                }
                for name, instances in self.instances.items()
            },
        }

    def telegram_stats(self) -> dict[str, Any]:
        """What the stack's own Bot API stand-in counted (it serves when TELEGRAM_API_BASE is its own)."""
        own = f"{self.base_url}/_local/telegram"
        return {
            "serving": os.environ.get("TELEGRAM_API_BASE") == own,
            "rate_limit_per_second": self.bot_api.rate_limit_per_second,
            "requests": self.bot_api.request_count,
            "sent": self.bot_api.sent_count,
            "throttled": self.bot_api.throttled_count,
        }

    def metering_report(self) -> dict[str, Any] | None:
        """The meter's counts, and the Bot API stand-in's since the same reset; None when metering is off."""
        if self.meter is None:
            return None
        telegram = self.telegram_stats()
        for name, baseline in self._telegram_baseline.items():
            telegram[name] -= baseline
        return {**self.meter.report(), "telegram": telegram}

    def reset_metering(self) -> bool:
        if self.meter is None:
            return False
        self.meter.reset()
        stats = self.telegram_stats()
        self._telegram_baseline = {name: stats[name] for name in ("requests", "sent", "throttled")}
        return True

    def sandbox_config(self) -> dict[str, Any]:
        return {
            "webhook_path": "/webhooks/telegram",
            "secret_token": os.environ["TELEGRAM_WEBHOOK_SECRET"],
            "bot_username": "subcast_bot",
            "bot_id": self._bot_id(),
            "bot_first_name": os.environ.get("BRAND_NAME", "subcast"),
            "telegram_sent_path": "/_local/telegram/sent",
        }

    def _bot_id(self) -> int:
        """The sandbox bot's user id, as the Bot API stand-in reports it (getMe)."""
        _, _, answer = self.bot_api.handle("POST", f"/bot{os.environ['TELEGRAM_BOT_TOKEN']}/getMe", b"", {})
        bot_id: int = json.loads(answer)["result"]["id"]
        return bot_id

    def stop(self) -> None:
        self.stop_event.set()
        for runner in self.schedules:
            runner.wake.set()
        self.gateway.shutdown()
        self.gateway.server_close()
        for thread in [*self.pollers, *self.schedules]:
            thread.join(timeout=5)
        if self.keeper is not None:
            self.keeper.close()  # the last snapshot: nothing polls or fires any more
        self.moto.stop()
