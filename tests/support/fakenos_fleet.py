"""A fleet of real SSH servers (fakenos) on 127.0.0.1 for netmiko tests and benchmarks.

Measured behaviour this relies on (see shared notes, fakenos.md):
* each platform's 340 KB NOS definition is parsed once and shared by every host;
* ``start()`` returns before the listeners listen: wait on ``/proc/net/tcp``;
* stop each host from a thread pool (one by one costs ~0.4 s per host).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tests.support.procs import free_port

logging.getLogger("fakenos").setLevel(logging.CRITICAL)
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


@dataclass
class HostSpec:
    platform: str
    username: str
    password: str
    commands: dict[str, Any] = field(default_factory=dict)
    #: a private RSA key file for this host's SSH server (default: fakenos' built-in key)
    server_key_file: str | None = None


def _listening(ports: list[int], timeout: float = 20.0) -> None:
    wanted = {f"0100007F:{p:04X}" for p in ports}
    deadline = time.monotonic() + timeout
    while True:
        with open("/proc/net/tcp") as fh:
            listening = {l.split()[1] for l in fh.readlines()[1:] if l.split()[3] == "0A"}
        if wanted <= listening:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"fakenos ports not listening: {sorted(wanted - listening)}")
        time.sleep(0.02)


class Fleet:
    def __init__(self, hosts: dict[str, HostSpec]):
        self.specs = hosts
        self.ports: dict[str, int] = {}
        self._net = None

    def start(self) -> "Fleet":
        from fakenos import FakeNOS
        from fakenos.core.nos import Nos
        from fakenos.plugins.nos import nos_plugins

        platforms = sorted({s.platform for s in self.specs.values()})
        shared = [Nos(filename=nos_plugins[p]) for p in platforms]
        inventory = {
            "default": {"server": {"plugin": "ParamikoSshServer",
                                   "configuration": {"address": "127.0.0.1", "timeout": 1}}},
            "hosts": {},
        }
        for name, spec in self.specs.items():
            port = free_port()
            while port in self.ports.values():  # the kernel may hand out a closed port again
                port = free_port()
            self.ports[name] = port
            inventory["hosts"][name] = {
                "username": spec.username,
                "password": spec.password,
                "port": self.ports[name],
                "nos": {"plugin": spec.platform, "configuration": {"commands": spec.commands}},
            }
            if spec.server_key_file:
                server = inventory["default"]["server"]
                inventory["hosts"][name]["server"] = {**server, "configuration": {
                    **server["configuration"], "ssh_key_file": spec.server_key_file}}
        self._net = FakeNOS(inventory=inventory, plugins=shared)
        self._net.start()
        _listening(list(self.ports.values()))
        return self

    def stop(self) -> None:
        if self._net is None:
            return
        hosts = list(self._net.hosts.values())
        with ThreadPoolExecutor(max_workers=max(1, min(32, len(hosts)))) as pool:
            list(pool.map(lambda h: h.stop(), hosts))
        self._net = None

    def address_map(self) -> dict[str, tuple[str, int]]:
        return {name: ("127.0.0.1", port) for name, port in self.ports.items()}
