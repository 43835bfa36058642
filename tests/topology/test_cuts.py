"""The one-pass cut algorithms against hand-checked graphs and against the naive
remove-and-search-again reference on random small multigraphs (hypothesis)."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from topology.cuts import CutTree, FailureSearch
from topology.reference import naive_cut_off


def multigraph(edges: list[tuple], nodes=()) -> nx.MultiGraph:
    """Edges as (u, v) pairs; edge i gets the globally unique key i (as database ids are)."""
    graph = nx.MultiGraph()
    graph.add_nodes_from(nodes)
    for key, (u, v) in enumerate(edges):
        graph.add_edge(u, v, key=key)
    return graph


def test_parallel_segments_are_not_bridges():
    #  core 0 ==(two parallel edges)== 1 --- 2
    graph = multigraph([(0, 1), (0, 1), (1, 2)])
    tree = CutTree(graph, [0])
    assert set(tree.bridge_child) == {2}
    assert tree.cut_by_edge(2) == [2]
    assert tree.cut_by_edge(0) == [] and tree.cut_by_edge(1) == []
    assert tree.cut_by_node(1) == [2]
    assert tree.top_bridge == {0: None, 1: None, 2: 2}


def test_two_core_nodes_are_one_super_source():
    # 0 and 4 are both core: the chain between them has no bridge, 2 is not a cut vertex,
    # and the spur 2-5-6 hangs off it
    graph = multigraph([(0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (5, 6)])
    tree = CutTree(graph, [0, 4])
    assert set(tree.bridge_child) == {4, 5}
    assert sorted(tree.cut_by_edge(4)) == [5, 6]
    assert sorted(tree.cut_by_node(2)) == [5, 6]
    assert tree.cut_by_node(5) == [6]
    assert tree.cut_by_node(1) == []
    # failing one core node cuts nothing off: the other still feeds everything
    assert tree.cut_by_node(0) == [] and tree.cut_by_node(4) == []


def test_unreachable_nodes_are_outside_the_tree():
    graph = multigraph([(0, 1), (2, 3)])
    tree = CutTree(graph, [0])
    assert set(tree.reachable) == {0, 1}


def test_failure_search_handles_sets_of_edges():
    # a square 0-1-2-3-0 (0 core) with a tail 2-4: cutting edges 0-1 and 3-0 together
    # isolates 1, 2, 3, 4, though neither alone cuts anything
    graph = multigraph([(0, 1), (1, 2), (2, 3), (3, 0), (2, 4)])
    search = FailureSearch(graph, [0])
    assert search.cut_off(failed_edges=[0]) == set()
    assert search.cut_off(failed_edges=[0, 3]) == {1, 2, 3, 4}
    assert search.cut_off(failed_nodes=[2]) == {4}
    assert search.cut_off(failed_nodes=[1]) == set()
    assert search.cut_off(failed_edges=[4], failed_nodes=[1]) == {4}


random_graphs = st.integers(min_value=2, max_value=9).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
                 max_size=3 * n),
        st.sets(st.integers(0, n - 1), min_size=1, max_size=2),
    )
)


@settings(max_examples=300, deadline=None)
@given(random_graphs)
def test_cut_tree_equals_naive_for_every_single_failure(case):
    n, edges, sources = case
    graph = multigraph(edges, nodes=range(n))
    tree = CutTree(graph, sources)
    for key in range(len(edges)):
        assert set(tree.cut_by_edge(key)) == naive_cut_off(graph, sources, failed_edges=[key])
    for node in range(n):
        if node in tree.reachable:
            assert set(tree.cut_by_node(node)) == naive_cut_off(graph, sources, failed_nodes=[node])


@settings(max_examples=300, deadline=None)
@given(random_graphs, st.data())
def test_failure_search_equals_naive_for_failure_sets(case, data):
    n, edges, sources = case
    graph = multigraph(edges, nodes=range(n))
    failed_edges = data.draw(st.sets(st.integers(0, max(len(edges) - 1, 0)), max_size=4)) if edges else set()
    failed_nodes = data.draw(st.sets(st.integers(0, n - 1), max_size=2))
    got = FailureSearch(graph, sources).cut_off(failed_edges, failed_nodes)
    assert got == naive_cut_off(graph, sources, failed_edges, failed_nodes)


def test_edge_sets_the_tree_can_answer_and_those_it_cannot():
    # square 0-1-2-3-0 (0 core) with a tail 2-4-5
    graph = multigraph([(0, 1), (1, 2), (2, 3), (3, 0), (2, 4), (4, 5)])
    tree = CutTree(graph, [0])
    ends = {k: (u, v) for u, v, k in graph.edges(keys=True)}
    assert tree.cut_by_edges([0, 5], ends) == {5}  # one cycle edge and a bridge
    assert tree.cut_by_edges([4, 5], ends) == {4, 5}  # nested bridges
    assert tree.cut_by_edges([0, 3], ends) is None  # two edges of one cycle: search


@settings(max_examples=300, deadline=None)
@given(random_graphs, st.data())
def test_layer_answers_edge_sets_like_the_naive_way(case, data):
    from topology.network import Layer

    n, edges, sources = case
    graph = multigraph(edges, nodes=range(n))
    failed = data.draw(st.sets(st.integers(0, max(len(edges) - 1, 0)), max_size=4)) if edges else set()
    layer = Layer("test", graph, sources, site_of={}, core_sites=set())
    assert layer.cut_off(failed) == naive_cut_off(graph, sources, failed_edges=failed)
