"""Audits that count customers (``topology.customers``): what a failure cuts off in companies
and homes, weighted by service class, on a small town built by hand::

    POP (core, OLT POP-olt: pon1 B+, pon2 B+)
     ├─T1─ M1 ─T2─ CAB (cabinet; closure CL1) ─T3─ SCH (school, link L-SCH over T1 T2 T3,
     │                 │                              company P2P "business" on that link)
     │                 ├─T6─ NB1 (closure CLB1) ... building B1
     │   feeder cable F1: POP -> CL1 over T1 T2, strands for both PONs
     │   S1 1:32 on pon1 in CAB (feeder F1): port 1 ONT O1 in B1 (60 units, drop D1 CL1->CLB1 over T6)
     │                                        port 2 ONT O3 in B3 (8 units, passed)
     │   S2 1:32 on pon2 in CAB (feeder F1): port 1 ONT O2 in B2 (60 units, no drop recorded)
     └─T5─ BP (business park, link L-BP over T5; company GOLD sla_gold on BP-sw)

Weights (``netops.vocabulary``): school 5, business park 3, sla_gold 10, business 3, home 0.1.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netops.geo import distance_m
from tests.topology.builder import InventoryBuilder
from tests.topology.oracle import Oracle
from tests.topology.test_cli import _sqlite_file, netops
from tests.topology.test_oracle import STATUSES, _elements, inventories
from topology.audits import blast_radius, criticality_ranking, resolve_failures, run_audits, single_points_of_failure
from topology.network import AuditConfig, Network
from topology.pon import MAX_SPLIT, ont_budgets, pon_findings


def town() -> InventoryBuilder:
    b = InventoryBuilder()
    for code, kind in (("POP", "core"), ("SCH", "school"), ("BP", "business_park")):
        b.site(code, kind)
    b.node("M1")
    b.node("CAB", "cabinet")
    b.node("NB1")
    b.route("L-SCH", "POP", "SCH", ["T1", "T2", "T3"], through=["M1", "CAB"])
    b.route("L-BP", "POP", "BP", ["T5"])
    b.trench("T6", "CAB", "NB1")
    for splitter, port in (("S1", "pon1"), ("S2", "pon2")):
        b.first_splitter(splitter, 32, "CAB", port=port, pop="POP", feeder="F1", closure="CL1", via=["T1", "T2"])
    b.closure("CLB1", "NB1")
    b.cable("D1", "CL1", "CLB1", ["T6"])
    for code, units in (("B1", 60), ("B2", 60), ("B3", 8)):
        b.building(code, units)
    b.ont("O1", "B1", "S1", 1, units=60, drop="D1")
    b.ont("O3", "B3", "S1", 2, units=8, take_up="passed")
    b.ont("O2", "B2", "S2", 1, units=60)
    b.company("P2P", "business", link="L-SCH", building="B2")
    b.company("GOLD", "sla_gold", device="BP", site="BP")
    return b


@pytest.fixture
def net() -> Network:
    return Network(town().inv)


def cut(net: Network, *names: str):
    return blast_radius(net, *resolve_failures(net, names))


def spof_of(net: Network, element: str):
    """The single-point-of-failure finding naming ``element`` (``kind:code``)."""
    found = [f for f in single_points_of_failure(net) if element in {f"{e.kind}:{e.code}" for e in f.elements}]
    assert len(found) == 1, (element, found)
    return found[0]


# -- 1. what a failure cuts off -----------------------------------------------------------------

def test_a_trench_under_the_feeder_cuts_the_homes_of_both_pons_the_school_and_its_company(net):
    result = cut(net, "trench:T1")
    assert result.sites_cut == ("SCH",)
    assert result.companies_cut == ("P2P",)  # its link runs through T1
    # O3 is passed, not connected: nothing to lose
    assert (result.residential_units_cut, result.buildings_cut, result.pons_cut) == (120, ("B1", "B2"), 2)
    assert result.weight == pytest.approx(5 + 3 + 120 * 0.1)


def test_a_drop_cuts_one_building_and_the_olt_every_home(net):
    drop = cut(net, "trench:T6")
    assert (drop.sites_cut, drop.companies_cut, drop.residential_units_cut, drop.buildings_cut) == ((), (), 60, ("B1",))
    olt = cut(net, "device:POP-olt")
    assert (olt.residential_units_cut, olt.pons_cut, olt.companies_cut) == (120, 2, ())
    # the cabinet's closure holds no splitter (S1, S2 sit in the cabinet), but F1 and D1 end in it
    assert cut(net, "closure:CL1").residential_units_cut == 120
    assert cut(net, "splitter:S2").buildings_cut == ("B2",)
    # a site failing takes its devices: the business park's switch carries GOLD
    assert cut(net, "site:BP").companies_cut == ("GOLD",)


def test_a_company_on_a_link_is_lost_with_the_link_or_its_devices_not_with_one_end():
    city = town()
    city.link("L-SB", "SCH", "BP", medium="radio")  # the school and the park back each other up
    city.company("MESH", "best_effort", link="L-SB")
    net = Network(city.inv)
    assert cut(net, "link:L-SCH").companies_cut == ("P2P",)
    assert cut(net, "device:SCH-sw").companies_cut == ("MESH", "P2P")  # an end of both links gone
    # the school reaches the core over the park: P2P's link is down, MESH's is up and so is an end
    assert cut(net, "trench:T1").companies_cut == ("P2P",) and cut(net, "trench:T1").sites_cut == ()
    # both ends cut off: MESH's link is up but leads nowhere
    both = cut(net, "trench:T1", "trench:T5")
    assert both.companies_cut == ("GOLD", "MESH", "P2P") and both.sites_cut == ("BP", "SCH")


def with_ntus(city: InventoryBuilder) -> InventoryBuilder:
    """The town's park with two more lines on NTUs: G2 (gold) on two fibre paths, T5 and T7 T8;
    E1 (business) patched to the park's switch."""
    city.node("M9")
    city.trench("T7", "BP", "M9")
    city.trench("T8", "M9", "POP")
    city.device("NTU-G", "BP", role="ntu")
    city.link("L-Ga", "NTU-G", "POP", ["T5"])
    city.link("L-Gb", "NTU-G", "POP", ["T7", "T8"])
    city.company("G2", "sla_gold", device="NTU-G", building="B2")
    city.device("NTU-E", "BP", role="ntu")
    city.link("L-E", "NTU-E", "BP")  # a patch: no trench
    city.company("E1", "business", device="NTU-E", building="B2")
    return city


def test_a_line_ends_on_its_ntu_and_a_gold_one_is_lost_only_with_both_paths():
    """A business line's device is its NTU (role ``ntu``): an Ethernet service's is patched to
    its park's switch, a gold line's has two fibre links of its own to the PoP, one over the
    park's trench T5, one over T7 T8 (both to the one PoP). The gold line is lost only when both
    paths are cut,
    either line with its own NTU; the NTU does not keep its park connected; and spof counts
    neither a line's NTU, its links nor the entry a gold line's paths start at against the
    network."""
    net = Network(with_ntus(town()).inv)
    assert cut(net, "trench:T5").companies_cut == ("E1", "GOLD") and cut(net, "trench:T5").sites_cut == ("BP",)
    assert cut(net, "trench:T7").companies_cut == ()
    assert cut(net, "trench:T5", "trench:T7").companies_cut == ("E1", "G2", "GOLD")
    assert cut(net, "device:NTU-G").companies_cut == ("G2",) and cut(net, "device:NTU-E").companies_cut == ("E1",)
    assert cut(net, "device:BP-sw").companies_cut == ("E1", "GOLD")
    findings = single_points_of_failure(net)
    named = {(e.kind, e.code) for f in findings for e in f.elements}
    assert not named & {("device", "NTU-G"), ("device", "NTU-E"), ("link", "L-Ga"), ("link", "L-Gb"),
                        ("link", "L-E")}
    # here both paths land on the one PoP: its entry and switch are all that cut the gold line off
    assert {e.code for f in findings if "G2" in f.companies for e in f.elements} == {"E-POP", "POP", "POP-sw"}
    assert "E1" in spof_of(net, "node:E-BP").companies  # the park's entry: its Ethernet lines' weakness
    # without transit the park's switch reaches the core as its uplink's leaf: E1 through it
    strict = Network(with_ntus(town()).inv, AuditConfig(transit=False))
    assert cut(strict, "trench:T5").companies_cut == ("E1", "GOLD")
    assert cut(strict, "device:BP-sw").companies_cut == ("E1", "GOLD")
    assert cut(strict, "device:NTU-E").companies_cut == ("E1",) and cut(strict, "trench:T7").companies_cut == ()


def test_the_ranking_weighs_customers_by_service_class(net):
    ranking = {(e.kind, e.code): e for e in criticality_ranking(net)}
    assert ranking["trench", "T1"].weight == pytest.approx(20)
    assert ranking["trench", "T5"].weight == pytest.approx(3 + 10)  # the park and its gold line
    assert ranking["trench", "T6"].weight == pytest.approx(6)
    assert (criticality_ranking(net)[0].code, criticality_ranking(net)[0].weight) == ("E-POP", pytest.approx(33))
    heavier = Network(town().inv, AuditConfig(weights={**AuditConfig().weights, "residential_unit": 1.0}))
    assert {(e.kind, e.code): e for e in criticality_ranking(heavier)}["trench", "T6"].weight == 60


def test_a_feeder_concentrating_more_homes_than_the_tree_limit_is_a_real_finding(monkeypatch):
    import topology.findings

    monkeypatch.setattr(topology.findings, "PON_TREE_BY_DESIGN_MAX_HOMES", 100)
    cable = spof_of(Network(town().inv), "cable:F1")  # 120 homes on two PONs: a design fact, not a page
    assert (cable.residential_units, cable.pons, cable.severity.value) == (120, 2, "warning")
    monkeypatch.setattr(topology.findings, "PON_TREE_BY_DESIGN_MAX_HOMES", 120)
    assert spof_of(Network(town().inv), "cable:F1").severity.value == "info"


def test_out_of_scope_customers_count_for_nothing():
    city = town()
    city.set_status("ont", "O2", "decommissioned")
    city.set_status("splitter", "S1", "planned")  # its ONTs have no working chain today
    city.set_status("company", "GOLD", "planned")
    net = Network(city.inv)
    assert cut(net, "trench:T1").residential_units_cut == 0
    assert cut(net, "trench:T5").companies_cut == ()
    with_plan = Network(city.inv, AuditConfig(include_planned=True))
    assert cut(with_plan, "trench:T1").residential_units_cut == 60  # S1's O1, the plan evaluated


# -- 2. single points of failure -------------------------------------------------------------------

def test_single_points_of_failure_name_companies_and_homes(net):
    feeder = spof_of(net, "trench:T1")
    assert (feeder.sites, feeder.companies, feeder.residential_units, feeder.pons) == (("SCH",), ("P2P",), 120, 2)
    # a school and a business line are worth a ticket, not a page, and 120 homes are no mass outage
    assert feeder.severity.value == "warning" and feeder.weight == pytest.approx(20)
    # the feeder cable itself carries no link: homes only, two PONs, 120 homes: the PON tree by design
    cable = spof_of(net, "cable:F1")
    assert (cable.sites, cable.residential_units, cable.pons, cable.severity.value) == ((), 120, 2, "info")
    gold = spof_of(net, "device:BP-sw")  # its own site aside, it cuts off the gold line
    assert (gold.sites, gold.companies, gold.severity.value) == ((), ("GOLD",), "critical")


def test_one_pon_is_a_tree_by_design(net):
    """Elements that cut off only the homes of one PON are information, hidden from tables."""
    drop = spof_of(net, "trench:T6")
    # S1's other ONT is only passed: the splitter, too, cuts off exactly B1's 60 homes
    assert {f"{e.kind}:{e.code}" for e in drop.elements} == {"trench:T6", "cable:D1", "node:NB1", "closure:CLB1",
                                                             "splitter:S1"}
    assert (drop.residential_units, drop.pons, drop.severity.value) == (60, 1, "info")
    splitter = spof_of(net, "splitter:S2")
    assert (splitter.buildings, splitter.severity.value) == (("B2",), "info")


def test_homes_beyond_the_tree_limit_are_a_warning_across_pons_and_a_mass_outage_critical():
    city = town()
    for i in range(3, 21):  # eighteen more 60-unit buildings on S2: 1,140 homes on pon2
        city.building(f"BX{i}", 60)
        city.ont(f"OX{i}", f"BX{i}", "S2", i, units=60)
    net = Network(city.inv)
    assert spof_of(net, "splitter:S2").severity.value == "info"  # one PON, however big: by design
    # both PONs hang on it: 1,200 homes, more than the tree limit (PON_TREE_BY_DESIGN_MAX_HOMES)
    # on one element, a capacity and design fact; 120 weight is no mass outage (200)
    feeder = spof_of(net, "cable:F1")
    assert (feeder.residential_units, feeder.weight, feeder.severity.value) == (1200, 120, "warning")
    assert spof_of(Network(city.inv, AuditConfig(critical_weight=120)), "cable:F1").severity.value == "critical"
    assert spof_of(Network(city.inv, AuditConfig(critical_weight=120.1)), "cable:F1").severity.value == "warning"


# -- 3. the PON audit ------------------------------------------------------------------------------

def budget_town(optics: str = "b_plus", o1_take_up: str = "connected") -> InventoryBuilder:
    """POP -(F, 2000 m)-> S1 1:8 in CAB -> S2 1:32 (same cabinet) -(D, 500 m)-> O1 in B1;
    O2 in B2 on S1 port 2 without a drop cable (as the crow flies)."""
    b = InventoryBuilder()
    b.site("POP", "core")
    b.node("CAB", "cabinet")
    b.node("NB")
    b.closure("CL", "CAB")
    b.closure("CLB", "NB")
    b.trench("T1", "POP", "CAB")
    b.trench("T2", "CAB", "NB")
    b.cable("F", "POP", "CL", ["T1"], length_m=2000)
    b.cable("D", "CL", "CLB", ["T2"], length_m=500)
    b.building("B1", 12)
    b.building("B2", 4)
    b.olt_port("pon1", "POP-olt", optics)
    b.splitter("S1", 8, "CAB", port="pon1", feeder="F")
    b.splitter("S2", 32, "CAB", parent="S1", parent_port=1)
    b.ont("O1", "B1", "S2", 1, units=12, drop="D", take_up=o1_take_up)
    b.ont("O2", "B2", "S1", 2, units=4)
    return b


def test_budget_per_ont_adds_splitters_fibre_splices_and_connectors():
    city = budget_town()
    budgets = {b.ont: b for b in ont_budgets(Network(city.inv))}
    o1 = budgets["O1"]
    # 10.5 + 17.1 dB splitters, 2.5 km at 0.35 dB/km, three runs of two splices at 0.1, two connectors at 0.5
    assert o1.loss_db == pytest.approx(10.5 + 17.1 + 2.5 * 0.35 + 6 * 0.1 + 2 * 0.5, abs=0.01)
    assert (o1.budget_db, o1.splitters, o1.fibre_estimated) == (28.0, ("S1", "S2"), False)
    assert o1.margin_db == pytest.approx(28 - o1.loss_db, abs=0.01) and o1.margin_db < 0
    o2 = budgets["O2"]
    cab = next(n for n in city.inv.nodes if n.code == "CAB")
    b2 = next(b for b in city.inv.buildings if b.code == "B2")
    crow = distance_m(cab.lat, cab.lon, b2.lat, b2.lon)
    assert o2.fibre_estimated and o2.fibre_m == pytest.approx(2000 + crow, abs=0.1)
    assert o2.loss_db == pytest.approx(10.5 + (2000 + crow) / 1000 * 0.35 + 4 * 0.1 + 1.0, abs=0.01)


def test_budget_findings_name_the_ont_the_budget_and_the_margin():
    findings = [f for f in pon_findings(Network(budget_town().inv)) if f.audit == "pon_budget"]
    assert [(f.severity.value, f.elements[0].code) for f in findings] == [("critical", "O1")]
    figures = dict(findings[0].figures)
    assert figures["budget_db"] == 28.0 and figures["margin_db"] < 0
    assert findings[0].buildings == ("B1",) and "margin -2.1 dB" in findings[0].detail
    assert findings[0].elements[1].code == "POP-olt/pon1"
    # C+ has 4 dB more: O1 ranges, with less than the 3 dB margin wanted for repairs
    c_plus = [f for f in pon_findings(Network(budget_town("c_plus").inv)) if f.audit == "pon_budget"]
    assert [(f.severity.value, dict(f.figures)["margin_db"]) for f in c_plus] == [("warning", pytest.approx(1.925, abs=0.01))]


def test_a_passed_home_beyond_the_budget_is_found_but_affects_no_customer(tmp_path_factory):
    """Issue 14's leftover: the seeded city's ont-01220 (9 homes passed, none connected) was
    listed with "9 homes" affected. A drop that cannot carry light cannot be sold, so the
    finding stays; but a passed home has no service to lose: its homes, buildings, PON and
    weight are those of the connected customers behind the ONT, none. The CLI and the report
    say the same."""
    def finding(city):
        return next(f for f in pon_findings(Network(city.inv)) if f.audit == "pon_budget")

    connected = finding(budget_town())
    assert (connected.residential_units, connected.buildings, connected.pons, connected.weight) == (12, ("B1",), 1, 1.2)
    passed = finding(budget_town(o1_take_up="passed"))
    assert (passed.severity.value, passed.elements[0].code) == ("critical", "O1")
    assert (passed.residential_units, passed.buildings, passed.pons, passed.weight) == (0, (), 0, 0.0)
    assert "building B1, 12 unit(s) passed:" in passed.detail
    db = _sqlite_file(tmp_path_factory, "passed", budget_town(o1_take_up="passed"))
    listed = json.loads(netops(db, "pon", "--json").stdout)["findings"]
    assert [(f["residential_units"], f["buildings"], f["pons"]) for f in listed if f["check"] == "pon_budget"] == \
        [(0, [], 0)]
    table = netops(db, "pon").stdout
    assert "PON power budget exceeded" in table and "12 homes" not in table
    from netops import db as dbmod
    from netops.db import session_scope
    from report.audits import audit_view

    engine = dbmod.make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:
        views = [v for v in audit_view(session).findings if v.message.startswith("PON power budget exceeded")]
    engine.dispose()
    assert len(views) == 1 and "12 unit(s) passed" in views[0].message and views[0].weight == 0.0
    # a capacity finding counts the connected homes below too: S3's 32 ONTs are only passed
    city = budget_town()
    city.splitter("S3", 64, "CAB", parent="S1", parent_port=3)
    city.building("B9", 70)
    for port in range(1, 41):
        city.ont(f"ON{port}", "B9", "S3", port, units=1, take_up="passed")
    city.ont("OX", "B9", "S1", 3, units=1)  # port 3 feeds S3 already
    overbooked = {f.title: f for f in pon_findings(Network(city.inv)) if f.audit == "pon_capacity"}
    shared = overbooked["splitter overbooked: port 3 feeds 2 things"]
    assert (shared.residential_units, shared.buildings) == (12 + 4 + 1, ("B1", "B2", "B9"))


def _capacity(city: InventoryBuilder) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.severity.value, f.title, tuple(e.code for e in f.elements))
                  for f in pon_findings(Network(city.inv)) if f.audit != "pon_budget")


def test_capacity_a_spare_olt_port_a_cascade_beyond_1_64_and_a_full_splitter():
    city = budget_town()
    city.olt_port("pon2", "POP-olt")
    for port in range(3, 9):
        city.building(f"BF{port}", 1)
        city.ont(f"OF{port}", f"BF{port}", "S1", port, units=1)
    assert _capacity(city) == [
        ("info", "OLT port feeds no splitter (spare)", ("POP-olt/pon2",)),
        ("info", "splitter full: 8/8 ports used", ("S1",)),
        ("warning", f"OLT port split ratio exceeded: cascade splits 1:256, the optics are specified for 1:{MAX_SPLIT}",
         ("POP-olt/pon1", "S1")),
    ]


def test_capacity_overbooked_splitters_and_olt_ports():
    """Rows the import refuses (a port beyond the ratio, a port feeding two things), written
    around it, and more ONTs on one port than GPON serves."""
    city = budget_town()
    city.building("B9", 70)
    city.ont("O9", "B9", "S1", 9, units=1)  # port 9 of a 1:8
    city.ont("O10", "B9", "S1", 1, units=1)  # port 1 feeds S2 already
    for port in range(2, 33):
        for splitter in ("S2",):
            city.ont(f"OM{port}", "B9", splitter, port, units=1)
    city.splitter("S3", 64, "CAB", parent="S1", parent_port=3)
    for port in range(1, 33):
        city.ont(f"ON{port}", "B9", "S3", port, units=1)
    found = _capacity(city)
    assert ("critical", "splitter overbooked: port 9 of a 1:8 splitter is used", ("S1", "O9")) in found
    assert ("critical", "splitter overbooked: port 1 feeds 2 things", ("S1", "S2", "O10")) in found
    assert ("critical", "OLT port overbooked: 67 ONTs on one PON (at most 64)", ("POP-olt/pon1", "S1")) in found


def test_an_ont_whose_chain_reaches_no_olt_port_is_reported():
    city = budget_town()
    city.set_status("olt_port", "pon1", "decommissioned")
    found = [(f.severity.value, f.title, f.elements[0].code) for f in pon_findings(Network(city.inv))]
    assert sorted(found) == [("warning", "ONT's splitter chain reaches no OLT port in service", "O1"),
                             ("warning", "ONT's splitter chain reaches no OLT port in service", "O2")]


# -- 4. the command line --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def db_file(tmp_path_factory) -> str:
    return _sqlite_file(tmp_path_factory, "customers", town())


def test_cli_json_tables_and_exit_codes(db_file):
    report = json.loads(netops(db_file, "--json").stdout)
    feeder = next(f for f in report["findings"] if "T1" in {e["code"] for e in f["elements"]})
    assert (feeder["companies"], feeder["residential_units"], feeder["pons"]) == (["P2P"], 120, 2)
    drop = next(f for f in report["findings"] if "B1" in f["buildings"] and f["pons"] == 1 and f["check"] == "spof")
    assert drop["by_design"] and drop["severity"] == "info"
    table = netops(db_file, "spof").stdout
    assert "120 homes (2 PONs)" in table and "1 company" in table
    assert "by design not shown" in table and "60 homes" not in table
    assert "60 homes" in netops(db_file, "spof", "--all").stdout
    pon = netops(db_file, "pon", "--json", "--fail-on", "critical")
    assert pon.exit_code == 0 and json.loads(pon.stdout)["counts"]["critical"] == 0
    assert netops(db_file, "spof", "--fail-on", "critical").exit_code == 1


def test_cli_cut_and_rank_speak_of_customers(db_file):
    result = netops(db_file, "cut", "splitter:S1", "segment:T5")
    assert result.exit_code == 0, result.output
    assert "customers cut off: 1 company, 60 homes in 1 building(s); companies: GOLD" in result.stdout
    data = json.loads(netops(db_file, "cut", "T1", "--json").stdout)
    assert (data["companies_cut"], data["residential_units_cut"], data["pons_cut"]) == (["P2P"], 120, 2)
    ranked = json.loads(netops(db_file, "rank", "--json", "--kind", "segment", "--top", "1").stdout)
    assert ranked == [{"kind": "segment", "code": "T1", "weight": 20.0, "severity": "warning", "sites": ["SCH"],
                       "companies": ["P2P"], "residential_units": 120, "buildings": ["B1", "B2"], "pons": 2}]
    assert data["severity"] == "warning"  # cut, rank and spof: one rule
    assert json.loads(netops(db_file, "cut", "T5", "--json").stdout)["severity"] == "critical"  # the gold line
    assert json.loads(netops(db_file, "cut", "T1", "--json", "--critical-weight", "20").stdout)["severity"] == "critical"
    heavier = json.loads(netops(db_file, "rank", "--json", "--weight", "residential_unit=1", "--kind", "segment",
                                "--top", "1").stdout)
    assert heavier[0]["weight"] == 5 + 3 + 120
    assert netops(db_file, "cut", "splitter:S9").exit_code == 2


# -- 5. against the brute-force oracle ---------------------------------------------------------------

@st.composite
def towns(draw) -> InventoryBuilder:
    """The oracle test's random networks (any row possibly out of service) with customers on
    them: an OLT with two ports at the first PoP, splitters (cascaded or not) in manholes,
    cabinets or closures with feeders over any cable, ONTs with or without drops, companies on
    links and devices."""
    b = draw(inventories())
    core = b.inv.sites[0].code
    b.node("CAB", "cabinet")
    b.trench("T-CAB", "CAB", draw(st.sampled_from([n.code for n in b.inv.nodes if n.code != "CAB"])))
    for port in ("P0", "P1"):
        b.olt_port(port, f"{core}-olt", draw(st.sampled_from(["b_plus", "c_plus"])))
    cables = [None, *b.cable_ids]
    nodes = [n.code for n in b.inv.nodes]
    splitters: list[tuple[str, int]] = []
    for i in range(draw(st.integers(1, 3))):
        ratio = draw(st.sampled_from([8, 32]))
        parent = draw(st.sampled_from([None, *[code for code, _ in splitters]])) if i else None
        code = f"SP{i}"
        if parent is None:
            b.splitter(code, ratio, draw(st.sampled_from(nodes)), port=f"P{i % 2}", feeder=draw(st.sampled_from(cables)))
        else:
            b.splitter(code, ratio, draw(st.sampled_from(nodes)), parent=parent, parent_port=10 + i,
                       feeder=draw(st.sampled_from(cables)))
        splitters.append((code, ratio))
    for i in range(draw(st.integers(1, 4))):
        b.building(f"B{i}", 100)
        b.ont(f"O{i}", f"B{i}", draw(st.sampled_from([code for code, _ in splitters])), i + 1,
              units=draw(st.integers(1, 30)), take_up=draw(st.sampled_from(["connected", "connected", "passed"])),
              drop=draw(st.sampled_from(cables)))
    carriers = [("link", k) for k in b.link_ids] + [("device", d) for d in b.device_ids]
    for i in range(draw(st.integers(0, 3))):
        kind, name = draw(st.sampled_from(carriers))
        b.company(f"BC{i}", draw(st.sampled_from(["sla_gold", "business", "best_effort"])), **{kind: name})
    rows = ([("splitter", code) for code, _ in splitters] + [("ont", o) for o in b.ont_ids]
            + [("company", c) for c in b.company_ids] + [("olt_port", p) for p in ("P0", "P1")])
    for kind, code in rows:
        status = draw(st.sampled_from(STATUSES))
        if status != "active":
            b.set_status(kind, code, status)
    return b


def _customers(net: Network, companies, onts) -> tuple[set[str], int]:
    """Company codes and connected units, from ids."""
    codes = {row.id: row.code for row in net.inv.businesses}
    units = {row.id: row.units for row in net.inv.residential}
    return {codes[c] for c in companies}, sum(units[o] for o in onts)


def _splitters(net: Network):
    yield from (("splitter", s.id, f"splitter:{s.code}") for s in net.customers.splitters.values())


@settings(max_examples=150, deadline=None)
@given(towns(), st.booleans(), st.booleans(), st.randoms(use_true_random=False))
def test_customers_cut_off_agree_with_the_oracle(city, planned, transit, rng):
    net = Network(city.inv, AuditConfig(include_planned=planned, transit=transit))
    oracle = Oracle(city.inv, include_planned=planned, transit=transit)
    for element in criticality_ranking(net):
        expected = _customers(net, *oracle.customers_lost({(element.kind, element.id)}))
        assert _customers(net, element.customers.companies, element.customers.onts) == expected, element
    elements = [*_elements(net), *_splitters(net)]
    for failed in [[e] for e in elements] + [rng.sample(elements, 2) for _ in range(5)]:
        result = blast_radius(net, *resolve_failures(net, [name for _, _, name in failed]))
        expected = _customers(net, *oracle.customers_lost({(kind, ident) for kind, ident, _ in failed}))
        assert (set(result.companies_cut), result.residential_units_cut) == expected, failed
    named = set()
    for finding in single_points_of_failure(net):
        for e in finding.elements:
            named.add((e.kind, e.id))
            down = ({("cable", c) for c, ends in oracle.cables.items() if ("site", e.id) in ends}
                    if e.kind == "site" else {(e.kind, e.id)})
            expected = _customers(net, *oracle.customers_lost(down))
            assert (set(finding.companies), finding.residential_units) == expected, (e, finding)
    for kind, ident, _ in elements:  # every element that cuts a customer off alone is named
        if kind != "site" and any(oracle.customers_lost({(kind, ident)})):
            assert (kind, ident) in named, (kind, ident)


def test_geojson_places_pon_elements(tmp_path):
    from topology.geojson import findings_to_geojson

    city = budget_town()
    net = Network(city.inv)
    collection = findings_to_geojson(net, [f for f in pon_findings(net) if f.audit == "pon_budget"])
    points = [g["coordinates"] for g in collection["features"][0]["geometry"]["geometries"]]
    b1 = next(b for b in city.inv.buildings if b.code == "B1")
    cab = next(n for n in city.inv.nodes if n.code == "CAB")
    pop = next(s for s in city.inv.sites if s.code == "POP")
    assert points == [[b1.lon, b1.lat], [pop.lon, pop.lat], [cab.lon, cab.lat], [cab.lon, cab.lat]]


def test_customers_loaded_from_the_database_give_the_same_answers(engine):
    """Rows stored in random order (SQLite and PostgreSQL), loaded back: the same findings,
    ranking and PON budgets as the rows in memory (NTUs and a gold line's two paths included)."""
    import random

    from netops.db import session_scope
    from tests.topology.builder import store
    from topology.rows import load_inventory

    city = with_ntus(town())
    city.building("B4", 8)
    city.ont("O4", "B4", "S2", 7, units=8, take_up="passed")
    with session_scope(engine) as session:
        store(city.inv, session, shuffle=random.Random(3))
    with session_scope(engine) as session:
        loaded = Network(load_inventory(session, geometry=True))
    built = Network(city.inv)
    assert [f.as_dict() for f in run_audits(loaded).sorted()] == [f.as_dict() for f in run_audits(built).sorted()]
    assert [(e.code, e.weight, e.customers) for e in criticality_ranking(loaded)] == \
        [(e.code, e.weight, e.customers) for e in criticality_ranking(built)]
    assert ont_budgets(loaded) == ont_budgets(built) and len(ont_budgets(built)) == 4


def test_rows_written_around_the_import_are_findings_not_tracebacks():
    """A cascade that loops, a ratio the loss table lacks, an optics class it does not know:
    the import refuses each, a database edited by hand may still hold them."""
    city = budget_town()
    city.olt_port("pon2", "POP-olt", "d_plus")
    city.splitter("S7", 12, "CAB", port="pon2")
    city.building("B7", 3)
    city.ont("O7", "B7", "S7", 1, units=3)
    city.splitter("SA", 8, "CAB", parent="S1", parent_port=5)
    city.splitter("SB", 8, "CAB", parent="SA", parent_port=1)
    city.ont("O8", "B7", "SB", 1, units=1)
    rows = city.inv.splitters
    rows[:] = [r._replace(parent_id=city.splitter_ids["SB"], parent_port=2) if r.code == "SA" else r for r in rows]
    net = Network(city.inv)
    found = {(f.severity.value, f.title, f.elements[0].code) for f in run_audits(net).findings if f.layer == "pon"}
    assert ("warning", "ONT's splitter chain reaches no OLT port in service", "O8") in found
    assert ("warning", "splitter ratio 1:12 is not a standard splitter: no loss figure, its ONTs' budgets are not "
                       "checked", "S7") in found
    assert ("warning", "OLT port optics class 'd_plus' unknown (b_plus or c_plus): its ONTs' budgets are not checked",
            "POP-olt/pon2") in found
    assert {b.ont for b in ont_budgets(net)} == {"O1", "O2"}
    assert cut(net, "splitter:SA").residential_units_cut == 0  # O8 had no service to lose


def test_a_hotspot_spur_with_one_pon_is_by_design_until_it_is_a_mass_outage():
    from topology.findings import concerns_only_by_design

    city = town()
    city.site("H1", "hotspot")
    city.trench("T8", "NB1", "H1")
    city.link("L-H1", "POP", "H1", ["T1", "T2", "T6", "T8"])
    kinds = {"H1": "hotspot"}
    for critical_weight, severity in ((10.0, "info"), (5.0, "critical")):
        net = Network(city.inv, AuditConfig(critical_weight=critical_weight))
        spur = spof_of(net, "trench:T6")  # the hotspot (1) and B1's 60 homes on one PON (6)
        assert (spur.sites, spur.residential_units, spur.severity.value) == (("H1",), 60, severity)
        assert concerns_only_by_design(spur, kinds) == (critical_weight == 10)  # a mass outage is no design
