"""The audits' fast paths give byte for byte what the reference paths give on the seeded
city: the ranking (per element: its links and customers looked up directly, answers shared
between elements) against the naive ranking (every element removed, the whole network
searched again, its failure built and mapped the general way), and every audit's JSON built
on either. The brute-force oracle (``test_oracle.py``) checks both against the raw rows."""

from __future__ import annotations

import json

import pytest

from topology.audits import criticality_ranking, path_diversity, ranked_elements, run_audits
from topology.network import FAILURE_FIELDS, AuditConfig, Network

pytestmark = pytest.mark.slow


def _audit_json(net: Network) -> str:
    report = run_audits(net)
    ranking = [(e.kind, e.id, e.code, e.weight, e.sites, sorted(e.customers.companies), sorted(e.customers.onts))
               for e in criticality_ranking(net)]
    return json.dumps({"findings": [f.as_dict() for f in report.sorted()], "ranking": ranking,
                       "diversity": [repr(row) for row in path_diversity(net)]}, sort_keys=True)


@pytest.mark.parametrize("transit", [True, False])
def test_audit_json_on_the_fast_ranking_equals_the_reference(seeded_inventory, transit):
    config = AuditConfig(transit=transit)
    fast = Network(seeded_inventory, config)
    reference = Network(seeded_inventory, config)
    # every audit that reads the ranking reads the naive one
    reference.memo[("ranking", False)] = criticality_ranking(reference, naive=True)
    assert fast.memo == {}
    fast_json, reference_json = _audit_json(fast), _audit_json(reference)
    assert len(fast_json) > 100_000  # the city has findings, a ranking, diversity rows
    assert fast_json == reference_json


def test_element_loss_equals_the_general_failure_for_every_element(seeded_inventory):
    net = Network(seeded_inventory)
    elements = ranked_elements(net) + [("cable", c) for c in net.cables] + [("closure", c) for c in net.closures] \
        + [("link", k) for k in net.links] + [("splitter", s) for s in net.customers.splitters]
    assert {kind for kind, _ in elements} == set(FAILURE_FIELDS)
    lost_something = 0
    for kind, ident in elements:
        sites, loss = net.element_loss(kind, ident)
        assert (sites, loss) == net.loss_of(net.failure_of(kind, ident)), (kind, ident)
        lost_something += bool(sites or loss)
    assert lost_something > 100  # the test bites: many elements cut something off
