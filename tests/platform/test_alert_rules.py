"""deploy/prometheus/ rules and deploy/grafana/aurum.json name only metrics Aurum serves (promtool is not
on PyPI: the PromQL is parsed here far enough to find the metric names), and the alerts issue 14 asks for
exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from django.apps import apps
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import REPO

RULES = REPO / "deploy/prometheus/aurum-rules.yaml"
DASHBOARD = REPO / "deploy/grafana/aurum.json"

# Gauges an app registers in its AppConfig.ready(): served once that app is installed (the webhooks app is
# written in parallel to this work); until then the rules may name them.
REGISTERED_BY_APPS = {"aurum_webhook_backlog": "apps.webhooks"}

PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "clamp_min",
    "clamp_max", "by", "without", "and", "or", "unless", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "abs", "absent", "time", "vector", "scalar", "topk", "bottomk",
}  # fmt: skip
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
}


def metric_names(expr: str) -> set[str]:
    """The metric (and recording rule) names a PromQL expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    tokens = re.findall(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text)
    return {token for token in tokens if token not in PROMQL_WORDS and not re.fullmatch(r"e\d+", token)}


def served(text: str) -> set[str]:
    """Every sample name /metrics can show: the samples there now, and each family's names by its type (a
    labelled family nothing has counted yet shows only its HELP and TYPE)."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def _rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    return [
        target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]
    ]


@pytest.fixture
def metrics_text(world, api) -> str:
    api.get("/health/live")  # one request, so the HTTP families have samples too
    response = api.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _unknown(exprs: list[str], metrics_text: str, records: set[str]) -> dict[str, set[str]]:
    available = served(metrics_text) | records
    allowed = {name for name, app in REGISTERED_BY_APPS.items() if not apps.is_installed(app)}
    return {expr: missing for expr in exprs if (missing := metric_names(expr) - available - allowed)}


def test_every_metric_the_rules_name_is_served(metrics_text):
    records = {rule["record"] for rule in _rules() if "record" in rule}

    assert _unknown([rule["expr"] for rule in _rules()], metrics_text, records) == {}


def test_every_metric_the_dashboard_queries_is_served(metrics_text):
    records = {rule["record"] for rule in _rules() if "record" in rule}

    assert _unknown(_dashboard_exprs(), metrics_text, records) == {}


def test_the_alerts_cover_queues_backlogs_lateness_readiness_errors_and_latency():
    alerts = {rule["alert"]: rule for rule in _rules() if "alert" in rule}

    assert set(alerts) >= {
        "AurumQueueDepthHigh",
        "AurumWebhookBacklog",
        "AurumDatasetLate",
        "AurumReadinessFailing",
        "AurumHigh5xxRate",
        "AurumOutboxBacklog",
        "AurumHighLatencyP95",
    }
    assert all({"summary", "description"} <= set(rule["annotations"]) for rule in alerts.values())
    assert all(rule["labels"]["severity"] in {"warning", "critical"} for rule in alerts.values())


def test_the_name_finder_finds_metrics_and_nothing_else():
    expr = (
        'histogram_quantile(0.95, sum by (le, view) (rate(a_bucket{status=~"5.."}[5m])))'
        " / clamp_min(b:c, 1e-9)"
    )

    assert metric_names(expr) == {"a_bucket", "b:c"}
