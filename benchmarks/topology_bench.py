"""Benchmark of the resilience audits on the Gelsenkirchen network at 1x, 10x, 100x.

    .venv/bin/python benchmarks/topology_bench.py [--scales 1 10 100] [--naive-sample 300]

For each scale, in a fresh child process (so peak memory is that scale's alone):
  * the full audit as `netops audit` runs it: load the inventory from SQLite (with trench
    geometry), build the three layer graphs, run every audit; wall time of each step and
    the process's peak resident memory;
  * the criticality ranking alone (every trench, route node and device): wall time and
    peak Python allocation (tracemalloc, measured in a separate pass);
  * the naive ranking (remove each element, search the whole network again), measured side
    by side in the same process: on every element at 1x, on a random sample beyond, and
    extrapolated to all elements; the sample is also checked to agree with the fast ranking.

Each scale is seeded once with `netops inventory seed --scale N` into its own SQLite file
(kept in --dir between runs: seeding 100x takes minutes; the seed benchmark is the lead's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netops import db as dbmod  # noqa: E402
from netops.db import session_scope  # noqa: E402


def seed_city(path: Path, scale: int) -> None:
    if path.exists():
        return
    netops = Path(sys.executable).with_name("netops")
    subprocess.run([str(netops), "--db", str(path), "inventory", "seed", "--scale", str(scale)], check=True,
                   stdout=subprocess.DEVNULL)


def measure(db: Path, naive_sample: int) -> dict:
    """Runs in the child process."""
    from topology import audits
    from topology.network import Network
    from topology.rows import load_inventory

    engine = dbmod.make_engine(f"sqlite:///{db}")
    c0 = time.process_time()
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        inv = load_inventory(session, geometry=True)
    t1 = time.perf_counter()
    net = Network(inv)
    for layer in (net.physical, net.cable, net.logical):
        layer.tree  # noqa: B018 - build the cut trees now, to time them with the graphs
    t2 = time.perf_counter()
    report = audits.run_audits(net)
    t3 = time.perf_counter()
    full_cpu = time.process_time() - c0
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    net.memo.clear()
    r0, rc0 = time.perf_counter(), time.process_time()
    ranking = audits.criticality_ranking(net)
    ranking_s, ranking_cpu = time.perf_counter() - r0, time.process_time() - rc0

    elements = audits.ranked_elements(net)
    sample = elements if len(elements) <= naive_sample else random.Random(1).sample(elements, naive_sample)
    n0, nc0 = time.perf_counter(), time.process_time()
    naive = audits.criticality_ranking(net, naive=True, elements=sample)
    naive_s = (time.perf_counter() - n0) * len(elements) / len(sample)
    naive_cpu = (time.process_time() - nc0) * len(elements) / len(sample)
    fast = {(e.kind, e.id): e.site_ids for e in ranking}
    agree = all(fast[e.kind, e.id] == e.site_ids for e in naive)

    net.memo.clear()
    tracemalloc.start()
    audits.criticality_ranking(net)
    ranking_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "sites": len(net.sites), "devices": len(net.devices), "links": len(net.links),
        "trenches": len(net.segments), "route_nodes": len(net.route_nodes), "cables": len(net.cables),
        "findings": len(report.findings), "load_s": t1 - t0, "graphs_s": t2 - t1, "audits_s": t3 - t2,
        "full_s": t3 - t0, "full_cpu_s": full_cpu, "peak_rss_mib": peak_rss / 2**20, "ranking_s": ranking_s, "ranking_cpu_s": ranking_cpu,
        "ranking_peak_mib": ranking_peak / 2**20, "ranked": len(elements), "naive_sampled": len(sample),
        "naive_s": naive_s, "naive_cpu_s": naive_cpu, "ratio": naive_cpu / ranking_cpu, "naive_agrees": agree,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--naive-sample", type=int, default=300,
                        help="naive ranking on this many random elements, extrapolated (all at 1x if fewer)")
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "netops-topology-bench")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.naive_sample)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print("wall seconds (CPU seconds of the process in brackets); ratio = naive CPU / fast CPU")
    print(f"{'scale':>5} {'sites':>7} {'trenches':>8} {'links':>7} {'load':>6} {'graphs':>6} "
          f"{'audits':>6} {'full audit':>16} {'peak RSS':>9} {'ranking':>14} {'rank MiB':>8} "
          f"{'naive ranking':>18} {'ratio':>7}  naive sample, load avg")
    for scale in args.scales:
        db = args.dir / f"city-x{scale}.db"
        seed_city(db, scale)
        naive_sample = 10**9 if scale == 1 else args.naive_sample
        out = subprocess.run([sys.executable, __file__, "--child", str(db), "--naive-sample", str(naive_sample)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        sampled = "all" if r["naive_sampled"] == r["ranked"] else f"{r['naive_sampled']}/{r['ranked']}"
        print(f"{scale:>5} {r['sites']:>7} {r['trenches']:>8} {r['links']:>7} {r['load_s']:>6.2f} "
              f"{r['graphs_s']:>6.2f} {r['audits_s']:>6.2f} {r['full_s']:>7.2f} ({r['full_cpu_s']:>6.2f}) "
              f"{r['peak_rss_mib']:>5.0f} MiB {r['ranking_s']:>6.2f} ({r['ranking_cpu_s']:>5.2f}) "
              f"{r['ranking_peak_mib']:>8.0f} {r['naive_s']:>8.1f} ({r['naive_cpu_s']:>7.1f}) {r['ratio']:>6.0f}x  "
              f"{sampled}, {r['load_average']:.1f}{'' if r['naive_agrees'] else '  DISAGREES'}", flush=True)


if __name__ == "__main__":
    main()
