"""How long generating and loading the city takes at several scales.

    .venv/bin/python benchmarks/seed_bench.py --scales 1 10 100 [--postgres-url URL]

Each scale runs in a fresh child process (so peak RSS is its own) on a fresh SQLite file
(and, with --postgres-url, a fresh PostgreSQL database). Prints generation and load wall
time, rows per second and peak RSS. There is no peer tool to compare with.
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
    t0 = time.perf_counter()
    dataset = generate(scale)
    t1 = time.perf_counter()
    with db.session_scope(engine) as session:
        report = seed(session, dataset)
    t2 = time.perf_counter()
    rows = sum(len(v) for v in dataset.rows.values())
    return {"scale": scale, "sites": len(dataset.rows["site"]), "rows": rows,
            "generate_s": round(t1 - t0, 2), "load_s": round(t2 - t1, 2),
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
    print(f"{'scale':>5} {'sites':>7} {'rows':>9} {'generate s':>10} {'load s':>8} {'rows/s':>8} {'peak RSS MiB':>12}")
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            out = subprocess.run([sys.executable, __file__, "--child", str(scale), url],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{r['scale']:>5} {r['sites']:>7} {r['rows']:>9} {r['generate_s']:>10} {r['load_s']:>8} "
                  f"{r['rows_per_s']:>8} {r['peak_rss_mib']:>12}")


if __name__ == "__main__":
    main()
