"""Each audit on a hand-built mini city whose weaknesses are known by construction.

Layout (trenches; every site has an entry node E-<site> and a switch <site>-sw)::

    P1 ==TB1== MB ==TB2== P2            two PoPs (core), backbone link between them
    S1: TS1a to P1, TS1b to P2          school, truly redundant
    S2: TS2 to M2, then TM2a to P1 and TM2b to P2; both links through TS2 (shared!)
        dark alternative TS2alt via M3 to P2 carries no fibre
    C1: TC1a to P1, TC1b to P2          hospital, truly redundant
    K1: TK to P1 only                   kindergarten, single-homed; its drop TK is full
    spur: P1 -TX- MX -TH1- H1, MX -TH2- H2, hotspots; H3 radio-meshed to H1 (no entry); TX full
    U1: business park, switch without links or trenches, no management IP
    PB1: public building without coordinates (nothing else)
"""

from __future__ import annotations

import pytest

from tests.topology.builder import InventoryBuilder
from topology.audits import (
    blast_radius, capacity, capacity_findings, consistency, criticality_ranking, path_diversity,
    reachability, resolve_failures, run_audits, shared_risks, single_points_of_failure,
)
from topology.findings import Severity
from topology.network import AuditConfig, Network
from netops.errors import NetopsError, NotFoundError


def mini_city() -> InventoryBuilder:
    b = InventoryBuilder()
    for pop in ("P1", "P2"):
        b.site(pop, "core")
        b.device(f"{pop}-rtr", pop, role="core_router", mgmt_ip=f"127.2.0.{len(b.device_ids)}")
        b.link(f"L-{pop}-local", f"{pop}-rtr", pop)
    b.node("MB")
    b.trench("TB1", "P1", "MB")
    b.trench("TB2", "MB", "P2", length_factor=2.0)  # recorded length twice the geometry
    b.link("L-BB", "P1-rtr", "P2-rtr", ["TB1", "TB2"])

    b.site("S1", "school")
    b.route("L-S1a", "S1", "P1", ["TS1a"])
    b.route("L-S1b", "S1", "P2", ["TS1b"])

    b.site("S2", "school")
    b.node("M2")
    b.node("M3")
    b.route("L-S2a", "S2", "P1", ["TS2", "TM2a"], through=["M2"])
    b.route("L-S2b", "S2", "P2", ["TS2", "TM2b"], through=["M2"])  # out by the same trench
    b.trench("TS2alt", "S2", "M3")
    b.trench("TM3", "M3", "P2")

    b.site("C1", "hospital")
    b.route("L-C1a", "C1", "P1", ["TC1a"])
    b.route("L-C1b", "C1", "P2", ["TC1b"])

    b.site("K1", "kindergarten")
    b.trench("TK", "K1", "P1", ducts_total=2, ducts_used=2)
    b.link("L-K1", "K1", "P1", ["TK"], cable_strands=4)

    for hotspot in ("H1", "H2"):
        b.site(hotspot, "hotspot")
    b.site("H3", "hotspot", entry=False)
    b.node("MX", "junction")
    b.trench("TX", "P1", "MX", ducts_total=1, ducts_used=1)
    b.trench("TH1", "H1", "MX")
    b.trench("TH2", "H2", "MX")
    b.link("L-H1", "H1", "P1", ["TH1", "TX"])
    b.link("L-H2", "H2", "P1", ["TH2", "TX"])
    b.link("L-H3", "H3", "H1", medium="radio")

    b.site("U1", "business_park", mgmt_ip=None)
    b.site("PB1", "public_building", entry=False, device=False, coordinates=False)
    return b


@pytest.fixture
def city() -> InventoryBuilder:
    return mini_city()


@pytest.fixture
def net(city) -> Network:
    return Network(city.inv)


def by_sites(findings) -> dict[tuple, set]:
    return {f.sites: {(e.kind, e.code) for e in f.elements} for f in findings}


def test_reachability_finds_the_isolated_site(net):
    findings = reachability(net)
    assert [(f.layer, f.severity, f.sites) for f in findings] == [
        ("logical", Severity.CRITICAL, ("U1",)),
        ("physical", Severity.WARNING, ("U1",)),
    ]


def test_single_points_of_failure_group_elements_by_what_they_cut_off(net):
    found = by_sites(single_points_of_failure(net))
    assert found == {
        ("K1",): {("trench", "TK"), ("cable", "C-L-K1"), ("link", "L-K1")},
        # the spur takes H3 too (radio-meshed behind H1): counted as rank and cut count it
        ("H1", "H2", "H3"): {("trench", "TX"), ("node", "MX")},
        ("H1", "H3"): {("trench", "TH1"), ("cable", "C-L-H1"), ("link", "L-H1")},
        ("H2",): {("trench", "TH2"), ("cable", "C-L-H2"), ("link", "L-H2")},
        ("H3",): {("device", "H1-sw"), ("link", "L-H3")},
        # P1's switch and building entry (and P1 as a cable end) feed everything single-homed to P1
        ("H1", "H2", "H3", "K1"): {("device", "P1-sw"), ("node", "E-P1"), ("site", "P1")},
    }
    # truly redundant sites never appear; severities follow the sites cut off
    everything = {s for f in single_points_of_failure(net) for s in f.sites}
    assert not everything & {"S1", "S2", "C1"}
    severity = {f.sites: f.severity for f in single_points_of_failure(net)}
    assert severity[("K1",)] == Severity.WARNING  # a Kita: high criticality
    assert severity[("H3",)] == Severity.INFO  # a hotspot: low
    assert severity[("H1", "H2", "H3", "K1")] == Severity.WARNING  # weight 7 < 10


def test_shared_trench_and_manhole_defeat_the_redundant_school(net):
    # (this town's straight trenches fan out along its grid rows: street corridors everywhere;
    # tests/topology/test_risk.py and the seeded city test the corridor rule)
    findings = {f.audit: f for f in shared_risks(net) if f.audit != "shared_corridor"}
    assert set(findings) == {"shared_trench", "shared_node"}
    trench, manhole = findings["shared_trench"], findings["shared_node"]
    assert trench.sites == manhole.sites == ("S2",)
    assert {(e.kind, e.code) for e in trench.elements} == {
        ("trench", "TS2"), ("link", "L-S2a"), ("link", "L-S2b")}
    # both links also pass through manhole M2 (TS2 -> M2 -> TM2a / TM2b); S2's own
    # building entry E-S2 is not held against it
    assert {(e.kind, e.code) for e in manhole.elements} == {
        ("node", "M2"), ("link", "L-S2a"), ("link", "L-S2b")}
    assert trench.layer == "service" and trench.weight == 5.0


def test_path_diversity_per_site(net):
    rows = {r.site: (r.logical_paths, r.physical_paths, r.trench_cuts) for r in path_diversity(net)}
    assert rows["S1"] == (2, 2, ())
    assert rows["S2"] == (2, 2, ("TS2",))  # physically diverse, but both links in TS2
    assert rows["C1"] == (2, 2, ())
    assert rows["K1"] == (1, 1, ("TK",))
    assert rows["H1"] == (1, 1, ("TH1", "TX"))
    assert rows["H3"] == (1, None, ("TH1", "TX"))  # radio-meshed: no building entry
    assert rows["U1"] == (0, 0, ())
    assert "PB1" not in rows and "P1" not in rows


def test_blast_radius_of_simultaneous_cuts(net):
    def cut(*names):
        failure, refs = resolve_failures(net, names)
        return blast_radius(net, failure, refs)

    assert cut("TS1a").sites_cut == ()
    both = cut("TS1a", "TS1b")
    assert both.sites_cut == ("S1",) and both.links_down == ("L-S1a", "L-S1b")
    spur = cut("trench:TX")
    assert spur.sites_cut == ("H1", "H2", "H3") and spur.hotspots_cut == 3
    assert spur.physically_isolated == ("H1", "H2")  # H3 has no trench of its own
    assert spur.devices_cut == ("H1-sw", "H2-sw", "H3-sw")
    assert cut("TS2").sites_cut == ("S2",) and cut("TS2").physically_isolated == ()
    storm = cut("node:E-P2", "TC1a", "P1-sw")
    # P1's switch and P2's building entry down: every site loses both PoPs
    assert storm.sites_by_kind == {"hospital": 1, "hotspot": 3, "kindergarten": 1, "school": 2}
    assert cut("node:E-P2", "TC1a").sites_cut == ("C1",)  # S1, S2 and K1 still reach P1
    assert cut("site:K1").sites_cut == ("K1",)


def test_cut_rejects_unknown_and_ambiguous_names(net, city):
    with pytest.raises(NotFoundError, match="NOPE"):
        resolve_failures(net, ["NOPE"])
    city.node("TK")  # a manhole with the same code as a trench
    with pytest.raises(NetopsError, match="ambiguous"):
        resolve_failures(Network(city.inv), ["TK"])


def test_ranking_orders_by_weighted_sites_and_equals_naive(net):
    ranking = criticality_ranking(net)
    top = [(e.kind, e.code, e.sites) for e in ranking[:4]]
    assert top == [("device", "C1-sw", ("C1",)), ("node", "E-C1", ("C1",)),
                   ("device", "P1-sw", ("H1", "H2", "H3", "K1")), ("node", "E-P1", ("H1", "H2", "H3", "K1"))]
    weights = {(e.kind, e.code): e.weight for e in ranking}
    assert weights[("trench", "TS2")] == 5.0  # the shared trench takes the school down
    assert weights[("trench", "TS1a")] == 0.0
    assert weights[("trench", "TX")] == 3.0
    assert weights[("node", "E-C1")] == 10.0  # the hospital's own building entry
    assert weights[("node", "E-P1")] == 7.0  # K1 + three hotspots
    assert [e.weight for e in ranking] == sorted((e.weight for e in ranking), reverse=True)
    naive = {(e.kind, e.id): e.site_ids for e in criticality_ranking(net, naive=True)}
    assert {(e.kind, e.id): e.site_ids for e in ranking} == naive


def test_capacity_reports_full_cables_and_trenches(net):
    rows = {(r.kind, r.code): (r.used, r.free) for r in capacity(net)}
    assert rows[("cable", "C-L-K1")] == (2, 2)
    assert rows[("trench", "TK")] == (2, 0)
    findings = {(f.elements[0].code, f.severity, f.title) for f in capacity_findings(net)}
    assert findings == {("TK", Severity.INFO, "building drop full: 2/2 ducts used"),  # only K1 needs it
                        ("TX", Severity.WARNING, "trench full: 1/1 ducts used")}  # blocks the spur


def test_consistency_checks(city):
    city.link("L-BAD", "S1", "P2", cable="C-L-K1", strands=(3, 4))  # K1's cable does not reach S1
    city.device("dup-sw", "S1", mgmt_ip="127.2.0.1")  # same IP as P1-rtr
    city.cable("C-GAP", "S1", "P2", ["TS1a", "TB2"])  # TS1a ends at P1, TB2 starts at MB
    net = Network(city.inv)
    found = {(f.severity, f.title, tuple(e.code for e in f.elements)) for f in consistency(net)}
    assert found == {
        (Severity.CRITICAL, "link's cable path does not connect the sites of its two ends", ("L-BAD",)),
        (Severity.WARNING, "recorded length 1389 m disagrees with geometry 694 m", ("TB2",)),
        (Severity.WARNING, "device has no management IP", ("U1-sw",)),
        (Severity.CRITICAL, "management IP 127.2.0.1 used by 2 devices", ("P1-rtr", "dup-sw")),
        (Severity.WARNING, "site has no coordinates", ("PB1",)),
        (Severity.WARNING, "cable's trench segments do not form a route between its two ends", ("C-GAP",)),
    }
    # and the now full cable shows up in the capacity audit
    assert ("C-L-K1", Severity.WARNING) in {(f.elements[0].code, f.severity) for f in capacity_findings(net)}


def test_run_audits_gates_on_severity(net):
    report = run_audits(net)
    assert report.counts()["critical"] == 1  # U1 unreachable
    assert report.fails(Severity.CRITICAL) and report.fails(Severity.WARNING)
    assert not run_audits(net, ["shared_risk"]).fails(Severity.CRITICAL)
    assert run_audits(net, ["shared_risk"]).fails(Severity.WARNING)


def test_a_planned_second_uplink_counts_only_when_evaluating_the_plan(city):
    city.trench("TK2", "K1", "P2")
    city.link("L-K1b", "K1", "P2", ["TK2"])
    def plan(rows, code):
        rows[:] = [row._replace(status="planned") if row.code == code else row for row in rows]

    plan(city.inv.segments, "TK2")
    plan(city.inv.links, "L-K1b")
    today = {r.site: r.logical_paths for r in path_diversity(Network(city.inv))}
    with_plan = {r.site: r.logical_paths for r in path_diversity(Network(city.inv, AuditConfig(include_planned=True)))}
    assert today["K1"] == 1 and with_plan["K1"] == 2


# -- what the audits must agree on (issue 13) ----------------------------------------------
def test_plant_out_of_service_under_live_links_still_fails(city):
    """A trench recorded out of service, or ending at a decommissioned manhole, that still
    carries live links stays in the failure model: rank, cut and spof count it, and the
    consistency audit says what contradicts."""
    city.set_status("segment", "TH2", "decommissioned")
    city.set_status("node", "MX", "decommissioned")  # TX, TH1 and TH2 all end there
    net = Network(city.inv)
    ranked = {(e.kind, e.code): e.sites for e in criticality_ranking(net)}
    assert ranked["trench", "TX"] == ("H1", "H2", "H3")  # active trench into a decommissioned manhole
    assert ranked["node", "MX"] == ("H1", "H2", "H3")
    assert ranked["trench", "TH2"] == ("H2",)
    assert blast_radius(net, *resolve_failures(net, ["TX"])).sites_cut == ("H1", "H2", "H3")
    assert {"TX", "MX", "TH2"} <= {e.code for f in single_points_of_failure(net) for e in f.elements}
    contradictions = {(f.title, f.elements[0].code) for f in consistency(net) if "live links" in f.title}
    assert contradictions == {("node is decommissioned but live links pass it", "MX"),
                              ("trench is decommissioned but live links run through it", "TH2")}


def add_spliced_link(city: InventoryBuilder) -> None:
    """K1 to P2 over two cables spliced in closure CL-K, which sits in manhole MK."""
    city.node("MK")
    city.closure("CL-K", "MK")
    city.trench("TKa", "K1", "MK")
    city.trench("TKb", "MK", "P2")
    city.cable("C-K1a", "K1", "CL-K", ["TKa"])
    city.cable("C-K1b", "CL-K", "P2", ["TKb"])
    city.link("L-K1-2", "K1", "P2", cables=["C-K1a", "C-K1b"])


def test_a_closure_fails_the_cables_spliced_in_it_and_its_manhole_fails_it(city):
    add_spliced_link(city)
    net = Network(city.inv)

    def cut(*names):
        return blast_radius(net, *resolve_failures(net, names)).sites_cut

    assert cut("TK") == ()  # K1 now has a second uplink, through the closure
    assert cut("TK", "closure:CL-K") == ("K1",)
    assert cut("TK", "node:MK") == ("K1",)  # the manhole takes its closure with it
    assert cut("TK", "cable:C-K1b") == ("K1",)


def test_cut_explains_names_it_cannot_use(net, city):
    with pytest.raises(NotFoundError, match=r"^no trench, node, closure, cable, device, link, site or splitter named "
                                            r"'TS1'; did you mean TS1a or TS1b or S1\?$"):
        resolve_failures(net, ["TS1"])
    with pytest.raises(NotFoundError, match=r"no node named 'TS2': it is a trench \(write trench:TS2\)"):
        resolve_failures(net, ["node:TS2"])
    with pytest.raises(NotFoundError, match=r"'x{60}…'$"):
        resolve_failures(net, ["x" * 10_000])
    city.trench("T-OLD", "S1", "MB")
    city.set_status("segment", "T-OLD", "decommissioned")
    with pytest.raises(NotFoundError, match="trench 'T-OLD' is decommissioned and no live link runs through it, so it is not part"):
        resolve_failures(Network(city.inv), ["T-OLD"])


def test_without_transit_pop_routers_become_single_points(city):
    """With transit, S1 (dual-homed to both PoPs' switches) carries P1's traffic to P2 when
    P1's router fails. Without, P1's router and its link to P1's switch cut off everything
    homed on P1 alone, and a site hanging on a school's switch loses the core."""
    city.site("K2", "kindergarten", entry=False)
    city.link("L-K2", "K2", "S1", medium="radio")  # K2 behind the school's switch
    transit = Network(city.inv)
    strict = Network(city.inv, AuditConfig(transit=False))
    alone_on_p1 = ("H1", "H2", "H3", "K1")
    rank = {(e.kind, e.code): e.sites for e in criticality_ranking(transit)}
    strict_rank = {(e.kind, e.code): e.sites for e in criticality_ranking(strict)}
    assert rank["device", "P1-rtr"] == () and strict_rank["device", "P1-rtr"] == alone_on_p1
    assert rank["device", "S1-sw"] == ("K2", "S1") and strict_rank["device", "S1-sw"] == ("S1",)
    assert "K2" in {f.sites[0] for f in reachability(strict) if f.layer == "logical"}
    spof = {f.sites: {e.code for e in f.elements} for f in single_points_of_failure(strict)}
    assert {"P1-rtr", "P1-sw", "L-P1-local"} <= spof[alone_on_p1]
    assert not any("P1-rtr" in codes for codes in by_sites(single_points_of_failure(transit)).values()
                   for codes in [{c for _, c in codes}])
    assert blast_radius(strict, *resolve_failures(strict, ["P1-rtr"])).devices_cut == (
        "H1-sw", "H2-sw", "H3-sw", "K1-sw", "P1-sw")


def test_a_site_set_back_to_planned_under_live_plant_is_reported_not_a_crash(city):
    """What `inventory seed` after `plan apply` left behind: the Kita planned again while
    the plan's device, cable and link stay active (it crashed every audit with a KeyError)."""
    city.site("K3", "kindergarten")
    city.trench("TK3", "K3", "P2")
    city.link("L-K3", "K3", "P2", ["TK3"])
    city.set_status("site", "K3", "planned")
    net = Network(city.inv)
    report = run_audits(net)
    assert ("device is in service at a site that is planned", "K3-sw") in {
        (f.title, f.elements[0].code) for f in report.findings}
    assert "K3" not in {s for f in report.findings for s in f.sites}  # a planned site is never counted
    assert blast_radius(net, *resolve_failures(net, ["TK3"])).links_down == ("L-K3",)
    assert {r.site for r in path_diversity(net)} >= {"S1", "K1"}


def test_a_device_at_a_site_no_row_holds_is_named_with_its_site_id(city):
    """A device whose site id no site row has (written around the foreign key: SQLite holds
    it only when asked) read "at a site that is None"."""
    city.site("K3", "kindergarten")
    city.trench("TK3", "K3", "P2")
    city.link("L-K3", "K3", "P2", ["TK3"])
    site_id = next(s.id for s in city.inv.sites if s.code == "K3")
    city.inv.sites[:] = [s for s in city.inv.sites if s.code != "K3"]
    found = {(f.title, f.elements[0].code) for f in run_audits(Network(city.inv)).findings}
    assert (f"device is in service at a site the inventory does not hold (site id {site_id})", "K3-sw") in found
