"""Run inside a fresh `unshare -m -n` namespace (by test_down_hunt.py): the namespace's own
/etc/hosts (bind-mounted, private to it) names an IPv6-only device at ::1, snmpd listens on
::1 alone, and the poller scrapes it by name. Prints the modules' status as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from exporters.snmp.poller import Poller
from tests.exporter.conftest import module_status, scrape, test_profiles
from tests.support import snmpd

NAME = "v6only-sw1"


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "hosts").write_text(f"::1 {NAME}\n")
    subprocess.run(["mount", "--bind", str(tmp / "hosts"), "/etc/hosts"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    agent = snmpd.start(tmp / "snmpd", host="::1")
    try:
        text = scrape(Poller(test_profiles(timeout_s=0.5, retries=1)), f"{NAME}:{agent.port}", ["system"], "city_v2")
    finally:
        agent.stop()
    json.dump(module_status(text), sys.stdout)


if __name__ == "__main__":
    main()
