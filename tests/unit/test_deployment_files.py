"""The deployment: docker-compose.yml as a compose implementation resolves it, the proxy's routes
as Caddy adapts them, and `.env.example` against the hub's settings (no container engine here:
`config` and `adapt` are the bar)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_origin
from urllib.parse import urlsplit

import pytest
import yaml
from aiohttp import web

from connectors.registry import CONNECTORS
from hub.webhooks.app import create_intake_app, http_sources
from schemas.settings import Settings, load_settings
from tests.support.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    filled_env_file,
    read_env_example,
    resolved_model,
    run_compose,
)
from translations.regions import load_regions

BROKERS = ("kafka-1", "kafka-2", "kafka-3")
HUB_ROLES = ("topics", "worker", "ingest")
SCALABLE = ("worker", "ingest")
OPERATOR_TOKENS = '["operator-token"]'


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env_file = filled_env_file(
        tmp_path_factory.mktemp("compose"),
        HUB_OPERATOR_TOKENS=OPERATOR_TOKENS,
        HUB_WEBHOOK_SECRETS__SHOPIFY='["shopify-secret"]',
        HUB_FEED_TOKENS__DE='["team-de"]',
    )
    return resolved_model(env_file)


@pytest.fixture(scope="module")
def services(model: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = model["services"]
    return found


def raw_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    """What the container gets: compose leaves a variable passed by name out when it is unset."""
    return {name: str(value) for name, value in service["environment"].items() if value is not None}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def ports(service: dict[str, Any]) -> set[tuple[str, int, int]]:
    """(host address, published, target) of every published port, in either syntax compose
    writes (v1 keeps `host:published:target/proto` strings, v2 writes mappings)."""
    found = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published, target = int(port["published"]), int(port["target"])
            found.add((port.get("host_ip", ""), published, target))
        else:
            *host, published, target = str(port).split("/")[0].split(":")
            found.add(("".join(host), int(published), int(target)))
    return found


def probe_url(service: dict[str, Any]) -> str:
    (url,) = [part for part in service["healthcheck"]["test"] if part.startswith("http://")]
    return url


# --- the compose implementation accepts it -----------------------------------------------------


def test_compose_validates_the_project_with_the_example_settings_filled_in(
    tmp_path: Path,
) -> None:
    result = run_compose(filled_env_file(tmp_path), "config", "--quiet")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", read_env_example().required)
def test_compose_refuses_to_start_without_a_required_value(tmp_path: Path, variable: str) -> None:
    env_file = filled_env_file(tmp_path)
    env_file.write_text(
        "".join(line + "\n" for line in env_file.read_text().splitlines()
                if not line.startswith(f"{variable}="))
    )
    result = run_compose(env_file, "config", "--quiet")
    assert result.returncode != 0
    assert variable in result.stderr


# --- Kafka: three KRaft nodes, RF 3, min.insync 2 -----------------------------------------------


def test_three_kraft_nodes_replicate_three_times_and_acknowledge_two(
    services: dict[str, Any],
) -> None:
    assert sorted(name for name in services if name.startswith("kafka")) == list(BROKERS)
    voters = set()
    for name in BROKERS:
        node = services[name]
        env = environment(node)
        assert node["image"].startswith("apache/kafka:")
        assert node["hostname"] == name
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert len(env["KAFKA_CLUSTER_ID"]) == 22  # base64 of a 16-byte UUID
        voters.add(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        assert f"{env['KAFKA_NODE_ID']}@{name}:9093" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert len(voters) == 1 and next(iter(voters)).count("@") == 3
    assert len({environment(services[name])["KAFKA_CLUSTER_ID"] for name in BROKERS}) == 1


def test_every_broker_keeps_its_log_in_its_own_volume(services: dict[str, Any]) -> None:
    volumes = set()
    for name in BROKERS:
        node = services[name]
        (mount,) = node["volumes"]
        source, target = mount.split(":")[:2]
        assert environment(node)["KAFKA_LOG_DIRS"] == target  # else the log is outside it
        volumes.add(source)
    assert len(volumes) == 3


# --- the hub roles -----------------------------------------------------------------------------


def test_the_topics_job_runs_once_after_the_brokers_and_before_every_hub_role(
    services: dict[str, Any],
) -> None:
    topics = services["topics"]
    assert topics["command"] == ["topics", "apply"]
    assert topics["restart"] == "no"
    assert depends_on(topics) == dict.fromkeys(BROKERS, "service_healthy")
    for role in SCALABLE:
        assert depends_on(services[role])["topics"] == "service_completed_successfully"


def test_every_hub_role_runs_the_image_built_here(services: dict[str, Any]) -> None:
    images = {services[role]["image"] for role in HUB_ROLES}
    assert len(images) == 1
    for role in HUB_ROLES:
        assert Path(services[role]["build"]["context"]) == ROOT
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["hub"]' in dockerfile and 'CMD ["worker"]' in dockerfile
    for package in ("hub", "streams", "connectors", "schemas", "translations"):
        assert f"COPY {package} {package}" in dockerfile
    assert services["worker"]["command"] == ["worker"]
    assert services["ingest"]["command"][0] == "ingest"


def test_scalable_roles_have_no_fixed_name_or_published_port(services: dict[str, Any]) -> None:
    for role in SCALABLE:
        service = services[role]
        assert "container_name" not in service and "hostname" not in service
        assert "ports" not in service  # a published port would stop --scale
    # One anonymous volume per worker container: every worker keeps its own RocksDB state.
    (state,) = services["worker"]["volumes"]
    assert ":" not in state
    assert state == "/var/lib/aftersales-hub"
    assert "HUB_STATE_DIR=/var/lib/aftersales-hub" in (ROOT / "Dockerfile").read_text()


def test_every_hub_role_reaches_all_brokers_with_one_topic_layout(
    services: dict[str, Any],
) -> None:
    layouts = set()
    for role in HUB_ROLES:
        settings = Settings(**settings_kwargs(environment(services[role])))
        hosts = {address.split(":")[0] for address in settings.bootstrap_servers.split(",")}
        assert hosts == set(BROKERS)
        layouts.add((settings.partitions, settings.replication_factor, settings.app_id,
                     settings.topic_prefix))
    ((partitions, replication, _, _),) = layouts
    assert replication == len(BROKERS)
    assert partitions == 12


def test_the_hub_roles_start_on_the_settings_compose_gives_them(services: dict[str, Any]) -> None:
    for role in HUB_ROLES:
        load_settings(**settings_kwargs(environment(services[role])))
    worker = Settings(**settings_kwargs(environment(services["worker"])))
    assert worker.stream_ticket_secret is not None  # shared by every worker behind the proxy
    assert [t.get_secret_value() for t in worker.operator_tokens] == json.loads(OPERATOR_TOKENS)
    assert worker.web_host == "0.0.0.0"  # noqa: S104  # the proxy and Prometheus reach it


def test_the_intake_gets_the_secrets_the_operator_sets_and_nothing_of_the_workers(
    services: dict[str, Any],
) -> None:
    intake_env = environment(services["ingest"])
    settings = Settings(**settings_kwargs(intake_env))
    assert {s: [v.get_secret_value() for v in vs] for s, vs in settings.webhook_secrets.items()} \
        == {"shopify": ["shopify-secret"]}
    create_intake_app(settings, _never_sends)  # the secrets name sources it serves
    raw = raw_compose()["services"]
    for source in http_sources(CONNECTORS):
        assert f"HUB_WEBHOOK_SECRETS__{source.upper()}" in raw["ingest"]["environment"]
    for code in load_regions().codes:
        assert f"HUB_FEED_TOKENS__{code}" in raw["worker"]["environment"]
    workers_only = ("HUB_FEED_TOKENS__", "HUB_OPERATOR_TOKENS", "HUB_STREAM_TICKET_SECRET")
    for role in ("topics", "ingest"):
        assert not [name for name in environment(services[role]) if name.startswith(workers_only)]
    for role in ("topics", "worker"):
        assert not [name for name in raw[role]["environment"]
                    if name.startswith(("HUB_WEBHOOK_", "HUB_MERCADOLIBRE_"))]


def test_every_hub_variable_compose_passes_is_a_setting() -> None:
    # A misspelt name would be passed and ignored without a word.
    fields = Settings.model_fields
    for role in HUB_ROLES:
        for name in raw_compose()["services"][role]["environment"]:
            field, _, key = name.removeprefix("HUB_").lower().partition("__")
            assert name.startswith("HUB_") and field in fields, name
            assert not key or get_origin(fields[field].annotation) is dict, name


# --- health ------------------------------------------------------------------------------------


def test_the_worker_is_ready_before_the_proxy_opens_and_live_in_the_image(
    services: dict[str, Any],
) -> None:
    worker = services["worker"]
    url = urlsplit(probe_url(worker))
    assert url.path == "/readyz"
    assert url.port == int(environment(worker)["HUB_WEB_PORT"])
    assert depends_on(services["proxy"])["worker"] == "service_healthy"
    healthcheck = [line for line in (ROOT / "Dockerfile").read_text().splitlines()
                   if "urlopen(" in line]
    assert len(healthcheck) == 1 and "127.0.0.1:6066/livez" in healthcheck[0]


def test_the_intake_probe_asks_a_route_the_intake_serves(services: dict[str, Any]) -> None:
    intake = services["ingest"]
    url = urlsplit(probe_url(intake))
    command = intake["command"]
    assert url.port == int(command[command.index("--port") + 1])
    app = create_intake_app(load_settings(), _never_sends)
    assert url.path in {_path(route) for route in app.router.routes() if route.method == "GET"}
    assert depends_on(services["proxy"])["ingest"] == "service_healthy"


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name == "topics":  # a one-shot job; compose v1 writes `disable` as test NONE
            check = service["healthcheck"]
            assert check.get("disable") is True or check["test"] == ["NONE"]
            continue
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


# --- the proxy: one port, routed per path ------------------------------------------------------


def test_only_the_proxy_publishes_and_prometheus_only_on_the_host_loopback(
    services: dict[str, Any],
) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy", "prometheus"}
    assert {host for host, _, _ in ports(services["prometheus"])} == {"127.0.0.1"}
    proxy = services["proxy"]
    assert {(host, target) for host, _, target in ports(proxy)} == {("", 80), ("", 443)}
    assert f"{ROOT}/deploy/proxy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]


@pytest.mark.parametrize(
    ("path", "destination"),
    [
        ("/webhooks/shopify", "ingest:8080"),
        ("/webhooks/17track", "ingest:8080"),
        ("/console", "worker:6066"),
        ("/console/app.js", "worker:6066"),
        ("/feeds", "worker:6066"),
        ("/feeds/DE", "worker:6066"),
        ("/feeds/DE/stream", "worker:6066"),
        ("/feeds/DE/ticket", "worker:6066"),
        ("/cases", "worker:6066"),
        ("/cases/case-1", "worker:6066"),
        ("/shipments/1Z999", "worker:6066"),
        ("/grafana/", "grafana:3000"),
        ("/grafana/d/aftersales-hub", "grafana:3000"),
        ("/grafana", "redirect /grafana/"),
        ("/", "redirect /console"),
        ("/metrics", "404"),
        ("/metrics.json", "404"),
        ("/dashboard", "404"),
        ("/livez", "404"),
        ("/readyz", "404"),
        ("/healthz", "404"),
    ],
)
def test_the_proxy_routes_each_path(path: str, destination: str, services: dict[str, Any]) -> None:
    assert route(caddy_routes(), path) == destination
    if ":" in destination:
        host, port = destination.split(":")
        assert host in services
        expected = {"worker": environment(services["worker"]).get("HUB_WEB_PORT"),
                    "ingest": services["ingest"]["command"][-1], "grafana": "3000"}[host]
        assert port == expected


# --- Prometheus and Grafana --------------------------------------------------------------------


def test_prometheus_reads_its_configuration_and_rules_from_deploy(
    services: dict[str, Any],
) -> None:
    prometheus = services["prometheus"]
    assert f"{ROOT}/deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    # The rules file is referenced from prometheus.yml, next to it in the same mount.
    assert urlsplit(probe_url(prometheus)).path == "/-/ready"


def test_grafana_provisions_prometheus_and_the_hub_dashboard_from_deploy(
    services: dict[str, Any],
) -> None:
    grafana = services["grafana"]
    mount = f"{ROOT}/deploy/grafana:/etc/grafana/aftersales-hub:ro"
    assert mount in grafana["volumes"]
    env = environment(grafana)
    assert env["GF_PATHS_PROVISIONING"] == "/etc/grafana/aftersales-hub/provisioning"
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"]
    assert urlsplit(source["url"]).hostname == "prometheus"
    assert urlsplit(source["url"]).port == 9090
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "aftersales-hub.yml").read_text())[
        "providers"]
    assert provider["options"]["path"] == "/etc/grafana/aftersales-hub"  # holds the dashboard
    assert env["GF_SERVER_ROOT_URL"].endswith("/grafana/")
    assert env["GF_SERVER_SERVE_FROM_SUB_PATH"] == "true"  # the proxy does not strip /grafana
    assert urlsplit(probe_url(grafana)).path.startswith("/grafana/")
    assert depends_on(services["proxy"])["grafana"] == "service_healthy"


# --- .env.example and the hub's settings -------------------------------------------------------


def test_every_variable_compose_reads_is_in_the_env_example() -> None:
    text = "\n".join(line for line in COMPOSE_FILE.read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    passed_by_name = {
        name
        for service in raw_compose()["services"].values()
        if isinstance(service.get("environment"), dict)
        for name, value in service["environment"].items()
        if value is None
    }
    assert interpolated and passed_by_name
    missing = (interpolated | passed_by_name) - read_env_example().names
    assert not missing


def test_every_setting_is_in_the_env_example_or_documented_as_not_set_there() -> None:
    example = read_env_example()
    nested = {name.split("__")[0] for name in example.names if "__" in name}
    for name in (f"HUB_{field.upper()}" for field in Settings.model_fields):
        assert name in example.names | nested | example.documented, name
    assert example.documented <= {f"HUB_{field.upper()}" for field in Settings.model_fields}
    # What .env.example says compose sets, compose (or the image) does set.
    fixed = {
        name
        for role in HUB_ROLES
        for name, value in raw_compose()["services"][role]["environment"].items()
        if value is not None and "${" not in str(value)
    } | {"HUB_STATE_DIR"}
    said_fixed = _section(ENV_EXAMPLE.read_text(), "Set by docker-compose.yml")
    assert said_fixed == fixed


def test_the_env_example_shows_the_hub_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    shown = {name: value for name, value in read_env_example().commented.items()
             if name.startswith("HUB_") and "<" not in value and name != "HUB_PARTITIONS"}
    assert len(shown) > 20
    for name, value in shown.items():
        monkeypatch.setenv(name, value)
        field = name.removeprefix("HUB_").lower()
        assert getattr(load_settings(), field) == getattr(defaults, field), name
        monkeypatch.delenv(name)


def test_the_env_example_sets_no_secret() -> None:
    example = read_env_example()
    assert example.required == ["GRAFANA_ADMIN_PASSWORD", "HUB_OPERATOR_TOKENS",
                                "HUB_STREAM_TICKET_SECRET"]
    assert set(example.values) == set(example.required)  # everything else is commented out


# --- helpers -----------------------------------------------------------------------------------


async def _never_sends(
    topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    raise AssertionError("nothing is sent while the intake is configured")


def settings_kwargs(env: dict[str, str]) -> dict[str, Any]:
    """A role's environment as Settings arguments, decoded as pydantic-settings decodes it."""
    kwargs: dict[str, Any] = {}
    for name, value in env.items():
        field, _, key = name.removeprefix("HUB_").lower().partition("__")
        annotation = str(Settings.model_fields[field].annotation)
        decoded = json.loads(value) if ("list" in annotation or "dict" in annotation) else value
        if key:
            kwargs.setdefault(field, {})[key] = decoded
        else:
            kwargs[field] = decoded
    return kwargs


def _path(route: web.AbstractRoute) -> str:
    info = route.resource.get_info() if route.resource else {}
    return str(info.get("path", info.get("formatter", "")))


def _section(text: str, heading: str) -> set[str]:
    lines = text.split(heading, 1)[1].splitlines()[1:]
    names = set()
    for line in lines:
        if not line.startswith("# - "):
            break
        names.add(line.removeprefix("# - ").split(":")[0])
    return names


def caddy_routes() -> list[dict[str, Any]]:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed: the proxy cannot be checked; run scripts/bootstrap")
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(ROOT / "deploy/proxy/Caddyfile"), "--adapter",
         "caddyfile"],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}, timeout=60,
    )
    servers = json.loads(adapted.stdout)["apps"]["http"]["servers"]
    (server,) = servers.values()
    routes: list[dict[str, Any]] = server["routes"]
    return routes


def route(routes: list[dict[str, Any]], path: str) -> str:
    """Where Caddy's first matching route sends `path`: `host:port`, `redirect X` or a status."""
    for candidate in routes:
        if all(_path_matches(path, m.get("path", [])) for m in candidate.get("match", [{}])):
            return _destination(candidate["handle"])
    return "no route"


def _path_matches(path: str, patterns: list[str]) -> bool:
    # Caddy's path matcher: exact, or a prefix when the pattern ends in `*`; no patterns: any.
    return not patterns or any(
        path.startswith(p[:-1]) if p.endswith("*") else path == p for p in patterns
    )


def _destination(handlers: list[dict[str, Any]]) -> str:
    for handler in handlers:
        if handler["handler"] == "subroute":
            return route(handler["routes"], "")
        if handler["handler"] == "static_response":
            location = handler.get("headers", {}).get("Location")
            return f"redirect {location[0]}" if location else str(handler.get("status_code"))
        if handler["handler"] == "reverse_proxy":
            if "dynamic_upstreams" in handler:
                dynamic = handler["dynamic_upstreams"]
                assert dynamic["source"] == "a"  # every replica, found by DNS
                return f"{dynamic['name']}:{dynamic['port']}"
            (upstream,) = handler["upstreams"]
            return str(upstream["dial"])
    raise AssertionError(f"no destination in {handlers}")
