"""A real net-snmp ``snmpd`` on a loopback port, with a v2c community and a v3 user.

Extra OIDs (ENTITY-SENSOR-MIB optics, a WLC's AIRESPACE tables, LLDP neighbours) are
served with snmpd's own ``override`` directive, so every test talks to the same agent.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import find_binary, stop_pid

COMMUNITY = "citypublic"
V3_USER = "netopsv3"
V3_AUTH_KEY = "auth-key-0123"
V3_PRIV_KEY = "priv-key-4567"


def available() -> bool:
    return find_binary("snmpd", "/usr/sbin/snmpd") is not None and find_binary("snmpbulkwalk") is not None


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Snmpd:
    port: int
    proc: subprocess.Popen
    workdir: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_pid(self.proc)

    def bulkwalk(self, oid: str, *, v3: bool = False) -> dict[str, str]:
        """{numeric OID: value} from net-snmp's own snmpbulkwalk (-On -Oqv style)."""
        auth = (["-v3", "-l", "authPriv", "-u", V3_USER, "-a", "SHA", "-A", V3_AUTH_KEY, "-x", "AES", "-X", V3_PRIV_KEY]
                if v3 else ["-v2c", "-c", COMMUNITY])
        out = subprocess.run(["snmpbulkwalk", *auth, "-On", "-Oq", "-Ot", "-Oe", "-Cr25", self.target, oid],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        values = {}
        for line in out.splitlines():
            oid_text, _, value = line.partition(" ")
            values[oid_text.lstrip(".")] = value.strip().strip('"')
        return values


def start(tmp: Path, extra_config: str = "", port: int | None = None) -> Snmpd:
    snmpd = find_binary("snmpd", "/usr/sbin/snmpd")
    port = port or free_udp_port()
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "snmpd.conf"
    conf.write_text(
        f"rocommunity {COMMUNITY} 127.0.0.1\nrocommunity public 127.0.0.1\n"
        "dontLogTCPWrappersConnects yes\nsysName test-switch-1\nsysLocation netops tests\n"
        f"createUser {V3_USER} SHA {V3_AUTH_KEY} AES {V3_PRIV_KEY}\nrouser {V3_USER} priv\n" + extra_config
    )
    persist = tmp / "persist"
    persist.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [snmpd, "-f", "-C", "-c", str(conf), "-Lf", str(tmp / "snmpd.log"), "-M", "/usr/share/snmp/mibs",
         "-I", "-smux,mteTrigger,mteTriggerConf", f"udp:127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, SNMP_PERSISTENT_DIR=str(persist)),
        start_new_session=True,
    )
    agent = Snmpd(port, proc, tmp)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"snmpd exited with {proc.returncode}: {(tmp / 'snmpd.log').read_text()[-2000:]}")
        probe = subprocess.run(["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.5", "-r", "0", "-Oqv", agent.target,
                                "1.3.6.1.2.1.1.5.0"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip():
            return agent
        time.sleep(0.1)
    agent.stop()
    raise TimeoutError("snmpd did not answer in 20 s")
