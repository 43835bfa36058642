"""How much cheaper the 123-Kita city batch gets by large-neighbourhood search (``planning.lns``).

    .venv/bin/python benchmarks/lns_bench.py [--db city.db --streets streets.geojson]

The seeded city's Kitas as one batch (spare strands, their limits), the plan as
``plan_batch`` makes it and its lower bound; then one pass of neighbourhoods (each Kita
and its nearest, re-planned exactly with the rest fixed, kept when the routes pass the
batch's own checks: ``plan batch --thorough``) and the bound again on the improved plan.
Prints plan, bound, proven gap, the search's work and CPU time of each step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netops import db as dbmod  # noqa: E402
from netops.db import session_scope  # noqa: E402
from planning.batch import SteinerInstance, batch_paths, thorough_paths  # noqa: E402
from planning.bounds import lower_bound  # noqa: E402
from planning.context import NetworkOptions, load_network, sites_by_kind  # noqa: E402
from planning.lns import GROUP_SITES, RADIUS_M  # noqa: E402
from planning_bench import city_files  # noqa: E402  (beside this file)


def cpu(work):
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def measure(engine, streets: Path) -> None:
    with session_scope(engine) as session:
        kitas, _ = sites_by_kind(session, "kindergarten", None)
        net = load_network(session, NetworkOptions(streets=streets))
    nodes = [net.attach_site(s.code, s.lat, s.lon, s.entry_node) for s in kitas]
    instance = SteinerInstance.from_network(net, nodes)
    (paths, capacities), plan_cpu = cpu(lambda: batch_paths(net, instance))
    bound, bound_cpu = cpu(lambda: lower_bound(instance, sorted(paths), paths, capacities))
    plan = instance.cost(paths)
    print(f"{len(paths)} Kitas: plan {plan:,.0f} (CPU {plan_cpu:.1f} s) >= bound {bound.value_eur:,.0f} "
          f"(CPU {bound_cpu:.1f} s): gap {bound.gap_pct(plan):.2f} %", flush=True)
    search, search_cpu = cpu(lambda: thorough_paths(net, instance, paths, capacities,
                                                    dict(zip(instance.terminals, nodes))))
    better = search.paths
    improved = instance.cost(better)
    print(f"one pass of {len(paths)} neighbourhoods ({GROUP_SITES} Kitas, network within {RADIUS_M:.0f} m of their "
          f"paths): {improved:,.0f} ({improved - plan:+,.0f} EUR, {100 * (improved - plan) / plan:+.2f} %, "
          f"{len(search.moved(paths))} Kitas moved) in CPU {search_cpu:.1f} s; programs solved {search.solved}, "
          f"reused {search.reused}, kept {search.kept}, refused by the route check {search.refused}, "
          f"too large {search.too_large}, unsolved {search.unsolved}", flush=True)
    bound2, bound2_cpu = cpu(lambda: lower_bound(instance, sorted(better), better, capacities))
    best = max(bound, bound2, key=lambda b: b.value_eur)
    print(f"bound on the improved plan {bound2.value_eur:,.0f} (CPU {bound2_cpu:.1f} s); "
          f"gap {best.gap_pct(improved):.2f} % against the better bound {best.value_eur:,.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, help="A seeded SQLite file (default: seed a fresh one).")
    parser.add_argument("--streets", type=Path, help="Its street network GeoJSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, streets = city_files(args.db, args.streets, Path(tmp))
        measure(dbmod.make_engine(f"sqlite:///{db}"), streets)


if __name__ == "__main__":
    main()
