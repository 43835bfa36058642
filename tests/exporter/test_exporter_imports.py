"""The exporter process imports only what it serves (issue 11: RSS <= 120 MiB).

The inventory/audit gauges need the topology (networkx, scipy, numpy): they are computed in
a short-lived child (``report.audit_summary``), never in the exporter. Checked the way
tests/test_cli_startup.py checks the CLI: a fresh interpreter runs `netops exporter serve`
with an inventory, answers /metrics, /sd and one /snmp scrape of a real snmpd, and lists
the modules it has loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from netops.db import session_scope
from tests.exporter.conftest import module_status, samples
from tests.support.mini_city import build_mini_city

ROOT = Path(__file__).resolve().parents[2]

#: what the exporter does not serve: the graphs and their numerics, the report, device access
NOT_SERVED = ("networkx", "scipy", "numpy", "topology", "report.collect", "report.audits", "planning", "netmiko",
              "paramiko", "alembic", "pyproj")

PROBE = """
import asyncio, json, sys
db_url, target = sys.argv[1:3]
sys.argv = ["netops", "--db", db_url, "exporter", "serve", "--allow-any-target"]
import exporters.server

def serve(app, host, port):  # instead of listening: three requests through aiohttp's test client
    from aiohttp.test_utils import TestClient, TestServer

    async def requests():
        async with TestClient(TestServer(app)) as client:
            answers = {}
            for path in ("/sd", f"/snmp?target={target}&module=system,interfaces", "/metrics"):
                response = await client.get(path)
                answers[path.split("?")[0]] = [response.status, await response.text()]
            for _ in range(600):  # the topology's figures come from a child, in the background
                if "netops_site_trench_disjoint_paths{" in answers["/metrics"][1]:
                    break
                await asyncio.sleep(0.2)
                response = await client.get("/metrics")
                answers["/metrics"] = [response.status, await response.text()]
            return answers

    print(json.dumps({"answers": asyncio.run(requests()), "modules": sorted(sys.modules)}))

exporters.server.serve = serve
import cli
cli.app()
"""


def test_serving_with_an_inventory_loads_no_topology(db_url, engine, agent, tmp_path):
    with session_scope(engine) as session:
        build_mini_city(session)
    result = subprocess.run([sys.executable, "-c", PROBE, db_url, agent.target], capture_output=True, text=True,
                            cwd=ROOT, timeout=300, env=dict(os.environ, NETOPS_SECRETS_FILE=str(tmp_path / "absent.toml"),
                                                            NETOPS_CONFIG_DIR=str(tmp_path / "configs")))
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    answers = probe["answers"]
    assert {path: status for path, (status, _) in answers.items()} == {"/metrics": 200, "/sd": 200, "/snmp": 200}
    # the topology's figures are there, computed by the child
    paths = {s.labels["site"]: s.value for s in samples(answers["/metrics"][1])["netops_site_trench_disjoint_paths"]}
    assert paths["SCH-1"] == 2 and paths["BP-1"] == 1
    assert module_status(answers["/snmp"][1]) == {"system": (1, ""), "interfaces": (1, "")}
    loaded = set(probe["modules"])
    assert "exporters.snmp.poller" in loaded and "report.collector" in loaded  # it did serve
    heavy = sorted(m for m in loaded if m.split(".")[0] in NOT_SERVED or m in NOT_SERVED)
    assert heavy == []
