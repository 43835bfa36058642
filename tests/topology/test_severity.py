"""The audits' one severity rule (``topology.findings.impact_severity``, README "Severity of
what a failure cuts off"): page for a hospital, a gold-SLA line or a mass outage; a ticket
for a school, a Kita, a business line or homes concentrated beyond the PON tree; a note for
hotspots, best-effort lines and the homes of a PON tree. Its edges on the bare rule, then on
a small street built by hand, where spof, rank and cut must agree::

    POP (core, OLT POP-olt: pon1, pon2)
     ├─T1─ M1 ─T2─ HOS (hospital, link L-HOS over T1 T2)
     ├─T3─ CAB (cabinet) ─T4─ SCH (school, link L-SCH over T3 T4)
     │      feeder F over T3: S1 1:32 on pon1 in CAB, ONT O1 in B1 (50 homes)
     └─T5─ H1 (hotspot, link L-H1 over T5)
"""

from __future__ import annotations

import pytest

from netops.vocabulary import (
    CUSTOMER_WEIGHTS, MASS_OUTAGE_WEIGHT, PON_TREE_BY_DESIGN_MAX_HOMES, SEVERITY_RANK, Severity,
)
from tests.topology.builder import InventoryBuilder
from topology.audits import blast_radius, criticality_ranking, resolve_failures, single_points_of_failure
from topology.findings import concerns_only_by_design, impact_severity
from topology.network import AuditConfig, Network

CRITICAL, WARNING, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO


# -- the rule itself ----------------------------------------------------------------------------

@pytest.mark.parametrize("sites, companies, expected", [
    (["critical"], [], CRITICAL),  # a hospital
    (["high"], [], WARNING),  # a school, a Kita
    (["medium"], [], WARNING),  # a business park, a public building, a cabinet
    (["low"], [], INFO),  # a hotspot
    (["low"] * 150, [], INFO),  # 150 hotspots weigh 150: below a mass outage they stay a note
    ([], ["sla_gold"], CRITICAL),
    ([], ["business"], WARNING),
    ([], ["best_effort"] * 20, INFO),
    ([], ["unheard_of"], WARNING),  # a class the rule does not know counts as a business line
    (["low", "high"], ["best_effort"], WARNING),  # the worst thing cut off sets it
    (["high", "high", "high"], ["business"], WARNING),  # three schools and a line: a ticket, not a page
])
def test_the_worst_site_or_company_sets_the_severity(sites, companies, expected):
    assert impact_severity(sites, companies) is expected


def test_homes_are_a_note_on_the_pon_tree_a_warning_beyond_it_and_critical_as_a_mass_outage():
    limit = PON_TREE_BY_DESIGN_MAX_HOMES
    home = CUSTOMER_WEIGHTS["residential_unit"]
    assert impact_severity([], [], 50, 1, 50 * home) is INFO  # a feeder with 50 homes
    assert impact_severity([], [], limit, 3, limit * home) is INFO  # the edge: still the tree
    assert impact_severity([], [], limit + 1, 3, (limit + 1) * home) is WARNING  # concentrated
    assert impact_severity([], [], limit + 1, 1, (limit + 1) * home) is INFO  # one PON, however big
    mass = round(MASS_OUTAGE_WEIGHT / home)  # 2,000 homes
    assert impact_severity([], [], mass - 1, 1, (mass - 1) * home) is INFO
    assert impact_severity([], [], mass, 1, mass * home) is CRITICAL


def test_a_mass_outage_is_critical_from_its_threshold_on():
    assert impact_severity(["low"], [], weight=MASS_OUTAGE_WEIGHT - 0.1) is INFO
    assert impact_severity(["low"], [], weight=MASS_OUTAGE_WEIGHT) is CRITICAL
    assert impact_severity(["low"], [], weight=10, critical_weight=10) is CRITICAL  # --critical-weight 10
    assert impact_severity([], [], weight=0, critical_weight=0) is CRITICAL  # 0: everything pages


def test_severity_ranks_are_one_constant():
    assert [s.rank for s in (CRITICAL, WARNING, INFO)] == [2, 1, 0]
    assert set(SEVERITY_RANK) == set(Severity)


# -- on a street built by hand: spof, rank and cut agree ------------------------------------------

def street(homes: int = 50) -> InventoryBuilder:
    b = InventoryBuilder()
    for code, kind in (("POP", "core"), ("HOS", "hospital"), ("SCH", "school"), ("H1", "hotspot")):
        b.site(code, kind)
    b.node("M1")
    b.node("CAB", "cabinet")
    b.route("L-HOS", "POP", "HOS", ["T1", "T2"], through=["M1"])
    b.route("L-SCH", "POP", "SCH", ["T3", "T4"], through=["CAB"])
    b.route("L-H1", "POP", "H1", ["T5"])
    b.first_splitter("S1", 32, "CAB", port="pon1", pop="POP", feeder="F", closure="CL", via=["T3"])
    b.building("B1", homes)
    b.ont("O1", "B1", "S1", 1, units=homes)
    return b


def severities(net: Network) -> dict[str, tuple[str, str, str]]:
    """Per trench: (spof finding's, ranking's, cut's) severity."""
    spof = {e.code: f.severity.value for f in single_points_of_failure(net) for e in f.elements if e.kind == "trench"}
    ranked = {e.code: net.impact_severity(e.site_ids, e.customers, e.weight).value
              for e in criticality_ranking(net) if e.kind == "trench"}
    cut = {code: blast_radius(net, *resolve_failures(net, [f"trench:{code}"])).severity for code in ranked}
    return {code: (spof.get(code), ranked[code], cut[code]) for code in ranked}


def test_a_feeder_with_50_homes_is_not_critical_a_trench_to_a_hospital_is():
    net = Network(street().inv)
    found = severities(net)
    assert found["T1"] == ("critical",) * 3  # cuts off the hospital
    assert found["T3"] == ("warning",) * 3  # the school, and the feeder's 50 homes on one PON
    assert found["T4"] == ("warning",) * 3  # the school alone
    assert found["T5"] == ("info",) * 3  # a hotspot's spur
    # the feeder cable, its closure, the OLT and the splitter: homes only, one PON
    feeder = next(f for f in single_points_of_failure(net) if "F" in {e.code for e in f.elements})
    assert (feeder.sites, feeder.residential_units, feeder.severity) == ((), 50, INFO)
    kinds = {s.code: s.kind for s in net.sites.values()}
    assert concerns_only_by_design(feeder, kinds)
    assert not concerns_only_by_design(next(f for f in single_points_of_failure(net) if "SCH" in f.sites), kinds)


def test_a_sites_own_criticality_overrides_its_kinds_default():
    city = street()
    i = next(i for i, s in enumerate(city.inv.sites) if s.code == "SCH")
    city.inv.sites[i] = city.inv.sites[i]._replace(criticality="critical")  # the exam centre
    assert severities(Network(city.inv))["T4"] == ("critical",) * 3


def test_thousands_of_homes_on_one_pon_page_only_as_a_mass_outage():
    # 2,000 homes on one feeder (one PON: a tree by design) weigh 200 with the school's 5
    near = Network(street(homes=1950).inv)  # 195 + the school's 5 = 200: a mass outage
    assert severities(near)["T3"] == ("critical",) * 3
    below = Network(street(homes=1940).inv)  # 199
    assert severities(below)["T3"] == ("warning",) * 3
    lowered = Network(street().inv, AuditConfig(critical_weight=10))  # 5 + 5: the option's threshold
    assert severities(lowered)["T3"] == ("critical",) * 3
