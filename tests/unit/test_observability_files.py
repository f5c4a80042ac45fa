"""The Grafana dashboard and the Prometheus files in `deploy/`: well formed, and every metric they
use is one the hub exposes, so a renamed metric cannot leave a panel or an alert silently empty.

With `promtool` (Debian's `prometheus` package, installed by scripts/bootstrap) the rules and
the configuration are also checked by Prometheus itself, and `alerts_test.yml` is run: the
alerts fire on the series they are written for.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.web.metrics import exposed_names, new_registry, render, service_metrics, worker_metrics
from hub.webhooks.metrics import IntakeMetrics
from streams.metrics import GroupFigures
from tests.unit.test_service_metrics import worker_facts

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "aftersales-hub.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
METRIC_NAME = re.compile(r"\b(?:hub|process|python)_[a-z0-9_]+\b")


def hub_exposition_names() -> set[str]:
    """Every name a worker and the intake expose (families without samples included)."""
    worker = new_registry(lambda: [*worker_metrics(worker_facts()),
                                   *service_metrics([GroupFigures("DE", "shopify", "damaged")])])
    names = exposed_names(render(worker).decode())
    names |= exposed_names(IntakeMetrics(["shopify"]).render().decode())
    return names


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"]
            for target in panel.get("targets", [])]


def test_every_metric_of_the_dashboard_and_the_alerts_is_exposed() -> None:
    exposed = hub_exposition_names()
    expressions = dashboard_expressions() + [rule["expr"] for rule in alert_rules()]
    used = {name for expression in expressions for name in METRIC_NAME.findall(expression)}

    assert len(used) > 25  # the pattern finds the names (a broken pattern would find none)
    assert used - exposed == set()


def test_the_dashboard_is_a_grafana_dashboard_of_prometheus_panels() -> None:
    board = dashboard()
    panels = board["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    assert board["uid"] == "aftersales-hub"
    variables = {variable["name"] for variable in board["templating"]["list"]}
    for panel in panels:
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys()
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["refId"] and target["expr"].strip()
            assert set(re.findall(r"\$(\w+)", target["expr"])) <= variables


def test_every_alert_has_a_severity_and_words_for_the_operator() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    assert {"HubPartitionStalled", "HubConsumerLagHigh", "HubDeadLetters",
            "HubSlaBreaches"} <= set(names)
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s"))


def test_prometheus_scrapes_the_workers_and_the_intake_with_these_rules() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["aftersales-hub-worker"]["dns_sd_configs"][0]["port"] == 6066
    assert jobs["aftersales-hub-intake"]["static_configs"][0]["targets"] == ["ingest:8080"]
    # The dashboard's job variables name these jobs.
    constants = {v["name"]: v["query"] for v in dashboard()["templating"]["list"]
                 if v["type"] == "constant"}
    assert set(constants.values()) == set(jobs)


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian: prometheus)")
@pytest.mark.parametrize("arguments", [
    pytest.param(["check", "rules", "alerts.yml"], id="check-rules"),
    pytest.param(["check", "config", "prometheus.yml"], id="check-config"),
    pytest.param(["test", "rules", "alerts_test.yml"], id="alerts-fire"),
])
def test_promtool_accepts_the_files(arguments: list[str]) -> None:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *arguments], cwd=ALERTS.parent, capture_output=True,  # noqa: S603
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
