"""Properties of the audits on random small inventories (hypothesis), checked with the
plain remove-and-search-again reference, never with the audits' own machinery."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.topology.builder import InventoryBuilder
from topology.audits import criticality_ranking, path_diversity, single_points_of_failure
from topology.network import Network
from topology.reference import reachable_from

KINDS = ["school", "kindergarten", "hospital", "business_park", "hotspot"]


@st.composite
def inventories(draw) -> InventoryBuilder:
    b = InventoryBuilder()
    sites = [f"S{i}" for i in range(draw(st.integers(3, 8)))]
    cores = draw(st.integers(1, 2))
    for i, code in enumerate(sites):
        b.site(code, "core" if i < cores else draw(st.sampled_from(KINDS)))
    manholes = [f"M{i}" for i in range(draw(st.integers(0, 3)))]
    for name in manholes:
        b.node(name)
    nodes = sites + manholes  # a site code stands for its building entry
    pairs = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)).filter(lambda p: p[0] != p[1])
    trenches = []
    for i, (a, z) in enumerate(draw(st.lists(pairs, max_size=10))):
        b.trench(f"T{i}", a, z)
        trenches.append(f"T{i}")
    device_pairs = st.tuples(st.sampled_from(sites), st.sampled_from(sites)).filter(lambda p: p[0] != p[1])
    for i, (a, z) in enumerate(draw(st.lists(device_pairs, max_size=12))):
        via = draw(st.lists(st.sampled_from(trenches), max_size=3, unique=True)) if trenches else []
        b.link(f"L{i}", a, z, via)
    return b


def _site_up(net: Network, failed_links=frozenset(), failed_devices=frozenset()) -> set[int]:
    """Sites with at least one device that reaches a core device (reference BFS)."""
    reached = reachable_from(net.logical_graph, net.logical.sources, failed_links, failed_devices)
    return {net.devices[d].site_id for d in reached}


def _links_through(net: Network, kind: str, ident: int) -> set[int]:
    trenches = {ident} if kind == "trench" else {k for _, _, k in net.physical_graph.edges(ident, keys=True)}
    return {k for k, data in net.links.items() if data["segment_ids"] & trenches}


@settings(max_examples=150, deadline=None)
@given(inventories())
def test_an_element_the_ranking_calls_safe_never_disconnects_a_site(city):
    net = Network(city.inv)
    before = _site_up(net)
    for element in criticality_ranking(net):
        if element.kind == "device":
            own = net.devices[element.id].site_id  # its own site goes down with it
            lost = before - _site_up(net, failed_devices={element.id}) - {own}
            assert set(element.site_ids) - {own} == lost
        else:
            lost = before - _site_up(net, failed_links=_links_through(net, element.kind, element.id))
            assert lost == set(element.site_ids)
        if not element.site_ids:
            assert element.weight == 0


@settings(max_examples=150, deadline=None)
@given(inventories())
def test_sites_no_spof_names_survive_every_single_link_and_device_failure(city):
    net = Network(city.inv)
    named = {s for f in single_points_of_failure(net) if "logical" in f.layer for s in f.sites}
    before = _site_up(net)
    codes = {s.id: s.code for s in net.sites.values()}
    for link in net.links:
        for site in before - _site_up(net, failed_links={link}):
            assert codes[site] in named
    for device, row in net.devices.items():
        for site in before - _site_up(net, failed_devices={device}) - {row.site_id}:
            assert codes[site] in named


@settings(max_examples=150, deadline=None)
@given(inventories())
def test_logical_path_count_matches_single_link_removal(city):
    net = Network(city.inv)
    before = _site_up(net)
    cut_by_some_link = {s for link in net.links for s in before - _site_up(net, failed_links={link})}
    for row in path_diversity(net):
        site = next(s.id for s in net.sites.values() if s.code == row.site)
        expected = 0 if site not in before else (1 if site in cut_by_some_link else 2)
        assert row.logical_paths == expected, row
