"""The dashboard and the alert rules query only metrics that netops really emits.

"Emitted" is read from the code that emits them, never from a list kept here: every
first-party package is parsed (AST) for the metric families it constructs
(``GaugeMetricFamily("netops_...")``, ``CounterMetricFamily``, prometheus_client's
``Gauge``/``Counter``/...). "Referenced" is read from the shipped rule and dashboard files.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from report.grafana import render
from tests.support.procs import free_port, stop_pid, wait_for_tcp
from tests.test_deploy import _tool

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "netops-city.json"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "netops-alerts.yml"

#: series Prometheus makes itself (scrape health, alert state), not an exporter
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE"}
#: code that may emit metrics: every package, but of ``report`` only its collector (the rest
#: of it queries metrics and would count its own queries as emitted)
EMITTERS = sorted(
    [p for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("report", "tests")]
    + [ROOT / "report" / "collector.py"]
)
#: netops' own series carry ``netops_``; what devices report is named by its MIB area (docs/metrics.md)
NAME = re.compile(r"(?:netops|if|optic|wifi|lldp|sys)_[a-z0-9_]+")
#: PromQL that names labels, not metrics: matchers, grouping and matching clauses
LABEL_CONTEXT = re.compile(r"\{[^}]*\}|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")

_FAMILY_CALLS = {"Gauge", "Counter", "Histogram", "Summary", "Info", "Enum"}
_SUFFIXES = {
    "Counter": ("_total", "_created"), "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("_sum", "_count", "_created"), "Info": ("_info",),
}


def _family_kind(call: ast.Call) -> str | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if not name:
        return None
    if name.endswith("MetricFamily"):
        return name.removesuffix("MetricFamily") or "Gauge"  # GaugeMetricFamily -> Gauge
    return name if name in _FAMILY_CALLS else None


def emitted_metric_names(packages: list[Path] = EMITTERS) -> set[str]:
    """Every sample name the code in ``packages`` (directories or files) can expose: string
    constants that are a whole metric name (the exporter's metric tables and ``Family``
    calls), plus the suffixes prometheus_client adds to counters and histograms."""
    names: set[str] = set()
    for package in packages:
        for source in [package] if package.is_file() else package.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text("utf-8"), str(source))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.fullmatch(node.value):
                    names.add(node.value)
                if not isinstance(node, ast.Call) or (kind := _family_kind(node)) is None:
                    continue
                args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg == "name"]
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and NAME.fullmatch(arg.value):
                        base = arg.value.removesuffix("_total") if kind == "Counter" else arg.value
                        names.add(base)
                        names.update(base + suffix for suffix in _SUFFIXES.get(kind, ()))
    return names


def _dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text("utf-8"))
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in board["templating"]["list"] if v["type"] == "query"]
    return exprs


def _rule_exprs() -> list[str]:
    # an alert's expression ends at its next key, a recording rule's at the next rule
    return re.findall(r"expr: \|?\n?((?:.+\n)+?)\s+(?:for:|labels:|keep_firing_for:|- alert:|- record:)",
                      RULES.read_text("utf-8"))


def referenced_metric_names() -> set[str]:
    names = set()
    for expr in _dashboard_exprs() + _rule_exprs():
        expr = LABEL_CONTEXT.sub("", re.sub(r'"[^"]*"', '""', expr))  # nor are label values and names
        names |= {n for n in re.findall(rf"\b({NAME.pattern}|up|ALERTS)\b", expr)}
    return names


def test_the_shipped_dashboard_is_the_generated_one():
    assert DASHBOARD.read_text("utf-8") == render(), "run `python -m report.grafana deploy/grafana/netops-city.json`"
    board = json.loads(DASHBOARD.read_text("utf-8"))
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in board["panels"])
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "Site drill-down ($site)", "Optics", "WiFi clients by zone"]


def test_references_are_read_from_both_files():
    names = referenced_metric_names()
    rule_names = {n for e in _rule_exprs() for n in NAME.findall(LABEL_CONTEXT.sub("", e))}
    # every rule's expression is found (counted by another way than the regex under test)
    assert len(_rule_exprs()) == len(re.findall(r"^\s*- (?:alert|record):", RULES.read_text("utf-8"), re.M)) > 0
    assert {"if_admin_status", "optic_rx_power_dbm", "netops_site_trench_disjoint_paths",
            "netops_config_state_readable", "netops_snmp_module_up"} <= rule_names
    assert {"wifi_ap_clients", "if_in_bytes_total", "sys_uptime_seconds", "up"} <= names
    assert not names & {"if_name", "if_index", "sys_name"}  # label names are not taken for metrics


def test_the_emitter_scan_understands_collectors(tmp_path):
    """The AST scan recognises the ways a collector names its families."""
    package = tmp_path / "fakeexp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "collector.py").write_text(
        "from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily\n"
        "def collect():\n"
        "    yield GaugeMetricFamily('netops_device_uptime_seconds', 'up', labels=['device'])\n"
        "    yield CounterMetricFamily(name='netops_interface_in_octets_total', documentation='in')\n"
        "    yield GaugeMetricFamily('other_metric', 'not ours')\n"
        "TABLE = [('1.3.6.1.2.1.2.2.1.8', 'netops_if_oper_status', 'gauge')]\n"
        "HELP = 'netops_if_oper_status is not a name in this sentence'\n"
    )
    names = emitted_metric_names([package])
    assert {"netops_device_uptime_seconds", "netops_interface_in_octets_total"} <= names
    assert "other_metric" not in names and "netops_interface_in_octets" in names
    assert "netops_if_oper_status" in names  # from a metric table
    assert not any(" " in n for n in names)


def test_dashboard_and_rules_only_use_metrics_netops_emits():
    emitted = emitted_metric_names()
    if not emitted:
        pytest.skip(f"no first-party package ({', '.join(p.name for p in EMITTERS)}) emits netops_ metrics yet")
    missing = sorted(referenced_metric_names() - emitted - PROMETHEUS_OWN)
    assert missing == [], f"queried but never emitted: {missing}; emitted: {sorted(emitted)}"


@pytest.mark.slow
def test_every_dashboard_query_parses_in_prometheus(tmp_path):
    prometheus = _tool("prometheus")
    conf = tmp_path / "prometheus.yml"
    conf.write_text("global:\n  scrape_interval: 1h\n")
    port = free_port()
    proc = subprocess.Popen([prometheus, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}",
                             f"--storage.tsdb.path={tmp_path / 'data'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    errors = []
    try:
        wait_for_tcp(port, timeout=60, proc=proc)
        for expr in _dashboard_exprs():
            concrete = expr.replace("$district", ".*").replace("$site_kind", ".*").replace("$site", ".*")
            if concrete.startswith("label_values("):
                concrete = re.match(r"label_values\((.*), \w+\)$", concrete)[1]
            errors += [f"{expr}: {problem}" for problem in _query_problems(port, concrete)]
    finally:
        stop_pid(proc)
    assert errors == []


def _query_problems(port: int, expr: str) -> list[str]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return [] if json.load(response)["status"] == "success" else ["failed"]
        except urllib.error.HTTPError as exc:
            if exc.code == 503:  # still starting
                time.sleep(0.2)
                continue
            return [json.load(exc).get("error", str(exc))]
    return ["Prometheus never became ready"]
