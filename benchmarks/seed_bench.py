"""How long generating and loading the city takes at several scales.

    .venv/bin/python benchmarks/seed_bench.py --scales 1 10 100

Each scale runs in a fresh child process (so peak RSS is its own) on a fresh SQLite file.
Prints generation and load wall time (the process's CPU seconds in brackets: on a shared
machine they are what an idle one would show as wall time), rows per second, the customer
connections generated and peak RSS. There is no peer tool to compare with.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(scale: int, url: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from inventory.seed import generate, seed
    from netops import db

    engine = db.make_engine(url)
    db.upgrade(engine)
    t0, c0 = time.perf_counter(), time.process_time()
    dataset = generate(scale)
    t1, c1 = time.perf_counter(), time.process_time()
    with db.session_scope(engine) as session:
        report = seed(session, dataset)
    t2, c2 = time.perf_counter(), time.process_time()
    rows = sum(len(v) for v in dataset.rows.values())
    return {"scale": scale, "sites": len(dataset.rows["site"]), "rows": rows,
            "customers": len(dataset.rows["business_connection"]) + len(dataset.rows["residential_connection"]),
            "generate_s": f"{t1 - t0:.2f} ({c1 - c0:.2f})", "load_s": f"{t2 - t1:.2f} ({c2 - c1:.2f})",
            "rows_per_s": round(report.changed / (t2 - t1)),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--child", nargs=2, metavar=("SCALE", "URL"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one(int(args.child[0]), args.child[1])))
        return
    print(f"{'scale':>5} {'sites':>7} {'rows':>9} {'customers':>9} {'generate s (CPU)':>16} {'load s (CPU)':>16} "
          f"{'rows/s':>8} {'peak RSS MiB':>12}")
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            out = subprocess.run([sys.executable, __file__, "--child", str(scale), url],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{r['scale']:>5} {r['sites']:>7} {r['rows']:>9} {r['customers']:>9} {r['generate_s']:>16} "
                  f"{r['load_s']:>16} {r['rows_per_s']:>8} {r['peak_rss_mib']:>12}")


if __name__ == "__main__":
    main()
