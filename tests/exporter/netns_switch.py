"""Run inside a fresh `unshare -n` namespace (by test_netns_switch.py): build a switch with
many interfaces, start snmpd on its loopback, scrape it with the poller between two
snmpbulkwalks, print the lot as JSON. Nothing leaves the namespace."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from exporters.snmp.poller import Poller
from tests.exporter.conftest import scrape, test_profiles
from tests.support import snmpd

COLUMNS = {"in_bytes": "1.3.6.1.2.1.31.1.1.1.6", "oper": "1.3.6.1.2.1.2.2.1.8", "admin": "1.3.6.1.2.1.2.2.1.7",
           "speed": "1.3.6.1.2.1.31.1.1.1.15", "name": "1.3.6.1.2.1.31.1.1.1.1", "in_errors": "1.3.6.1.2.1.2.2.1.14"}


def build_switch(extra_pairs: int) -> None:
    commands = ["link set lo up"]
    for i in range(1, 25):
        commands.append(f"link add Gi1-0-{i} type veth peer name Gi1-0-{i + 24}")
        if i % 3:
            commands += [f"link set Gi1-0-{i} up", f"link set Gi1-0-{i + 24} up"]
    # more ports: veth pairs (the dummy driver is not available everywhere)
    commands += [f"link add vl{i}a type veth peer name vl{i}b" for i in range(extra_pairs)]
    subprocess.run(["ip", "-batch", "-"], input="\n".join(commands) + "\n", text=True, check=True)


def main() -> None:
    build_switch(int(sys.argv[1]))
    agent = snmpd.start(Path(tempfile.mkdtemp()))
    try:
        before = {k: agent.bulkwalk(oid) for k, oid in COLUMNS.items()}
        text = scrape(Poller(test_profiles(timeout_s=5.0, retries=1)), agent.target, ["interfaces"], "city_v2", 60.0)
        after = {k: agent.bulkwalk(oid) for k, oid in COLUMNS.items()}
    finally:
        agent.stop()
    json.dump({"before": before, "after": after, "text": text}, sys.stdout)


if __name__ == "__main__":
    main()
