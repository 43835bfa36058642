"""CPU time a command costs before it does anything: `netops --help` and `netops inventory stats`.

    .venv/bin/python benchmarks/startup_bench.py --runs 7
    .venv/bin/python benchmarks/startup_bench.py --runs 7 --netops .venv/bin/netops --netops /work/main/.venv/bin/netops

Seeds one SQLite file (scale 1) with this checkout's netops, then runs each command
``--runs`` times per netops given (default: this checkout's; another checkout's
``netops`` is the before/after peer), alternating between them run by run so both see the
same load, and prints the median user+system CPU seconds of the child
(``resource.getrusage(RUSAGE_CHILDREN)``) and the ratio to the first netops. CPU time
depends less on other work than wall time does, but not at all only at an idle machine:
the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["inventory", "stats"])


def cpu_seconds(argv: list[str], env: dict) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--netops", action="append", type=Path,
                        help="netops executable to measure (repeatable; default: this checkout's)")
    args = parser.parse_args()
    executables = args.netops or [ROOT / ".venv" / "bin" / "netops"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NETOPS_DB_URL": f"sqlite:///{Path(tmp) / 'netops.db'}", "COLUMNS": "120"}
        subprocess.run([str(ROOT / ".venv" / "bin" / "netops"), "inventory", "seed"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        if env.get("PYTHONDONTWRITEBYTECODE"):
            print("PYTHONDONTWRITEBYTECODE is set: the checkouts' own modules (no .pyc yet) are compiled on every "
                  "run, a few ms more than an installed netops")
        print(f"{'netops':50} {'command':18} {'median CPU s':>12} {'min':>6} {'max':>6} {'ratio':>6}")
        for command in COMMANDS:
            for exe in executables:
                cpu_seconds([str(exe), *command], env)  # warm the page cache and .pyc files
            times: dict[Path, list[float]] = {exe: [] for exe in executables}
            for _ in range(args.runs):
                for exe in executables:
                    times[exe].append(cpu_seconds([str(exe), *command], env))
            first = statistics.median(times[executables[0]])
            for exe in executables:
                median = statistics.median(times[exe])
                print(f"{str(exe):50} {' '.join(command):18} {median:12.3f} {min(times[exe]):6.3f} "
                      f"{max(times[exe]):6.3f} {median / first:6.2f}", flush=True)
        print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    sys.exit(main())
