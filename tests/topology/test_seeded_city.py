"""The audit on the seeded Gelsenkirchen network finds exactly the weaknesses the generator
planted (its manifest), and nothing among the sites the manifest says are redundant."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from inventory.seed import generate
from netops import db as dbmod
from netops.db import session_scope
from topology.audits import (
    blast_radius, capacity_findings, consistency, criticality_ranking, path_diversity, reachability,
    resolve_failures, shared_risks, single_points_of_failure,
)
from topology.network import Network
from topology.rows import load_inventory

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(seeded_city_db):
    engine = dbmod.make_engine(f"sqlite:///{seeded_city_db}")
    with session_scope(engine) as session:
        inv = load_inventory(session, geometry=True)
    engine.dispose()
    return seeded_city_db, Network(inv)


@pytest.fixture(scope="module")
def manifest():
    return generate(1).manifest


def test_single_homed_sites_are_exactly_the_planted_ones(seeded, manifest):
    _, net = seeded
    rows = path_diversity(net)
    single = {r.site for r in rows if r.logical_paths == 1}
    by_design = set(manifest["single_uplink_by_design"]) | set(manifest["radio_hotspots"])
    assert single - by_design == set(manifest["single_homed"])
    assert {r.site for r in rows if r.kind == "hotspot"} <= single  # hotspots: one uplink each
    assert not any(r.logical_paths == 0 for r in rows)
    assert reachability(net) == []


def test_shared_trench_redundancies_are_exactly_the_planted_ones(seeded, manifest):
    _, net = seeded
    findings = [f for f in shared_risks(net) if f.audit == "shared_trench"]
    spur = manifest["spur"]
    spur_redundant = {s for s in spur["sites"] if not s.startswith("hotspot-")}  # two links, one spur
    assert {s for f in findings for s in f.sites} == set(manifest["shared_trench"]) | spur_redundant
    for finding in findings:  # each names its site's two uplinks and the trench they share
        links = [e.code for e in finding.elements if e.kind == "link"]
        assert sorted(links) == sorted(f"{s}-up{n}" for s in finding.sites for n in (1, 2))
        assert any(e.kind == "trench" for e in finding.elements)
    spur_finding = next(f for f in findings if set(f.sites) == spur_redundant)
    assert set(spur["segments"]) <= {e.code for e in spur_finding.elements}


def _manholes_on(net, link_code: str) -> set[str]:
    """Route nodes a link passes, straight from its trench segments (no audit code)."""
    link = next(data for data in net.links.values() if data["code"] == link_code)
    return {net.route_nodes[n].code for s in link["segment_ids"]
            for n in (net.segments[s].a_node_id, net.segments[s].b_node_id)}


def shared_manhole_sites(net) -> set[str]:
    """Sites of shared-manhole findings, each checked against the raw trench segments of
    its two uplinks (both really pass the manhole), independently of the audit."""
    sites = set()
    for finding in shared_risks(net):
        if finding.audit != "shared_node":
            continue
        nodes = {e.code for e in finding.elements if e.kind == "node"}
        for site in finding.sites:
            shared = _manholes_on(net, f"{site}-up1") & _manholes_on(net, f"{site}-up2")
            assert nodes and nodes <= shared, (site, nodes)
            sites.add(site)
    return sites


def test_shared_manholes_are_real(seeded, manifest):
    """Besides the planted shared trenches (whose routes also share the manhole after the
    trench), the audit finds "redundant" sites whose two routes meet in one of PoP City's
    two junction manholes; at the time of writing pb-vhs, pb-heinrich-koenig-platz and
    pb-margarethe-zingler-platz. The generator's manifest counts them as redundant."""
    _, net = seeded
    sites = shared_manhole_sites(net)
    planted = set(manifest["shared_trench"]) | {"pb-schloss-berge"}
    assert planted <= sites
    assert sites - planted <= set(manifest["redundant"])


def _metres_within(line, other, distance_m: float) -> float:
    """Metres of ``line`` within ``distance_m`` of polyline ``other`` (both [[lon, lat], ...]),
    by plain point-to-segment distances on 1 m steps (no KD-tree, no audit code)."""
    lat0 = line[0][1]
    scale = np.array([111_320.0 * math.cos(math.radians(lat0)), 110_950.0])
    xy, oxy = np.asarray(line) * scale, np.asarray(other) * scale
    points = np.concatenate([a + np.linspace(0, 1, max(2, int(np.hypot(*(b - a))) + 1))[:, None] * (b - a)
                             for a, b in zip(xy, xy[1:])])
    best = np.full(len(points), np.inf)
    for a, b in zip(oxy, oxy[1:]):
        t = np.clip(((points - a) @ (b - a)) / max((b - a) @ (b - a), 1e-9), 0, 1)
        best = np.minimum(best, np.hypot(*(points - (a + t[:, None] * (b - a))).T))
    return float((best <= distance_m).sum())


def shared_corridor_sites(net) -> set[str]:
    """Sites of street-corridor findings, each checked on the raw data: one uplink runs
    through one trench, the other through the other, and the two trenches run within
    5 m of each other for 20 m or more."""
    sites = set()
    for finding in shared_risks(net):
        if finding.audit != "shared_corridor":
            continue
        first, second = (e.id for e in finding.elements if e.kind == "trench")
        metres = _metres_within(net.segments[first].geometry, net.segments[second].geometry, 5.0)
        assert metres >= 20, finding
        for site in finding.sites:
            up = [set(next(d for d in net.links.values() if d["code"] == f"{site}-up{n}")["segment_ids"])
                  for n in (1, 2)]
            assert {first, second} <= up[0] | up[1] and not {first, second} <= up[0] and not {first, second} <= up[1]
            sites.add(site)
    return sites


def test_shared_corridors_are_real(seeded, manifest):
    """The generator's second building entry of a few schools runs along the first one into
    the next manhole (the issue saw one 80 m within 5 m): at the time of writing
    school-155779 and school-155792. Nothing else is in a shared corridor."""
    _, net = seeded
    sites = shared_corridor_sites(net)
    assert sites and sites <= set(manifest["redundant"])


def test_the_spur_is_a_single_point_of_failure_for_its_cluster(seeded, manifest):
    _, net = seeded
    spur = manifest["spur"]
    elements_for = {}
    for finding in single_points_of_failure(net):
        for element in finding.elements:
            elements_for.setdefault(element.code, set()).update(finding.sites)
    meshed = {s for s in manifest["radio_hotspots"] if s.startswith("hotspot-schloss-berge-")}
    assert meshed  # the APs meshed onto the cluster by radio, with no trench of their own
    behind = set(spur["sites"]) | meshed
    ranked = {e.code: set(e.sites) for e in criticality_ranking(net) if e.kind == "trench"}
    for segment in spur["segments"]:  # spof, rank and cut count the same 13 sites
        assert elements_for[segment] == behind == ranked[segment]
        assert set(blast_radius(net, *resolve_failures(net, [segment])).sites_cut) == behind


def test_nothing_false_among_the_redundant_sites(seeded, manifest):
    _, net = seeded
    redundant = set(manifest["redundant"]) - shared_manhole_sites(net) - shared_corridor_sites(net)  # real, above
    assert len(redundant) > 100
    named = {s for audit in (reachability, single_points_of_failure, shared_risks)
             for f in audit(net) for s in f.sites}
    assert not named & redundant
    rows = {r.site: r for r in path_diversity(net)}
    assert all(rows[s].logical_paths == 2 and rows[s].physical_paths == 2 and not rows[s].trench_cuts
               for s in redundant)
    # the ranking agrees: no trench, and no route node but the site's own building entry,
    # alone takes a redundant site down
    hit = {(e.kind, e.code, s) for e in criticality_ranking(net) if e.kind in ("trench", "node")
           for s in set(e.sites) & redundant}
    assert {(kind, code) for kind, code, site in hit} == {("node", f"entry-{site}") for _, _, site in hit}


def test_inventory_weaknesses_are_the_planted_ones(seeded, manifest):
    _, net = seeded
    found = {(f.title.split(" ")[0], e.code) for f in consistency(net) for e in f.elements}
    assert found == {("device", d) for d in manifest["device_without_mgmt_ip"]} | {
        ("recorded", s) for s in manifest["length_mismatch"]}
    full = {f.elements[0].code for f in capacity_findings(net) if "full" in f.title}
    assert set(manifest["full_ducts"]) <= full


def test_cli_gates_the_seeded_city(seeded, manifest):
    path, _ = seeded
    result = CliRunner().invoke(app, ["--db", path, "audit", "shared-risk", "--json", "--fail-on", "warning"])
    assert result.exit_code == 1
    sites = {s for f in json.loads(result.stdout)["findings"] for s in f["sites"]}
    assert set(manifest["shared_trench"]) <= sites
    school = manifest["shared_trench"][-1]
    cut = CliRunner().invoke(app, ["--db", path, "audit", "cut", f"site:{school}", "--json"])
    assert json.loads(cut.stdout)["sites_cut"] == [school]


def test_every_pop_has_two_building_entries_and_neither_carries_all_its_cables(seeded):
    """A carrier's PoP has two diverse cable entries (GENERATED.md): the ring comes in by one
    and leaves by the other, and a site homed on one PoP alone depends on the entry it comes
    in by, not on both. (With one entry, `entry-pop-city` cut off 95 sites and 2,034 homes.)"""
    _, net = seeded
    ranked = {(e.kind, e.id): e for e in criticality_ranking(net)}
    for pop in net.core_sites:
        entries = [n for n in net.route_nodes.values() if n.site_id == pop]
        assert sorted(n.code for n in entries) == [f"entry-{net.sites[pop].code}", f"entry-{net.sites[pop].code}-2"]
        cut = [ranked["node", n.id].site_ids for n in entries]
        assert not cut[0] & cut[1]  # a site reaching the PoP by both entries survives either
        ring = [data for data in net.links.values()
                if data["code"].startswith("ring-") and f"-{net.sites[pop].code}-" in f"{data['code']}-"]
        by = [{n.code for n in entries for t in data["segment_ids"]
               if n.id in (net.segments[t].a_node_id, net.segments[t].b_node_id)} for data in ring]
        assert len(ring) == 2 and sorted(len(b) for b in by) == [1, 1] and by[0] != by[1]  # in by one, out by the other
    city = next(s for s in net.core_sites if net.sites[s].code == "pop-city")
    assert all(len(ranked["node", n.id].site_ids) < 95 for n in net.route_nodes.values() if n.site_id == city)


def test_critical_findings_are_what_an_operator_pages_for(seeded):
    """Severity (README "Severity of what a failure cuts off"): every critical single point
    of failure cuts off a hospital, a gold-SLA line, or is a mass outage, never summed small
    things. Upper bound: gold lines run on two disjoint paths, so only the planted one whose
    paths share a manhole is critical (3 findings), with two mass outages (5 at the time of
    writing; 138 while each gold line ran on one fibre); more means the rule or the city
    changed and wants a look, as the 224 of the old rule did."""
    _, net = seeded
    gold = {row.code for row in net.customers.companies.values() if str(row.service_class) == "sla_gold"}
    kind_of = {site.code: str(site.kind) for site in net.sites.values()}
    findings = single_points_of_failure(net)
    critical = [f for f in findings if f.severity.value == "critical"]
    for finding in critical:
        assert (set(finding.companies) & gold or "hospital" in {kind_of[s] for s in finding.sites}
                or finding.weight >= net.config.critical_weight), finding
    assert 0 < len(critical) <= 10
    warnings = [f for f in findings if f.severity.value == "warning"]
    assert 0 < len(warnings) <= 150 and len(critical) + len(warnings) < len(findings) / 3  # the rest: by design


def test_the_only_gold_lines_one_failure_cuts_off_are_the_planted_ones(seeded, manifest):
    """Each gold SLA line runs from its NTU to two PoP switches on two disjoint fibre paths;
    the planted line(s) whose two paths share a trench or manhole (a park whose two uplinks
    leave through one manhole, ``gold_shared_protection``) are the only gold lines any single
    failure cuts off, and the audit names what they share."""
    _, net = seeded
    gold = {row.code for row in net.customers.companies.values() if str(row.service_class) == "sla_gold"}
    planted = manifest["gold_shared_protection"]
    assert 1 <= len(planted) <= 2 and len(gold) >= 30  # 38: 32 in parks and centres, 6 hospitals
    found: dict[str, set] = {}
    for finding in single_points_of_failure(net):
        for line in set(finding.companies) & gold:
            assert finding.severity.value == "critical"
            found.setdefault(line, set()).update((e.kind, e.code) for e in finding.elements)
    assert set(found) == set(planted)
    for line, shared in planted.items():
        assert {("trench", s) for s in shared["segments"]} | {("node", n) for n in shared["nodes"]} <= found[line]


def test_a_gold_line_is_lost_only_when_both_its_paths_are_cut(seeded, manifest):
    """Cutting a trench of one path leaves the line up; one of each path takes it down; its
    NTU failing takes it down (``netops audit cut --device``)."""
    from topology.network import FailureSet

    _, net = seeded
    row = next(r for r in net.customers.companies.values()
               if str(r.service_class) == "sla_gold" and r.code not in manifest["gold_shared_protection"]
               and r.building_id is not None)
    paths = [data for data in net.links.values() if data["code"] in (f"{row.code}-a", f"{row.code}-b")]
    assert len(paths) == 2 and all(data["cable_ids"] for data in paths)
    own_a, own_b = (set(data["segment_ids"]) for data in paths)
    assert not own_a & own_b
    one, other = sorted(own_a)[len(own_a) // 2], sorted(own_b)[len(own_b) // 2]
    assert row.id not in net.loss_of(FailureSet(trenches=frozenset({one})))[1].companies
    assert row.id not in net.loss_of(FailureSet(trenches=frozenset({other})))[1].companies
    assert row.id in net.loss_of(FailureSet(trenches=frozenset({one, other})))[1].companies
    assert net.loss_of(FailureSet(devices=frozenset({row.device_id})))[1].companies == {row.id}


def test_street_corridors_are_the_definition_on_the_city(seeded):
    """The spatial index of the corridor rule finds exactly what comparing every sample of
    the city's trenches with every other finds (``test_risk.corridors_by_definition``)."""
    from tests.topology.test_risk import corridors_by_definition
    from topology.risk import corridors

    _, net = seeded
    position = {n.id: [n.lon, n.lat] for n in net.route_nodes.values()}
    lines = {s.id: s.geometry for s in sorted(net.segments.values(), key=lambda s: s.id)}
    ends = {s.id: (position[s.a_node_id], position[s.b_node_id]) for s in net.segments.values()}
    found = corridors(lines, ends)
    assert len(found) > 100  # the city's streets have trenches on both sides
    expected = corridors_by_definition(lines, ends)
    assert found == expected and list(found) == list(expected)  # the same order too
