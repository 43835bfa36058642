"""An exact check of the planners on instances drawn fresh (issue 15: "independent exact
checks on instances you have not seen"): random grid towns and feeder towns with spare
strands, the planner's figure against the exact optimum of the same program and the bound
below it, always in the order plan >= optimum >= bound; every plan within the strand
limits; every redundant pair sharing no trench, manhole, building or street corridor
(``pair_faults``, the audits' one rule); every `plan fixes` line making its site redundant
at the least cost a brute force finds, the ranking as it prints; a redundant pair built
named by the audits exactly when the planner listed what it shares. CI runs a few
derandomised examples (ci profile); ``make fuzz`` draws twenty times as many (hunt profile)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netops.errors import NetopsError
from netops.geo import distance_m
from planning.batch import SteinerInstance, batch_paths
from planning.bounds import lp_bound
from planning.connect import ConnectPlan, bill_of_materials, bom_total, routes_within_limits
from planning.default_prices import default_cost_model
from planning.exact import optimal_cost
from planning.fixes import Fix, _pop_device, applied_inventory, failures, protected_by_audit, site_specs, weak_sites
from planning.network import ENTRY, NEW, build_candidate_network
from planning.redundant import RedundantInstance, exact_pairs, independent_pairs, lp_relaxation, redundant_pairs
from planning.routing import NoRouteError, Route, make_leg, min_cost_routes, pair_faults
from planning.strands import limit_counter, over_capacity, strand_capacities
from tests.planning.grid import candidate_network, feeder_city, grid_city
from tests.planning.test_batch_redundant import pair_cost
from tests.planning.test_fixes import build, random_town, ranking
from tests.planning.test_strand_swaps import SPOTS
from topology.network import Network

EXAMPLES = max(4, settings().max_examples // 20)  # ci: 5; hunt (make fuzz): 100
TOLERANCE = 1e-6  # the MILPs' own relative gap
POP_CELLS = [((0, 0),), ((0, 0), (-1, -1)), ((0, 0), (-1, -1), (0, -1))]  # -1: the far row or column


def in_order(plan: float, optimum: float, bound: float | None = None) -> None:
    assert plan >= optimum * (1 - TOLERANCE), f"plan {plan:,.2f} below the optimum {optimum:,.2f}"
    if bound is not None:
        assert bound <= optimum * (1 + TOLERANCE), f"bound {bound:,.2f} above the optimum {optimum:,.2f}"


def town(size: int, sites: int, seed: int, pops: tuple):
    cells = tuple((r % size, c % size) for r, c in pops)
    city = grid_city(size, size, seed=seed, sites=sites, pop_cells=tuple(dict.fromkeys(cells)))
    net = build_candidate_network(city.physical, city.pops, default_cost_model(), streets=city.streets)
    return net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]


def feeder(cols: int, pairs: int, spots: list, second_pop: bool, midspan: bool):
    city = feeder_city(cols, pairs=pairs, sites=tuple(spots), second_pop=second_pop)
    net = candidate_network(city, midspan_closures=midspan)
    return net, [net.attach_site(s.code, s.lat, s.lon) for s in city.sites]


towns = st.tuples(st.integers(4, 6), st.integers(2, 6), st.integers(0, 10**6), st.sampled_from(POP_CELLS))
feeders = st.tuples(st.integers(3, 6), st.integers(1, 3), st.lists(st.sampled_from(SPOTS), min_size=1, max_size=5,
                                                                   unique=True), st.booleans(), st.booleans())


def check_batch(net, sites) -> None:
    instance = SteinerInstance.from_network(net, sites)
    paths, limits = batch_paths(net, instance)
    assert limit_counter(limits).within(paths.values())
    terminals = sorted(paths)
    try:
        optimum = optimal_cost(instance, terminals, capacities=limits)
    except NetopsError:  # the MILP's node limit: nothing exact to check against
        return
    bound = lp_bound(instance, terminals, limits)
    in_order(instance.cost(paths), optimum, bound.value_eur if bound else None)


@settings(max_examples=EXAMPLES)
@given(towns)
def test_the_batch_plan_on_a_grid_town(drawn):
    check_batch(*town(*drawn))


@settings(max_examples=EXAMPLES)
@given(feeders)
def test_the_batch_plan_on_a_feeder_town_within_its_strands(drawn):
    check_batch(*feeder(*drawn))


@settings(max_examples=EXAMPLES)
@given(towns.filter(lambda drawn: drawn[1] <= 4))
def test_the_redundant_batch_on_a_grid_town(drawn):
    net, sites = town(*drawn)
    instance = RedundantInstance(net, sites)
    relaxed = lp_relaxation(instance)
    assume(relaxed is not None)  # a site without two risk-free routes: no redundant batch
    pairs = redundant_pairs(instance, independent_pairs(instance), guide=relaxed[1])
    for site, pair in pairs.items():
        assert pair_faults(net, *pair.routes) == [], site
    try:
        exact = exact_pairs(instance)
    except NetopsError:
        return
    in_order(instance.cost(pairs), exact.value_eur, relaxed[0].value_eur)


@settings(max_examples=EXAMPLES)
@given(feeders, st.integers(1, 2))
def test_plan_connect_on_a_feeder_town(drawn, count):
    net, sites = feeder(*drawn)
    site = sites[0]
    try:
        routes = routes_within_limits(net, site, count)
    except NoRouteError:
        return
    assert over_capacity(net, routes) == {}
    if count == 1:  # one site, one route: the exact optimum of the batch program with its limits
        instance = SteinerInstance.from_network(net, [site])
        in_order(pair_cost(routes), optimal_cost(instance, capacities=strand_capacities(net, instance)))
    elif not pair_faults(net, *routes):  # a risk-free pair: the redundant program's optimum is below it
        single = RedundantInstance(net, [site])
        in_order(pair_cost(routes), exact_pairs(single).value_eur)


def test_the_order_check_can_fail():
    """The order check itself: a figure out of order is reported."""
    with pytest.raises(AssertionError, match="below the optimum"):
        in_order(99.0, 100.0)
    with pytest.raises(AssertionError, match="above the optimum"):
        in_order(100.0, 100.0, 101.0)


# -- plan fixes: each line truly redundant, no cheaper valid route, the ranking as it says ----------------
#: a town drawn: layout seed, grid size, share of the grid streets already trenched
fix_towns = st.tuples(st.integers(0, 10**6), st.integers(4, 5), st.sampled_from([0.6, 0.7, 0.8]))
#: routes cheaper than a fix looked at, at most, before the example counts as inconclusive
MAX_CHEAPER_ROUTES = 300


def clear_corridor_m(line, other, rules) -> float:
    """Metres of ``line`` (GeoJSON positions) within ``rules.corridor_m`` of ``other``, its
    own end stretches (``clearance_m``) left out: the street-corridor rule measured by this
    test's own sampling, with a margin that keeps it to clear cases (nearer by half a metre,
    a metre more of clearance) so that it can only agree with ``topology.risk``'s figure
    where the rule leaves no doubt."""
    lat0 = sum(p[1] for p in line) / len(line)
    scale = np.array([111_320.0 * np.cos(np.radians(lat0)), 110_574.0 + 1_133.0 * np.sin(np.radians(lat0)) ** 2])
    xy, oxy = np.asarray(line, float)[:, :2] * scale, np.asarray(other, float)[:, :2] * scale
    points = np.concatenate([np.linspace(a, b, max(2, int(np.linalg.norm(b - a) / 0.25)))
                             for a, b in zip(xy, xy[1:])])
    points = points[np.minimum(np.linalg.norm(points - xy[0], axis=1),
                               np.linalg.norm(points - xy[-1], axis=1)) > rules.clearance_m + 1.0]
    if not len(points):
        return 0.0
    near = np.full(len(points), np.inf)
    for a, b in zip(oxy, oxy[1:]):
        t = np.clip(((points - a) @ (b - a)) / max((b - a) @ (b - a), 1e-12), 0, 1)
        near = np.minimum(near, np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1))
    return float(np.count_nonzero(near <= rules.corridor_m - 0.5) * 0.25)


def own_shared_risks(net, cand, site_id: int, route, weaknesses) -> list[str]:
    """What ``route`` (a fix for ``site_id``) shares with the failures that cut the site off,
    judged by this test itself: a trench or route node of theirs (ridden on spare strands
    too), a node in a building of theirs other than the site's (sites within
    ``same_building_m`` are one building), its link ending on a failing device, a new trench
    in the street corridor of one of their trenches."""
    rules = cand.risk_rules
    trenches = set().union(*(w.failure.trenches for w in weaknesses))
    nodes = set().union(*(w.failure.nodes for w in weaknesses))
    devices = set().union(*(w.failure.devices for w in weaknesses))
    passed, ridden = set(), set()
    for leg in route.legs:
        passed |= {n[1] for n in (leg.a, leg.b) if n[0] in ("n", "x")}
        if leg.trench_id is not None:
            ridden.add(leg.trench_id)
        for trench, u, v in cand.edge(leg.a, leg.b, leg.key).get("trenches") or ():
            ridden.add(trench)
            passed |= {u, v}
    problems = [f"trench {t}" for t in sorted(ridden & trenches)] + [f"node {n}" for n in sorted(passed & nodes)]
    sites = net.sites

    def building_of_site(owner: int) -> set[int]:
        here = sites[owner]
        return {owner} | {s for s, row in sites.items() if None not in (row.lat, here.lat) and distance_m(
            row.lat, row.lon, here.lat, here.lon) <= rules.same_building_m}

    def building(node_id: int) -> set[int]:
        owner = net.route_nodes[node_id].site_id
        return set() if owner is None else building_of_site(owner)

    weak_buildings = set().union(*(building(n) for n in nodes)) - building_of_site(site_id)
    problems += [f"building of node {n}" for n in sorted(passed) if building(n) & weak_buildings]
    pop = next(s.id for s in sites.values() if s.code == route.pop_code)
    if _pop_device(net.inv, pop) in devices:
        problems.append(f"ends on failing device {_pop_device(net.inv, pop)}")
    for leg in route.legs:
        if leg.kind not in (NEW, ENTRY):
            continue
        line = cand.coords_of(leg.a, leg.b, leg.key)
        for t in sorted(trenches):
            other = net.segments[t].geometry
            if other and max(clear_corridor_m(line, other, rules),
                             clear_corridor_m(other, line, rules)) >= rules.min_corridor_m + 1.0:
                problems.append(f"new trench beside trench {t}")
    return problems


def routes_by_cost(cand, origin, barred_trenches: set, barred_nodes: set):
    """Every route from ``origin`` to a PoP a fix could take (one cable: each candidate edge
    with its own key, no other site on the way, ending at the first PoP), cheapest first
    (networkx's shortest simple paths on the network with each edge split at a midpoint),
    none through a ``barred`` trench or route node (what a failure cutting the site off
    takes down kills any route through it)."""
    graph, sink = nx.DiGraph(), ("sink",)
    for u, v, key, data in cand.graph.edges(keys=True, data=True):
        lies = {data.get("trench_id")} | {t for t, _, _ in data.get("trenches") or ()}
        if lies & barred_trenches:
            continue
        for a, b in ((u, v), (v, u)):
            if b == origin or a in cand.pops or "site" in (a[0], b[0]) and origin not in (a, b):
                continue
            if any(n[0] in ("n", "x") and n[1] in barred_nodes for n in (a, b)):
                continue
            graph.add_edge(a, ("mid", a, b, key), weight=data["fixed_eur"] + data["per_cable_eur"])
            graph.add_edge(("mid", a, b, key), b, weight=0.0)
    for pop in cand.pops:
        if pop in graph:
            graph.add_edge(pop, sink, weight=0.0)
    if origin not in graph or sink not in graph or not nx.has_path(graph, origin, sink):
        return
    for path in nx.shortest_simple_paths(graph, origin, sink, weight="weight"):
        legs = tuple(make_leg(cand, a, b, key) for _, a, b, key in path[1:-2:2])
        yield Route(legs, path[-2], cand.pops[path[-2]])


def cheapest_redundant_route(result, site_id: int, weaknesses, above: float):
    """The exact optimum of making ``site_id`` redundant by one new route, found by brute
    force: the routes in cost order, the first the audits (run again on the inventory with
    it built) no longer call weak and this test finds no shared risk in. Returns (its cost,
    routes looked at), or (None, count) when no route up to ``above`` EUR qualifies within
    ``MAX_CHEAPER_ROUTES``."""
    net, cand = result.net, result.cand
    spec = site_specs(net, [site_id])[site_id]
    origin = ("site", spec.code)
    barred_trenches = set().union(*(w.failure.trenches for w in weaknesses))
    barred_nodes = set().union(*(w.failure.nodes for w in weaknesses))
    for looked, route in enumerate(routes_by_cost(cand, origin, barred_trenches, barred_nodes), start=1):
        if route.single_cost_eur > above * (1 + TOLERANCE) or looked > MAX_CHEAPER_ROUTES:
            return None, looked
        if own_shared_risks(net, cand, site_id, route, weaknesses):
            continue
        lines = bill_of_materials([route], cand.costs, cand.strands)
        fix = Fix(ConnectPlan(spec, [route], [], lines, bom_total(lines), [], cand.costs, cand.strands,
                              redundant=False))
        if site_id not in weak_sites(Network(applied_inventory(net.inv, cand, fix), net.config)):
            return route.single_cost_eur, looked
    return None, 0


@settings(max_examples=EXAMPLES)
@given(fix_towns)
def test_plan_fixes_on_a_random_town(drawn):
    """Every line of `plan fixes` on a town drawn fresh: its site no longer weak once the line
    is built (the audits run again) and sharing nothing with what cut it off (this test's own
    geometry), within the strand limits, its route's cost (what the router minimises: one
    cable's trench and cable euros) the brute force's optimum of making that site redundant,
    and the ranking ordered by the weight per euro it prints, that weight being what the
    audits say the line protects. A weak site left without a line has no such route either."""
    with tempfile.TemporaryDirectory() as tmp:
        db, streets = build(f"sqlite:///{tmp}/town.db", Path(tmp), random_town(*drawn))
        result = ranking(db, streets, include_by_design=True)
    net, ranked = result.net, result.ranking
    family = failures(net)
    keys = [(-f.per_keur, f.total_eur, f.site.code) for f in ranked.fixes]
    assert keys == sorted(keys)
    for fix in ranked.fixes:
        site = fix.site.site_id
        weaknesses = [f for f in family if site in f.lost]
        assert fix.protected == protected_by_audit(net, result.cand, fix, ranked.weak), fix.site.code
        assert site in fix.protected, fix.site.code
        assert fix.weight == pytest.approx(ranked.weights.total(fix.protected))
        assert fix.per_keur == pytest.approx(1000 * fix.weight / fix.total_eur)
        assert over_capacity(result.cand, [fix.route]) == {}, fix.site.code
        assert own_shared_risks(net, result.cand, site, fix.route, weaknesses) == [], fix.site.code
        optimum, _ = cheapest_redundant_route(result, site, weaknesses, fix.route.single_cost_eur)
        if optimum is not None:  # the cheapest, as it says: not above the brute force's either
            in_order(fix.route.single_cost_eur, optimum)
            assert fix.route.single_cost_eur <= optimum * (1 + TOLERANCE), (fix.site.code, optimum)
    # a weak site left without a line: no route the brute force finds makes it redundant either
    for site in ranked.unfixable:
        weaknesses = [f for f in family if site in f.lost]
        optimum, _ = cheapest_redundant_route(result, site, weaknesses, float("inf"))
        assert optimum is None, (net.sites[site].code, optimum)


# -- one rule in the planner and the audits: a redundant pair built is what the audits see ----------------
def audited_weak(engine) -> dict[str, list[str]]:
    """Site code -> the spof and shared-risk checks that name it, by the audits."""
    from netops.db import session_scope
    from topology.audits import shared_risks, single_points_of_failure
    from topology.rows import load_inventory

    with session_scope(engine) as session:
        net = Network(load_inventory(session, geometry=True))
    weak: dict[str, list[str]] = {}
    for finding in single_points_of_failure(net) + shared_risks(net):
        for code in finding.sites:
            weak.setdefault(code, []).append(finding.title)
    return weak


@settings(max_examples=EXAMPLES)
@given(st.integers(3, 6), st.integers(0, 10**6), st.sampled_from(POP_CELLS), st.integers(1, 3))
def test_a_redundant_pair_built_is_redundant_to_the_audits(size, seed, pops, kitas):
    """`plan connect --redundant` for each Kita of a town drawn fresh, stored and applied one
    after the other: a Kita whose plan shares nothing (``shared_risks`` empty) is named by no
    spof or shared-risk finding of the audits, and one whose plan lists what its pair shares
    is (item 1: one definition in the planner and the audits)."""
    from inventory.models import Plan
    from netops import db as dbmod
    from netops.db import session_scope
    from planning import changeset
    from planning.context import NetworkOptions, site_spec
    from planning.plans import connect_site
    from tests.planning.grid import store_city

    cells = tuple(dict.fromkeys((r % size, c % size) for r, c in pops))
    city = grid_city(size, size, seed=seed, sites=kitas, pop_cells=cells)
    with tempfile.TemporaryDirectory() as tmp:
        engine = dbmod.make_engine(f"sqlite:///{tmp}/town.db")
        dbmod.upgrade(engine)
        streets = Path(tmp) / "streets.geojson"
        with session_scope(engine) as session:
            store_city(session, city, kitas=kitas, streets_path=streets)
        verdicts = {}
        for spec in city.sites:
            with session_scope(engine) as session:
                try:
                    result = connect_site(session, site_spec(session, spec.code), NetworkOptions(streets=streets),
                                          redundant=True)
                except NetopsError:  # no pair within what is left: nothing built
                    continue
                verdicts[spec.code] = result.plan.risks
                changeset.apply_plan(session, session.get(Plan, result.stored.id))
        weak = audited_weak(engine)
        engine.dispose()
    for code, risks in verdicts.items():
        assert (code in weak) == bool(risks), (code, risks, weak.get(code))


@settings(max_examples=EXAMPLES)
@given(st.integers(4, 5), st.integers(0, 10**6), st.sampled_from(POP_CELLS[1:]))
def test_the_redundant_pair_against_a_brute_force(size, seed, pops):
    """`plan connect --redundant` on one site of a grid town drawn fresh: its pair costs what
    the cheapest risk-free pair of a brute force costs (routes in cost order, networkx; every
    pair of them judged by ``pair_faults``; stopped once no later route can make a cheaper
    pair), and so does the redundant program's optimum: a check that does not rest on
    ``planning/exact.py`` or ``planning/redundant.py``'s model."""
    net, (site,) = town(size, 1, seed, pops)
    seen, best = [], float("inf")
    for looked, route in enumerate(routes_by_cost(net, site, set(), set())):
        cost = route.single_cost_eur
        assume(looked < MAX_CHEAPER_ROUTES)
        if seen and seen[0].single_cost_eur + cost >= best:
            break
        best = min([best] + [other.single_cost_eur + cost for other in seen
                             if other.single_cost_eur + cost < best and not pair_faults(net, other, route)])
        seen.append(route)
    assume(best < float("inf"))
    planned = min_cost_routes(net, site, 2)
    assert pair_faults(net, *planned) == []
    assert pair_cost(planned) == pytest.approx(best, rel=TOLERANCE)
    assert exact_pairs(RedundantInstance(net, [site])).value_eur == pytest.approx(best, rel=TOLERANCE)
