"""The audits pause the cyclic garbage collector while they work, and only then."""

from __future__ import annotations

import gc
import weakref

from tests.topology.builder import InventoryBuilder
from topology.audits import run_audits
from topology.gc_pause import gc_paused
from topology.network import Network


def test_paused_inside_restored_after_also_when_nested_or_failing():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one restores "paused", not "running"
    assert gc.isenabled()
    try:
        with gc_paused():
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.isenabled()


def test_an_audit_leaves_the_collector_running():
    b = InventoryBuilder()
    b.site("P", "core")
    b.site("S", "school")
    b.trench("T", "P", "S")
    b.link("L", "P", "S", ["T"])
    report = run_audits(Network(b.inv))
    assert report.findings  # the school hangs on one trench
    assert gc.isenabled()



class _Node:
    def __init__(self):
        self.other = None


def test_survivors_of_a_pause_go_to_the_oldest_generation_and_their_cycles_are_still_collected():
    gc.collect()
    with gc_paused():
        kept = _Node()
        dropped = _Node()
        dropped.other = _Node()
        dropped.other.other = dropped  # a cycle: only the collector frees it
    # not walked again by the young generations' passes, and nothing left frozen for good
    assert any(o is kept for o in gc.get_objects(generation=2))
    assert not any(o is kept for o in gc.get_objects(generation=0))
    assert gc.get_freeze_count() == 0
    gone = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert gone() is None
