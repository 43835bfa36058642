"""The graph builders, on a tiny inventory stored in a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from inventory.models import (
    Cable, CableSegment, Device, Interface, Link, LinkHop, RouteNode, Site, SpliceClosure,
    TrenchSegment,
)
from netops.db import session_scope
from topology.graphs import cable_graph, logical_graph, physical_graph, shared_risk_groups

GEOM = [[7.10, 51.50], [7.11, 51.51]]


def _seed_tiny(session) -> None:
    """PoP P and school S; two parallel trench segments between manhole M and S's entry,
    one planned segment, one decommissioned node; one cable P->closure@M, one M->S; one link."""
    session.add_all([
        Site(id=1, code="POP-1", name="PoP", kind="core", lat=51.5, lon=7.1, source="t"),
        Site(id=2, code="SCH-1", name="School", kind="school", lat=51.51, lon=7.11, source="t"),
    ])
    session.flush()
    session.add_all([
        RouteNode(id=10, code="E-POP", kind="site_entry", lat=51.5, lon=7.1, site_id=1, source="t"),
        RouteNode(id=11, code="M-1", kind="manhole", lat=51.505, lon=7.105, source="t"),
        RouteNode(id=12, code="E-SCH", kind="site_entry", lat=51.51, lon=7.11, site_id=2, source="t"),
        RouteNode(id=13, code="M-OLD", kind="manhole", lat=51.52, lon=7.12, source="t",
                  status="decommissioned"),
    ])
    session.flush()
    common = dict(geometry=GEOM, laying_method="open_trench", ducts_total=4, source="t")
    session.add_all([
        TrenchSegment(id=100, code="T-A", a_node_id=10, b_node_id=11, length_m=700, ducts_used=2, **common),
        TrenchSegment(id=101, code="T-B1", a_node_id=11, b_node_id=12, length_m=500, ducts_used=1, **common),
        TrenchSegment(id=102, code="T-B2", a_node_id=11, b_node_id=12, length_m=520, ducts_used=0, **common),
        TrenchSegment(id=103, code="T-NEW", a_node_id=10, b_node_id=12, length_m=900, ducts_used=0,
                      status="planned", **common),
        TrenchSegment(id=104, code="T-OLD", a_node_id=11, b_node_id=13, length_m=90, ducts_used=0, **common),
    ])
    session.flush()
    session.add(SpliceClosure(id=20, code="SC-M1", node_id=11, source="t"))
    session.flush()
    session.add_all([
        Cable(id=30, code="CAB-1", strands=48, a_site_id=1, b_closure_id=20, length_m=720, source="t"),
        Cable(id=31, code="CAB-2", strands=12, a_closure_id=20, b_site_id=2, length_m=510, source="t"),
    ])
    session.flush()
    session.add_all([
        CableSegment(cable_id=30, seq=0, segment_id=100),
        CableSegment(cable_id=31, seq=0, segment_id=101),
    ])
    session.add_all([
        Device(id=40, name="pop1-dist", site_id=1, role="distribution_switch", platform="cisco_ios",
               mgmt_ip="10.0.0.1", source="t"),
        Device(id=41, name="sch1-acc", site_id=2, role="access_switch", platform="cisco_ios", source="t"),
    ])
    session.flush()
    session.add_all([
        Interface(id=50, device_id=40, name="Te1/1", kind="fibre"),
        Interface(id=51, device_id=41, name="Gi0/1", kind="fibre"),
    ])
    session.flush()
    session.add(Link(id=60, code="L-1", a_interface_id=50, b_interface_id=51, medium="fibre", source="t"))
    session.flush()
    session.add_all([
        LinkHop(link_id=60, seq=1, cable_id=31, strand_a=1, strand_b=2),
        LinkHop(link_id=60, seq=0, cable_id=30, strand_a=5, strand_b=6),
    ])


def test_graphs_from_database(engine):
    with session_scope(engine) as session:
        _seed_tiny(session)
    with session_scope(engine) as session:
        phys = physical_graph(session)
        planned = physical_graph(session, include_planned=True)
        cab = cable_graph(session)
        log = logical_graph(session)

    assert set(phys.nodes) == {10, 11, 12}  # decommissioned M-OLD and its segment are gone
    assert phys.nodes[10] == {"code": "E-POP", "kind": "site_entry", "lat": 51.5, "lon": 7.1, "site_id": 1}
    assert sorted(k for _, _, k in phys.edges(keys=True)) == [100, 101, 102]
    assert phys.number_of_edges(11, 12) == 2  # parallel segments stay two edges
    assert phys.edges[11, 12, 101] == {
        "code": "T-B1", "length_m": 500, "laying_method": "open_trench", "ducts_total": 4,
        "ducts_used": 1, "status": "active",
    }
    assert planned.has_edge(10, 12, 103) and not phys.has_edge(10, 12)

    assert cab.edges[("site", 1), ("closure", 20), 30]["segment_ids"] == (100,)
    assert cab.nodes[("closure", 20)]["node_id"] == 11
    assert cab.nodes[("site", 2)]["node_id"] == 12

    edge = log.edges[40, 41, 60]
    assert edge["link_id"] == 60 and edge["medium"] == "fibre"
    assert edge["cable_ids"] == (30, 31)  # ordered by hop seq, not insertion
    assert edge["segment_ids"] == frozenset({100, 101})
    assert log.nodes[41]["site_id"] == 2
    assert shared_risk_groups(log) == {100: {60}, 101: {60}}
