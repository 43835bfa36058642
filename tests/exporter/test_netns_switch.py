"""A switch with 1,000+ interfaces in a network namespace of its own: every row and column
the exporter returns matches net-snmp's snmpbulkwalk, and a table that size goes through."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exporter.conftest import by_if_index, module_status, samples
from tests.support import snmpd

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_switch():
    if not snmpd.available() or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs snmpd, unshare and ip")
    if os.geteuid() != 0:
        pytest.skip("needs root for a network namespace")
    result = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.exporter.netns_switch", "500"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_every_interface_matches_snmpbulkwalk(big_switch):
    before, after = big_switch["before"], big_switch["after"]
    assert module_status(big_switch["text"]) == {"interfaces": (1, "")}
    parsed = samples(big_switch["text"])
    names = {oid.rsplit(".", 1)[1]: name for oid, name in before["name"].items()}
    assert len(names) > 1000  # 500 + 24 veth pairs and lo
    got = by_if_index(parsed, "if_in_bytes_total")
    assert set(got) == set(names)
    for index, name in names.items():
        assert got[index].labels["if_name"] == name
        key = f"1.3.6.1.2.1.31.1.1.1.6.{index}"
        assert int(before["in_bytes"][key]) <= got[index].value <= int(after["in_bytes"][key])
    for metric, column in [("if_oper_status", "oper"), ("if_admin_status", "admin")]:
        assert {index: s.value for index, s in by_if_index(parsed, metric).items()} == \
            {k.rsplit(".", 1)[1]: int(v) for k, v in before[column].items()} == \
            {k.rsplit(".", 1)[1]: int(v) for k, v in after[column].items()}
    speeds = {index: s.value for index, s in by_if_index(parsed, "if_speed_bytes").items()}
    assert speeds == {k.rsplit(".", 1)[1]: int(v) * 125_000 for k, v in before["speed"].items()}
    assert samples(big_switch["text"])["netops_snmp_scrape_varbinds_returned"][0].value >= 15 * len(names)
