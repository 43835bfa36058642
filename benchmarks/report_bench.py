"""How long the city report takes, and whether the browser still draws it, at several scales.

    .venv/bin/python benchmarks/report_bench.py --scales 1 5 10

For each scale: seed a fresh SQLite file, then time building the report (inventory
queries + topology audits + KPIs), rendering the HTML, and headless Chromium loading the
file until the map is drawn. Prints sites, trench segments, customer buildings, HTML size
and the times: build and render as wall clock and as this process's CPU time (the machine
is shared: CPU time is what the report costs, wall time what a reader waited), Chromium as
wall clock from the open command and as the CPU time all of Chromium's processes spent
meanwhile (from /proc). There is no peer tool to compare with.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inventory.seed import generate, seed  # noqa: E402
from netops import db  # noqa: E402
from netops.db import session_scope  # noqa: E402
from report import build_report, render_html  # noqa: E402
from tests.support.chromium import Browser, chromium_binary  # noqa: E402


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and every process below it, from /proc."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
    below, changed = {root}, True
    while changed:  # children may have lower pids than their parents: to a fixed point
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in below and pid not in below:
                below.add(pid)
                changed = True
    ticks = sum(stats[pid][1] for pid in below if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def one(scale: int, workdir: Path) -> dict:
    engine = db.make_engine(f"sqlite:///{workdir / f'netops-{scale}.db'}")
    db.upgrade(engine)
    with session_scope(engine) as session:
        seed(session, generate(scale))
    started, started_cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        report = build_report(session)
    built, built_cpu = time.perf_counter(), time.process_time()
    html = render_html(report)
    rendered, rendered_cpu = time.perf_counter(), time.process_time()
    out = workdir / f"report-{scale}.html"
    out.write_text(html, encoding="utf-8")
    browser_s = browser_cpu_s = None
    if chromium_binary():
        with Browser(workdir / f"profile-{scale}") as browser:
            start, start_cpu = time.perf_counter(), tree_cpu_s(browser.proc.pid)
            browser.open(out.as_uri(), "document.body.dataset.status === 'ready'", timeout=600)
            browser_s, browser_cpu_s = time.perf_counter() - start, tree_cpu_s(browser.proc.pid) - start_cpu
            drawn = int(browser.evaluate("document.body.dataset.sitesDrawn"))
            assert drawn == len(report.sites), (drawn, len(report.sites))
    return {
        "scale": scale, "sites": len(report.sites), "trenches": len(report.trenches),
        "buildings": len(report.customer_buildings), "findings": len(report.findings),
        "html_mb": len(html.encode()) / 2**20,
        "build_s": built - started, "build_cpu_s": built_cpu - started_cpu,
        "render_s": rendered - built, "render_cpu_s": rendered_cpu - built_cpu,
        "browser_s": browser_s, "browser_cpu_s": browser_cpu_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 5, 10])
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print(f"{'scale':>5} {'sites':>6} {'trenches':>8} {'buildings':>9} {'findings':>8} {'HTML MiB':>8} "
          f"{'build s':>8} {'(CPU)':>6} {'render s':>8} {'(CPU)':>6} {'Chromium s':>10} {'(CPU)':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            r = one(scale, Path(tmp))
            browser = (f"{r['browser_s']:10.2f} {r['browser_cpu_s']:6.2f}" if r["browser_s"] is not None
                       else f"{'n/a':>10} {'n/a':>6}")
            print(f"{r['scale']:>5} {r['sites']:>6} {r['trenches']:>8} {r['buildings']:>9} {r['findings']:>8} "
                  f"{r['html_mb']:>8.1f} {r['build_s']:>8.2f} {r['build_cpu_s']:>6.2f} {r['render_s']:>8.2f} "
                  f"{r['render_cpu_s']:>6.2f} {browser}", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
