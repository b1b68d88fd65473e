"""The compose stack cannot run on the development machine (no Docker engine), so what can be
checked without one is: every command parses with our CLI, every subgraph is served and
routed, and start-up order waits for readiness instead of for a container merely starting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gateway.cli import app
from gateway.stack import COMPOSE_FILE, render
from gateway.subgraphs import SUBGRAPHS

STACK = yaml.safe_load((Path(__file__).parents[2] / "docker" / "compose.yaml").read_text())
SERVICES: dict[str, Any] = STACK["services"]
PYTHON = {
    name: service for name, service in SERVICES.items() if service.get("command", [""])[0] == "spotify-agent"
}


@pytest.mark.parametrize("name", sorted(PYTHON))
def test_every_command_parses(name: str) -> None:
    arguments = PYTHON[name]["command"][1:]
    outcome = CliRunner().invoke(app, [*arguments, "--help"])
    assert outcome.exit_code == 0, outcome.output


def test_every_subgraph_is_served_and_routed() -> None:
    served = {
        service["command"][service["command"].index("--subgraph") + 1]
        for service in PYTHON.values()
        if "--subgraph" in service["command"]
    }
    assert served == set(SUBGRAPHS)
    routes = PYTHON["accounts"]["environment"]["SUBGRAPH_URLS"].replace(" ", "").split(",")
    assert {route.split("=", 1)[0] for route in routes} == set(SUBGRAPHS)
    for route in routes:
        name, url = route.split("=", 1)
        assert url == f"http://{name}:4001/graphql"


def test_the_generated_parts_are_current() -> None:
    text = COMPOSE_FILE.read_text()
    assert render(text) == text, "docker/compose.yaml is stale: run `spotify-agent stack`"
    outcome = CliRunner().invoke(app, ["stack", "--check"])
    assert outcome.exit_code == 0, outcome.output


def test_a_new_subgraph_gets_a_service_a_route_and_a_wait() -> None:
    stack = yaml.safe_load(render(COMPOSE_FILE.read_text(), [*SUBGRAPHS, "search"]))
    assert stack["services"]["search"]["command"] == [
        "spotify-agent",
        "serve",
        "--subgraph",
        "search",
        "--port",
        "4001",
    ]
    assert "search=http://search:4001/graphql" in stack["services"]["search"]["environment"]["SUBGRAPH_URLS"]
    assert stack["services"]["publish"]["depends_on"]["search"] == {"condition": "service_healthy"}


def test_start_up_waits_for_readiness() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            condition = rule["condition"]
            target = SERVICES[dependency]
            if condition == "service_healthy":
                assert not target.get("healthcheck", {}).get("disable"), (name, dependency)
                assert target["healthcheck"]["test"], (name, dependency)
            else:
                assert condition == "service_completed_successfully", (name, dependency)
                assert target.get("healthcheck", {}).get("disable"), f"{dependency} is a one-shot"
    assert "migrate" in SERVICES["registry"]["depends_on"]  # the registry's own upgrade is then a no-op


ROUTER_METRICS = {
    "graphql_envelop_request_duration",
    "graphql_envelop_error_result",
    "graphql_gateway_subgraph_execute_duration",
    "graphql_gateway_subgraph_execute_errors",
}
"""What gateway/router/gateway.config.mjs turns on (tests/router/test_router_metrics.py scrapes them)."""


def _metric_names() -> set[str]:
    from prometheus_client import REGISTRY

    import shared.metrics as metrics

    names = {family.name for family in REGISTRY.collect()} | set(metrics._HELP) | ROUTER_METRICS
    expanded = set(names)
    for name in names:
        expanded |= {f"{name}_total", f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return expanded


def test_traces_and_metrics_have_somewhere_to_go() -> None:
    collector = yaml.safe_load(STACK["configs"]["otel_collector"]["content"])
    assert collector["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    assert "4318" in collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    for name in [*PYTHON, "router"]:
        environment = {**SERVICES[name].get("environment", {})}
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318", name
        assert environment["OTEL_TRACES_EXPORTER"] == "otlp", name
    prometheus = yaml.safe_load(STACK["configs"]["prometheus"]["content"])
    targets = {
        target
        for job in prometheus["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    }
    assert targets == {"router:4000", "worker:4003", "registry:4002", *(f"{name}:4001" for name in SUBGRAPHS)}


def test_every_dashboard_query_names_a_metric_we_export() -> None:
    import json
    import re

    dashboard = json.loads(
        (Path(__file__).parents[2] / "docker" / "grafana" / "platform-dashboard.json").read_text()
    )
    known = _metric_names()
    functions = {"sum", "rate", "max", "histogram_quantile", "by", "le"}
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", target["expr"])
            used = set(re.findall(r"[a-z_][a-z0-9_]*", expr)) - functions
            used = {name for name in used if "_" in name and not name.startswith(("subgraph", "loader"))}
            assert used and used <= known, (panel["title"], used - known)
