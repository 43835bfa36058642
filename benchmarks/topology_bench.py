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
(kept in --dir between runs: seeding 100x takes half an hour on the shared machine; the seed
benchmark is the lead's). A file `city-xN.db` seeded beforehand (the same command, e.g. in
the background while working on a smaller scale) is reused as it is.

Customers (issue 14): when the seeded city has none, ``--synthetic-customers`` adds, into a
copy of the file, customers of the issue's size times the scale (``plant_customers``: 850
companies, ~6,600 homes in ~870 buildings (80 % connected) behind 1:4 + 1:16 PONs from an OLT at every PoP,
feeders and drops on the city's cables), so the audits that count customers are timed at
the size they must handle. Where they sit is random, not planned: the figures are for speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netops import db as dbmod  # noqa: E402
from netops.db import session_scope  # noqa: E402


def city(directory: Path, scale: int) -> Path:
    """The database of the city at ``scale``, seeded on first use (into another name, renamed
    when the seed is done: a seed stopped half-way, 100x takes half an hour, is not reused)."""
    path = directory / f"city-x{scale}.db"
    if not path.exists():
        seeding = directory / f"seeding-x{scale}.db"
        for stale in directory.glob(f"{seeding.name}*"):
            stale.unlink()
        netops = Path(sys.executable).with_name("netops")
        subprocess.run([str(netops), "--db", str(seeding), "inventory", "seed", "--scale", str(scale)],
                       check=True, stdout=subprocess.DEVNULL)
        seeding.rename(path)
    return path


def plant_customers(path: Path, scale: int) -> None:
    """Synthetic companies and homes (see the module docstring), unless the city has some."""
    from sqlmodel import select

    from inventory.models import (
        Building, BusinessConnection, Cable, Device, Interface, Link, OltPort, ResidentialConnection, RouteNode,
        Site, SpliceClosure, Splitter,
    )

    rng = random.Random(14)
    engine = dbmod.make_engine(f"sqlite:///{path}")
    with session_scope(engine) as session:
        if session.exec(select(Building)).first() is not None:
            return
        nodes = {n.id: n for n in session.exec(select(RouteNode))}
        closures = list(session.exec(select(SpliceClosure)))
        closure_nodes = sorted({c.node_id for c in closures})
        cables = list(session.exec(select(Cable)))
        cables_at_closure: dict[int, list[int]] = {}
        for cable in cables:
            for end in (cable.a_closure_id, cable.b_closure_id):
                if end is not None:
                    cables_at_closure.setdefault(end, []).append(cable.id)
        drops_at_node = {c.node_id: cables_at_closure.get(c.id, []) for c in closures}
        pops = [s for s in session.exec(select(Site).where(Site.kind == "core"))]
        feeders = {p.id: [c.id for c in cables if p.id in (c.a_site_id, c.b_site_id)] for p in pops}
        ports_needed = 18 * scale
        olts = []
        for pop in pops:
            olt = Device(name=f"bench-olt-{pop.code}", site_id=pop.id, role="olt", platform="huawei_olt",
                         source="generated")
            session.add(olt)
            olts.append((pop, olt))
        session.flush()
        units = building_no = 0
        for n in range(ports_needed):
            pop, olt = olts[n % len(olts)]
            interface = Interface(device_id=olt.id, name=f"pon0/{n // len(olts)}", kind="fibre")
            session.add(interface)
            session.flush()
            port = OltPort(interface_id=interface.id, optics_class=rng.choice(["b_plus", "c_plus"]), source="generated")
            session.add(port)
            session.flush()
            first = Splitter(code=f"BSP-{n}", ratio=4, node_id=rng.choice(closure_nodes), olt_port_id=port.id,
                             feeder_cable_id=rng.choice(feeders[pop.id] or [None]), feeder_strand=None,
                             source="generated")
            first.feeder_strand = 1 if first.feeder_cable_id else None
            session.add(first)
            session.flush()
            for leg in range(1, 5):
                node_id = rng.choice(closure_nodes)
                second = Splitter(code=f"BSP-{n}-{leg}", ratio=16, node_id=node_id, parent_id=first.id,
                                  parent_port=leg, source="generated")
                session.add(second)
                session.flush()
                for ont_port in range(1, 13):
                    node = nodes[node_id]
                    homes = rng.choice([1, 1, 2, 3, 4, 6, 8, 12, 16, 24])
                    building = Building(code=f"BB-{building_no}", address=f"Benchstraße {building_no}",
                                        lat=node.lat + rng.uniform(-0.002, 0.002),
                                        lon=node.lon + rng.uniform(-0.003, 0.003), residential_units=homes,
                                        source="generated")
                    session.add(building)
                    session.flush()
                    drop = rng.choice(drops_at_node.get(node_id) or [None])
                    session.add(ResidentialConnection(
                        code=f"BONT-{building_no}", building_id=building.id, splitter_id=second.id,
                        splitter_port=ont_port, units=homes, take_up="connected" if rng.random() < 0.8 else "passed",
                        drop_cable_id=drop, drop_strand=2 if drop else None, source="generated"))
                    building_no += 1
                    units += homes
        switches = [d.id for d in session.exec(select(Device).where(Device.role == "access_switch"))]
        links = [k.id for k in session.exec(select(Link))]
        parks = [s.id for s in session.exec(select(Site).where(Site.kind == "business_park"))] or [pops[0].id]
        for n in range(850 * scale):
            on_link = rng.random() < 0.1
            session.add(BusinessConnection(
                code=f"BBC-{n}", company=f"Firma {n}", site_id=rng.choice(parks),
                service_class=rng.choices(["best_effort", "business", "sla_gold"], [70, 25, 5])[0],
                access="p2p_fibre" if on_link else "ethernet_service", bandwidth_mbps=100,
                link_id=rng.choice(links) if on_link else None, device_id=None if on_link else rng.choice(switches),
                source="generated"))
        session.flush()
    engine.dispose()


def with_customers(directory: Path, scale: int) -> Path:
    """A copy of the city at ``scale`` with synthetic customers (planted on first use)."""
    path = directory / f"city-x{scale}+customers.db"
    if not path.exists():
        shutil.copy(city(directory, scale), path)
        plant_customers(path, scale)
    return path


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
        "onts": len(net.customers.onts), "companies": len(net.customers.companies),
        "units": net.customers.units(frozenset(net.customers.onts)),
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
    parser.add_argument("--synthetic-customers", action="store_true",
                        help="add customers of the issue's size (x scale) to a copy of each city that has none")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.naive_sample)))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print("wall seconds (CPU seconds of the process in brackets); ratio = naive CPU / fast CPU")
    print("customers: connected ONTs / homes connected / companies the audits count")
    print(f"{'scale':>5} {'sites':>7} {'trenches':>8} {'links':>7} {'customers':>18} {'load':>6} {'graphs':>6} "
          f"{'audits':>6} {'full audit':>16} {'peak RSS':>9} {'ranking':>14} {'rank MiB':>8} "
          f"{'naive ranking':>18} {'ratio':>7}  naive sample, load avg")
    for scale in args.scales:
        db = with_customers(args.dir, scale) if args.synthetic_customers else city(args.dir, scale)
        naive_sample = 10**9 if scale == 1 else args.naive_sample
        out = subprocess.run([sys.executable, __file__, "--child", str(db), "--naive-sample", str(naive_sample)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        sampled = "all" if r["naive_sampled"] == r["ranked"] else f"{r['naive_sampled']}/{r['ranked']}"
        customers = f"{r['onts']}/{r['units']}/{r['companies']}"
        print(f"{scale:>5} {r['sites']:>7} {r['trenches']:>8} {r['links']:>7} {customers:>18} {r['load_s']:>6.2f} "
              f"{r['graphs_s']:>6.2f} {r['audits_s']:>6.2f} {r['full_s']:>7.2f} ({r['full_cpu_s']:>6.2f}) "
              f"{r['peak_rss_mib']:>5.0f} MiB {r['ranking_s']:>6.2f} ({r['ranking_cpu_s']:>5.2f}) "
              f"{r['ranking_peak_mib']:>8.0f} {r['naive_s']:>8.1f} ({r['naive_cpu_s']:>7.1f}) {r['ratio']:>6.0f}x  "
              f"{sampled}, {r['load_average']:.1f}{'' if r['naive_agrees'] else '  DISAGREES'}", flush=True)


if __name__ == "__main__":
    main()
