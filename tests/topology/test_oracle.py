"""rank, cut and spof against the brute-force oracle (``tests/topology/oracle.py``): remove
each element, search the raw rows again from the core, compare. Random small networks with
every status, closures and multi-cable links (hypothesis), and the seeded city with trench
segments and manholes set out of service while live links still run through them (the
case an independent oracle found: manholes cutting 82 sites that the ranking put at 25)."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.topology.builder import InventoryBuilder
from tests.topology.oracle import Oracle
from topology.audits import (
    blast_radius, criticality_ranking, path_diversity, ranked_elements, resolve_failures, run_audits,
    single_points_of_failure,
)
from topology.network import AuditConfig, Network
from topology.rows import Inventory

KINDS = ["school", "kindergarten", "hospital", "business_park", "hotspot", "public_building"]
STATUSES = ["active", "active", "active", "decommissioned", "planned"]


@st.composite
def inventories(draw) -> InventoryBuilder:
    """A few sites (one or two PoPs with a router and a switch), manholes, closures,
    trenches, cables site to site or through a closure, links over one or two cables,
    radio links, and any row possibly out of service."""
    b = InventoryBuilder()
    sites = [f"S{i}" for i in range(draw(st.integers(3, 7)))]
    cores = draw(st.integers(1, 2))
    for i, code in enumerate(sites):
        b.site(code, "core" if i < cores else draw(st.sampled_from(KINDS)), entry=draw(st.booleans()) or i < cores)
        if i < cores:
            b.device(f"{code}-rtr", code, role="core_router")
            b.link(f"L-{code}-local", f"{code}-rtr", code)
    manholes = [f"M{i}" for i in range(draw(st.integers(1, 3)))]
    for name in manholes:
        b.node(name)
    closures = []
    for i, name in enumerate(draw(st.lists(st.sampled_from(manholes), max_size=2))):
        b.closure(f"CL{i}", name)
        closures.append(f"CL{i}")
    nodes = [code for code in sites if code in b.node_ids] + manholes
    pairs = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)).filter(lambda p: p[0] != p[1])
    trenches = []
    for i, (a, z) in enumerate(draw(st.lists(pairs, min_size=1, max_size=9))):
        b.trench(f"T{i}", a, z)
        trenches.append(f"T{i}")
    routes = st.lists(st.sampled_from(trenches), max_size=3, unique=True)
    site_pairs = st.tuples(st.sampled_from(sites), st.sampled_from(sites)).filter(lambda p: p[0] != p[1])
    for i, (a, z) in enumerate(draw(st.lists(site_pairs, max_size=9))):
        how = draw(st.sampled_from(["cable", "closure", "radio"] if closures else ["cable", "radio"]))
        if how == "radio":
            b.link(f"L{i}", a, z, medium="radio")
        elif how == "cable":
            b.link(f"L{i}", a, z, draw(routes))
        else:  # two cables spliced in a closure
            closure = draw(st.sampled_from(closures))
            b.cable(f"C{i}a", a, closure, draw(routes))
            b.cable(f"C{i}b", closure, z, draw(routes))
            b.link(f"L{i}", a, z, cables=[f"C{i}a", f"C{i}b"])
    rows = ([("site", s) for s in sites[cores:]] + [("node", n.code) for n in b.inv.nodes]
            + [("segment", t) for t in trenches] + [("closure", c) for c in closures]
            + [("cable", c) for c in b.cable_ids] + [("link", k) for k in b.link_ids]
            + [("device", d) for d in b.device_ids])
    for kind, code in rows:
        status = draw(st.sampled_from(STATUSES))
        if status != "active":
            b.set_status(kind, code, status)
    return b


def _elements(net: Network):
    """Every element the network has, as (oracle kind, id, the name ``audit cut`` takes)."""
    yield from (("trench", s.id, f"trench:{s.code}") for s in net.segments.values())
    yield from (("node", n.id, f"node:{n.code}") for n in net.route_nodes.values())
    yield from (("closure", c.id, f"closure:{c.code}") for c in net.closures.values())
    yield from (("cable", c.id, f"cable:{c.code}") for c in net.cables.values())
    yield from (("device", d.id, f"device:{d.name}") for d in net.devices.values())
    yield from (("link", k, f"link:{data['code']}") for k, data in net.links.items())
    yield from (("site", s.id, f"site:{s.code}") for s in net.sites.values())


def _codes(net: Network, site_ids) -> set[str]:
    return {net.sites[s].code for s in site_ids}


def check_rank(net: Network, oracle: Oracle) -> None:
    ranked = {(e.kind, e.id): e for e in criticality_ranking(net)}
    for kind, ident, _ in _elements(net):
        if kind in ("trench", "node", "device"):
            assert set(ranked[kind, ident].site_ids) == oracle.service_lost({(kind, ident)}), (kind, ident)
    # a trench or node left out of the network cuts nothing
    for row in net.inv.segments:
        if row.id not in net.segments:
            assert not oracle.service_lost({("trench", row.id)})
    for row in net.inv.nodes:
        if row.id not in net.route_nodes:
            assert not oracle.service_lost({("node", row.id)})


def check_cut(net: Network, oracle: Oracle, rng: random.Random) -> None:
    elements = list(_elements(net))
    failures = [[e] for e in elements] + [rng.sample(elements, 2) for _ in range(5) if len(elements) >= 2]
    for failed in failures:
        result = blast_radius(net, *resolve_failures(net, [name for _, _, name in failed]))
        down = {(kind, ident) for kind, ident, _ in failed}
        assert set(result.sites_cut) == _codes(net, oracle.service_lost(down)), failed
        assert set(result.physically_isolated) == _codes(net, oracle.physical_lost(down)), failed


def check_spof(net: Network, oracle: Oracle) -> None:
    """Each element of a finding cuts off exactly the finding's sites (on its own layer or in
    service, beyond its own site), and every element that cuts off a site on its own layer
    is in a finding."""
    entry_site = {n.id: n.site_id for n in net.route_nodes.values()}
    named = set()
    for finding in single_points_of_failure(net):
        for e in finding.elements:
            named.add((e.kind, e.id))
            if e.kind == "site":  # a site as a cable end: the cables ending there fail
                down = {("cable", c) for c, ends in oracle.cables.items() if ("site", e.id) in ends}
                own = {e.id}
            else:
                down = {(e.kind, e.id)}
                own = {entry_site.get(e.id)} if e.kind == "node" else (
                    {net.devices[e.id].site_id} if e.kind == "device" else set())
            layer = {"trench": oracle.physical_lost, "node": oracle.physical_lost, "cable": oracle.cable_lost,
                     "closure": oracle.cable_lost, "site": oracle.cable_lost}.get(e.kind, oracle.service_lost)
            expected = (layer(down) | oracle.service_lost(down)) - own
            assert set(finding.sites) == _codes(net, expected), (e, finding.sites)
    for kind, ident, _ in _elements(net):
        layer = {"trench": oracle.physical_lost, "node": oracle.physical_lost, "cable": oracle.cable_lost,
                 "closure": oracle.cable_lost}.get(kind, oracle.service_lost)
        own = {entry_site.get(ident)} if kind == "node" else (
            {net.devices[ident].site_id} if kind == "device" else set())
        if kind != "site" and layer({(kind, ident)}) - own:
            assert (kind, ident) in named, (kind, ident)


@settings(max_examples=200, deadline=None)
@given(inventories(), st.booleans(), st.booleans(), st.randoms(use_true_random=False))
def test_rank_cut_and_spof_agree_with_the_oracle(city, planned, transit, rng):
    net = Network(city.inv, AuditConfig(include_planned=planned, transit=transit))
    oracle = Oracle(city.inv, include_planned=planned, transit=transit)
    check_rank(net, oracle)
    check_cut(net, oracle, rng)
    check_spof(net, oracle)


@pytest.mark.slow
def test_the_seeded_city_with_plant_out_of_service_agrees_with_the_oracle(seeded_inventory):
    """Trench segments and manholes recorded out of service while live links run through
    them: they can still fail, and rank and cut count what they take down."""
    inv = seeded_inventory
    rng = random.Random(13)
    for i in rng.sample(range(len(inv.segments)), 60):
        inv.segments[i] = inv.segments[i]._replace(status="decommissioned")
    for i in rng.sample([i for i, n in enumerate(inv.nodes) if n.kind == "manhole"], 40):
        inv.nodes[i] = inv.nodes[i]._replace(status="decommissioned")
    net = Network(inv)
    oracle = Oracle(inv)
    retired = {n.id for n in inv.nodes if n.status != "active"}
    out_of_service = [("trench", s.id) for s in inv.segments  # or active, into a decommissioned manhole
                      if (s.status != "active" or {s.a_node_id, s.b_node_id} & retired) and s.id in net.segments]
    out_of_service += [("node", n) for n in retired if n in net.route_nodes]
    ranked = {(e.kind, e.id): e for e in criticality_ranking(net)}
    assert any(oracle.service_lost({e}) for e in out_of_service)  # the test bites
    for element in out_of_service + rng.sample(sorted(ranked), 300):
        assert set(ranked[element].site_ids) == oracle.service_lost({element}), element
        cut = blast_radius(net, *resolve_failures(net, [f"{element[0]}:{ranked[element].code}"]))
        assert set(cut.sites_cut) == _codes(net, oracle.service_lost({element}))


@settings(max_examples=100, deadline=None)
@given(inventories(), st.booleans(), st.randoms(use_true_random=False))
def test_answers_do_not_depend_on_the_order_of_the_rows(city, transit, rng):
    """What a database returns in another order (PostgreSQL after updates) changes no
    finding, no ranking and no example element: every list is ordered by weight and names."""
    def answers(inv):
        net = Network(inv, AuditConfig(transit=transit))
        return ([f.as_dict() for f in run_audits(net).sorted()],
                [(e.kind, e.code, e.weight, e.sites) for e in criticality_ranking(net)],
                path_diversity(net))

    shuffled = Inventory(**{f.name: rng.sample(getattr(city.inv, f.name), len(getattr(city.inv, f.name)))
                            for f in dataclasses.fields(Inventory)})
    assert answers(shuffled) == answers(city.inv)


@settings(max_examples=100, deadline=None)
@given(inventories(), st.booleans(), st.dictionaries(st.sampled_from(KINDS), st.sampled_from([-2.0, 0.0, 0.5, 3.0])))
def test_the_ranking_is_worst_first_then_by_kind_and_code(city, transit, weights):
    """The ranking's order (a numpy lexsort) is the documented key: weight down, number of
    sites down, kind, code; with weights of zero (sites that weigh nothing, ranked above the
    elements that cut nothing off) and negative (ranked below them)."""
    net = Network(city.inv, AuditConfig(weights={**AuditConfig().weights, **weights}, transit=transit))
    ranking = criticality_ranking(net)
    assert ranking == sorted(ranking, key=lambda e: (-e.weight, -len(e.site_ids), e.kind, e.code))
    assert sorted((e.kind, e.id) for e in ranking) == sorted(ranked_elements(net))


@settings(max_examples=40, deadline=None)
@given(inventories(), st.booleans(), st.booleans())
def test_every_two_failures_at_once_agree_with_the_oracle(city, planned, transit):
    """``audit cut`` of every two elements at once (check_cut draws five pairs): the failure
    search stops at the first node whose DFS-tree path to the core is intact, so a failed
    tree edge or node it overlooks (a parallel link or trench, two link sets sharing a
    bridge, a customer's uplink leaf without transit) shows here as too few sites cut."""
    net = Network(city.inv, AuditConfig(include_planned=planned, transit=transit))
    oracle = Oracle(city.inv, include_planned=planned, transit=transit)
    for failed in itertools.combinations(list(_elements(net)), 2):
        result = blast_radius(net, *resolve_failures(net, [name for _, _, name in failed]))
        down = {(kind, ident) for kind, ident, _ in failed}
        assert set(result.sites_cut) == _codes(net, oracle.service_lost(down)), failed
        assert set(result.physically_isolated) == _codes(net, oracle.physical_lost(down)), failed
