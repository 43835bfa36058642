"""One large `show running-config` over SSH: the time of DeviceSession.show, and of its
end-of-answer check (``_confirmed_end``) within it, against a scripted IOS switch on loopback
(tests/ssh/scripted_device.py) whose config of about SIZE MiB has a banner line quoting the
prompt, the device pausing right after it (a false end, so that the rest arrives after the
bare Enter).

    .venv/bin/python benchmarks/ssh_big_answer_bench.py --mib 5 --shows 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netops.access import DeviceTarget, RetryPolicy, SessionPool  # noqa: E402
from netops.access import pool  # noqa: E402
from netops.secrets import Secret  # noqa: E402
from tests.ssh.scripted_device import ScriptedDevice, ios_config  # noqa: E402


def big_config(mib: float) -> str:
    head = ios_config("big1", 4).replace("line vty 0 4", "banner motd ^C\nbig1#\n^C\nline vty 0 4")
    ports = "".join(f"interface GigabitEthernet9/0/{i}\n description Raum {i} Patchfeld Schule\n"
                    " switchport mode access\n!\n" for i in range(int(mib * 2**20 / 85)))
    return head.replace("end\n", ports + "end\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=float, default=5.0)
    parser.add_argument("--shows", type=int, default=3)
    parser.add_argument("--behaviour", default="pause_mid", help="pause_mid (a false end) or whole")
    args = parser.parse_args()
    config = big_config(args.mib)
    in_check: list[float] = []
    checked = pool.DeviceSession._confirmed_end

    def timed(self, *a, **k):
        started = time.monotonic()
        try:
            return checked(self, *a, **k)
        finally:
            in_check.append(time.monotonic() - started)

    pool.DeviceSession._confirmed_end = timed

    def task(session):
        out = []
        for _ in range(args.shows):
            wall, cpu = time.monotonic(), time.process_time()
            text = session.show("show running-config")
            out.append((time.monotonic() - wall, time.process_time() - cpu, len(text)))
        return out

    cut = config.split("\n").index("big1#") + 1
    with ScriptedDevice("big1", "u", "bench-pw", args.behaviour, cut=cut, config=config, pause_s=0.5) as device:
        target = DeviceTarget("big1", "cisco_ios", "127.0.0.1", device.port, "u", Secret("bench-pw"),
                              conn_timeout_s=10, read_timeout_s=600)
        result = SessionPool(1, 1, RetryPolicy(retries=0)).run([target], task)[0]
    print(f"config {len(config) / 2**20:.1f} MiB, {args.behaviour}: {result.status} {result.error or ''}")
    for (wall, cpu, size), check in zip(result.value or [], in_check):
        print(f"  show {wall:.2f} s wall, {cpu:.2f} s CPU (the process, the server thread too), "
              f"end check {check:.2f} s, answer {size / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
