"""NTUs in the ranking and the failure answers: a leaf NTU (patched once to its site's switch,
or on one fibre), one with two links to one device, one that carries another NTU: every
element's answer equals the naive search's (the whole network searched again), with and
without transit."""

from __future__ import annotations

import pytest
from tests.topology.test_customers import town, with_ntus
from topology.audits import criticality_ranking, ranked_elements
from topology.network import AuditConfig, FailureSet, Network


def _general(net: Network, kind: str, ident: int):
    return net.loss_of(net.failure_of(kind, ident))


def _assert_as_the_naive_search(net: Network) -> None:
    """Every element's ``element_loss`` equals the general failure's and the naive search's."""
    elements = ranked_elements(net) + [("cable", c) for c in net.cables] + [("closure", c) for c in net.closures] \
        + [("link", k) for k in net.links] + [("splitter", s) for s in net.customers.splitters]
    for kind, ident in elements:
        fast = net.element_loss(kind, ident)
        assert fast == _general(net, kind, ident) == net.element_loss(kind, ident, naive=True), (kind, ident)


def leafy_town():
    """``with_ntus``'s town and three more NTUs: NTU-2 patched twice to the park's switch (a
    leaf with two links: neither link alone cuts it off), NTU-X on its own fibre over T5 with
    no company on it, NTU-H behind NTU-X (an NTU that is not a leaf: NTU-X carries it)."""
    city = with_ntus(town())
    city.device("NTU-2", "BP", role="ntu")
    city.link("L-2a", "NTU-2", "BP")
    city.link("L-2b", "NTU-2", "BP")
    city.company("E2", "business", device="NTU-2", building="B2")
    city.device("NTU-X", "BP", role="ntu")
    city.link("L-X", "NTU-X", "POP", ["T5"])
    city.device("NTU-H", "BP", role="ntu")
    city.link("L-H", "NTU-H", "NTU-X")
    city.company("H1", "sla_gold", device="NTU-H", building="B2")
    return city


def test_ntus_and_their_links_answer_as_the_naive_search():
    city = leafy_town()
    dev, link, company = city.device_ids, city.link_ids, city.company_ids
    net = Network(city.inv)
    _assert_as_the_naive_search(net)
    assert net.element_loss("device", dev["NTU-E"])[1].companies == {company["E1"]}
    assert net.element_loss("link", link["L-E"])[1].companies == {company["E1"]}
    assert net.element_loss("device", dev["NTU-X"])[1].companies == {company["H1"]}  # it carries NTU-H
    assert net.element_loss("link", link["L-H"])[1].companies == {company["H1"]}
    assert not net.element_loss("link", link["L-2a"])[1]  # its twin L-2b still serves E2
    assert net.element_loss("device", dev["NTU-2"])[1].companies == {company["E2"]}


@pytest.mark.parametrize("transit", [True, False])
def test_the_ranking_with_ntus_equals_the_naive_ranking(transit):
    net = Network(leafy_town().inv, AuditConfig(transit=transit))
    fast = {(e.kind, e.id): (e.site_ids, e.customers, e.weight) for e in criticality_ranking(net)}
    naive = {(e.kind, e.id): (e.site_ids, e.customers, e.weight) for e in criticality_ranking(net, naive=True)}
    assert fast == naive
    assert any(loss for _, loss, _ in fast.values())
    _assert_as_the_naive_search(net)


def pop_ntu_town():
    """``with_ntus``'s town and two business lines on NTUs standing at the PoP (a company in the
    PoP's building, or a line planned from its first route's PoP): NTU-P patched (L-P) to the
    PoP's second switch POP-sw2, which is decommissioned; NTU-Q patched (L-Q) to the PoP's
    switch, in service."""
    city = with_ntus(town())
    city.device("POP-sw2", "POP", role="distribution_switch")
    city.device("NTU-P", "POP", role="ntu")
    city.link("L-P", "NTU-P", "POP-sw2")
    city.company("CP", "business", device="NTU-P", building="B2")
    city.device("NTU-Q", "POP", role="ntu")
    city.link("L-Q", "NTU-Q", "POP")
    city.company("CQ", "business", device="NTU-Q", building="B2")
    city.set_status("device", "POP-sw2", "decommissioned")
    return city


@pytest.mark.parametrize("transit", [True, False])
def test_an_ntu_at_a_pop_is_not_the_core_and_one_patched_to_a_decommissioned_switch_has_no_service(transit):
    """The data model's rule: a decommissioned device is out of the network (no graph has it, nor
    the links to it), and an NTU is its company's, not its site's, wherever it stands: at a PoP
    it reaches the core over its own links only. NTU-P's one patch ends at a decommissioned
    switch, so its company has no service to lose: the NTU's failure cuts nothing off, and
    reachability names the NTU. NTU-Q's company is lost with its patch. The oracle (written from
    the model's wording) agrees on both, and on every element of the ranking and every link."""
    from tests.topology.oracle import Oracle
    from topology.audits import blast_radius, reachability, resolve_failures

    city = pop_ntu_town()
    dev, link, company = city.device_ids, city.link_ids, city.company_ids
    net = Network(city.inv, AuditConfig(transit=transit))
    oracle = Oracle(city.inv, transit=transit)
    assert company["CP"] not in net.customers.served_companies and company["CQ"] in net.customers.served_companies
    assert not net.element_loss("device", dev["NTU-P"])[1]
    assert blast_radius(net, *resolve_failures(net, ["device:NTU-P"])).companies_cut == ()
    assert oracle.customers_lost({("device", dev["NTU-P"])}) == (set(), set())
    assert net.element_loss("link", link["L-Q"])[1].companies == {company["CQ"]}
    assert oracle.customers_lost({("link", link["L-Q"])}) == ({company["CQ"]}, set())
    assert net.element_loss("device", dev["NTU-Q"])[1].companies == {company["CQ"]}
    stray = {(f.title, f.elements[0].code) for f in reachability(net)}
    assert ("device has no path to any core PoP", "NTU-P") in stray
    assert ("device has no path to any core PoP", "NTU-Q") not in stray
    for element in criticality_ranking(net):
        assert set(element.customers.companies) == oracle.customers_lost({(element.kind, element.id)})[0], element
    for ident in net.links:
        assert set(net.element_loss("link", ident)[1].companies) == oracle.customers_lost({("link", ident)})[0]
    _assert_as_the_naive_search(net)


@pytest.mark.parametrize("transit", [True, False])
def test_an_ntu_patched_to_its_sites_switch_is_served_through_it_and_lost_with_its_patches(transit):
    """The data model's rule: a business park's Ethernet service is an NTU patched to the park's
    switch, and without transit the park's switch forwards no OTHER site's traffic, but carries
    its own site's lines: E1 (NTU-E, one patch) is served through the park's switch, and lost
    with the switch, its uplink, the NTU or the patch; E2 (NTU-2, two patches) only with both
    patches; H1 (NTU-H patched to NTU-X, which has its own fibre) with NTU-X's fibre or its
    patch. The same answers with transit, and the oracle's on every element and link."""
    from tests.topology.oracle import Oracle

    city = leafy_town()
    dev, link, company = city.device_ids, city.link_ids, city.company_ids
    net = Network(city.inv, AuditConfig(transit=transit))
    oracle = Oracle(city.inv, transit=transit)
    assert {company[c] for c in ("E1", "E2", "H1")} <= net.customers.served_companies

    def lost(kind, *names):
        ids = frozenset((link if kind == "link" else dev)[n] for n in names)
        failure = FailureSet(**{"links" if kind == "link" else "devices": ids})
        companies = net.loss_of(failure)[1].companies
        assert companies == oracle.customers_lost({(kind, i) for i in ids})[0], (kind, names)
        return {c for c, ident in company.items() if ident in companies}

    assert lost("link", "L-E") == {"E1"} and lost("device", "NTU-E") == {"E1"}
    assert lost("link", "L-2a") == set() and lost("link", "L-2a", "L-2b") == {"E2"}
    assert lost("link", "L-H") == {"H1"} and lost("link", "L-X") == {"H1"}
    assert lost("device", "BP-sw") == {"E1", "E2", "GOLD"}
    for element in criticality_ranking(net):
        assert set(element.customers.companies) == oracle.customers_lost({(element.kind, element.id)})[0], element
    _assert_as_the_naive_search(net)
