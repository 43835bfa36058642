"""The shipped Prometheus / Alertmanager files: linted and unit-tested with the real tools,
and the example's hashmod sharding checked on two real Prometheus servers."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from exporters.sd import sd_groups
from inventory.seed import generate, seed
from netops import db as dbmod
from netops.db import session_scope
from tests.support.procs import find_binary, free_port, stop_pid, wait_for_tcp

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "prometheus" / "rules"
RULE_TESTS = DEPLOY / "prometheus" / "tests"


def _tool(name: str, *globs: str) -> str:
    path = find_binary(name, *globs)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} missing in CI: `make test` should have installed it")
        pytest.skip(f"{name} not installed (run `make test`)")
    return path


def _rules_in_files() -> int:
    """Alerting and recording rules written in the rule files (what promtool and Prometheus must both find)."""
    return sum(1 for path in RULES.glob("*.yml") for line in path.read_text().splitlines()
               if line.lstrip().startswith(("- alert:", "- record:")))


def _run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def test_alert_rules_pass_promtool_check_and_unit_tests():
    """The rules directory holds rule files only, so the globs operators write load it whole."""
    promtool = _tool("promtool")
    assert sorted(p.name for p in RULES.iterdir()) == ["netops-alerts.yml"]
    assert _rules_in_files() >= 14
    assert f"SUCCESS: {_rules_in_files()} rules found" in _run(promtool, "check", "rules", *map(str, sorted(RULES.glob("*.yml"))))
    tests = sorted(p.name for p in RULE_TESTS.glob("*.test.yml"))
    assert tests == ["netops-alerts-week.test.yml", "netops-alerts.test.yml"]
    assert "SUCCESS" in _run(promtool, "test", "rules", *tests, cwd=RULE_TESTS)


def test_prometheus_loads_the_rules_directory_by_glob(tmp_path):
    """The example's `rule_files: rules/*.yml` loads in a real Prometheus: every rule group
    of the shipped directory, and nothing that is not a rule file."""
    prometheus = _tool("prometheus")
    (tmp_path / "rules").symlink_to(RULES)
    (tmp_path / "prometheus.yml").write_text("global: {evaluation_interval: 1s}\nrule_files: [rules/*.yml]\n")
    port = free_port()
    proc = subprocess.Popen([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_tcp(port, timeout=60, proc=proc)
        groups = _api(port, "rules")["groups"]
    finally:
        stop_pid(proc)
    assert {g["file"] for g in groups} == {str(tmp_path / "rules" / "netops-alerts.yml")}
    assert sum(len(g["rules"]) for g in groups) == _rules_in_files()


def _api(port: int, path: str) -> dict:
    """``data`` of a Prometheus API answer, waiting out the 503 while the TSDB opens."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=5) as response:
                return json.load(response)["data"]
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_promtool_unit_tests_catch_a_broken_rule(tmp_path):
    """The unit tests have teeth: loosen one rule and they fail."""
    promtool = _tool("promtool")
    broken = (RULES / "netops-alerts.yml").read_text().replace(
        "and on (instance, if_name) min_over_time(", "or on (instance, if_name) min_over_time("
    )
    assert broken != (RULES / "netops-alerts.yml").read_text()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "netops-alerts.yml").write_text(broken)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "netops-alerts.test.yml").write_text((RULE_TESTS / "netops-alerts.test.yml").read_text())
    result = subprocess.run([promtool, "test", "rules", "netops-alerts.test.yml"], cwd=tmp_path / "tests",
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "NetopsInterfaceDown" in result.stdout + result.stderr


def test_example_configs_are_valid():
    promtool = _tool("promtool")
    amtool = _tool("amtool")
    _run(promtool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml"))
    assert "2 inhibit rules" in _run(amtool, "check-config", str(DEPLOY / "alertmanager" / "alertmanager.yml"))


def _seconds(duration: str) -> int:
    """A Prometheus duration of one unit ("90s", "2m", "1h") in seconds."""
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


def test_sd_relabels_a_device_without_credentials_before_a_down_alert_fires():
    """The exporter refuses a device whose SNMP secrets it lost (a reload or restart) at
    once; only the next /sd refresh labels it snmp_credentials="missing", which keeps it
    out of the down alerts. With the refresh slower than their shortest `for:` (5m against
    NetopsPopDown's 2m), a secret missed in a key rotation still paged every PoP as down."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "netops-devices")
    refresh = _seconds(job["http_sd_configs"][0]["refresh_interval"])
    rules = [rule for path in sorted(RULES.glob("*.yml")) for group in yaml.safe_load(path.read_text())["groups"]
             for rule in group["rules"]]
    polled = {rule["record"] for rule in rules if rule.get("record") and 'snmp_credentials!="missing"' in rule["expr"]}
    assert polled == {"netops:up:polled"}
    spared = {rule["alert"]: _seconds(rule["for"]) for rule in rules
              if "alert" in rule and ('snmp_credentials!="missing"' in rule["expr"] or "netops:up:polled" in rule["expr"])}
    assert {"NetopsPopDown", "NetopsTargetDown", "NetopsCustomerSiteDown", "NetopsHotspotDown"} <= set(spared)
    assert refresh < min(spared.values()), (refresh, spared)


class _SdHandler(BaseHTTPRequestHandler):
    targets: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server API)
        body = json.dumps(self.targets).encode() if self.path.startswith("/sd") else b"# no metrics\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path.startswith("/sd") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _active_targets(port: int, expected_total: int) -> tuple[list[dict], int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        data = _api(port, "targets")
        active = [t for t in data["activeTargets"] if t["labels"].get("job") == "netops-devices"]
        dropped = len(data["droppedTargets"])
        if len(active) + dropped >= expected_total:
            return active, dropped
        time.sleep(0.2)
    raise TimeoutError(f"Prometheus on {port} did not discover {expected_total} targets")


@pytest.mark.slow
def test_example_config_shards_the_sd_targets_across_two_prometheus_servers(tmp_path):
    """The exporter's real /sd answer for the seeded city, split by two Prometheus servers.
    The device addresses only ever travel as a ?target= parameter to this test's own
    loopback server: nothing is sent to them."""
    prometheus = _tool("prometheus")
    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'netops.db'}")
    dbmod.upgrade(engine)
    with session_scope(engine) as session:
        seed(session, generate())
    _SdHandler.targets = sd_groups(engine)
    devices = [group["targets"][0] for group in _SdHandler.targets]
    sent_labels = {group["targets"][0]: group["labels"] for group in _SdHandler.targets}
    assert len(devices) > 400
    sd = ThreadingHTTPServer(("127.0.0.1", 0), _SdHandler)
    threading.Thread(target=sd.serve_forever, daemon=True).start()
    exporter = f"127.0.0.1:{sd.server_address[1]}"
    procs, shards = [], []
    try:
        for shard in ("0", "1"):
            config = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
            config = config.replace("netops-exporter:9116", exporter).replace('regex: "0"', f'regex: "{shard}"')
            config = config.replace("rules/*.yml", str(RULES / "*.yml"))
            conf = tmp_path / f"prometheus-{shard}.yml"
            conf.write_text(config)
            port = free_port()
            proc = subprocess.Popen(
                [prometheus, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}",
                 f"--storage.tsdb.path={tmp_path / f'data-{shard}'}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            wait_for_tcp(port, timeout=60, proc=proc)
            shards.append(_active_targets(port, len(devices)))
    finally:
        for proc in procs:
            stop_pid(proc)
        sd.shutdown()
    kept = [{t["discoveredLabels"]["__address__"] for t in active} for active, _ in shards]
    assert kept[0] and kept[1], "each shard keeps a share"
    assert not kept[0] & kept[1], "no device is scraped twice"
    assert kept[0] | kept[1] == set(devices), "no device is lost"
    assert shards[0][1] == len(kept[1])  # what one drops, the other keeps
    # multi-target pattern: every scrape goes to the exporter with the device as ?target=
    for target in shards[0][0]:
        assert target["scrapeUrl"].startswith(f"http://{exporter}/snmp?")
        assert f"target={target['discoveredLabels']['__address__']}" in target["scrapeUrl"]
        assert target["labels"]["instance"] == target["discoveredLabels"]["__address__"]
        # the labels the alert rules and the dashboard select on arrive with every target
        # (Prometheus drops labels with empty values: a PoP without a district has none)
        sent = {k: v for k, v in sent_labels[target["discoveredLabels"]["__address__"]].items()
                if v and not k.startswith("__")}
        assert {"device", "site", "site_kind", "role"} <= sent.keys()
        assert sent.items() <= target["labels"].items()
