"""CPU time a command costs before it does anything: `netops --help` and `netops inventory stats`.

    .venv/bin/python benchmarks/startup_bench.py --runs 7
    .venv/bin/python benchmarks/startup_bench.py --runs 7 --netops /work/wt/integ/.venv/bin/netops

Seeds one SQLite file (scale 1) with this checkout's netops, then runs each command
``--runs`` times per netops given (default: this checkout's; another checkout's
``netops`` is the before/after peer, run side by side on the same database) and prints the
median user+system CPU seconds of the child (``resource.getrusage(RUSAGE_CHILDREN)``),
which, unlike wall time, hardly depends on what else the machine is doing.
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
        print(f"{'netops':50} {'command':18} {'median CPU s':>12} {'min':>6} {'max':>6}")
        for exe in executables:
            for command in COMMANDS:
                cpu_seconds([str(exe), *command], env)  # warm the page cache and .pyc files
                times = [cpu_seconds([str(exe), *command], env) for _ in range(args.runs)]
                print(f"{str(exe):50} {' '.join(command):18} {statistics.median(times):12.3f} "
                      f"{min(times):6.3f} {max(times):6.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
