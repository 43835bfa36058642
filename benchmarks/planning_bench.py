"""Joint connection planning: how close to the optimum, how fast on the city.

    .venv/bin/python benchmarks/planning_bench.py [--seeds 12] [--db city.db --streets streets.geojson]

1. Quality: small grid cities (a jittered street grid, some streets with a trench of the
   plant, free or full ducts, three PoPs) with 6 or 8 new sites. The joint plan's routing
   cost (civil works + cable) against the exact optimum of the same problem, solved as a
   mixed-integer program by HiGHS (scipy.optimize.milp), side by side: gap and time of both.
2. Speed: the seeded Gelsenkirchen city (generated into a temporary SQLite file unless
   --db is given): building the priced candidate network, then the joint plan for the
   planned Kitas and for all 123 Kitas; wall and CPU time (CPU time does not depend on
   what else runs on the machine). Single-site plans (the peer a planner would otherwise
   use) are timed alongside: one Suurballe route per Kita.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netops import db as dbmod  # noqa: E402
from netops.db import session_scope  # noqa: E402
from planning.batch import SteinerInstance, independent_paths, joint_paths, plan_batch  # noqa: E402
from planning.context import NetworkOptions, load_network, sites_by_kind  # noqa: E402
from planning.default_prices import default_cost_model  # noqa: E402
from planning.exact import optimal_cost  # noqa: E402
from planning.network import build_candidate_network  # noqa: E402
from planning.routing import min_cost_routes  # noqa: E402
from tests.planning.grid import grid_city  # noqa: E402


class Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def quality(seeds: int) -> None:
    costs = default_cost_model()
    print("## quality: joint plan vs exact optimum (HiGHS MILP)")
    print(f"{'grid':>5} {'sites':>5} {'seed':>4} {'heuristic €':>12} {'optimum €':>12} {'gap %':>6} "
          f"{'indep. €':>12} {'heur. s':>8} {'MILP s':>8}")
    gaps, heuristic_s, exact_s = [], [], []
    for size, sites in ((6, 6), (7, 8)):
        for seed in range(seeds):
            city = grid_city(size, size, seed=seed, sites=sites,
                             pop_cells=((0, 0), (size - 1, size - 1), (0, size - 1)))
            net = build_candidate_network(city.physical, city.pops, costs, streets=city.streets)
            instance = SteinerInstance.from_network(net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites])
            with Clock() as h:
                heuristic = instance.cost(joint_paths(instance))
            with Clock() as x:
                optimum = optimal_cost(instance)
            independent = instance.cost(independent_paths(instance))
            gap = 100 * (heuristic - optimum) / optimum
            gaps.append(gap)
            heuristic_s.append(h.wall)
            exact_s.append(x.wall)
            print(f"{size}x{size:<3} {sites:>5} {seed:>4} {heuristic:>12,.0f} {optimum:>12,.0f} {gap:>6.2f} "
                  f"{independent:>12,.0f} {h.wall:>8.3f} {x.wall:>8.2f}")
    within = sum(g <= 2.0 + 1e-9 for g in gaps)
    print(f"instances {len(gaps)}: gap mean {statistics.mean(gaps):.2f} %, median {statistics.median(gaps):.2f} %, "
          f"max {max(gaps):.2f} %, within 2 %: {within}/{len(gaps)}, optimal: {sum(g < 0.01 for g in gaps)}")
    print(f"time: heuristic median {statistics.median(heuristic_s) * 1000:.0f} ms, MILP median "
          f"{statistics.median(exact_s) * 1000:.0f} ms (ratio {statistics.median(exact_s) / statistics.median(heuristic_s):.0f}x)")


def speed(db: Path, streets: Path) -> None:
    engine = dbmod.make_engine(f"sqlite:///{db}")
    options = NetworkOptions(streets=streets)
    print("\n## speed on the seeded city")
    with session_scope(engine) as session:
        with Clock() as load:
            net = load_network(session, options)
        print(f"candidate network: {net.graph.number_of_nodes()} nodes, {net.graph.number_of_edges()} edges, "
              f"built in {load.wall:.2f} s wall / {load.cpu:.2f} s CPU")
        for label, status in (("planned Kitas", "planned"), ("all Kitas", None)):
            sites, _ = sites_by_kind(session, "kindergarten", status)
            net = load_network(session, options)
            with Clock() as joint:
                plan = plan_batch(net, sites)
            net = load_network(session, options)
            with Clock() as single:
                for site in sites:
                    min_cost_routes(net, net.attach_site(site.code, site.lat, site.lon, site.entry_node), 1)
            print(f"{label} ({len(sites)}): joint plan {joint.wall:.2f} s wall / {joint.cpu:.2f} s CPU; "
                  f"{len(sites)} single-site plans {single.wall:.2f} s wall / {single.cpu:.2f} s CPU; "
                  f"joint {plan.total_eur:,.0f} € vs independent {plan.independent_total_eur:,.0f} € "
                  f"(saving {plan.saving_eur:,.0f} €, {100 * plan.saving_eur / plan.independent_total_eur:.1f} %), "
                  f"unreachable {len(plan.unreachable)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=12, help="Instances per grid size.")
    parser.add_argument("--db", type=Path, help="A seeded SQLite file (default: seed a fresh one).")
    parser.add_argument("--streets", type=Path, help="Its street network GeoJSON.")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    if not args.skip_quality:
        quality(args.seeds)
    if args.db:
        speed(args.db, args.streets)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db, streets = Path(tmp) / "city.db", Path(tmp) / "streets.geojson"
        subprocess.run([sys.executable, "-m", "cli", "--db", str(db), "inventory", "seed", "--streets",
                        str(streets)], check=True, cwd=ROOT, capture_output=True)
        speed(db, streets)


if __name__ == "__main__":
    main()
