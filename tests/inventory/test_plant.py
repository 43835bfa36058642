"""Splices in closures (inventory.plant): one count for the seed, the inventory and the planner."""

from sqlmodel import select

from inventory.models import SpliceClosure
from inventory.plant import CLOSURE_SIZES, halves_to_splices, held_splices, splice_halves
from inventory.seed import seed
from netops.db import session_scope


def test_a_joint_takes_a_splice_per_strand_and_a_splitter_a_whole_one():
    # closure X at node n joins cable 1 to cable 2 (one link hop each: a strand pair);
    # cable 3 feeds a splitter at n, cable 4 passes through X to a splitter elsewhere
    ends = {1: ["X"], 2: ["X"], 3: ["X"], 4: ["X", "Y"]}
    halves = splice_halves(ends, {"X": "n", "Y": "m"}, [1, 2], [(3, "n"), (4, "m")])
    assert halves == {"X": 2 + 2 + 2 + 1, "Y": 2}
    assert halves_to_splices(halves) == {"X": 4, "Y": 1}  # a lone half still takes a position


def test_no_seeded_closure_holds_more_splices_than_it_has_room_for(engine, city):
    with session_scope(engine) as session:
        seed(session, city)
    with session_scope(engine) as session:
        held = held_splices(session)
        closures = session.exec(select(SpliceClosure.id, SpliceClosure.code, SpliceClosure.capacity_splices)).all()
    over = {code: (held.get(cid, 0), cap) for cid, code, cap in closures if held.get(cid, 0) > cap}
    assert not over
    # each is the smallest standard size with headroom: one size down would be too small
    for cid, code, cap in closures:
        smaller = [s for s in CLOSURE_SIZES if s < cap]
        assert not smaller or held.get(cid, 0) * 1.25 >= smaller[-1], code
    # the PON hubs need more than the smallest closure: the check above is not vacuous
    assert max(held.values()) > CLOSURE_SIZES[0]
    assert {cap for *_, cap in closures} > {CLOSURE_SIZES[0]}
